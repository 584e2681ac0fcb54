//! `GET /hardships/report?year=YYYY&format=html|md|csv&lang=nl|en[&internal=1]`:
//! the annual report "Hardheden en oplossingen", downloaded as a file.
//!
//! Invariants: the audit row is written before anything is read; with
//! `internal=1` the session's unlocked identity opens the unpublished
//! hardships, which the report marks internal, and the file is sent from a
//! wiped buffer. A year, format or language that is not one of its kind is
//! a 400 page, and nothing is audited or read.

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::pages::AnnualForm;
use super::session::Reviewer;
use super::{Face, Failure, ReviewError, ReviewState};
use crate::annual::{self, Asked, Format};
use crate::views::Lang;
use crate::web;

/// Reads the report asked for by `query`; `None` if a value is not one of
/// its kind. The language is the page's when the address names none.
pub fn asked(query: Option<&str>, page_lang: Lang) -> Option<Asked> {
    let (mut year, mut format, mut lang, mut internal) =
        (None, Some(Format::Html), page_lang, false);
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "year" => year = annual::parse_year(&v),
            "format" => format = Format::parse(v.trim()),
            "lang" => lang = Lang::parse(v.trim())?,
            "internal" => internal = v == "1",
            _ => {}
        }
    }
    Some(Asked {
        year: year?,
        format: format?,
        lang,
        internal,
    })
}

/// The form as `query` typed it, for the page that says its year was
/// refused: the year as typed (its first ten characters), the rest if known.
fn typed(query: Option<&str>) -> AnnualForm {
    let mut form = AnnualForm::default();
    let mut year = None;
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "year" => year = Some(v.chars().filter(|c| !c.is_control()).take(10).collect()),
            "format" if Format::parse(v.trim()).is_some() => form.format = v.trim().to_owned(),
            "lang" => form.lang = Lang::parse(v.trim()),
            "internal" => form.internal = v == "1",
            _ => {}
        }
    }
    let year: String = year.unwrap_or_default();
    form.bad_year = annual::parse_year(&year).is_none();
    form.year = year;
    form
}

/// `GET /hardships/report`.
pub async fn download(
    State(state): State<ReviewState>,
    face: Face,
    reviewer: Reviewer,
    RawQuery(query): RawQuery,
) -> Result<Response, Failure> {
    let Some(asked) = asked(query.as_deref(), face.lang) else {
        let typed = typed(query.as_deref());
        if !typed.bad_year {
            return Err(Failure(face, ReviewError::BadRequest));
        }
        let filters = super::monitoring::Filters::default();
        return super::monitoring::page(
            &state,
            face,
            &reviewer,
            filters,
            &super::hardships::HardshipForm::default(),
            &typed,
        )
        .await;
    };
    let fail = |e: crate::store::StoreError| Failure(face, ReviewError::from(e));
    state
        .store
        .audit(annual::audit_entry(&reviewer.name, &asked))
        .await
        .map_err(fail)?;
    let store = state.store.clone();
    let identity = std::sync::Arc::clone(&reviewer.identity);
    let report =
        tokio::task::spawn_blocking(move || annual::make(&store, asked, Some(identity.as_ref())))
            .await
            .map_err(|_| Failure(face, ReviewError::Unavailable))?
            .map_err(fail)?;
    let name = format!(
        "attachment; filename=\"{}-{}{}.{}\"",
        match asked.lang {
            Lang::Nl => "hardheden-en-oplossingen",
            Lang::En => "hardships-and-solutions",
        },
        asked.year,
        if asked.internal { "-intern" } else { "" },
        asked.format.code()
    );
    let mut res = web::wiped_text(report, asked.format.content_type());
    if let Ok(value) = header::HeaderValue::from_str(&name) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(res.into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_report_is_asked_for_with_a_year_and_known_values_only() {
        let a = asked(Some("year=2026&format=md&lang=en&internal=1"), Lang::Nl).unwrap();
        assert_eq!(
            (a.year, a.format, a.lang, a.internal),
            (2026, Format::Md, Lang::En, true)
        );
        let a = asked(Some("year=2026"), Lang::En).unwrap();
        assert_eq!(
            (a.format, a.lang, a.internal),
            (Format::Html, Lang::En, false)
        );
        for bad in [
            "",
            "year=26",
            "year=2026&format=pdf",
            "year=2026&lang=de",
            "format=csv",
        ] {
            assert!(asked(Some(bad), Lang::Nl).is_none(), "{bad}");
        }
    }
}
