//! `GET /resultaten` and `GET /results`: the hardships the team published,
//! what is being done about them and what changed this year (the page
//! itself is in `pages/results.rs`).
//!
//! The page is the same for every visitor, so it is kept rendered in memory,
//! by language, page number, [`Store::public_changes`] and the day: a change
//! this process makes (publishing, a measure's status, a link) shows at the
//! next request, and one another process makes (the review face running on
//! its own) within [`FRESH`] (at worst [`STAND_IN`], see below). The
//! published hardships are read from the store at most once per change or
//! per [`FRESH`], by one request at a time; while one reads them only because
//! [`FRESH`] has passed, the others get the page as it was, if it is younger
//! than [`STAND_IN`].
//!
//! Invariant: the page is drawn from [`Store::published`] alone — public
//! texts, and of the signals only their number, below five as "<5" — and
//! reads nothing of the visitor but the language and page asked for.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::pages::{self, ResultsView};
use super::{Failure, IntakeError, IntakeState};
use crate::store::Store;
use crate::store::publications::PublicHardship;
use crate::views::Lang;

/// How long a page read from the store is shown before it is read again,
/// whatever this process knows of changes.
pub const FRESH: Duration = Duration::from_secs(10);
/// The oldest page that stands in while the store is read again.
pub const STAND_IN: Duration = Duration::from_secs(30);
/// Rendered pages kept at most (every page of 500 hardships, in two
/// languages, fits).
const MAX_KEPT: usize = 128;

/// Which page: language, number, and the state of what was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    lang: Lang,
    page: usize,
    changes: u64,
    day: time::Date,
}

/// A rendered page, and when what it shows was read from the store.
struct Kept {
    key: Key,
    read_at: Instant,
    body: Bytes,
}

/// The published hardships as last read.
struct Read {
    changes: u64,
    day: time::Date,
    at: Instant,
    hardships: Arc<Vec<PublicHardship>>,
}

/// The rendered results pages and what they were drawn from.
#[derive(Default)]
pub struct ResultsCache {
    kept: RwLock<Vec<Kept>>,
    read: tokio::sync::Mutex<Option<Read>>,
}

impl ResultsCache {
    /// A fresh page for `key`, if one is kept.
    fn kept(&self, key: Key) -> Option<Bytes> {
        self.kept_since(key)
            .filter(|(_, read_at)| read_at.elapsed() < FRESH)
            .map(|(body, _)| body)
    }

    /// The page kept for `key`, fresh or not, and when it was read.
    fn kept_since(&self, key: Key) -> Option<(Bytes, Instant)> {
        let kept = self.kept.read().ok()?;
        kept.iter()
            .find(|k| k.key == key)
            .map(|k| (k.body.clone(), k.read_at))
    }

    /// The page for `key` without waiting for the store: a kept one that
    /// only its age makes stale (nothing this process changed, the day is
    /// the same) stands in, up to [`STAND_IN`], while another request reads
    /// the store again.
    fn at_once(&self, key: Key) -> Option<Bytes> {
        let (body, read_at) = self.kept_since(key)?;
        let age = read_at.elapsed();
        (age < FRESH || (age < STAND_IN && self.read.try_lock().is_err())).then_some(body)
    }

    /// The page for `key`, rendered from the published hardships (read again
    /// if they may have changed); `None` if there is no such page.
    async fn page(&self, store: &Store, key: Key) -> Result<Option<Bytes>, IntakeError> {
        let mut read = self.read.lock().await;
        // Another request may have made it while this one waited.
        if let Some(body) = self.kept(key) {
            return Ok(Some(body));
        }
        let current = read
            .as_ref()
            .filter(|r| r.changes == key.changes && r.day == key.day && r.at.elapsed() < FRESH);
        let (hardships, read_at) = match current {
            Some(r) => (Arc::clone(&r.hardships), r.at),
            None => {
                let at = Instant::now();
                let hardships = Arc::new(store.published().await.map_err(|e| {
                    tracing::error!(error = %e, "the published hardships could not be read");
                    IntakeError::Unavailable
                })?);
                *read = Some(Read {
                    changes: key.changes,
                    day: key.day,
                    at,
                    hardships: Arc::clone(&hardships),
                });
                (hardships, at)
            }
        };
        drop(read);
        if key.page > pages::page_count(hardships.len()) {
            return Ok(None);
        }
        let today = key.day.to_string();
        let body = Bytes::from(
            pages::results_page(
                key.lang,
                &ResultsView {
                    hardships: &hardships,
                    page: key.page,
                    today: &today,
                },
            )
            .into_string(),
        );
        if let Ok(mut kept) = self.kept.write() {
            // Pages only their age made stale stay, to stand in while the
            // store is read again; a change or a new day ends them all.
            kept.retain(|k| k.key != key && k.key.changes == key.changes && k.key.day == key.day);
            if kept.len() >= MAX_KEPT {
                kept.clear();
            }
            kept.push(Kept {
                key,
                read_at,
                body: body.clone(),
            });
        }
        Ok(Some(body))
    }
}

