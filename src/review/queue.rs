//! `GET /`: the queue, built from plaintext metadata only.
//!
//! Invariant: nothing here decrypts; the queue never touches an envelope, so
//! listing signals leaves no decryption to audit.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};

use super::session::Reviewer;
use super::{Face, Failure, ReviewState, pages};
use crate::signal::STATUSES;
use crate::store::queue::{QueueFilter, Sort};

/// Reads the queue's query string; unknown or malformed values fall back to
/// the defaults rather than failing.
pub fn parse_filter(query: Option<&str>) -> QueueFilter {
    let mut filter = QueueFilter {
        page: 1,
        ..QueueFilter::default()
    };
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "status" if STATUSES.contains(&v.as_ref()) => filter.status = Some(v.into_owned()),
            "domain" if !v.is_empty() && v.len() <= 64 => filter.domain = Some(v.into_owned()),
            "sort" => filter.sort = Sort::parse(&v),
            "page" => filter.page = v.parse().unwrap_or(1).clamp(1, 1_000_000),
            _ => {}
        }
    }
    filter
}

/// `GET /`.
pub async fn page(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    RawQuery(query): RawQuery,
) -> Result<Response, Failure> {
    let fail = |e: crate::store::StoreError| Failure(face, e.into());
    let filter = parse_filter(query.as_deref());
    let page = state.store.queue(filter.clone()).await.map_err(fail)?;
    let domains = state.store.domains_in_use().await.map_err(fail)?;
    Ok(pages::queue(face, &reviewer, &filter, &page, &domains).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_query_keeps_only_known_values() {
        let f = parse_filter(Some("status=closed&domain=taxes&sort=oldest&page=3"));
        assert_eq!(f.status.as_deref(), Some("closed"));
        assert_eq!(f.domain.as_deref(), Some("taxes"));
        assert_eq!(f.sort, Sort::Oldest);
        assert_eq!(f.page, 3);
        let f = parse_filter(Some("status=%27;drop&page=-1&sort=x"));
        assert_eq!(f.status, None);
        assert_eq!(f.page, 1);
        assert_eq!(f.sort, Sort::Newest);
    }
}
