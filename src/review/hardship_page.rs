//! One hardship's page: its texts, the signals linked to it (reference, day,
//! domain, the first words) with their count and range of days, and its
//! measures with their dated status history.
//!
//! Invariant: the audit rows that say what is opened — the hardship's texts,
//! and which signals' snippets are shown — are durable before anything is
//! decrypted; what is decrypted lives in wiped buffers and the wiped body.

use zeroize::Zeroizing;

use super::glance;
use super::measures::MeasureForm;
use super::session::{Opened, Reviewer};
use super::signals::valid_id;
use super::{Face, Failure, ReviewError, ReviewState, pages};
use crate::audit::{Action, Entry};
use crate::signal::sealed::open_fields;
use crate::store::hardships::HardshipPage;
use crate::store::publications::PublicHardship;
use crate::web;

/// The sealed texts of an envelope, opened; empty where it cannot be opened.
fn opened(envelope: &[u8], identity: &age::x25519::Identity) -> Vec<(String, Zeroizing<String>)> {
    open_fields(envelope, identity).unwrap_or_default()
}

/// The sealed texts of record `id`, opened once per session.
fn cached(
    cache: &Opened,
    id: &str,
    envelope: &[u8],
    identity: &age::x25519::Identity,
) -> Vec<(String, Zeroizing<String>)> {
    cache.fields(id, envelope, identity).as_ref().clone()
}

/// The text named `name` among `texts`, or "".
fn take(texts: &mut Vec<(String, Zeroizing<String>)>, name: &str) -> Zeroizing<String> {
    match texts.iter().position(|(n, _)| n == name) {
        Some(i) => texts.swap_remove(i).1,
        None => Zeroizing::new(String::new()),
    }
}

/// Opens everything the page shows, on a blocking thread.
fn open_all(
    stored: HardshipPage,
    publication: Option<PublicHardship>,
    identity: &age::x25519::Identity,
    cache: &Opened,
) -> pages::HardshipShown {
    let HardshipPage {
        record,
        signals,
        measures,
    } = stored;
    let mut texts = cached(cache, &record.id, &record.envelope, identity);
    let opened_ok = !texts.is_empty();
    let signals: Vec<pages::LinkedShown> = signals
        .into_iter()
        .map(|s| {
            let g = glance::glance(&s.envelope, identity);
            pages::LinkedShown {
                id: s.id,
                received_on: s.received_on,
                domain: s.domain.or_else(|| g.domain.map(str::to_owned)),
                snippet: g.snippet,
            }
        })
        .collect();
    let measures = measures
        .into_iter()
        .map(|m| {
            let mut texts = cached(cache, &m.id, &m.envelope, identity);
            pages::MeasureShown {
                text: take(&mut texts, "text"),
                organisation: take(&mut texts, "organisation"),
                source: take(&mut texts, "source"),
                history: m
                    .history
                    .into_iter()
                    .map(|h| {
                        let note = take(&mut opened(&h.envelope, identity), "note");
                        (h.status, h.day, h.author, note)
                    })
                    .collect(),
                id: m.id,
                kind: m.kind,
                lever: m.lever,
                status: m.status,
                target_on: m.target_on,
                created_on: m.created_on,
            }
        })
        .collect();
    pages::HardshipShown {
        title: take(&mut texts, "title"),
        description: take(&mut texts, "description"),
        cause: take(&mut texts, "cause"),
        reference: take(&mut texts, "reference"),
        organisations: take(&mut texts, "organisations"),
        opened: opened_ok,
        id: record.id,
        created_on: record.created_on,
        author: record.author,
        origin: record.origin,
        domain: record.domain,
        signals,
        measures,
        publication,
    }
}

/// The page of hardship `id`, audited and decrypted, with the new measure's
/// form as `measure` holds it (empty, or as sent and refused).
pub async fn show(
    state: &ReviewState,
    face: Face,
    reviewer: &Reviewer,
    id: &str,
    done: Option<&'static str>,
    measure: &MeasureForm,
) -> Result<axum::response::Response, Failure> {
    let fail = |e: ReviewError| Failure(face, e);
    if !valid_id(id) {
        return Err(fail(ReviewError::NotFound));
    }
    let stored = state
        .store
        .hardship_page(id.to_owned())
        .await
        .map_err(|e| fail(e.into()))?
        .ok_or_else(|| fail(ReviewError::NotFound))?;
    let mut entries = vec![Entry::general(
        &reviewer.name,
        Action::HardshipView,
        format!("hardship {id}"),
    )];
    if !stored.signals.is_empty() {
        let ids: Vec<&str> = stored.signals.iter().map(|s| s.id.as_str()).collect();
        entries.push(Entry::general(
            &reviewer.name,
            Action::Glance,
            format!("snippets shown for hardship {id}: {}", ids.join(" ")),
        ));
    }
    state
        .store
        .audit_all(entries)
        .await
        .map_err(|e| fail(e.into()))?;
    let publication = state
        .store
        .publication(id.to_owned())
        .await
        .map_err(|e| fail(e.into()))?;
    let identity = std::sync::Arc::clone(&reviewer.identity);
    let cache = std::sync::Arc::clone(&reviewer.opened);
    let shown =
        tokio::task::spawn_blocking(move || open_all(stored, publication, &identity, &cache))
            .await
            .map_err(|_| fail(ReviewError::Unavailable))?;
    Ok(web::wiped(pages::hardship(
        face, reviewer, &shown, done, measure,
    )))
}
