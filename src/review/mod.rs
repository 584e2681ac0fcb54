//! The restricted face for the programme team: login, queue, signal, triage,
//! notes, messages, hardships and their measures, search, report, export. Its handlers live here, its pages
//! in `pages/`; what a signal is comes from [`crate::signal`], the audit
//! chain from [`crate::audit`].
//!
//! Invariants:
//! - It is mounted only on `review_addr`; the intake router has none of these routes.
//! - Every route but `/login` and `/style.css` needs an unlocked session
//!   (the [`session::Reviewer`] extractor); every POST passes the Origin /
//!   `Sec-Fetch-Site` check ([`session::same_origin_only`]) and the
//!   session-bound `csrf` field.
//! - Every response carries `X-Robots-Tag: noindex`, `Cache-Control: no-store`
//!   and the strict CSP; every page shows a DEMO banner in demo mode.
//! - Every decryption and every change is in the audit log before its result
//!   is shown.

mod annual;
mod device;
mod export;
mod fields;
mod glance;
mod hardship_page;
mod hardships;
pub mod hosts;
mod login;
mod measures;
mod metadata;
mod monitoring;
mod pages;
mod place;
mod publish;
mod queue;
pub mod report;
pub mod reviewers;
mod search;
pub mod session;
mod signals;
mod throttle;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodFilter, MethodRouter, get, on};

use crate::config::Config;
use crate::keys::TeamKeys;
use crate::store::{Store, StoreError};
use crate::views::Lang;
use crate::web;

/// What the review face's handlers share.
#[derive(Clone)]
pub struct ReviewState {
    /// Whether demo keys are in use (shown on every page; TOTP optional).
    pub demo: bool,
    /// Production mode: TOTP required, `__Host-` cookie with `Secure`.
    pub production: bool,
    /// The store.
    pub store: Store,
    /// The keys folder: `team.pub` is re-read on every request, so removing a
    /// recipient revokes its reviewer at once.
    pub keys_dir: PathBuf,
    /// Unlocked sessions, in memory only.
    pub sessions: Arc<session::Sessions>,
    /// Login throttles.
    pub guard: Arc<throttle::LoginGuard>,
    /// Longest a whole request may take (a search stops itself well before).
    pub request_timeout: std::time::Duration,
    /// The names this face answers to (`Host`).
    pub hosts: Arc<hosts::Hosts>,
}

impl std::fmt::Debug for ReviewState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReviewState")
            .field("demo", &self.demo)
            .field("production", &self.production)
            .finish_non_exhaustive()
    }
}

impl ReviewState {
    /// Builds the state from the validated settings; starts the session sweeper
    /// when called inside a runtime.
    pub fn new(store: Store, team: &TeamKeys, config: &Config) -> Self {
        let sessions = Arc::new(session::Sessions::new(session::Timeouts::from_config(
            config,
        )));
        session::spawn_sweeper(&sessions, &store);
        let guard = Arc::new(throttle::LoginGuard::new());
        throttle::spawn_tally_writer(&guard, &store);
        Self {
            demo: team.demo,
            production: config.production,
            store,
            keys_dir: config.keys_dir.clone(),
            sessions,
            guard,
            request_timeout: std::time::Duration::from_secs(
                config
                    .request_timeout_secs
                    .max(search::TIME_BOUND.as_secs() + 5),
            ),
            hosts: Arc::new(hosts::Hosts::new(config.review_addr, &config.review_hosts)),
        }
    }

    /// The same state for a face that listens on `addr` (the port the
    /// system chose when `review_addr` names port 0).
    pub fn listening_on(mut self, addr: std::net::SocketAddr, config: &Config) -> Self {
        self.hosts = Arc::new(hosts::Hosts::new(addr, &config.review_hosts));
        self
    }

    /// At shutdown: writes the counted login refusals and ends every
    /// session (each identity is wiped once no request holds it).
    pub async fn stop(&self) {
        self.guard.flush(&self.store).await;
        for end in self.sessions.clear() {
            end.audit(&self.store).await;
        }
    }
}

/// How this request's pages are drawn: with the DEMO banner or not, and in the
/// reviewer's language — the first of Dutch and English their browser asks for
/// (`Accept-Language`), Dutch otherwise. Nothing is stored for it: the browser
/// says it again on every request.
#[derive(Debug, Clone, Copy)]
pub struct Face {
    /// Whether demo keys are in use.
    pub demo: bool,
    /// The language of the page.
    pub lang: Lang,
}

