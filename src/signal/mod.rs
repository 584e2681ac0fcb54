//! What a signal is, apart from HTTP, storage and either face: the form's
//! questions, the answers and their validation, the personal-data guard, the
//! statuses a signal moves through, and the sealed document (the plaintext inside an envelope, its padding, sealing
//! and opening, and the day a signal is kept as received).
//!
//! Invariant: this module knows no face, no store, no page and no server; it
//! uses [`crate::crypto`] to seal and open, and nothing here logs or keeps what
//! a sender wrote — every buffer that holds it is wiped when dropped.

pub mod answers;
pub mod guard;
pub mod questions;
pub mod sealed;

/// The statuses a signal can have, in workflow order; every signal starts `new`.
pub const STATUSES: &[&str] = &[
    "new",
    "in_progress",
    "forwarded",
    "closed",
    "not_admissible",
];

/// The statuses after which the sender has had feedback.
pub const FINAL_STATUSES: &[&str] = &["forwarded", "closed", "not_admissible"];
