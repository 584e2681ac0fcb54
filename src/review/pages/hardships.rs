//! The hardships' pages: the list with the form of a new hardship, one
//! hardship with its signals and measures, and the short page of a refused
//! form.
//!
//! Invariant: every decrypted text is rendered through maud's escaping in an
//! element of its own with `dir="auto"`, and the handler sends these pages
//! from a wiped buffer. Ids are random base32 (checked before they reach a
//! page), so they are safe in an address.

use maud::{Markup, html};
use zeroize::Zeroizing;

use super::{Face, layout};
use crate::review::glance::reference;
use crate::review::hardships::HardshipForm;
use crate::review::measures::{KINDS, LEVERS, MEASURE_STATUSES, MeasureForm};
use crate::review::session::Reviewer;
use crate::signal::questions;
use crate::store::publications::PublicHardship;
use crate::views::{choice_label, day, fill};

/// What a hardship's page may confirm (`?done=`).
pub const HARDSHIP_DONE: &[&str] = &["hardship", "measure", "status", "published", "unpublished"];

/// A hardship a signal can be linked to.
pub struct HardshipLine {
    /// Its id.
    pub id: String,
    /// Its title, decrypted.
    pub title: Zeroizing<String>,
}

/// A signal on a hardship's page.
pub struct LinkedShown {
    /// Its id.
    pub id: String,
    /// Its received day.
    pub received_on: String,
    /// The domain confirmed at triage, or the sender's choice.
    pub domain: Option<String>,
    /// The first words of the situation.
    pub snippet: Zeroizing<String>,
}

/// A measure on a hardship's page, decrypted.
pub struct MeasureShown {
    /// Its id.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// Its lever.
    pub lever: String,
    /// Its current status.
    pub status: String,
    /// Its target day.
    pub target_on: Option<String>,
    /// The day it was added.
    pub created_on: String,
    /// What it is.
    pub text: Zeroizing<String>,
    /// Who carries it out.
    pub organisation: Zeroizing<String>,
    /// Where it comes from (a report, an organisation, a year, an address).
    pub source: Zeroizing<String>,
    /// (status, day, who, note), oldest first.
    pub history: Vec<(String, String, String, Zeroizing<String>)>,
}

/// A hardship, decrypted, with its signals and measures.
pub struct HardshipShown {
    /// Its id.
    pub id: String,
    /// Whether its texts could be opened with this identity.
    pub opened: bool,
    /// Title.
    pub title: Zeroizing<String>,
    /// The pattern: what goes wrong, for whom.
    pub description: Zeroizing<String>,
    /// The rule(s) that cause it.
    pub cause: Zeroizing<String>,
    /// A reference such as a BWB-id and article.
    pub reference: Zeroizing<String>,
    /// The responsible organisation(s).
    pub organisations: Zeroizing<String>,
    /// The day it was created.
    pub created_on: String,
    /// Who created it.
    pub author: String,
    /// Its origin, if chosen.
    pub origin: Option<String>,
    /// Its domain, if chosen.
    pub domain: Option<String>,
    /// Its signals, by day.
    pub signals: Vec<LinkedShown>,
    /// Its measures, in the order they were added.
    pub measures: Vec<MeasureShown>,
    /// What is public of it, if it is published.
    pub publication: Option<PublicHardship>,
}

fn category(face: Face, question: &str, value: &str) -> String {
    choice_label(face.lang, question, value)
        .unwrap_or(value)
        .to_owned()
}

fn error_of(form: &HardshipForm, field: &str) -> Option<&'static str> {
    form.errors
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, k)| *k)
}