impl Face {
    /// The face for a request with these headers.
    pub fn of(state: &ReviewState, headers: &axum::http::HeaderMap) -> Self {
        Self {
            demo: state.demo,
            lang: Lang::negotiate(None, headers),
        }
    }

    /// The text under `key` in this face's language.
    pub fn t(self, key: &str) -> &'static str {
        self.lang.t(key)
    }
}

impl axum::extract::FromRequestParts<ReviewState> for Face {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &ReviewState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(state, &parts.headers))
    }
}

/// A route that needs an unlocked session: its method, its path, and what
/// serves it there.
type Gated = (
    Method,
    &'static str,
    fn(MethodFilter) -> MethodRouter<ReviewState>,
);

/// Every route of the review face but `/login` and `/style.css`. The router
/// is built from this table, and [`routes`] lists it, so the test that each
/// route refuses a visitor without a session covers every one there is: add
/// a route here, never to [`router`] alone.
const GATED: &[Gated] = &[
    (Method::GET, "/", |m| on(m, queue::page)),
    (Method::GET, "/signals/{id}", |m| on(m, signals::page)),
    (Method::POST, "/signals/{id}/triage", |m| {
        on(m, signals::triage)
    }),
    (Method::POST, "/signals/{id}/notes", |m| {
        on(m, signals::note)
    }),
    (Method::POST, "/signals/{id}/messages", |m| {
        on(m, signals::message)
    }),
    (Method::POST, "/signals/{id}/acknowledge", |m| {
        on(m, signals::acknowledge)
    }),
    (Method::POST, "/signals/{id}/handled", |m| {
        on(m, signals::handled)
    }),
    (Method::POST, "/signals/{id}/hardships", |m| {
        on(m, hardships::link)
    }),
    (Method::POST, "/signals/{id}/hardships/unlink", |m| {
        on(m, hardships::unlink)
    }),
    (Method::GET, "/hardships", |m| on(m, hardships::list)),
    (Method::GET, "/hardships/report", |m| {
        on(m, annual::download)
    }),
    (Method::POST, "/hardships", |m| on(m, hardships::create)),
    (Method::GET, "/hardships/{id}", |m| on(m, hardships::page)),
    (Method::POST, "/hardships/{id}/measures", |m| {
        on(m, measures::add)
    }),
    (Method::POST, "/hardships/{id}/measures/{mid}/status", |m| {
        on(m, measures::status)
    }),
    (Method::POST, "/hardships/{id}/publish", |m| {
        on(m, publish::publish)
    }),
    (Method::POST, "/hardships/{id}/unpublish", |m| {
        on(m, publish::unpublish)
    }),
    (Method::GET, "/signals/{id}/envelope.age", |m| {
        on(m, export::one)
    }),
    (Method::GET, "/search", |m| on(m, search::page)),
    (Method::POST, "/search", |m| on(m, search::run)),
    (Method::GET, "/report", |m| on(m, report::page)),
    (Method::GET, "/report.csv", |m| on(m, report::csv)),
    (Method::POST, "/export", |m| on(m, export::selected)),
    (Method::POST, "/bulk", |m| on(m, queue::bulk)),
    (Method::POST, "/queue.csv", |m| on(m, metadata::csv)),
    (Method::POST, "/logout", |m| on(m, login::logout)),
];

/// The routes that need a session, as (method, path): every route the review
/// face serves but `/login` and `/style.css`.
pub fn routes() -> Vec<(&'static str, &'static str)> {
    GATED
        .iter()
        .map(|(m, path, _)| (m.as_str(), *path))
        .collect()
}

/// The review face's routes. Layers wrap from the inside out: logging sees
/// the matched route; a panic becomes a 500; the Origin check refuses foreign
/// POSTs before any handler runs, and the `Host` check every request for
/// another name before that; a request past its time gets a 408; whatever no
/// route logged (those refusals, a 404, a 408) is logged with route `-`;
/// every error that is not a page yet (an axum rejection, a 405, a 408, a
/// 500) becomes one; the headers are added to every response, fallback
/// included.
pub fn router(state: ReviewState) -> Router {
    let mut router = Router::new()
        .route("/login", get(login::form).post(login::submit))
        .route("/style.css", get(stylesheet));
    for (method, path, serve) in GATED {
        if let Ok(filter) = MethodFilter::try_from(method.clone()) {
            router = router.route(path, serve(filter));
        }
    }
    let demo = state.demo;
    let status_page = move |lang: Lang, status: StatusCode| {
        let key = web::answers::status_key(status);
        let face = Face { demo, lang };
        pages::message(
            face,
            face.t(&format!("{key}.title")),
            face.t(&format!("{key}.body")),
        )
    };
    router
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            framed_errors,
        ))
        .route_layer(axum::middleware::from_fn(web::log_request))
        .fallback(not_found)
        .layer(web::catch_panics())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::same_origin_only,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            hosts::named_only,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.request_timeout,
        ))
        .layer(axum::middleware::from_fn(web::log_unrouted))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(status_page) as web::StatusPage,
            web::readable_errors,
        ))
        .layer(axum::middleware::from_fn(review_headers))
        .layer(axum::middleware::from_fn(web::security_headers))
        .with_state(state)
}

