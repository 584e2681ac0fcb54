//! Login and logout: unlock the reviewer's identity file with their passphrase,
//! check the recipient is still in `team.pub`, check the TOTP code, start a session.
//!
//! Invariants:
//! - Unknown name, wrong passphrase, revoked key, wrong or replayed code: one
//!   answer (401, the same page), and the same cost — an unknown name still
//!   runs scrypt on a real reviewer file ([`reviewers::unlock`]).
//! - scrypt runs on the blocking pool, at most [`UNLOCKS_AT_ONCE`] at a time,
//!   after the per-name and overall attempt limits.
//! - A TOTP step, once accepted for a reviewer, is never accepted again (the
//!   last used step is kept in the database, so a restart does not forget it).
//! - The passphrase and code are never logged or audited; a failed attempt is
//!   audited with a fixed reason, and an unknown name is recorded as
//!   `(unknown)`, so a passphrase typed into the name field is not kept.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

use super::fields::Fields;
use super::reviewers;
use super::session::{self, Reviewer};
use super::{Face, Failure, ReviewError, ReviewState, pages};
use crate::audit::{Action, Entry};

/// scrypt unlocks running at once (each takes up to ~1 GiB and a second).
pub const UNLOCKS_AT_ONCE: usize = 2;

/// Attempt limits and the unlock semaphore.
pub struct LoginGuard {
    per_name: DefaultKeyedRateLimiter<String>,
    overall: DefaultDirectRateLimiter,
    unlocks: Arc<Semaphore>,
}

impl std::fmt::Debug for LoginGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginGuard")
    }
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Default for LoginGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl LoginGuard {
    /// Ten attempts per name, then one a minute; sixty a minute overall.
    pub fn new() -> Self {
        Self {
            per_name: RateLimiter::keyed(Quota::per_minute(nz(1)).allow_burst(nz(10))),
            overall: RateLimiter::direct(Quota::per_minute(nz(60)).allow_burst(nz(30))),
            unlocks: Arc::new(Semaphore::new(UNLOCKS_AT_ONCE)),
        }
    }

    fn allow(&self, name: &str) -> bool {
        let key = if reviewers::valid_name(name) {
            name.to_owned()
        } else {
            String::new()
        };
        if self.per_name.len() > 10_000 {
            self.per_name.retain_recent();
        }
        self.overall.check().is_ok() && self.per_name.check_key(&key).is_ok()
    }
}

/// `GET /login`.
pub async fn form(State(state): State<ReviewState>, face: Face) -> Response {
    pages::login(face, state.production, None).into_response()
}

/// `POST /login`.
pub async fn submit(State(state): State<ReviewState>, face: Face, body: Body) -> Response {
    let Some(fields) = Fields::read(body).await else {
        return ReviewError::BadRequest.page(face);
    };
    let name = fields.get("name").trim().to_owned();
    let actor = if reviewers::valid_name(&name) && reviewers::list(&state.keys_dir).contains(&name)
    {
        name.clone()
    } else {
        "(unknown)".to_owned()
    };
    if !state.guard.allow(&name) {
        audit_failure(&state, &actor, "rate-limited").await;
        return (
            StatusCode::TOO_MANY_REQUESTS,
            pages::login(
                face,
                state.production,
                Some(face.t("review.login.too_many")),
            ),
        )
            .into_response();
    }
    match unlock(&state, &name, &fields).await {
        Ok(identity) => {
            let Some(token) = state.sessions.create(&name, identity) else {
                return ReviewError::Unavailable.page(face);
            };
            if let Err(e) = state
                .store
                .audit(Entry::general(&name, Action::Login, ""))
                .await
            {
                state.sessions.end(&token);
                return ReviewError::from(e).page(face);
            }
            let mut res = Redirect::to("/").into_response();
            res.headers_mut().insert(
                header::SET_COOKIE,
                session::set_cookie(state.production, &token),
            );
            res
        }
        Err(reason) => {
            audit_failure(&state, &actor, reason).await;
            (
                StatusCode::UNAUTHORIZED,
                pages::login(face, state.production, Some(face.t("review.login.refused"))),
            )
                .into_response()
        }
    }
}

async fn audit_failure(state: &ReviewState, actor: &str, reason: &'static str) {
    if let Err(e) = state
        .store
        .audit(Entry::general(actor, Action::LoginFailed, reason))
        .await
    {
        tracing::error!(error = %e, "a failed login could not be audited");
    }
}

/// Runs the checks in order; every refusal carries a reason for the audit only.
async fn unlock(
    state: &ReviewState,
    name: &str,
    fields: &Fields,
) -> Result<age::x25519::Identity, reviewers::Refusal> {
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
    let code = fields.get("totp");
    match reviewers::open_totp(&state.keys_dir, name, &identity)? {
        None if state.production => Err("no-totp-configured"),
        None => Ok(identity),
        Some(totp) => {
            let step =
                reviewers::matching_step(&totp, code, reviewers::unix_now()).ok_or("totp")?;
            match state.store.claim_totp_step(name, step).await {
                Ok(true) => Ok(identity),
                Ok(false) => Err("totp-replayed"),
                Err(_) => Err("unavailable"),
            }
        }
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
