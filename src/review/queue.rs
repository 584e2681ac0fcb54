//! `GET /`: the queue. Its rows come from plaintext metadata; what it shows of
//! each signal's content (the first words, the sender's choice of domain and
//! scale) is decrypted with the session's identity while the page is made.
//!
//! Invariants: before anything is decrypted, one audit row names the signals
//! whose snippets the page shows (and, for a domain filter, one names the
//! untriaged signals whose sealed choice of domain it reads: each once a
//! session, which keeps what it read); the page is sent from a wiped buffer.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::glance::{self, Glance};
use super::session::Reviewer;
use super::{Face, Failure, ReviewError, ReviewState, pages};
use crate::audit::{Action, Entry};
use crate::signal::STATUSES;
use crate::store::queue::{Assigned, QueueFilter, Sort, Untriaged};
use crate::web;

/// What the queue's address asks for besides the filter: a reference typed
/// into "go to".
#[derive(Debug, Default)]
pub struct Asked {
    /// The filter.
    pub filter: QueueFilter,
    /// The reference typed, as the start of an id.
    pub reference: Option<String>,
    /// The reference as typed, to show back (only the characters a reference has).
    pub typed_reference: String,
    /// Every checkbox ticked ("select all on this page").
    pub all: bool,
    /// What a bulk change just did: how many changed, or `None` if nothing was selected.
    pub bulk: Option<Option<u64>>,
}

/// Reads the queue's query string for `reviewer`; unknown or malformed
/// values fall back to the defaults rather than failing.
pub fn parse_filter(query: Option<&str>, reviewer: &str) -> Asked {
    let mut asked = Asked {
        filter: QueueFilter {
            page: 1,
            ..QueueFilter::default()
        },
        ..Asked::default()
    };
    let filter = &mut asked.filter;
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "status" if STATUSES.contains(&v.as_ref()) => filter.status = Some(v.into_owned()),
            "domain" if valid_value(&v, 64) => filter.domain = Some(v.into_owned()),
            "label" if valid_value(&v, 40) => filter.label = Some(v.trim().to_owned()),
            "who" => {
                filter.assigned = match v.as_ref() {
                    "mine" => Some(Assigned::To(reviewer.to_owned())),
                    "nobody" => Some(Assigned::Nobody),
                    _ => None,
                }
            }
            "attention" => filter.attention = v == "1",
            "all" => asked.all = v == "1",
            "bulk" => asked.bulk = Some(v.parse().ok()),
            "sort" => filter.sort = Sort::parse(&v),
            "page" => filter.page = v.parse().unwrap_or(1).clamp(1, 1_000_000),
            "ref" if !v.trim().is_empty() => {
                asked.reference = glance::parse_reference(&v);
                asked.typed_reference = v
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == ' ')
                    .take(20)
                    .collect();
            }
            _ => {}
        }
    }
    asked
}

/// A filter value a person could have chosen: short, no control characters, no comma.
fn valid_value(v: &str, max: usize) -> bool {
    let v = v.trim();
    !v.is_empty() && v.chars().count() <= max && !v.chars().any(|c| c.is_control() || c == ',')
}

/// The query string that shows `filter` again (its page included).
pub fn query_of(filter: &QueueFilter, page: u32) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    if let Some(s) = &filter.status {
        q.append_pair("status", s);
    }
    if let Some(d) = &filter.domain {
        q.append_pair("domain", d);
    }
    if let Some(l) = &filter.label {
        q.append_pair("label", l);
    }
    match &filter.assigned {
        Some(Assigned::To(_)) => {
            q.append_pair("who", "mine");
        }
        Some(Assigned::Nobody) => {
            q.append_pair("who", "nobody");
        }
        None => {}
    }
    if filter.attention {
        q.append_pair("attention", "1");
    }
    q.append_pair("sort", filter.sort.as_str());
    q.append_pair("page", &page.to_string());
    q.finish()
}

