//! Server-side sessions of unlocked reviewers, the one session cookie, and the
//! CSRF defences.
//!
//! Invariants:
//! - A session lives only in this process's memory and is never serialised; a
//!   restart locks everyone out. The map is keyed by SHA-256 of the cookie's
//!   256-bit random token, so the token itself is not kept.
//! - The unlocked identity is held in an `Arc` that only the session and a
//!   request in flight share; when the session ends (logout, idle 15 min,
//!   absolute 8 h, revocation, shutdown) and the last request finishes, it is
//!   dropped, and x25519-dalek's `StaticSecret` wipes itself on drop.
//! - Every POST passes [`same_origin_only`]; every state-changing handler also
//!   checks the session-bound `csrf` field with a constant-time comparison.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use age::x25519;
use axum::extract::{FromRequestParts, Request};
use axum::http::{HeaderMap, HeaderValue, Method, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Face, Failure, ReviewError, ReviewState};

/// Cookie name behind https (production): `__Host-` binds it to this exact
/// host, path `/`, and `Secure`, so no sibling host or plain-http page can set it.
pub const COOKIE_SECURE: &str = "__Host-signaal-review";
/// Cookie name on a plain-http loopback demo, where browsers refuse a
/// `__Host-` cookie without `Secure`, and `Secure` would keep it off http.
pub const COOKIE_PLAIN: &str = "signaal-review";

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Ends a session this long after its last request.
    pub idle: Duration,
    /// Ends a session this long after login, however busy.
    pub absolute: Duration,
}

impl Timeouts {
    /// The validated settings `review_idle_secs` and `review_absolute_secs`
    /// (15 minutes and 8 hours by default; they may only be shortened).
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            idle: Duration::from_secs(config.review_idle_secs),
            absolute: Duration::from_secs(config.review_absolute_secs),
        }
    }
}

struct Session {
    name: String,
    recipient: String,
    identity: Arc<x25519::Identity>,
    csrf: [u8; 32],
    created: Instant,
    last_seen: Instant,
    /// Second factors refused since the reviewer's last login, shown once.
    notice: Option<u64>,
}

/// The unlocked sessions.
pub struct Sessions {
    map: Mutex<HashMap<[u8; 32], Session>>,
    timeouts: Timeouts,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sessions")
    }
}

fn token_key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Sessions {
    /// An empty set.
    pub fn new(timeouts: Timeouts) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            timeouts,
        }
    }

    /// Starts a session for an unlocked identity; returns the cookie token
    /// (256 bits from the operating system, hex).
    pub fn create(&self, name: &str, identity: x25519::Identity) -> Option<String> {
        self.create_at(name, identity, Instant::now())
    }

    /// [`Sessions::create`] at the moment `now`.
    fn create_at(&self, name: &str, identity: x25519::Identity, now: Instant) -> Option<String> {
        let token = data_encoding::HEXLOWER.encode(&crate::crypto::random_bytes::<32>());
        let session = Session {
            name: name.to_owned(),
            recipient: identity.to_public().to_string(),
            identity: Arc::new(identity),
            csrf: crate::crypto::random_bytes::<32>(),
            created: now,
            last_seen: now,
            notice: None,
        };
        self.map.lock().ok()?.insert(token_key(&token), session);
        Some(token)
    }

    /// Shows the session of `token`, on its next page, how many second
    /// factors were refused since the reviewer's last login.
    pub fn notify(&self, token: &str, refused: u64) {
        if let Ok(mut map) = self.map.lock() {
            if let Some(s) = map.get_mut(&token_key(token)) {
                s.notice = Some(refused);
            }
        }
    }

    /// Ends the session of `token`; its identity is wiped once no request holds it.
    pub fn end(&self, token: &str) -> Option<String> {
        let removed = self.map.lock().ok()?.remove(&token_key(token));
        removed.map(|s| s.name)
    }

    /// Ends every session (at shutdown): each identity is wiped once no request
    /// holds it, and a restart therefore locks everyone out.
    pub fn clear(&self) {
        if let Ok(mut map) = self.map.lock() {
            map.clear();
        }
    }

    /// Removes expired sessions.
    pub fn sweep(&self) {
        self.sweep_at(Instant::now());
    }

    /// [`Sessions::sweep`] at the moment `now`.
    fn sweep_at(&self, now: Instant) {
        if let Ok(mut map) = self.map.lock() {
            map.retain(|_, s| self.alive(s, now));
        }
    }

    fn alive(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last_seen) < self.timeouts.idle
            && now.duration_since(s.created) < self.timeouts.absolute
    }

    /// Looks `token` up, refreshing its idle clock; ends it if it has expired.
    fn touch(&self, token: &str) -> Option<Reviewer> {
        self.touch_at(token, Instant::now())
    }

    /// [`Sessions::touch`] at the moment `now`.
    fn touch_at(&self, token: &str, now: Instant) -> Option<Reviewer> {
        let key = token_key(token);
        let mut map = self.map.lock().ok()?;
        let alive = map.get(&key).map(|s| self.alive(s, now))?;
        if !alive {
            map.remove(&key);
            return None;
        }
        let s = map.get_mut(&key)?;
        s.last_seen = now;
        Some(Reviewer {
            name: s.name.clone(),
            recipient: s.recipient.clone(),
            identity: Arc::clone(&s.identity),
            csrf: data_encoding::HEXLOWER.encode(&s.csrf),
            notice: s.notice.take(),
            token: token.to_owned(),
        })
    }

    /// Number of live sessions.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().map_or(0, |m| m.len())
    }

    /// Whether no session is live.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Sweeps expired sessions every 30 seconds while the set exists.
