//! Hardening of the serving process, done first thing at start.
//!
//! Invariant: every file and folder signaal makes is its owner's alone (umask
//! 0077, and explicit modes where a file is made); a crash of signaal never
//! writes a core file, and no other
//! process of the same user can attach to it or read its memory through
//! `/proc` — a core or a ptrace would hold plaintext of the request in flight
//! and the identities of unlocked reviewers. Done through `rustix`'s safe
//! wrappers, so the crate stays `forbid(unsafe_code)`.
//!
//! Swap: the unit file (deploy/signaal.service) sets `LimitMEMLOCK` and the
//! operator guide advises a host without swap or with encrypted swap; locking
//! the whole process (`mlockall`) is not done, because a refused lock at start
//! would then be a reason not to serve at all.

/// What was switched off, for the start-up log; or why it could not be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hardened {
    /// `RLIMIT_CORE` is 0 (soft and hard).
    pub core_dumps_off: bool,
    /// `PR_SET_DUMPABLE` is 0.
    pub not_dumpable: bool,
}

/// Makes every file and folder signaal creates owner-only, turns core dumps
/// off and makes the process non-dumpable. Never fails the start: what could
/// not be done is reported, and logged by the caller.
pub fn harden() -> Hardened {
    use rustix::process::{Resource, Rlimit, setrlimit};
    // Database, WAL, exports, backups, keys: nobody else's business, even
    // where a file is made by a library (SQLite) that asks for 0644.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let core_dumps_off = setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    )
    .is_ok();
    #[cfg(target_os = "linux")]
    let not_dumpable =
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
            .is_ok();
    #[cfg(not(target_os = "linux"))]
    let not_dumpable = false;
    Hardened {
        core_dumps_off,
        not_dumpable,
    }
}

/// Logs what [`harden`] achieved: a warning for each protection missing.
pub fn log(h: &Hardened) {
    if h.core_dumps_off && h.not_dumpable {
        tracing::info!("hardening: core dumps off, process not dumpable");
        return;
    }
    if !h.core_dumps_off {
        tracing::warn!("hardening: cannot turn core dumps off; set LimitCORE=0 in the unit");
    }
    if !h.not_dumpable {
        tracing::warn!("hardening: cannot mark the process non-dumpable");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn what_signaal_creates_is_its_owners_alone() {
        let _ = harden();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), b"x").unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        for name in ["f", "d"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{name}: {mode:o}");
        }
    }

    #[test]
    fn hardening_turns_core_dumps_off_for_this_process() {
        let h = harden();
        assert!(h.core_dumps_off);
        let limit = rustix::process::getrlimit(rustix::process::Resource::Core);
        assert_eq!(limit.current, Some(0));
    }
}