/// Decrypts `envelopes` with the session's identity off the async workers.
async fn decrypt_all<T, F>(
    reviewer: &Reviewer,
    envelopes: Vec<Vec<u8>>,
    f: F,
) -> Result<Vec<T>, ReviewError>
where
    T: Send + 'static,
    F: Fn(&[u8], &age::x25519::Identity) -> T + Send + 'static,
{
    let identity = std::sync::Arc::clone(&reviewer.identity);
    tokio::task::spawn_blocking(move || envelopes.iter().map(|e| f(e, &identity)).collect())
        .await
        .map_err(|_| ReviewError::Unavailable)
}

/// Fills `filter.chosen` for a domain filter: the untriaged signals whose
/// sender chose that domain. What the session has not read yet is read (and
/// audited first) from the envelopes, and kept for the session's next pages.
pub(super) async fn sender_choices(
    state: &ReviewState,
    reviewer: &Reviewer,
    filter: &mut QueueFilter,
) -> Result<(), ReviewError> {
    let Some(domain) = filter.domain.clone() else {
        return Ok(());
    };
    let (untriaged, more) = state.store.untriaged(filter.status.clone()).await?;
    filter.chosen_partly = more;
    let unread: Vec<&Untriaged> = untriaged
        .iter()
        .filter(|u| reviewer.chosen.get(&u.id).is_none())
        .collect();
    if !unread.is_empty() {
        let ids: Vec<&str> = unread.iter().map(|u| u.id.as_str()).collect();
        state
            .store
            .audit(Entry::general(
                &reviewer.name,
                Action::Glance,
                format!("domain chosen by the sender read: {}", ids.join(" ")),
            ))
            .await?;
        let envelopes = state
            .store
            .envelopes_at(unread.iter().map(|u| u.rid).collect())
            .await?;
        let found: Vec<(String, Vec<u8>)> = unread
            .iter()
            .zip(envelopes)
            .filter_map(|(u, e)| Some((u.id.clone(), e?)))
            .collect();
        let (ids, envelopes): (Vec<String>, Vec<Vec<u8>>) = found.into_iter().unzip();
        let chosen = decrypt_all(reviewer, envelopes, glance::chosen_domain).await?;
        for (id, c) in ids.into_iter().zip(chosen) {
            reviewer.chosen.keep(id, c);
        }
    }
    filter.chosen = untriaged
        .iter()
        .filter(|u| reviewer.chosen.get(&u.id) == Some(Some(domain.as_str())))
        .map(|u| u.rid)
        .collect();
    Ok(())
}

/// `GET /`.
pub async fn page(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    RawQuery(query): RawQuery,
) -> Result<Response, Failure> {
    let fail = |e: ReviewError| Failure(face, e);
    let mut asked = parse_filter(query.as_deref(), &reviewer.name);
    let mut found = None;
    if !asked.typed_reference.is_empty() {
        let ids = match &asked.reference {
            Some(prefix) => state
                .store
                .ids_starting(prefix.clone())
                .await
                .map_err(|e| fail(e.into()))?,
            None => Vec::new(),
        };
        if let [id] = ids.as_slice() {
            return Ok(Redirect::to(&format!("/signals/{id}")).into_response());
        }
        found = Some(ids);
    }
    sender_choices(&state, &reviewer, &mut asked.filter)
        .await
        .map_err(fail)?;
    let mut page = state
        .store
        .queue(asked.filter.clone())
        .await
        .map_err(|e| fail(e.into()))?;
    if !page.rows.is_empty() {
        let ids: Vec<&str> = page.rows.iter().map(|r| r.id.as_str()).collect();
        state
            .store
            .audit(Entry::general(
                &reviewer.name,
                Action::Glance,
                format!("snippets shown: {}", ids.join(" ")),
            ))
            .await
            .map_err(|e| fail(e.into()))?;
    }
    let envelopes = page
        .rows
        .iter_mut()
        .map(|r| std::mem::take(&mut r.envelope))
        .collect();
    let glances: Vec<Glance> = decrypt_all(&reviewer, envelopes, glance::glance)
        .await
        .map_err(fail)?;
    let domains = state
        .store
        .domains_in_use()
        .await
        .map_err(|e| fail(e.into()))?;
    let labels = state.store.labels().await.map_err(|e| fail(e.into()))?;
    let mut team = super::reviewers::list(&state.keys_dir);
    if !team.contains(&reviewer.name) {
        team.push(reviewer.name.clone());
    }
    let view = pages::QueueView {
        all: asked.all,
        bulk: asked.bulk,
        reviewers: &team,
        filter: &asked.filter,
        page: &page,
        glances: &glances,
        domains: &domains,
        labels: &labels,
        typed_reference: &asked.typed_reference,
        found: found.as_deref(),
    };
    Ok(web::wiped(pages::queue(face, &reviewer, &view)))
}

