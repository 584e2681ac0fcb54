//! The public face: the form, submission, the receipt, coming back with the
//! receipt code, the published results, and the pages around them (privacy,
//! accessibility statement, embed kit with its QR code). Its handlers live
//! here, its pages in `pages/`; what a signal is comes from [`crate::signal`].
//!
//! Invariant: this face holds team *recipients* only, never an identity that
//! opens a signal — save the one a sender's own code derives, for the length
//! of that sender's request, which opens that signal and its thread alone. It
//! sets no cookie and serves no review route. A signal the
//! personal-data guard holds back leaves no trace: nothing stored, nothing
//! logged beyond the route and a 200 that a received signal also gets.

mod follow_up;
mod info;
pub mod network;
pub mod once;
mod pages;
pub mod qr;
mod results;
pub mod seal;
mod withdraw;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};

use crate::config::Config;
use crate::keys::TeamKeys;
use crate::limits::{self, Limiters};
use crate::signal::answers::{self, Answers};
use crate::signal::guard;
use crate::store::Store;
use crate::views::{self, Lang};
use crate::web::{self, BodyError};
use pages::FormView;

/// What the intake's handlers share.
#[derive(Clone)]
pub struct IntakeState {
    /// The store.
    pub store: Store,
    /// The team's recipients.
    pub team: Arc<TeamKeys>,
    /// Submission limits.
    pub limiters: Arc<Limiters>,
    /// Settings.
    pub config: Arc<Config>,
}

/// Everything that can go wrong for a visitor of the intake, each with its page.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntakeError {
    /// The body could not be read as a form.
    #[error("bad request")]
    BadRequest,
    /// The body was larger than allowed.
    #[error("too large")]
    TooLarge {
        /// The limit, for the page's text.
        max_bytes: usize,
    },
    /// Not a form submission.
    #[error("unsupported media type")]
    Unsupported,
    /// Over a rate limit.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until it may work.
        retry_after_secs: u64,
    },
    /// A receipt code could not be looked up (the store failed).
    #[error("look-up unavailable")]
    LookupUnavailable,
    /// A receipt code that opens nothing: wrong, unknown or malformed alike.
    #[error("unknown code")]
    UnknownCode,
    /// Too many receipt codes tried.
    #[error("look-ups limited")]
    LookupLimited {
        /// Seconds until it may work.
        retry_after_secs: u64,
    },
    /// Storing failed; nothing was kept.
    #[error("store unavailable")]
    Unavailable,
    /// A withdrawal could not be stored: the signal is still there.
    #[error("withdrawal unavailable")]
    WithdrawUnavailable,
    /// A form sent again whose signal is no longer kept (withdrawn, or
    /// past its retention period); nothing was stored.
    #[error("gone")]
    Gone,
    /// No such page.
    #[error("not found")]
    NotFound,
}