/// Headers of the review face on top of [`web::security_headers`]: never
/// indexed, never cached (even the stylesheet: it is tiny and this face is private).
async fn review_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow, noarchive"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        pages::STYLESHEET,
    )
        .into_response()
}

/// An address the face does not have: with the frame and navigation for a
/// reviewer who is logged in, so they can go on from there.
async fn not_found(face: Face, reviewer: Result<session::Reviewer, Failure>) -> Response {
    match reviewer {
        Ok(who) => (
            StatusCode::NOT_FOUND,
            pages::message_for(
                face,
                Some(&who),
                face.t("review.error.not_found.title"),
                face.t("review.error.not_found.body"),
            ),
        )
            .into_response(),
        Err(_) => ReviewError::NotFound.page(face),
    }
}

/// Everything that can go wrong on the review face; [`ReviewError::page`] is
/// the one place these become responses.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// No valid session: GET goes to the login page, anything else is refused.
    #[error("no session")]
    NoSession {
        /// Whether the request was a GET (then: redirect).
        get: bool,
    },
    /// The CSRF token or the Origin did not match.
    #[error("forbidden")]
    Forbidden,
    /// No such signal or page.
    #[error("not found")]
    NotFound,
    /// The form was malformed or a value is not allowed.
    #[error("bad request")]
    BadRequest,
    /// The store or the keys failed; nothing was changed.
    #[error("unavailable")]
    Unavailable,
    /// The envelope could not be opened with this reviewer's key.
    #[error("cannot decrypt")]
    CannotDecrypt,
    /// The request names a host this face does not answer to.
    #[error("misdirected")]
    Misdirected,
}

impl From<StoreError> for ReviewError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "review: the store failed");
        Self::Unavailable
    }
}

impl ReviewError {
    /// The response for this error, in the reviewer's language.
    pub fn page(&self, face: Face) -> Response {
        let (status, key) = match self {
            Self::NoSession { get: true } => return Redirect::to("/login").into_response(),
            Self::NoSession { get: false } => (StatusCode::UNAUTHORIZED, "no_session"),
            Self::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Self::BadRequest => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::CannotDecrypt => (StatusCode::FORBIDDEN, "cannot_decrypt"),
            Self::Misdirected => (StatusCode::MISDIRECTED_REQUEST, "misdirected"),
        };
        let title = face.t(&format!("review.error.{key}.title"));
        let text = face.t(&format!("review.error.{key}.body"));
        let mut res = (status, pages::message(face, title, text)).into_response();
        if !matches!(self, Self::NoSession { .. }) {
            res.extensions_mut().insert(ErrorPage { face, key });
        }
        res
    }
}

/// Marks a response as the error page of `key`, so that [`framed_errors`]
/// can give it the frame and navigation of a reviewer who is logged in.
#[derive(Debug, Clone, Copy)]
struct ErrorPage {
    face: Face,
    key: &'static str,
}

/// An error page answered to a reviewer who is logged in (a signal that does
/// not exist, a value refused) gets the frame and navigation, so they can go
/// on from there; without a session it stays the plain page.
async fn framed_errors(
    State(state): State<ReviewState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let token = session::token_of(&state, req.headers());
    let res = next.run(req).await;
    // Only an error page looks the session up again.
    let Some(page) = res.extensions().get::<ErrorPage>().copied() else {
        return res;
    };
    let Some(who) = token.and_then(|t| session::peek(&state, &t)) else {
        return res;
    };
    let ErrorPage { face, key } = page;
    (
        res.status(),
        pages::message_for(
            face,
            Some(&who),
            face.t(&format!("review.error.{key}.title")),
            face.t(&format!("review.error.{key}.body")),
        ),
    )
        .into_response()
}

/// A [`ReviewError`] with the face it is shown on.
#[derive(Debug)]
pub struct Failure(pub Face, pub ReviewError);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        self.1.page(self.0)
    }
}
