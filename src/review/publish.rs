//! Publishing a hardship: `POST /hardships/{id}/publish` and
//! `POST /hardships/{id}/unpublish`.
//!
//! Invariants:
//! - Publishing is an explicit act: the texts are the ones typed into the
//!   publish form for the public, never a sender's words and never copied
//!   from the sealed texts without a reviewer sending them.
//! - Every public text passes the personal-data guard; what it flags is held
//!   back (nothing stored) until the reviewer confirms, as on the intake form.
//! - What is typed but not yet published lives in wiped buffers; it reaches
//!   the store, in the clear, only with the audit row of the act.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use zeroize::Zeroizing;

use super::fields::Fields;
use super::hardships::{MAX_LINE, refused, too_long};
use super::session::Reviewer;
use super::signals::{MAX_TEXT, checked_form};
use super::{Face, Failure, ReviewError, ReviewState, pages};
use crate::signal::guard::{self, Kind};
use crate::store::publications::NewPublication;

/// A measure as the publish form sends it.
#[derive(Default)]
pub struct PublicMeasureForm {
    /// The measure's id.
    pub id: String,
    /// Its kind, for the label.
    pub kind: String,
    /// Its lever.
    pub lever: String,
    /// Its public text; empty keeps the measure off the public page.
    pub text: Zeroizing<String>,
    /// The organisation, as it will be shown.
    pub organisation: Zeroizing<String>,
    /// The source, as it will be shown.
    pub source: Zeroizing<String>,
}