fn choices(face: Face, question: &str, name: &str, chosen: &str, err: Option<&str>) -> Markup {
    let id = format!("h-{name}");
    let error_id = format!("{id}-error");
    html! {
        div.field.has-error[err.is_some()] {
            label for=(id) { (face.t(&format!("review.hardship.{name}"))) }
            @if let Some(e) = err { p.error id=(error_id) { (face.t(e)) } }
            select id=(id) name=(name) aria-invalid=[err.map(|_| "true")] aria-describedby=[err.map(|_| error_id.as_str())] {
                option value="" { "—" }
                @for o in questions::options(question) {
                    option value=(o) selected[chosen == o] { (category(face, question, o)) }
                }
            }
        }
    }
}

fn text_field(face: Face, form: &HardshipForm, name: &str, area: bool, required: bool) -> Markup {
    let id = format!("h-{name}");
    let error_id = format!("{id}-error");
    let err = error_of(form, name);
    let described = err.map(|_| error_id.as_str());
    html! {
        div.field.has-error[err.is_some()] {
            label for=(id) { (face.t(&format!("review.hardship.{name}"))) }
            @if let Some(e) = err { p.error id=(error_id) { (face.t(e)) } }
            @if area {
                textarea id=(id) name=(name) rows="5" maxlength="10000" required[required] aria-invalid=[err.map(|_| "true")] aria-describedby=[described] { (form.text(name)) }
            } @else {
                input id=(id) name=(name) type="text" maxlength="300" value=(form.text(name)) required[required] aria-invalid=[err.map(|_| "true")] aria-describedby=[described];
            }
        }
    }
}

/// `GET /hardships`: the monitoring overview, and the form of a new
/// hardship (as sent and refused, when `form` has errors).
pub fn hardships(
    face: Face,
    who: &Reviewer,
    view: &super::monitoring::OverviewView<'_>,
    form: &HardshipForm,
) -> Markup {
    let t = |key: &str| face.t(key);
    layout(
        face,
        t("review.hardships.title"),
        Some(who),
        html! {
            h1 { (t("review.hardships.title")) }
            (super::monitoring::overview(face, view))
            section #new {
                h2 { (t("review.hardships.new")) }
                @if !form.errors.is_empty() {
                    div.error-summary role="alert" { p { (t("review.hardships.refused")) } }
                }
                form method="post" action="/hardships" novalidate {
                    input type="hidden" name="csrf" value=(who.csrf);
                    (text_field(face, form, "title", false, true))
                    (text_field(face, form, "description", true, true))
                    (text_field(face, form, "cause", true, false))
                    (text_field(face, form, "reference", false, false))
                    (choices(face, "origin", "origin", &form.origin, error_of(form, "origin")))
                    (choices(face, "domain", "domain", &form.domain, error_of(form, "domain")))
                    (text_field(face, form, "organisations", false, false))
                    p { button type="submit" { (t("review.hardships.create")) } }
                }
            }
        },
    )
}

fn select_of(face: Face, id: &str, name: &str, values: &[&str], prefix: &str) -> Markup {
    html! {
        select id=(id) name=(name) {
            @for v in values { option value=(v) { (face.t(&format!("{prefix}.{v}"))) } }
        }
    }
}

