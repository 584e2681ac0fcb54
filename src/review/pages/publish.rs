//! Publishing on a hardship's page: what is public now, the form that
//! publishes (again), the button that takes it back, and the page that holds
//! a publication back until its texts are complete and the guard's findings
//! are confirmed.
//!
//! Invariant: every text is rendered through maud's escaping; the page is
//! sent from a wiped buffer (it holds texts not yet published).

use maud::{Markup, html};

use super::hardships::HardshipShown;
use super::{Face, layout};
use crate::review::publish::{PublicMeasureForm, PublishForm, measure_field};
use crate::review::session::Reviewer;
use crate::views::day;
use zeroize::Zeroizing;

fn error_of<'a>(form: &'a PublishForm, field: &str) -> Option<&'a str> {
    form.errors
        .iter()
        .find(|(f, _)| f == field)
        .map(|(_, k)| *k)
}

fn field(
    face: Face,
    form: &PublishForm,
    name: &str,
    label: &str,
    value: &str,
    area: bool,
    required: bool,
) -> Markup {
    let id = format!("p-{name}");
    let error_id = format!("{id}-error");
    let err = error_of(form, name);
    let described = err.map(|_| error_id.as_str());
    let flagged = form.findings.iter().any(|(f, _)| f == name);
    html! {
        div.field.has-error[err.is_some() || flagged] {
            label for=(id) { (label) }
            @if let Some(e) = err { p.error id=(error_id) { (face.t(e)) } }
            @if area {
                textarea id=(id) name=(name) rows="4" maxlength="10000" required[required] aria-invalid=[err.map(|_| "true")] aria-describedby=[described] { (value) }
            } @else {
                input id=(id) name=(name) type="text" maxlength="300" value=(value) required[required] aria-invalid=[err.map(|_| "true")] aria-describedby=[described];
            }
        }
    }
}

fn measure_fields(face: Face, form: &PublishForm, m: &PublicMeasureForm) -> Markup {
    let t = |key: &str| face.t(key);
    let legend = format!(
        "{} · {}",
        t(&format!("review.measure.kind.{}", m.kind)),
        t(&format!("review.measure.lever.{}", m.lever))
    );
    html! {
        fieldset.public-measure data-public-measure=(m.id) {
            legend { (legend) }
            (field(face, form, &measure_field(&m.id, "text"), t("review.publish.measure_text"), &m.text, true, false))
            (field(face, form, &measure_field(&m.id, "organisation"), t("review.measure.organisation"), &m.organisation, false, false))
            (field(face, form, &measure_field(&m.id, "source"), t("review.measure.source"), &m.source, false, false))
        }
    }
}

/// The form that publishes hardship `id` with the texts of `form`; with the
/// guard's confirmation when it found something.
fn publish_form(face: Face, who: &Reviewer, id: &str, form: &PublishForm) -> Markup {
    let t = |key: &str| face.t(key);
    html! {
        form method="post" action=(format!("/hardships/{id}/publish")) novalidate {
            input type="hidden" name="csrf" value=(who.csrf);
            p.hint { (t("review.publish.hint")) }
            (field(face, form, "public_title", t("review.publish.title_label"), &form.title, false, true))
            (field(face, form, "public_summary", t("review.publish.summary_label"), &form.summary, true, true))
            (field(face, form, "public_cause", t("review.publish.cause_label"), &form.cause, true, false))
            @if !form.measures.is_empty() {
                p.hint { (t("review.publish.measures_hint")) }
                @for m in &form.measures { (measure_fields(face, form, m)) }
            }
            @if !form.findings.is_empty() {
                div.field {
                    input #p-confirm type="checkbox" name="confirm" value="1";
                    " " label for="p-confirm" { (t("review.publish.confirm")) }
                }
            }
            p { button type="submit" { (t("review.publish.submit")) } }
        }
    }
}

