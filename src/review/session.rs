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
//! - Every end of a session is in the audit log: a logout by the reviewer, the
//!   others as a `logout` row whose detail says why ([`Ended`]).
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
    /// What this session has opened of hardships and measures.
    opened: Arc<Opened>,
    /// What this session has read of senders' choices of domain.
    chosen: Arc<Chosen>,
    /// A short random name of this session for the audit log (never the
    /// token, nor derived from it), so that its rows can be told apart.
    label: String,
}

/// The sealed texts a session has opened, by record id, so that a page over
/// hundreds of hardships need not read or decrypt each again. A record's
/// texts are never edited once sealed (`keys rewrap` seals the same texts
/// to other keys), so an id names its texts for good. The texts are wiped
/// when the session ends and its last request is done.
#[derive(Default)]
pub struct Opened(Mutex<HashMap<String, OpenedTexts>>);

/// The sender's choice of domain (a code of the form's list, or none) of
/// the untriaged signals this session has read it of, by signal id: a
/// domain filter reads each envelope once a session, not on every page.
#[derive(Default)]
pub struct Chosen(Mutex<HashMap<String, Option<&'static str>>>);

/// Most choices one session keeps; past it, they are read again each time.
const CHOSEN_KEPT: usize = 20_000;

impl Chosen {
    /// What this session read of signal `id`'s choice: `None` if not read yet.
    pub fn get(&self, id: &str) -> Option<Option<&'static str>> {
        self.0.lock().ok().and_then(|m| m.get(id).copied())
    }

    /// Keeps what was read of signal `id`'s choice.
    pub fn keep(&self, id: String, domain: Option<&'static str>) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() < CHOSEN_KEPT || m.contains_key(&id) {
                m.insert(id, domain);
            }
        }
    }
}

/// The fields of one opened envelope.
pub type OpenedTexts = Arc<Vec<(String, zeroize::Zeroizing<String>)>>;

/// Most envelopes one session keeps opened; past it, texts are opened each time.
const MOST_OPENED: usize = 50_000;

impl Opened {
    /// The texts of record `id`, if this session has opened them.
    pub fn cached(&self, id: &str) -> Option<OpenedTexts> {
        self.0.lock().ok().and_then(|m| m.get(id).cloned())
    }

    /// The fields of `envelope` (of record `id`), opened once per session
    /// with `identity`; empty when it cannot be opened (not kept then).
    pub fn fields(&self, id: &str, envelope: &[u8], identity: &x25519::Identity) -> OpenedTexts {
        if let Some(found) = self.cached(id) {
            return found;
        }
        let Ok(fields) = crate::signal::sealed::open_fields(envelope, identity) else {
            return Arc::new(Vec::new());
        };
        let fields = Arc::new(fields);
        if let Ok(mut map) = self.0.lock() {
            if map.len() < MOST_OPENED {
                map.insert(id.to_owned(), Arc::clone(&fields));
            }
        }
        fields
    }
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

/// A session that ended without a logout, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// The reviewer.
    pub name: String,
    /// Why: `idle-timeout`, `absolute-timeout`, `revoked` or `server-stopped`.
    pub why: &'static str,
}