fn measure(face: Face, who: &Reviewer, hardship: &str, m: &MeasureShown) -> Markup {
    let t = |key: &str| face.t(key);
    let status_id = format!("m-{}-status", m.id);
    let note_id = format!("m-{}-note", m.id);
    html! {
        article.measure data-measure=(m.id) data-kind=(m.kind) data-lever=(m.lever) {
            h3 { (t(&format!("review.measure.kind.{}", m.kind))) " · " (t(&format!("review.measure.lever.{}", m.lever))) }
            p.text dir="auto" { (m.text.as_str()) }
            dl {
                dt { (t("review.measure.organisation")) } dd dir="auto" { (m.organisation.as_str()) }
                @if !m.source.is_empty() { dt { (t("review.measure.source")) } dd dir="auto" { (m.source.as_str()) } }
                @if let Some(target) = &m.target_on { dt { (t("review.measure.target")) } dd { (day(face.lang, target)) } }
                dt { (t("review.hardship.created")) } dd { (day(face.lang, &m.created_on)) }
                dt { (t("review.measure.status")) }
                dd { strong data-status=(m.status) { (t(&format!("review.measure.status.{}", m.status))) } }
            }
            h4 { (t("review.measure.history")) }
            ol.history {
                @for (status, on, by, note) in &m.history {
                    li data-history=(status) {
                        (day(face.lang, on)) " — " (t(&format!("review.measure.status.{status}"))) " (" (by) ")"
                        @if !note.is_empty() { ": " span dir="auto" { (note.as_str()) } }
                    }
                }
            }
            form.inline method="post" action=(format!("/hardships/{hardship}/measures/{}/status", m.id)) {
                input type="hidden" name="csrf" value=(who.csrf);
                label for=(status_id) { (t("review.measure.new_status")) } " "
                (select_of(face, &status_id, "status", MEASURE_STATUSES, "review.measure.status")) " "
                label for=(note_id) { (t("review.measure.note")) } " "
                input id=(note_id) name="note" type="text" maxlength="500";
                " " button.secondary type="submit" { (t("review.measure.set_status")) }
            }
        }
    }
}

