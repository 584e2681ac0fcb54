//! Withdrawing a signal with its code: `POST /follow-up/withdraw` (the
//! question, with what would go) and `POST /follow-up/withdrawn` (with
//! `withdraw=yes`: the deletion, and the page that says what went).
//!
//! Invariants: nothing is deleted without the confirmation; the deletion is
//! the store's (as `purge` deletes, with an audit row that keeps only the
//! day); the code is opened, limited and timed as every look-up is
//! ([`super::follow_up`]).

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

use super::follow_up::{FLOOR, Fields, client_of, global_limit, look_up, open_counted, read_form};
use super::pages::{self, RECEIPT_FIELD};
use super::{Failure, IntakeError, IntakeState};
use crate::limits::ClientKey;
use crate::signal::sealed;
use crate::views::Lang;

/// `POST /follow-up/withdraw`: what withdrawing would remove, and the two
/// ways on (withdraw, or back to the signal). Nothing is deleted here.
pub(super) async fn withdraw(
    State(state): State<IntakeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Failure> {
    look_up(
        &state,
        peer,
        query.as_deref(),
        &headers,
        body,
        |thread, lang, _| thread.withdraw_page(lang),
    )
    .await
}

/// `POST /follow-up/withdrawn`: with the confirmation ticked, deletes the
/// signal, its thread and notes for real, and says what was removed; without
/// it, the question again.
pub(super) async fn withdrawn(
    State(state): State<IntakeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Failure> {
    let (lang, fields) = read_form(&state, query.as_deref(), &headers, body).await?;
    let client = client_of(&state, peer, &headers);
    let began = Instant::now();
    let res = match withdraw_with(&state, &client, lang, &fields).await {
        Ok(res) => res,
        Err(e) => Failure(lang, e).into_response(),
    };
    tokio::time::sleep_until(began + FLOOR).await;
    Ok(res)
}

async fn withdraw_with(
    state: &IntakeState,
    client: &ClientKey,
    lang: Lang,
    fields: &Fields,
) -> Result<Response, IntakeError> {
    global_limit(state)?;
    let typed = fields.get(RECEIPT_FIELD).map_or("", |v| v.as_str());
    let thread = open_counted(state, client, typed).await?;
    let sure = fields
        .get(pages::WITHDRAW_FIELD)
        .is_some_and(|v| v.as_str() == "yes");
    // Without the confirmation (or on a language switch): the question again.
    if !sure || fields.contains_key(pages::SHOW_LANG_FIELD) {
        return Ok(thread.withdraw_page(lang));
    }
    let day = sealed::received_on(
        state.config.received_precision,
        time::OffsetDateTime::now_utc().date(),
    );
    let gone = state
        .store
        .withdraw(thread.record.id.clone(), day)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "follow-up: a withdrawal could not be stored");
            IntakeError::WithdrawUnavailable
        })?
        .ok_or(IntakeError::UnknownCode)?;
    Ok(pages::withdrawn_page(lang, &thread.record.received_on, gone.messages).into_response())
}