/// The publish form as sent (or prefilled), and what is wrong with it.
#[derive(Default)]
pub struct PublishForm {
    /// The public title.
    pub title: Zeroizing<String>,
    /// The public summary.
    pub summary: Zeroizing<String>,
    /// The public cause.
    pub cause: Zeroizing<String>,
    /// Each measure of the hardship.
    pub measures: Vec<PublicMeasureForm>,
    /// (field, text key) of each problem.
    pub errors: Vec<(String, &'static str)>,
    /// (field, kind) of each piece of personal data the guard found.
    pub findings: Vec<(String, Kind)>,
}

/// The names a measure's public fields have in the form.
pub fn measure_field(id: &str, what: &str) -> String {
    format!("m_{id}_{what}")
}

/// Reads the publish form for the measures `measures` (id, kind, lever).
fn read(fields: &Fields, measures: Vec<(String, String, String)>) -> PublishForm {
    let text = |name: &str| Zeroizing::new(fields.get(name).trim().to_owned());
    let mut f = PublishForm {
        title: text("public_title"),
        summary: text("public_summary"),
        cause: text("public_cause"),
        ..PublishForm::default()
    };
    for (id, kind, lever) in measures {
        f.measures.push(PublicMeasureForm {
            text: text(&measure_field(&id, "text")),
            organisation: text(&measure_field(&id, "organisation")),
            source: text(&measure_field(&id, "source")),
            id,
            kind,
            lever,
        });
    }
    let mut errors = Vec::new();
    for (name, value, required, max) in [
        ("public_title", &f.title, true, MAX_LINE),
        ("public_summary", &f.summary, true, MAX_TEXT),
        ("public_cause", &f.cause, false, MAX_TEXT),
    ] {
        if required && value.is_empty() {
            errors.push((name.to_owned(), "review.hardship.error.required"));
        } else if too_long(value, max) {
            errors.push((name.to_owned(), "review.hardship.error.long"));
        }
    }
    for m in &f.measures {
        if too_long(&m.text, MAX_TEXT) || too_long(&m.organisation, MAX_LINE) {
            errors.push((measure_field(&m.id, "text"), "review.hardship.error.long"));
        } else if too_long(&m.source, MAX_LINE) {
            errors.push((measure_field(&m.id, "source"), "review.hardship.error.long"));
        } else if !m.text.is_empty() && m.organisation.is_empty() {
            errors.push((
                measure_field(&m.id, "organisation"),
                "review.publish.error.organisation",
            ));
        }
    }
    f.errors = errors;
    f
}

/// What the guard finds in every text the form would publish.
fn scan(f: &PublishForm) -> Vec<(String, Kind)> {
    let mut texts: Vec<(String, &str)> = vec![
        ("public_title".to_owned(), f.title.as_str()),
        ("public_summary".to_owned(), f.summary.as_str()),
        ("public_cause".to_owned(), f.cause.as_str()),
    ];
    for m in f.measures.iter().filter(|m| !m.text.is_empty()) {
        texts.push((measure_field(&m.id, "text"), m.text.as_str()));
        texts.push((
            measure_field(&m.id, "organisation"),
            m.organisation.as_str(),
        ));
        texts.push((measure_field(&m.id, "source"), m.source.as_str()));
    }
    texts
        .into_iter()
        .flat_map(|(field, text)| {
            guard::kinds_in(text)
                .into_iter()
                .map(move |k| (field.clone(), k))
        })
        .collect()
}

/// `POST /hardships/{id}/publish`: stores the public texts, or answers with
/// the form again (422) saying what is missing or what the guard found.
pub async fn publish(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Failure> {
    let fields = checked_form(face, &reviewer, &id, body).await?;
    let measures = state
        .store
        .hardship_page(id.clone())
        .await
        .map_err(|e| Failure(face, e.into()))?
        .ok_or(Failure(face, ReviewError::NotFound))?
        .measures
        .into_iter()
        .map(|m| (m.id, m.kind, m.lever))
        .collect();
    let mut form = read(&fields, measures);
    let confirmed = fields.get("confirm") == "1";
    drop(fields);
    if form.errors.is_empty() && !confirmed {
        form.findings = scan(&form);
    }
    if !form.errors.is_empty() || !form.findings.is_empty() {
        let page = pages::publish_check(face, &reviewer, &id, &form);
        let mut res = crate::web::wiped(page);
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    }
    let new = NewPublication {
        title: form.title.to_string(),
        summary: form.summary.to_string(),
        cause: form.cause.to_string(),
        measures: form
            .measures
            .iter()
            .filter(|m| !m.text.is_empty())
            .map(|m| {
                (
                    m.id.clone(),
                    m.text.to_string(),
                    m.organisation.to_string(),
                    m.source.to_string(),
                )
            })
            .collect(),
    };
    let stored = state
        .store
        .publish(id.clone(), reviewer.name.clone(), new)
        .await
        .map_err(|e| Failure(face, e.into()))?;
    if !stored {
        return Err(Failure(face, ReviewError::NotFound));
    }
    Ok(Redirect::to(&format!("/hardships/{id}?done=published#publication")).into_response())
}

/// `POST /hardships/{id}/unpublish`: takes the public texts back.
pub async fn unpublish(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, Failure> {
    checked_form(face, &reviewer, &id, body).await?;
    let gone = state
        .store
        .unpublish(id.clone(), reviewer.name.clone())
        .await
        .map_err(|e| Failure(face, e.into()))?;
    if !gone {
        let back = format!("/hardships/{id}#publication");
        return Ok(refused(
            face,
            &reviewer,
            StatusCode::CONFLICT,
            "review.publish.error.not_published",
            &back,
        ));
    }
    Ok(Redirect::to(&format!("/hardships/{id}?done=unpublished#publication")).into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn one_measure() -> Vec<(String, String, String)> {
        vec![("M1".into(), "measure".into(), "law".into())]
    }

    #[test]
    fn the_form_needs_a_title_and_a_summary_and_an_organisation_for_a_public_measure() {
        let f = read(
            &Fields::parse(b"public_title=&public_summary=s&m_M1_text=do").unwrap(),
            one_measure(),
        );
        let fields: Vec<&str> = f.errors.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(fields, ["public_title", "m_M1_organisation"]);
        let f = read(
            &Fields::parse(b"public_title=t&public_summary=s&m_M1_text=&m_M1_organisation=")
                .unwrap(),
            one_measure(),
        );
        assert!(
            f.errors.is_empty(),
            "a measure left empty stays off the page"
        );
    }

    #[test]
    fn the_guard_reads_every_text_that_would_be_published() {
        let f = read(
            &Fields::parse(
                b"public_title=t&public_summary=mail+jan%40voorbeeld.nl&m_M1_text=do&m_M1_organisation=UWV&m_M1_source=BSN+111222333",
            )
            .unwrap(),
            one_measure(),
        );
        let found = scan(&f);
        assert_eq!(
            found,
            [
                ("public_summary".to_owned(), Kind::Email),
                ("m_M1_source".to_owned(), Kind::Bsn)
            ]
        );
    }
}