fn signals(face: Face, h: &HardshipShown) -> Markup {
    let t = |key: &str| face.t(key);
    let first = h.signals.iter().map(|s| s.received_on.as_str()).min();
    let last = h.signals.iter().map(|s| s.received_on.as_str()).max();
    html! {
        section #signals {
            h2 { (t("review.hardship.signals")) }
            p data-linked=(h.signals.len()) {
                (fill(t("review.hardship.count"), &[("n", &h.signals.len())]))
                @if let (Some(first), Some(last)) = (first, last) {
                    " " span data-first=(first) data-last=(last) {
                        (t("review.hardship.range")) " " (day(face.lang, first)) " – " (day(face.lang, last))
                    }
                }
            }
            @if !h.signals.is_empty() {
                div.table-scroll role="region" aria-label=(t("review.hardship.signals")) tabindex="0" {
                    table {
                        thead { tr {
                            th scope="col" { (t("review.col.signal")) }
                            th scope="col" { (t("review.col.received")) }
                            th scope="col" { (t("review.col.domain")) }
                            th scope="col" { (t("review.col.about")) }
                        } }
                        tbody {
                            @for s in &h.signals {
                                tr data-signal=(s.id) {
                                    td { a href=(format!("/signals/{}", s.id)) { (reference(&s.id)) } }
                                    td { (day(face.lang, &s.received_on)) }
                                    td { @if let Some(d) = &s.domain { (category(face, "domain", d)) } }
                                    td dir="auto" { (s.snippet.as_str()) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn measure_choice(face: Face, form: &MeasureForm, name: &str, values: &[&str]) -> Markup {
    let id = format!("m-{name}");
    let error_id = format!("{id}-error");
    let err = form.error(name);
    let chosen = if name == "kind" {
        &form.kind
    } else {
        &form.lever
    };
    html! {
        div.field.has-error[err.is_some()] {
            label for=(id) { (face.t(&format!("review.measure.{name}"))) }
            @if let Some(e) = err { p.error id=(error_id) { (face.t(e)) } }
            select id=(id) name=(name) aria-invalid=[err.map(|_| "true")] aria-describedby=[err.map(|_| error_id.as_str())] {
                @for v in values { option value=(v) selected[chosen == v] { (face.t(&format!("review.measure.{name}.{v}"))) } }
            }
        }
    }
}

fn measure_text(face: Face, form: &MeasureForm, name: &str, kind: &str, required: bool) -> Markup {
    let id = format!("m-{name}");
    let error_id = format!("{id}-error");
    let err = form.error(name);
    let described = err.map(|_| error_id.as_str());
    html! {
        div.field.has-error[err.is_some()] {
            label for=(id) { (face.t(&format!("review.measure.{name}"))) }
            @if let Some(e) = err { p.error id=(error_id) { (face.t(e)) } }
            @if kind == "area" {
                textarea id=(id) name=(name) rows="4" maxlength="10000" required[required] aria-invalid=[err.map(|_| "true")] aria-describedby=[described] { (form.text(name)) }
            } @else {
                input id=(id) name=(name) type=(kind) maxlength=[(kind == "text").then_some("300")] value=(form.text(name)) required[required] aria-invalid=[err.map(|_| "true")] aria-describedby=[described];
            }
        }
    }
}

fn new_measure(face: Face, who: &Reviewer, hardship: &str, form: &MeasureForm) -> Markup {
    let t = |key: &str| face.t(key);
    html! {
        form #new-measure method="post" action=(format!("/hardships/{hardship}/measures")) novalidate {
            h3 { (t("review.measure.add")) }
            input type="hidden" name="csrf" value=(who.csrf);
            (measure_choice(face, form, "kind", KINDS))
            (measure_choice(face, form, "lever", LEVERS))
            (measure_text(face, form, "text", "area", true))
            (measure_text(face, form, "organisation", "text", true))
            (measure_text(face, form, "source", "text", false))
            (measure_text(face, form, "target", "date", false))
            p { button type="submit" { (t("review.measure.submit")) } }
        }
    }
}

/// `GET /hardships/{id}`.
pub fn hardship(
    face: Face,
    who: &Reviewer,
    h: &HardshipShown,
    done: Option<&str>,
    measure_form: &MeasureForm,
) -> Markup {
    let t = |key: &str| face.t(key);
    let title = if h.opened {
        h.title.as_str()
    } else {
        t("review.signal.undecryptable")
    };
    layout(
        face,
        title,
        Some(who),
        html! {
            @if let Some(done) = done {
                div.confirmation role="status" data-done=(done) { (t(&format!("review.done.{done}"))) }
            }
            @if !measure_form.errors.is_empty() {
                div.error-summary role="alert" data-refused="measure" {
                    p { a href="#new-measure" { (t("review.measure.refused")) } }
                }
            }
            nav.steps aria-label=(t("review.signal.steps")) { a href="/hardships" { (t("review.hardships.back")) } }
            h1 dir="auto" { (title) }
            dl.hardship {
                dt { (t("review.hardship.description")) } dd.text dir="auto" { (h.description.as_str()) }
                @if !h.cause.is_empty() { dt { (t("review.hardship.cause")) } dd.text dir="auto" { (h.cause.as_str()) } }
                @if !h.reference.is_empty() { dt { (t("review.hardship.reference")) } dd dir="auto" { (h.reference.as_str()) } }
                @if let Some(o) = &h.origin { dt { (t("review.hardship.origin")) } dd data-origin=(o) { (category(face, "origin", o)) } }
                @if let Some(d) = &h.domain { dt { (t("review.hardship.domain")) } dd data-domain=(d) { (category(face, "domain", d)) } }
                @if !h.organisations.is_empty() { dt { (t("review.hardship.organisations")) } dd dir="auto" { (h.organisations.as_str()) } }
                dt { (t("review.hardship.created")) } dd { (day(face.lang, &h.created_on)) " (" (h.author) ")" }
            }
            (signals(face, h))
            section #measures {
                h2 { (t("review.hardship.measures")) }
                @for m in &h.measures { (measure(face, who, &h.id, m)) }
                (new_measure(face, who, &h.id, measure_form))
            }
            (super::publish::publication(face, who, h))
        },
    )
}

/// A refused form: why, and the way back to where it was sent from.
pub fn refused(face: Face, who: &Reviewer, text: &str, back: &str) -> Markup {
    let title = face.t("review.refused.title");
    layout(
        face,
        title,
        Some(who),
        html! {
            h1 { (title) }
            p role="alert" { (text) }
            p { a href=(back) { (face.t("review.refused.back")) } }
        },
    )
}