impl Ended {
    /// Writes this end to the audit log.
    pub async fn audit(self, store: &crate::store::Store) {
        let entry =
            crate::audit::Entry::general(&self.name, crate::audit::Action::Logout, self.why);
        if let Err(e) = store.audit(entry).await {
            tracing::error!(error = %e, "the end of a session could not be audited");
        }
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
            opened: Arc::default(),
            chosen: Arc::default(),
            label: data_encoding::HEXLOWER.encode(&crate::crypto::random_bytes::<4>()),
        };
        self.map.lock().ok()?.insert(token_key(&token), session);
        Some(token)
    }

    /// The audit log's name of the session of `token`.
    pub fn label(&self, token: &str) -> Option<String> {
        let map = self.map.lock().ok()?;
        map.get(&token_key(token)).map(|s| s.label.clone())
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
    pub fn clear(&self) -> Vec<Ended> {
        let Ok(mut map) = self.map.lock() else {
            return Vec::new();
        };
        map.drain()
            .map(|(_, s)| Ended {
                name: s.name,
                why: "server-stopped",
            })
            .collect()
    }

    /// Removes expired sessions; returns which ended.
    pub fn sweep(&self) -> Vec<Ended> {
        self.sweep_at(Instant::now())
    }

    /// [`Sessions::sweep`] at the moment `now`.
    fn sweep_at(&self, now: Instant) -> Vec<Ended> {
        let mut ended = Vec::new();
        if let Ok(mut map) = self.map.lock() {
            map.retain(|_, s| match self.expiry(s, now) {
                None => true,
                Some(why) => {
                    ended.push(Ended {
                        name: s.name.clone(),
                        why,
                    });
                    false
                }
            });
        }
        ended
    }

    /// Why session `s` has expired at `now`, or `None` while it lives.
    fn expiry(&self, s: &Session, now: Instant) -> Option<&'static str> {
        if now.duration_since(s.created) >= self.timeouts.absolute {
            Some("absolute-timeout")
        } else if now.duration_since(s.last_seen) >= self.timeouts.idle {
            Some("idle-timeout")
        } else {
            None
        }
    }

    /// Looks `token` up, refreshing its idle clock; ends it if it has expired
    /// (`Err(Some(_))`: then it says which session ended and why).
    fn touch(&self, token: &str) -> Result<Reviewer, Option<Ended>> {
        self.touch_at(token, Instant::now())
    }

    /// [`Sessions::touch`] at the moment `now`.
    fn touch_at(&self, token: &str, now: Instant) -> Result<Reviewer, Option<Ended>> {
        let key = token_key(token);
        let mut map = self.map.lock().map_err(|_| None)?;
        let expired = map.get(&key).ok_or(None)?;
        if let Some(why) = self.expiry(expired, now) {
            let name = map.remove(&key).map(|s| s.name).unwrap_or_default();
            return Err(Some(Ended { name, why }));
        }
        let s = map.get_mut(&key).ok_or(None)?;
        s.last_seen = now;
        let notice = s.notice.take();
        Ok(Reviewer::of(s, token, notice))
    }

    /// The reviewer of the live session `token`, if any, without refreshing
    /// its idle clock or taking its notice: for the frame of an error page
    /// after the request's own lookup.
    fn peek(&self, token: &str) -> Option<Reviewer> {
        let map = self.map.lock().ok()?;
        let s = map.get(&token_key(token))?;
        self.expiry(s, Instant::now())
            .is_none()
            .then(|| Reviewer::of(s, token, None))
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

/// Sweeps expired sessions every 30 seconds while the set exists, and
/// audits each end.
pub fn spawn_sweeper(sessions: &Arc<Sessions>, store: &crate::store::Store) {
    let weak: Weak<Sessions> = Arc::downgrade(sessions);
    let store = store.clone();
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(30));
            loop {
                tick.tick().await;
                let Some(sessions) = weak.upgrade() else {
                    return;
                };
                let ended = sessions.sweep();
                drop(sessions);
                for end in ended {
                    end.audit(&store).await;
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
    /// What this session has opened of hardships and measures.
    pub opened: Arc<Opened>,
    /// What this session has read of senders' choices of domain.
    pub chosen: Arc<Chosen>,
    /// The audit log's name of this session (see [`Sessions::label`]).
    pub session: String,
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
    fn of(s: &Session, token: &str, notice: Option<u64>) -> Self {
        Self {
            name: s.name.clone(),
            recipient: s.recipient.clone(),
            identity: Arc::clone(&s.identity),
            csrf: data_encoding::HEXLOWER.encode(&s.csrf),
            notice,
            opened: Arc::clone(&s.opened),
            chosen: Arc::clone(&s.chosen),
            session: s.label.clone(),
            token: token.to_owned(),
        }
    }

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
    hex_cookie(headers, cookie_name(production))
}

/// The value of the cookie `name` in the request, if it is 32 bytes in hex
/// (the session's and the device's cookies both are).
pub(super) fn hex_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
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
        let reviewer = match state.sessions.touch(&token) {
            Ok(reviewer) => reviewer,
            Err(ended) => {
                if let Some(end) = ended {
                    end.audit(&state.store).await;
                }
                return Err(refuse());
            }
        };
        // Revocation takes effect at once: the recipient must still be in team.pub.
        let listed = crate::keys::load_team(&state.keys_dir)
            .map(|t| {
                t.recipients
                    .iter()
                    .any(|r| r.to_string() == reviewer.recipient)
            })
            .unwrap_or(false);
        if !listed {
            if let Some(name) = state.sessions.end(&token) {
                Ended {
                    name,
                    why: "revoked",
                }
                .audit(&state.store)
                .await;
            }
            return Err(refuse());
        }
        Ok(reviewer)
    }
}

/// The session token the request carries, if any (not checked).
pub(super) fn token_of(state: &ReviewState, headers: &HeaderMap) -> Option<String> {
    token_from(headers, state.production)
}

/// The reviewer of the live session `token`, as [`Sessions::peek`] finds it.
pub(super) fn peek(state: &ReviewState, token: &str) -> Option<Reviewer> {
    state.sessions.peek(token)
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
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
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
        let mut ended: Vec<String> = sessions.clear().into_iter().map(|e| e.name).collect();
        ended.sort();
        assert_eq!(ended, ["ann", "bob"]);
        assert!(sessions.touch(&ann).is_err());
        assert!(sessions.touch(&bob).is_err());
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
        assert!(sessions.touch_at(&token, t0 + 10 * MINUTE).is_ok());
        // Idle is counted from the last request, not from the login.
        assert!(sessions.touch_at(&token, t0 + 24 * MINUTE).is_ok());
        assert_eq!(
            sessions.touch_at(&token, t0 + 39 * MINUTE).err(),
            Some(Some(Ended {
                name: "ann".into(),
                why: "idle-timeout"
            })),
            "the end says why, for the audit log"
        );
        assert!(sessions.is_empty(), "an expired session is removed");
        assert!(
            sessions.touch_at(&token, t0 + 25 * MINUTE).is_err(),
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
                sessions.touch_at(&token, t0 + step * 10 * MINUTE).is_ok(),
                "{step}"
            );
        }
        assert_eq!(
            sessions
                .touch_at(&token, t0 + 8 * 60 * MINUTE)
                .err()
                .flatten()
                .map(|e| e.why),
            Some("absolute-timeout")
        );
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
        assert!(sessions.touch_at(&busy, t0 + 10 * MINUTE).is_ok());
        let ended = sessions.sweep_at(t0 + 20 * MINUTE);
        assert_eq!(ended.len(), 1);
        assert_eq!(
            (ended[0].name.as_str(), ended[0].why),
            ("ann", "idle-timeout")
        );
        assert_eq!(sessions.len(), 1);
        assert!(sessions.touch_at(&idle, t0 + 20 * MINUTE).is_err());
        assert!(sessions.touch_at(&busy, t0 + 20 * MINUTE).is_ok());
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