/// An [`IntakeError`] in the visitor's language: the one place errors become pages.
#[derive(Debug)]
pub struct Failure(pub Lang, pub IntakeError);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let Failure(lang, error) = self;
        let (status, key, body) = match &error {
            IntakeError::BadRequest => (StatusCode::BAD_REQUEST, "page.bad_request", None),
            IntakeError::TooLarge { max_bytes } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "page.too_large",
                Some(
                    lang.t("page.too_large.body")
                        .replace("{max}", &(max_bytes / 1024).to_string()),
                ),
            ),
            IntakeError::Unsupported => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "page.unsupported", None)
            }
            IntakeError::RateLimited { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "page.rate_limited",
                Some(
                    lang.t("page.rate_limited.body")
                        .replace("{wait}", &views::wait(lang, *retry_after_secs)),
                ),
            ),
            IntakeError::LookupLimited { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "page.lookup_limited",
                Some(
                    lang.t("page.lookup_limited.body")
                        .replace("{wait}", &views::wait(lang, *retry_after_secs)),
                ),
            ),
            IntakeError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "page.unavailable", None),
            IntakeError::WithdrawUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "page.withdraw_unavailable",
                None,
            ),
            IntakeError::NotFound => (StatusCode::NOT_FOUND, "page.not_found", None),
            IntakeError::Gone => (StatusCode::GONE, "page.gone", None),
            IntakeError::LookupUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "page.lookup_unavailable",
                None,
            ),
            // The follow-up form again, with one generic line (below).
            IntakeError::UnknownCode => (StatusCode::NOT_FOUND, "followup.refused", None),
        };
        if let IntakeError::UnknownCode = error {
            return (status, pages::follow_up_page(lang, true)).into_response();
        }
        let title = lang.t(&format!("{key}.title"));
        let body = body.unwrap_or_else(|| lang.t(&format!("{key}.body")).to_owned());
        // Too many codes tried, or a withdrawal that did not happen: the way
        // on is the follow-up page, not the form.
        let page =
            if let IntakeError::LookupLimited { .. } | IntakeError::WithdrawUnavailable = error {
                pages::message_page_to(lang, title, &body, "/follow-up", lang.t("nav.followup"))
            } else {
                pages::message_page(lang, title, &body)
            };
        let mut res = (status, page).into_response();
        if let IntakeError::RateLimited { retry_after_secs }
        | IntakeError::LookupLimited { retry_after_secs } = error
        {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// The intake's routes. Layers wrap from the inside out: the matched route is
/// noted for the counts; a panic becomes a 500; a request that takes longer
/// than `request_timeout_secs` gets a 408; every error that is not a page yet
/// (a 405, a 408, a 500) becomes one; then headers are added to every
/// response, fallback included. The server counts every answer outside them.
pub fn router(state: IntakeState) -> Router {
    pages::set_organisation(&state.config.organisation);
    if state.config.production {
        for name in state.config.organisation.missing() {
            tracing::warn!(
                setting = name,
                "is empty: the privacy page says it was not given"
            );
        }
    }
    let tokens = Arc::new(once::FormTokens::new());
    let request_timeout = std::time::Duration::from_secs(state.config.request_timeout_secs);
    pages::show_demo_notice(state.team.demo);
    let qr = Arc::new(qr::Qr::new(&state.config.public_url).unwrap_or_else(|| {
        tracing::warn!("public_url is too long for a QR code; the QR images will be missing");
        qr::Qr::default()
    }));
    Router::new()
        .route("/", get(form_page))
        .route("/signal", get(form_page).post(submit))
        // Every answer to a code is one size, right, wrong or limited alike.
        .route(
            "/follow-up",
            get(follow_up::start)
                .post(follow_up::show)
                .layer(axum::middleware::from_fn(web::padding::padded)),
        )
        .route(
            "/follow-up/message",
            post(follow_up::message).layer(axum::middleware::from_fn(web::padding::padded)),
        )
        .route(
            "/follow-up/withdraw",
            post(withdraw::withdraw).layer(axum::middleware::from_fn(web::padding::padded)),
        )
        .route(
            "/follow-up/withdrawn",
            post(withdraw::withdrawn).layer(axum::middleware::from_fn(web::padding::padded)),
        )
        .route(
            "/receipt",
            post(follow_up::receipt).layer(axum::middleware::from_fn(web::padding::padded)),
        )
        .route("/style.css", get(info::stylesheet))
        .route("/privacy", get(info::privacy))
        .route("/toegankelijkheid", get(info::accessibility_nl))
        .route("/accessibility", get(info::accessibility_en))
        .route("/embed", get(info::embed))
        .route("/embed/qr.svg", get(info::qr_svg))
        .route("/embed/qr.png", get(info::qr_png))
        .route("/resultaten", get(results::results_nl))
        .route("/results", get(results::results_en))
        .layer(Extension(Arc::new(results::ResultsCache::default())))
        .layer(Extension(qr))
        .layer(Extension(tokens))
        // No line per request: a sender's moment must not reach the log
        // (see `summary`); the route is only noted for the counts.
        .route_layer(axum::middleware::from_fn(crate::summary::tag_route))
        .fallback(not_found)
        .layer(web::catch_panics())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::new(status_page) as web::StatusPage,
            web::readable_errors,
        ))
        .layer(axum::middleware::from_fn(web::security_headers))
        .with_state(state)
}

