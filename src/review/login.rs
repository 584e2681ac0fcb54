//! Login and logout: unlock the reviewer's identity file with their passphrase,
//! check the recipient is still in `team.pub`, check the TOTP code, start a session.
//!
//! Invariants:
//! - Unknown name, wrong passphrase, revoked key, wrong or replayed code: one
//!   answer (401, the same page), and the same time — an unknown name costs
//!   what a wrong passphrase costs on the costliest reviewer file
//!   ([`reviewers::decoy`]), or, past the decoys' own budget, a wait as long
//!   as the last decoy took; a known name's refusal is held until it has
//!   taken as long, so a reviewer with a cheaper file does not stand out.
//! - A known reviewer's attempts are limited by that name's own bucket only
//!   (see [`super::throttle`]), or, from a browser they logged in from before,
//!   by that device's bucket ([`super::device`]), so guesses at a reviewer's
//!   name elsewhere do not lock them out; unknown names have buckets of their own, so
//!   the answer to an unknown name is the answer to a known one (a 429 after
//!   ten, a 401 before).
//! - scrypt of a known name runs on the blocking pool, at most
//!   [`super::throttle::UNLOCKS_AT_ONCE`] at a time; a decoy runs beside them, one
//!   at a time, and never queues.
//! - A TOTP step, once accepted for a reviewer, is never accepted again (the
//!   last used step is kept in the database, so a restart does not forget it).
//!   Wrong codes after the right passphrase are held back more and more
//!   ([`backoff_secs`]) and after [`LOCK_AFTER_WRONG`] locked until
//!   `signaal reviewer totp NAME` writes a new second factor; the next
//!   successful login says how many were refused.
//! - The passphrase and code are never logged or audited. Refusals are
//!   counted, not written one by one ([`super::throttle::Tally`]): the first of each reviewer
//!   and reason in a minute is written at once, the rest as one row with
//!   their count, so a flood adds a bounded number of rows. An unknown name is
//!   recorded as `(unknown)`, so a passphrase typed into the name field is not kept.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::fields::Fields;
use super::reviewers;
use super::session::{self, Reviewer};
use super::{Face, Failure, ReviewError, ReviewState, pages};
use crate::audit::{Action, Entry};
use crate::store::second_factor::{Attempt, SecondFactor};

/// Wrong codes after the right passphrase that are let through at once (typos).
pub const FREE_WRONG_CODES: u32 = 3;
/// Wrong codes in a row after which the second factor is locked.
pub const LOCK_AFTER_WRONG: u32 = 10;

/// Seconds a reviewer waits after `wrong` wrong codes in a row before the
/// next code is checked: none for the first [`FREE_WRONG_CODES`], then 30 s,
/// doubling with each further one.
pub fn backoff_secs(wrong: u32) -> u64 {
    match wrong.checked_sub(FREE_WRONG_CODES) {
        None => 0,
        Some(over) => 30u64 << over.min(16),
    }
}

/// `GET /login`.
pub async fn form(State(state): State<ReviewState>, face: Face) -> Response {
    pages::login(face, state.production, None, "").into_response()
}

/// `POST /login`.
pub async fn submit(
    State(state): State<ReviewState>,
    face: Face,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(fields) = Fields::read(body).await else {
        return ReviewError::BadRequest.page(face);
    };
    let name = fields.get("name").trim().to_owned();
    let known = reviewers::valid_name(&name) && reviewers::list(&state.keys_dir).contains(&name);
    let actor = if known { name.as_str() } else { "(unknown)" };
    // Shown back after a refusal only if it has a name's shape (never, say,
    // a passphrase typed into the wrong field with spaces in it).
    let shown = if reviewers::valid_name(&name) {
        name.as_str()
    } else {
        ""
    };
    let device = if known {
        state.guard.devices.of(&name, &headers, state.production)
    } else {
        None
    };
    if !state.guard.allow(&name, known, device.as_ref()) {
        refused(&state, actor, "rate-limited").await;
        return (
            StatusCode::TOO_MANY_REQUESTS,
            pages::login(
                face,
                state.production,
                Some(face.t("review.login.too_many")),
                shown,
            ),
        )
            .into_response();
    }
    let started = std::time::Instant::now();
    let outcome = if known {
        unlock(&state, &name, &fields).await
    } else {
        let passphrase = zeroize::Zeroizing::new(fields.get("passphrase").to_owned());
        state.guard.decoy(&state, passphrase).await;
        Err("unknown-name")
    };
    match outcome {
        Ok((identity, refused_before)) => {
            let Some(token) = state.sessions.create(&name, identity) else {
                return ReviewError::Unavailable.page(face);
            };
            let label = state.sessions.label(&token).unwrap_or_default();
            let detail = if refused_before > 0 {
                format!("session {label}, after {refused_before} refused second factors")
            } else {
                format!("session {label}")
            };
            if let Err(e) = state
                .store
                .audit(Entry::general(&name, Action::Login, detail))
                .await
            {
                state.sessions.end(&token);
                return ReviewError::from(e).page(face);
            }
            if refused_before > 0 {
                state.sessions.notify(&token, refused_before);
            }
            let mut res = Redirect::to("/").into_response();
            res.headers_mut().insert(
                header::SET_COOKIE,
                session::set_cookie(state.production, &token),
            );
            if device.is_none() {
                let device = state.guard.devices.give(&name);
                res.headers_mut().append(
                    header::SET_COOKIE,
                    super::device::set_cookie(state.production, &device),
                );
            }
            res
        }
        Err(reason) => {
            if known {
                let passphrase = zeroize::Zeroizing::new(fields.get("passphrase").to_owned());
                state.guard.pad_refusal(&state, started, passphrase).await;
            }
            refused(&state, actor, reason).await;
            (
                StatusCode::UNAUTHORIZED,
                pages::login(
                    face,
                    state.production,
                    Some(face.t("review.login.refused")),
                    shown,
                ),
            )
                .into_response()
        }
    }
}