/// `POST /bulk`: sets the status, assignee or a label of the selected
/// signals (an audit row each), then back to the same queue page.
pub async fn bulk(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    body: axum::body::Body,
) -> Result<Response, Failure> {
    let fail = |e: ReviewError| Failure(face, e);
    let fields = super::fields::Fields::read_checked(body, &reviewer)
        .await
        .map_err(fail)?;
    let back = parse_filter(Some(fields.get("back")), &reviewer.name).filter;
    let back = query_of(&back, back.page);
    let ids: Vec<String> = fields
        .all("id")
        .into_iter()
        .filter(|id| super::signals::valid_id(id))
        .take(super::export::MAX_EXPORT)
        .map(str::to_owned)
        .collect();
    let status = fields.get("status");
    let assignee = fields.get("assignee");
    let label = fields.get("label").trim();
    let change = crate::store::signals::Bulk {
        status: (!status.is_empty()).then(|| status.to_owned()),
        assignee: match assignee {
            "" => None,
            "-" => Some(String::new()),
            name => Some(name.to_owned()),
        },
        label: (!label.is_empty()).then(|| label.to_owned()),
    };
    let team = super::reviewers::list(&state.keys_dir);
    let bad = change
        .status
        .as_deref()
        .is_some_and(|s| !STATUSES.contains(&s))
        || change
            .assignee
            .as_deref()
            .is_some_and(|a| !a.is_empty() && a != reviewer.name && !team.iter().any(|t| t == a))
        || change
            .label
            .as_deref()
            .is_some_and(|l| !super::signals::valid_label(l));
    if bad {
        return Err(fail(ReviewError::BadRequest));
    }
    if ids.is_empty()
        || (change.status.is_none() && change.assignee.is_none() && change.label.is_none())
    {
        return Ok(Redirect::to(&format!("/?{back}&bulk=none")).into_response());
    }
    let n = state
        .store
        .bulk(ids, reviewer.name.clone(), change)
        .await
        .map_err(|e| fail(e.into()))?;
    Ok(Redirect::to(&format!("/?{back}&bulk={n}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_query_keeps_only_known_values() {
        let a = parse_filter(
            Some("status=closed&domain=taxes&sort=oldest&page=3&who=mine&attention=1&label=spoed"),
            "anna",
        );
        let f = &a.filter;
        assert_eq!(f.status.as_deref(), Some("closed"));
        assert_eq!(f.domain.as_deref(), Some("taxes"));
        assert_eq!(f.label.as_deref(), Some("spoed"));
        assert_eq!(f.assigned, Some(Assigned::To("anna".into())));
        assert!(f.attention);
        assert_eq!(f.sort, Sort::Oldest);
        assert_eq!(f.page, 3);
        assert_eq!(
            query_of(f, 3),
            "status=closed&domain=taxes&label=spoed&who=mine&attention=1&sort=oldest&page=3"
        );
        let f = parse_filter(Some("status=%27;drop&page=-1&sort=x&label=a,b"), "anna").filter;
        assert_eq!(f.status, None);
        assert_eq!(f.label, None);
        assert_eq!(f.page, 1);
        assert_eq!(f.sort, Sort::Newest);
    }
}