/// The intake's page for an error status that no handler drew (a 405, a
/// 408, a 500): what happened, and the way back to the form.
pub fn status_page(lang: Lang, status: StatusCode) -> maud::Markup {
    let key = web::answers::status_key(status);
    pages::message_page(
        lang,
        lang.t(&format!("{key}.title")),
        lang.t(&format!("{key}.body")),
    )
}

async fn form_page(
    State(state): State<IntakeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(query.as_deref(), &headers);
    let token = once::FormTokens::issue();
    let work_network = network::on_work_network(&state.config, peer, &headers)
        .then_some(state.config.public_url.as_str());
    // The blank form holds nothing typed, only its one-time token: the
    // browser may keep it for going back (never a shared cache), so that
    // "back" and a restored tab bring the same token with the text the
    // browser restores, and the form sent again is recognised.
    (
        [(header::CACHE_CONTROL, "private, max-age=0")],
        axum::response::Html(pages::blank_form_page(lang, work_network, &token)),
    )
        .into_response()
}

async fn not_found(RawQuery(query): RawQuery, headers: HeaderMap) -> Failure {
    Failure(
        Lang::negotiate(query.as_deref(), &headers),
        IntakeError::NotFound,
    )
}

/// The form again with what was typed (and its token), under a notice of
/// what went wrong.
fn form_again(
    lang: Lang,
    answers: &Answers,
    token: &str,
    title_key: &str,
    text: String,
) -> Response {
    let view = FormView {
        answers: Some(answers),
        problem: Some((lang.t(title_key), text)),
        token,
        ..FormView::default()
    };
    pages::form_page(lang, &view).into_response()
}

/// Whether the request says it carries `application/x-www-form-urlencoded`.
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
}

