//! Encrypted export: one signal's age file, or a tar of the selected ones.
//!
//! Invariant: what leaves is the stored envelope byte for byte — an age file
//! that `age -d -i <reviewer identity>` opens offline — never plaintext; every
//! export is audited (which signals, by whom) before it is sent.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::fields::Fields;
use super::session::Reviewer;
use super::signals::valid_id;
use super::{Face, Failure, ReviewError, ReviewState};
use crate::audit::{Action, Entry};

/// Most signals in one export.
pub const MAX_EXPORT: usize = 1000;

/// `GET /signals/{id}/envelope.age`.
pub async fn one(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let fail = |e: ReviewError| Failure(face, e);
    if !valid_id(&id) {
        return Err(fail(ReviewError::NotFound));
    }
    let env = state
        .store
        .envelope(id.clone())
        .await
        .map_err(|e| fail(e.into()))?
        .ok_or_else(|| fail(ReviewError::NotFound))?;
    state
        .store
        .audit(Entry::on(&reviewer.name, Action::Export, &id, "age file"))
        .await
        .map_err(|e| fail(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}.age\""),
            ),
        ],
        env.envelope,
    )
        .into_response())
}

/// `POST /export` with one `id` field per selected signal: a tar of `<id>.age`.
pub async fn selected(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    body: Body,
) -> Result<Response, Failure> {
    let fail = |e: ReviewError| Failure(face, e);
    let fields = Fields::read_checked(body, &reviewer).await.map_err(fail)?;
    let ids: Vec<String> = fields
        .all("id")
        .into_iter()
        .filter(|id| valid_id(id))
        .map(str::to_owned)
        .collect();
    if ids.is_empty() || ids.len() > MAX_EXPORT {
        return Err(fail(ReviewError::BadRequest));
    }
    let envelopes = state
        .store
        .envelopes_of(ids)
        .await
        .map_err(|e| fail(e.into()))?;
    for env in &envelopes {
        state
            .store
            .audit(Entry::on(
                &reviewer.name,
                Action::Export,
                &env.id,
                "age file in tar",
            ))
            .await
            .map_err(|e| fail(e.into()))?;
    }
    let mut tar = tar::Builder::new(Vec::new());
    for env in &envelopes {
        let mut head = tar::Header::new_ustar();
        head.set_size(env.envelope.len() as u64);
        head.set_mode(0o600);
        head.set_mtime(0);
        head.set_cksum();
        tar.append_data(
            &mut head,
            format!("{}.age", env.id),
            env.envelope.as_slice(),
        )
        .map_err(|_| fail(ReviewError::Unavailable))?;
    }
    let bytes = tar
        .into_inner()
        .map_err(|_| fail(ReviewError::Unavailable))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"signaal-export.tar\"",
            ),
        ],
        bytes,
    )
        .into_response())
}