/// The prefilled publish form of a hardship's page: the public texts as
/// they are, or empty; each measure's public text as published, or its
/// sealed text to start from.
fn prefilled(h: &HardshipShown) -> PublishForm {
    let p = h.publication.as_ref();
    let text = |s: &str| Zeroizing::new(s.to_owned());
    PublishForm {
        title: text(p.map_or("", |p| p.title.as_str())),
        summary: text(p.map_or("", |p| p.summary.as_str())),
        cause: text(p.map_or("", |p| p.cause.as_str())),
        measures: h
            .measures
            .iter()
            .map(|m| {
                let public = p.and_then(|p| p.measures.iter().find(|pm| pm.id == m.id));
                let (txt, org, src) = match (p, public) {
                    (_, Some(pm)) => (
                        pm.text.as_str(),
                        pm.organisation.as_str(),
                        pm.source.as_str(),
                    ),
                    (Some(_), None) => ("", m.organisation.as_str(), m.source.as_str()),
                    (None, None) => (m.text.as_str(), m.organisation.as_str(), m.source.as_str()),
                };
                PublicMeasureForm {
                    id: m.id.clone(),
                    kind: m.kind.clone(),
                    lever: m.lever.clone(),
                    text: text(txt),
                    organisation: text(org),
                    source: text(src),
                }
            })
            .collect(),
        ..PublishForm::default()
    }
}

/// The publication section of a hardship's page.
pub fn publication(face: Face, who: &Reviewer, h: &HardshipShown) -> Markup {
    let t = |key: &str| face.t(key);
    let form = prefilled(h);
    html! {
        section #publication data-published=(h.publication.is_some()) {
            h2 { (t("review.publish.heading")) }
            @if let Some(p) = &h.publication {
                p.published {
                    (t("review.publish.since")) " " (day(face.lang, &p.published_on)) " (" (p.published_by) ")"
                }
                @let left_out = h.measures.len() - p.measures.len().min(h.measures.len());
                @if left_out > 0 {
                    p.hint data-not-public=(left_out) { (crate::views::fill(t("review.publish.left_out"), &[("n", &left_out)])) }
                }
                (publish_form(face, who, &h.id, &form))
                form method="post" action=(format!("/hardships/{}/unpublish", h.id)) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    p { button.secondary type="submit" { (t("review.publish.unpublish")) } }
                }
            } @else {
                p { (t("review.publish.not_yet")) }
                (publish_form(face, who, &h.id, &form))
            }
        }
    }
}

/// The publish form sent back (422): what is missing, or what the guard
/// found and where, with the confirmation box.
pub fn publish_check(face: Face, who: &Reviewer, id: &str, form: &PublishForm) -> Markup {
    let t = |key: &str| face.t(key);
    let title = t("review.publish.check_title");
    layout(
        face,
        title,
        Some(who),
        html! {
            nav.steps aria-label=(t("review.signal.steps")) { a href=(format!("/hardships/{id}")) { (t("review.publish.back")) } }
            h1 { (title) }
            div.error-summary role="alert" {
                @if form.errors.is_empty() {
                    p { (t("review.publish.held_back")) }
                    ul {
                        @for (field, kind) in &form.findings {
                            li data-finding=(kind.key()) data-field=(field) {
                                (face.t(&format!("guard.kind.{}", kind.key()))) " — " (t("guard.in")) " " a href=(format!("#p-{field}")) { (field_label(face, form, field)) }
                            }
                        }
                    }
                    p { (t("review.publish.held_back_how")) }
                } @else {
                    p { (t("review.publish.refused")) }
                }
            }
            (publish_form(face, who, id, form))
        },
    )
}

/// What a field of the publish form is called on the page.
fn field_label(face: Face, form: &PublishForm, field: &str) -> String {
    let t = |key: &str| face.t(key);
    match field {
        "public_title" => t("review.publish.title_label").to_owned(),
        "public_summary" => t("review.publish.summary_label").to_owned(),
        "public_cause" => t("review.publish.cause_label").to_owned(),
        _ => {
            let what = form.measures.iter().find_map(|m| {
                ["text", "organisation", "source"]
                    .into_iter()
                    .find(|w| measure_field(&m.id, w) == field)
                    .map(|w| (m, w))
            });
            match what {
                Some((m, w)) => format!(
                    "{} ({})",
                    t(match w {
                        "text" => "review.publish.measure_text",
                        "organisation" => "review.measure.organisation",
                        _ => "review.measure.source",
                    }),
                    t(&format!("review.measure.kind.{}", m.kind))
                ),
                None => field.to_owned(),
            }
        }
    }
}