pub fn spawn_sweeper(sessions: &Arc<Sessions>) {
    let weak: Weak<Sessions> = Arc::downgrade(sessions);
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(30));
            loop {
                tick.tick().await;
                match weak.upgrade() {
                    Some(s) => s.sweep(),
                    None => return,
                }
            }
        });
    }
}

/// The reviewer of a request with a live session.
pub struct Reviewer {
    /// Reviewer name.
    pub name: String,
    /// Their age recipient.
    pub recipient: String,
    /// Their unlocked identity.
    pub identity: Arc<x25519::Identity>,
    /// The session's CSRF token (hex), for forms.
    pub csrf: String,
    /// Second factors refused since the last login, on the first page after it.
    pub notice: Option<u64>,
    token: String,
}

impl std::fmt::Debug for Reviewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reviewer")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Reviewer {
    /// Whether `sent` is this session's CSRF token (constant time).
    pub fn csrf_ok(&self, sent: &str) -> bool {
        bool::from(sent.as_bytes().ct_eq(self.csrf.as_bytes()))
    }

    /// The cookie token, for logout.
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// Reads the session token from the request's cookies.
fn token_from(headers: &HeaderMap, production: bool) -> Option<String> {
    let name = cookie_name(production);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl FromRequestParts<ReviewState> for Reviewer {
    type Rejection = Failure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ReviewState,
    ) -> Result<Self, Self::Rejection> {
        let refuse = || {
            Failure(
                Face::of(state, &parts.headers),
                ReviewError::NoSession {
                    get: parts.method == Method::GET,
                },
            )
        };
        let token = token_from(&parts.headers, state.production).ok_or_else(refuse)?;
        let reviewer = state.sessions.touch(&token).ok_or_else(refuse)?;
        // Revocation takes effect at once: the recipient must still be in team.pub.
        let listed = crate::keys::load_team(&state.keys_dir)
            .map(|t| {
                t.recipients
                    .iter()
                    .any(|r| r.to_string() == reviewer.recipient)
            })
            .unwrap_or(false);
        if !listed {
            state.sessions.end(&token);
            return Err(refuse());
        }
        Ok(reviewer)
    }
}

/// The session cookie's name in this mode.
pub fn cookie_name(production: bool) -> &'static str {
    if production {
        COOKIE_SECURE
    } else {
        COOKIE_PLAIN
    }
}