/// `/resultaten` is Dutch unless a `?lang=` link says otherwise.
pub(super) async fn results_nl(
    State(state): State<IntakeState>,
    Extension(cache): Extension<Arc<ResultsCache>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Failure> {
    show(&state, &cache, Lang::Nl, query.as_deref()).await
}

/// `/results` is English unless a `?lang=` link says otherwise.
pub(super) async fn results_en(
    State(state): State<IntakeState>,
    Extension(cache): Extension<Arc<ResultsCache>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Failure> {
    show(&state, &cache, Lang::En, query.as_deref()).await
}

async fn show(
    state: &IntakeState,
    cache: &ResultsCache,
    default: Lang,
    query: Option<&str>,
) -> Result<Response, Failure> {
    let lang = query
        .and_then(|q| value_in(q, "lang"))
        .and_then(Lang::parse);
    let lang = lang.unwrap_or(default);
    let page = match query.and_then(|q| value_in(q, "page")) {
        None => 1,
        Some(n) => page_number(n).ok_or(Failure(lang, IntakeError::NotFound))?,
    };
    // The number of changes first, then the store: a change made meanwhile
    // is either in what is read or moves the number for the next request.
    let key = Key {
        lang,
        page,
        changes: state.store.public_changes(),
        day: time::OffsetDateTime::now_utc().date(),
    };
    let body = match cache.at_once(key) {
        Some(body) => body,
        None => cache
            .page(&state.store, key)
            .await
            .map_err(|e| Failure(lang, e))?
            .ok_or(Failure(lang, IntakeError::NotFound))?,
    };
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response())
}

/// The value of `name` in a query string, if it is there.
fn value_in<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A page number as an address carries it: digits, from 1.
fn page_number(value: &str) -> Option<usize> {
    if value.is_empty() || value.len() > 6 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|n| *n >= 1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_page_is_kept_until_a_change_and_only_its_age_lets_it_stand_in_for_a_reading() {
        let (_dir, store) = crate::store::testing::store_with(&[]).await;
        let cache = ResultsCache::default();
        let key = Key {
            lang: Lang::Nl,
            page: 1,
            changes: store.public_changes(),
            day: time::OffsetDateTime::now_utc().date(),
        };
        assert!(cache.at_once(key).is_none());
        let body = cache.page(&store, key).await.unwrap().unwrap();
        assert_eq!(cache.at_once(key), Some(body.clone()));
        let moved = Key {
            changes: key.changes + 1,
            ..key
        };
        assert!(
            cache.at_once(moved).is_none(),
            "a change is never waited out"
        );
        let page_two = Key { page: 2, ..key };
        assert!(cache.page(&store, page_two).await.unwrap().is_none());
        // Past its time: it stands in only while another request reads.
        if let Ok(mut kept) = cache.kept.write() {
            for k in kept.iter_mut() {
                k.read_at = Instant::now().checked_sub(FRESH * 2).unwrap();
            }
        }
        assert!(cache.at_once(key).is_none());
        let reading = cache.read.lock().await;
        assert_eq!(cache.at_once(key), Some(body));
        if let Ok(mut kept) = cache.kept.write() {
            for k in kept.iter_mut() {
                k.read_at = Instant::now().checked_sub(STAND_IN).unwrap();
            }
        }
        assert!(cache.at_once(key).is_none(), "too old to stand in");
        drop(reading);
        store.close();
    }

    #[test]
    fn a_page_number_is_digits_from_one() {
        assert_eq!(page_number("1"), Some(1));
        assert_eq!(page_number("25"), Some(25));
        for bad in ["", "0", "-1", "+2", "2.0", "x", "9999999", "1e3"] {
            assert_eq!(page_number(bad), None, "{bad}");
        }
        assert_eq!(value_in("lang=en&page=3", "page"), Some("3"));
        assert_eq!(value_in("lang=en", "page"), None);
    }
}
