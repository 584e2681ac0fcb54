//! File times that say no more than the day.
//!
//! Every write moves the modification time of the database, its WAL and its
//! shared-memory file to the moment of the write; the data folder's own time
//! moves when SQLite creates or removes one of them; a read moves the access
//! time (`relatime`), and readers write the shared-memory file through a
//! memory map. After every commit (the writer) and every read (the store's
//! readers) the access and modification times of the folder and of every
//! file in it are set back to the start of the current period (UTC midnight
//! of the day, or of the week's Monday), so a copy of the folder dates its
//! files no finer than the rows inside them. What a program cannot set: the
//! status-change time (`ctime`) of every file, which tells the moment of the
//! last activity, as the privacy page says.

use std::path::{Path, PathBuf};

use crate::config::Precision;

/// The folder whose times the writer keeps at the start of the period.
#[derive(Debug, Clone)]
pub struct FileTimes {
    dir: PathBuf,
    precision: Precision,
}

impl FileTimes {
    /// The folder of the database file `db`, and everything in it.
    pub fn new(db: &Path, precision: Precision) -> Self {
        let dir = match db.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        Self { dir, precision }
    }

    /// Sets the access and modification time of the folder and of every file
    /// in it to the start of the current period. A file that is gone by then
    /// is skipped.
    pub fn settle(&self) {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        // The folder last: setting a file's times does not change it.
        paths.push(self.dir.clone());
        self.set_back(&paths);
    }

    /// After a read: the database's files only (a read moves the database's
    /// and the WAL's access times and writes the shared memory; it creates
    /// and removes nothing, so the folder and the other files keep theirs).
    pub fn settle_after_read(&self, db: &Path) {
        self.set_back(&super::database_files(db));
    }

    /// After a commit: the database's files and the folder, without listing
    /// it (a commit writes those three files; the folder's time moves when
    /// anything in it is made or removed, by this process or another). What
    /// else the folder holds is set back at start, after each checkpoint of
    /// the WAL and at a clean stop ([`FileTimes::settle`]).
    pub fn settle_after_commit(&self, db: &Path) {
        let [a, b, c] = super::database_files(db);
        self.set_back(&[a, b, c, self.dir.clone()]);
    }

    fn set_back(&self, paths: &[PathBuf]) {
        let start = period_start(self.precision, time::OffsetDateTime::now_utc().date());
        let seconds = start.midnight().assume_utc().unix_timestamp();
        let at = rustix::fs::Timespec {
            tv_sec: seconds,
            tv_nsec: 0,
        };
        let times = rustix::fs::Timestamps {
            last_access: at,
            last_modification: at,
        };
        for path in paths {
            match rustix::fs::utimensat(rustix::fs::CWD, path, &times, rustix::fs::AtFlags::empty())
            {
                Ok(()) | Err(rustix::io::Errno::NOENT) => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot set a data file's time back to the day")
                }
            }
        }
    }
}

/// The first day of the period that `today` falls in.
pub fn period_start(precision: Precision, today: time::Date) -> time::Date {
    match precision {
        Precision::Day => today,
        Precision::Week => {
            let back = i64::from(today.weekday().number_days_from_monday());
            today
                .checked_sub(time::Duration::days(back))
                .unwrap_or(today)
        }
    }
}

/// `YYYY-MM-DD`.
pub fn day_string(day: time::Date) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    day.format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_week_starts_on_its_monday() {
        let thu = time::macros::date!(2026 - 11 - 26);
        assert_eq!(day_string(period_start(Precision::Week, thu)), "2026-11-23");
        assert_eq!(day_string(period_start(Precision::Day, thu)), "2026-11-26");
    }

    #[test]
    fn settled_files_carry_the_start_of_the_day() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        std::fs::write(&db, b"x").unwrap();
        FileTimes::new(&db, Precision::Day).settle();
        let modified = std::fs::metadata(&db).unwrap().modified().unwrap();
        let secs = modified
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(secs % 86_400, 0, "midnight UTC");
        let dir_secs = std::fs::metadata(dir.path())
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(dir_secs % 86_400, 0, "the folder too");
    }
}