/// The one constructor of the session cookie, so its attributes cannot drift.
/// No `Max-Age`: it is a browser-session cookie; the server ends it sooner.
pub fn set_cookie(production: bool, token: &str) -> HeaderValue {
    let value = if production {
        format!("{COOKIE_SECURE}={token}; Path=/; Secure; HttpOnly; SameSite=Strict")
    } else {
        format!("{COOKIE_PLAIN}={token}; Path=/; HttpOnly; SameSite=Strict")
    };
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The cookie that clears the session cookie.
pub fn clear_cookie(production: bool) -> HeaderValue {
    HeaderValue::from_static(if production {
        "__Host-signaal-review=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"
    } else {
        "signaal-review=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    })
}

/// Refuses a state-changing request that a browser says came from another
/// site: `Sec-Fetch-Site` must be `same-origin` when sent, and `Origin` must
/// name this host when sent (OWASP CSRF cheat sheet, "Verifying origin with
/// standard headers"). Browsers send `Origin: null` for a form posted from a
/// page under `Referrer-Policy: no-referrer`, as every page here is; then
/// `Sec-Fetch-Site: same-origin` must be there instead. Every POST still needs
/// the session's `csrf` field, and the cookie is `SameSite=Strict`.
pub async fn same_origin_only(
    axum::extract::State(state): axum::extract::State<ReviewState>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return next.run(req).await;
    }
    if !same_origin(req.headers()) {
        return ReviewError::Forbidden
            .page(Face::of(&state, req.headers()))
            .into_response();
    }
    next.run(req).await
}

fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let site = text("sec-fetch-site");
    if site.is_some_and(|site| site != "same-origin") {
        return false;
    }
    match text("origin") {
        None => true,
        // Says nothing about where the form was: the browser's own
        // Sec-Fetch-Site must vouch for it (a sandboxed frame elsewhere also sends null).
        Some("null") => site.is_some(),
        Some(origin) => {
            let host = text("host").unwrap_or("");
            let bare = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            !host.is_empty() && bare == Some(host)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn a_post_from_another_site_is_not_same_origin() {
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8081")])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "http://127.0.0.1:8081")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "null")
        ])));
        // What Chromium sends for a form on a page under `no-referrer`.
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "null"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "null"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8081"),
            ("sec-fetch-site", "cross-site")
        ])));
    }

    #[test]
    fn at_shutdown_every_session_ends() {
        let sessions = Sessions::new(Timeouts {
            idle: Duration::from_secs(60),
            absolute: Duration::from_secs(60),
        });
        let ann = sessions
            .create("ann", x25519::Identity::generate())
            .unwrap();
        let bob = sessions
            .create("bob", x25519::Identity::generate())
            .unwrap();
        sessions.clear();
        assert!(sessions.touch(&ann).is_none());
        assert!(sessions.touch(&bob).is_none());
        assert!(sessions.is_empty());
    }

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn an_idle_session_ends_and_its_token_opens_nothing() {
        let sessions = Sessions::new(Timeouts {
            idle: 15 * MINUTE,
            absolute: 8 * 60 * MINUTE,
        });
        let t0 = Instant::now();
        let token = sessions
            .create_at("ann", x25519::Identity::generate(), t0)
            .unwrap();
        assert!(sessions.touch_at(&token, t0 + 10 * MINUTE).is_some());
        // Idle is counted from the last request, not from the login.
        assert!(sessions.touch_at(&token, t0 + 24 * MINUTE).is_some());
        assert!(sessions.touch_at(&token, t0 + 39 * MINUTE).is_none());
        assert!(sessions.is_empty(), "an expired session is removed");
        assert!(
            sessions.touch_at(&token, t0 + 25 * MINUTE).is_none(),
            "and stays gone"
        );
    }

    #[test]
    fn a_busy_session_still_ends_at_the_absolute_limit() {
        let sessions = Sessions::new(Timeouts {
            idle: 15 * MINUTE,
            absolute: 8 * 60 * MINUTE,
        });
        let t0 = Instant::now();
        let token = sessions
            .create_at("ann", x25519::Identity::generate(), t0)
            .unwrap();
        // A request every ten minutes for a whole working day.
        for step in 1..48 {
            assert!(
                sessions.touch_at(&token, t0 + step * 10 * MINUTE).is_some(),
                "{step}"
            );
        }
        assert!(sessions.touch_at(&token, t0 + 8 * 60 * MINUTE).is_none());
    }

    #[test]
    fn the_sweep_removes_what_has_expired_and_only_that() {
        let sessions = Sessions::new(Timeouts {
            idle: 15 * MINUTE,
            absolute: 8 * 60 * MINUTE,
        });
        let t0 = Instant::now();
        let idle = sessions
            .create_at("ann", x25519::Identity::generate(), t0)
            .unwrap();
        let busy = sessions
            .create_at("bob", x25519::Identity::generate(), t0)
            .unwrap();
        assert!(sessions.touch_at(&busy, t0 + 10 * MINUTE).is_some());
        sessions.sweep_at(t0 + 20 * MINUTE);
        assert_eq!(sessions.len(), 1);
        assert!(sessions.touch_at(&idle, t0 + 20 * MINUTE).is_none());
        assert!(sessions.touch_at(&busy, t0 + 20 * MINUTE).is_some());
    }

    #[test]
    fn the_csrf_token_is_bound_to_the_session() {
        let sessions = Sessions::new(Timeouts::from_config(&crate::config::Config::default()));
        let a = sessions
            .create("ann", x25519::Identity::generate())
            .unwrap();
        let b = sessions
            .create("bob", x25519::Identity::generate())
            .unwrap();
        let ra = sessions.touch(&a).unwrap();
        let rb = sessions.touch(&b).unwrap();
        assert!(ra.csrf_ok(&ra.csrf));
        assert!(!ra.csrf_ok(&rb.csrf));
        assert!(!ra.csrf_ok(""));
    }
}