/// Audits a refused login: at once if it is the first of its kind this
/// minute, else only counted (see [`super::throttle::Tally`]).
async fn refused(state: &ReviewState, actor: &str, reason: &'static str) {
    if !state.guard.tally.note(actor, reason) {
        return;
    }
    if let Err(e) = state
        .store
        .audit(Entry::general(actor, Action::LoginFailed, reason))
        .await
    {
        tracing::error!(error = %e, "a failed login could not be audited");
    }
}

/// Runs the checks in order; every refusal carries a reason for the audit
/// only. On success: the identity, and how many second factors were refused
/// since the last login.
async fn unlock(
    state: &ReviewState,
    name: &str,
    fields: &Fields,
) -> Result<(age::x25519::Identity, u64), reviewers::Refusal> {
    let permit = Arc::clone(&state.guard.unlocks)
        .acquire_owned()
        .await
        .map_err(|_| "busy")?;
    let keys_dir = state.keys_dir.clone();
    let owned_name = name.to_owned();
    let passphrase = zeroize::Zeroizing::new(fields.get("passphrase").to_owned());
    let identity = tokio::task::spawn_blocking(move || {
        let result = reviewers::unlock(&keys_dir, &owned_name, &passphrase);
        drop(permit);
        result
    })
    .await
    .map_err(|_| "busy")??;
    if !reviewers::is_listed(&state.keys_dir, &identity) {
        return Err("revoked");
    }
    let Some(totp) = reviewers::open_totp(&state.keys_dir, name, &identity)? else {
        return if state.production {
            Err("no-totp-configured")
        } else {
            Ok((identity, 0))
        };
    };
    let file = reviewers::totp_fingerprint(&state.keys_dir, name).ok_or("totp-unreadable")?;
    let refused_before = second_factor(state, name, file, &totp, fields.get("totp")).await?;
    Ok((identity, refused_before))
}

/// Checks the code against the backoff, the lockout and the replay rule, in
/// one write (see [`crate::store::Store::second_factor_attempt`]); on
/// success, how many second factors were refused since the last login.
async fn second_factor(
    state: &ReviewState,
    name: &str,
    file: [u8; 32],
    totp: &totp_rs::TOTP,
    code: &str,
) -> Result<u64, reviewers::Refusal> {
    let now = reviewers::unix_now();
    let held = move |r: &SecondFactor| {
        if r.wrong >= LOCK_AFTER_WRONG {
            Some("totp-locked")
        } else if now < r.last_wrong.saturating_add(backoff_secs(r.wrong)) {
            Some("totp-backoff")
        } else {
            None
        }
    };
    let (totp, code) = (totp.clone(), zeroize::Zeroizing::new(code.to_owned()));
    let step = move || reviewers::matching_step(&totp, &code, now);
    match state
        .store
        .second_factor_attempt(name, file, now, held, step)
        .await
    {
        Ok(Attempt::Accepted(refused_before)) => Ok(refused_before),
        Ok(Attempt::Held(reason)) => Err(reason),
        Ok(Attempt::Wrong(r)) if r.wrong == LOCK_AFTER_WRONG => Err("totp-lockout"),
        Ok(Attempt::Wrong(_)) => Err("totp"),
        Ok(Attempt::Replayed) => Err("totp-replayed"),
        Err(_) => Err("unavailable"),
    }
}

/// `POST /logout`: ends the session (the identity is wiped), clears the cookie.
pub async fn logout(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    body: Body,
) -> Result<Response, Failure> {
    Fields::read_checked(body, &reviewer)
        .await
        .map_err(|e| Failure(face, e))?;
    state.sessions.end(reviewer.token());
    state
        .store
        .audit(Entry::general(&reviewer.name, Action::Logout, ""))
        .await
        .map_err(|e| Failure(face, e.into()))?;
    drop(reviewer);
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, session::clear_cookie(state.production));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_grows_after_the_free_codes() {
        assert_eq!(backoff_secs(0), 0);
        assert_eq!(backoff_secs(FREE_WRONG_CODES - 1), 0);
        assert_eq!(backoff_secs(FREE_WRONG_CODES), 30);
        assert_eq!(backoff_secs(FREE_WRONG_CODES + 1), 60);
        assert_eq!(backoff_secs(FREE_WRONG_CODES + 3), 240);
        assert!(backoff_secs(u32::MAX) > 0);
    }
}