async fn submit(
    State(state): State<IntakeState>,
    Extension(tokens): Extension<Arc<once::FormTokens>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Failure> {
    let mut lang = Lang::negotiate(query.as_deref(), &headers);
    if !is_form(&headers) {
        return Err(Failure(lang, IntakeError::Unsupported));
    }
    let raw = web::read_body(body, state.config.max_body_bytes)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => Failure(
                lang,
                IntakeError::TooLarge {
                    max_bytes: state.config.max_body_bytes,
                },
            ),
            _ => Failure(lang, IntakeError::BadRequest),
        })?;
    let decoded = answers::decode(&raw).map_err(|_| Failure(lang, IntakeError::BadRequest))?;
    drop(raw);
    if let Some(l) = decoded.extra.get("lang").and_then(|l| Lang::parse(l)) {
        lang = l;
    }
    // The form's one-time token; a form without one (or with a stale one)
    // gets a fresh one when it is shown again.
    let sent_token = decoded
        .extra
        .get(pages::FORM_TOKEN_FIELD)
        .map(String::as_str)
        .filter(|t| once::FormTokens::well_formed(t));
    let fresh_token;
    let token = match sent_token {
        Some(t) => t,
        None => {
            fresh_token = once::FormTokens::issue();
            fresh_token.as_str()
        }
    };
    let confirmed = decoded
        .extra
        .get(pages::CONFIRM_FIELD)
        .is_some_and(|v| v == "yes");
    // The language switch of the form: the same page in the other language,
    // with what was typed (and the guard's notice, if it was showing).
    // Nothing is checked for errors, stored or counted.
    if let Some(switch_to) = decoded
        .extra
        .get(pages::SHOW_LANG_FIELD)
        .and_then(|l| Lang::parse(l))
    {
        let findings = if confirmed {
            Vec::new()
        } else {
            guard::scan(&decoded.answers)
        };
        let view = FormView {
            answers: Some(&decoded.answers),
            findings: &findings,
            token,
            ..FormView::default()
        };
        return Ok(pages::form_page(switch_to, &view).into_response());
    }
    let errors = answers::validate(&decoded.answers);
    if !errors.is_empty() {
        let view = FormView {
            answers: Some(&decoded.answers),
            errors: &errors,
            token,
            ..FormView::default()
        };
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::form_page(lang, &view),
        )
            .into_response());
    }
    // The personal-data guard: hold back until the sender has looked. Answered
    // with 200 like a receipt, so not even the request log tells the two apart.
    if !confirmed {
        let findings = guard::scan(&decoded.answers);
        if !findings.is_empty() {
            crate::summary::note(crate::summary::Event::HeldBack);
            let view = FormView {
                answers: Some(&decoded.answers),
                findings: &findings,
                token,
                ..FormView::default()
            };
            return Ok(pages::form_page(lang, &view).into_response());
        }
    }
    let client = state.limiters.client_key(limits::client_addr(
        peer,
        &headers,
        &state.config.trusted_proxies,
    ));
    // Stored once per form: whatever comes again with its token (a reload of
    // the receipt, "resend", the form edited after going back) stores
    // nothing and shows the same code. The limits are checked before the
    // token is held, so a refused post leaves nothing of it. Refused or
    // failed: nothing was kept, and the form comes back with the text in it
    // so that trying again is one press of the button.
    let outcome = tokens
        .once(
            sent_token,
            &decoded.answers,
            || {
                state
                    .limiters
                    .check_submit(&client)
                    .map_err(Refused::Limited)
            },
            || async {
                match seal::seal_and_store(
                    &state.store,
                    &state.team.recipients,
                    state.config.received_precision,
                    lang,
                    &decoded.answers,
                )
                .await
                {
                    Ok(receipt) => {
                        crate::summary::note(crate::summary::Event::SignalStored);
                        Ok(receipt.grouped())
                    }
                    Err(e) => {
                        crate::summary::note(crate::summary::Event::NotStored);
                        tracing::error!(error = %e, "a signal could not be stored; the sender was told nothing was kept");
                        Err(Refused::NotStored)
                    }
                }
            },
        )
        .await;
    let (code, changed) = match outcome {
        once::Outcome::Stored(code) => (code, false),
        // Shown again only while the signal is kept: a withdrawn (or purged)
        // one is said to be gone, and nothing is stored in its place.
        once::Outcome::Again { code, changed } => {
            match follow_up::still_kept(&state, &code).await {
                Ok(true) => (code, changed),
                Ok(false) => return Err(Failure(lang, IntakeError::Gone)),
                Err(e) => return Err(Failure(lang, e)),
            }
        }
        once::Outcome::Failed(Refused::Limited(limited)) => {
            let text = lang
                .t("page.rate_limited.form")
                .replace("{wait}", &views::wait(lang, limited.retry_after_secs));
            let mut res = form_again(
                lang,
                &decoded.answers,
                token,
                "page.rate_limited.title",
                text,
            );
            *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            if let Ok(v) = HeaderValue::from_str(&limited.retry_after_secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Ok(res);
        }
        once::Outcome::Failed(Refused::NotStored) => {
            let text = lang.t("page.unavailable.form").to_owned();
            let mut res = form_again(
                lang,
                &decoded.answers,
                token,
                "page.unavailable.title",
                text,
            );
            *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            return Ok(res);
        }
    };
    let page = if changed {
        pages::receipt_again_page(lang, &code, &state.config.public_url)
    } else {
        pages::receipt_page(lang, &code, &state.config.public_url)
    };
    let mut res = web::wiped(page);
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Why a submission was not stored.
enum Refused {
    /// Over a rate limit.
    Limited(limits::Limited),
    /// The store failed.
    NotStored,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_page_finds_its_texts_in_both_languages() {
        for lang in [Lang::Nl, Lang::En] {
            for error in [
                IntakeError::BadRequest,
                IntakeError::TooLarge { max_bytes: 65536 },
                IntakeError::Unsupported,
                IntakeError::RateLimited {
                    retry_after_secs: 90,
                },
                IntakeError::LookupLimited {
                    retry_after_secs: 30,
                },
                IntakeError::UnknownCode,
                IntakeError::LookupUnavailable,
                IntakeError::Unavailable,
                IntakeError::WithdrawUnavailable,
                IntakeError::Gone,
                IntakeError::NotFound,
            ] {
                let res = Failure(lang, error).into_response();
                assert!(res.status().is_client_error() || res.status().is_server_error());
            }
        }
        let missing = crate::views::i18n::MISSING.with(|m| m.borrow().clone());
        assert!(missing.is_empty(), "missing texts: {missing:?}");
    }
}
