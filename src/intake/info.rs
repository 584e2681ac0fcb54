//! The handlers of the pages around the form: privacy, the accessibility
//! statement, the embed kit, its QR images and the stylesheet. Thin: pick the
//! language, render (the pages themselves are in `pages/`).
//!
//! Invariant: none of these pages reads or shows anything about the visitor;
//! they render settings and embedded texts only.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{IntakeState, pages, qr};
use crate::views::{self, Lang};

pub(super) async fn privacy(
    State(state): State<IntakeState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(query.as_deref(), &headers);
    pages::privacy_page(
        lang,
        &pages::PrivacyView {
            public_url: &state.config.public_url,
            mix_interval_secs: state.config.mix_interval_secs,
            backups_per_day: state.config.backups_per_day,
            backup_keep_days: state.config.backup_keep_days,
            retention: &state.config.retention,
        },
    )
    .into_response()
}

/// `/toegankelijkheid` is Dutch unless a `?lang=` link says otherwise.
pub(super) async fn accessibility_nl(
    State(state): State<IntakeState>,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = query.as_deref().and_then(lang_in_query).unwrap_or(Lang::Nl);
    pages::accessibility_page(lang, &state.config.public_url).into_response()
}

/// `/accessibility` is English unless a `?lang=` link says otherwise.
pub(super) async fn accessibility_en(
    State(state): State<IntakeState>,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = query.as_deref().and_then(lang_in_query).unwrap_or(Lang::En);
    pages::accessibility_page(lang, &state.config.public_url).into_response()
}

/// The language a `?lang=` link asks for, if any.
fn lang_in_query(query: &str) -> Option<Lang> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("lang="))
        .and_then(Lang::parse)
}

pub(super) async fn embed(
    State(state): State<IntakeState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(query.as_deref(), &headers);
    pages::embed_page(lang, &state.config.public_url).into_response()
}

pub(super) async fn qr_svg(Extension(qr): Extension<Arc<qr::Qr>>) -> Response {
    if qr.svg.is_empty() {
        return StatusCode::NOT_FOUND.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        qr.svg.clone(),
    )
        .into_response()
}

pub(super) async fn qr_png(Extension(qr): Extension<Arc<qr::Qr>>) -> Response {
    if qr.png.is_empty() {
        return StatusCode::NOT_FOUND.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        qr.png.clone(),
    )
        .into_response()
}

pub(super) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        views::STYLESHEET,
    )
        .into_response()
}
