//! The monitoring overview of `GET /hardships`: the filters, every hardship
//! with its measures' status (those past their target flagged), and the
//! status changes since the day asked for.
//!
//! Invariant: every decrypted title is rendered through maud's escaping in an
//! element of its own with `dir="auto"`; the page is sent from a wiped buffer.

use maud::{Markup, html};
use zeroize::Zeroizing;

use super::Face;
use crate::review::measures::{LEVERS, MEASURE_STATUSES};
use crate::review::monitoring::Filters;
use crate::signal::questions;
use crate::views::{Lang, choice_label, day, fill};

/// One hardship of the overview.
pub struct OverviewRow {
    /// Its id.
    pub id: String,
    /// Its title, decrypted.
    pub title: Zeroizing<String>,
    /// Its domain, if chosen.
    pub domain: Option<String>,
    /// How many signals are linked to it.
    pub signals: u64,
    /// How many measures it has.
    pub measures: usize,
    /// (status, how many of its measures have it), in the statuses' order.
    pub by_status: Vec<(&'static str, usize)>,
    /// How many of its measures are past their target and not ended.
    pub overdue: usize,
    /// The last day anything about it changed.
    pub changed_on: String,
    /// Whether it is published.
    pub published: bool,
}

/// A status change listed under "changed since".
pub struct ChangeShown {
    /// The hardship's id.
    pub hardship_id: String,
    /// Its title, decrypted.
    pub title: Zeroizing<String>,
    /// The measure's kind.
    pub kind: String,
    /// The measure's lever.
    pub lever: String,
    /// The status set.
    pub status: String,
    /// The day it was set.
    pub day: String,
}

/// What the overview shows.
pub struct OverviewView<'a> {
    /// The hardships that pass the filters.
    pub rows: &'a [OverviewRow],
    /// The status changes since `filters.since`, of those hardships.
    pub changes: &'a [ChangeShown],
    /// The filters as asked.
    pub filters: &'a Filters,
    /// Today, for the date box's limit.
    pub today: String,
    /// The annual report's form as typed.
    pub annual: &'a AnnualForm,
}

fn select(face: Face, id: &str, label: &str, chosen: &str, options: &[(&str, String)]) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(id.trim_start_matches("f-")) {
                option value="" { (face.t("review.filter.all")) }
                @for (v, text) in options {
                    option value=(v) selected[chosen == *v] { (text) }
                }
            }
        }
    }
}

fn filters_form(face: Face, f: &Filters, today: &str) -> Markup {
    let t = |key: &str| face.t(key);
    let domains: Vec<(&str, String)> = questions::options("domain")
        .iter()
        .map(|d| {
            (
                d.as_str(),
                choice_label(face.lang, "domain", d).unwrap_or(d).to_owned(),
            )
        })
        .collect();
    let levers: Vec<(&str, String)> = LEVERS
        .iter()
        .map(|l| (*l, t(&format!("review.measure.lever.{l}")).to_owned()))
        .collect();
    let statuses: Vec<(&str, String)> = MEASURE_STATUSES
        .iter()
        .map(|s| (*s, t(&format!("review.measure.status.{s}")).to_owned()))
        .collect();
    html! {
        form.filters method="get" action="/hardships" role="search" novalidate aria-label=(t("review.overview.filter")) {
            div.field {
                label for="f-organisation" { (t("review.overview.organisation")) }
                input #f-organisation name="organisation" type="search" maxlength="100" value=(f.organisation);
            }
            (select(face, "f-domain", t("review.hardship.domain"), &f.domain, &domains))
            (select(face, "f-lever", t("review.measure.lever"), &f.lever, &levers))
            (select(face, "f-status", t("review.measure.status"), &f.status, &statuses))
            div.field {
                label for="f-since" { (t("review.overview.since")) }
                input #f-since name="since" type="date" max=(today) value=(f.since);
            }
            div.field {
                input #f-overdue name="overdue" type="checkbox" value="1" checked[f.overdue];
                " " label for="f-overdue" { (t("review.overview.overdue_only")) }
            }
            p {
                button type="submit" { (t("review.filter.show")) }
                @if f.any() { " " a href="/hardships" { (t("review.overview.clear")) } }
            }
        }
    }
}

/// The annual report's form as typed: the year as text (kept when refused),
/// the format, the language and whether internal hardships are in it.
#[derive(Debug, Clone, Default)]
pub struct AnnualForm {
    /// The year as typed; empty: this year.
    pub year: String,
    /// `html`, `md` or `csv`; empty: HTML.
    pub format: String,
    /// The report's language; `None`: the page's.
    pub lang: Option<Lang>,
    /// Whether the unpublished hardships are in it.
    pub internal: bool,
    /// Whether the year was refused.
    pub bad_year: bool,
}

/// The form that downloads the annual report (`GET /hardships/report`); a
/// refused year is said at its box, with what was typed kept.
fn annual_form(face: Face, today: &str, form: &AnnualForm) -> Markup {
    let t = |key: &str| face.t(key);
    let year = if form.year.is_empty() && !form.bad_year {
        today.get(..4).unwrap_or("2026")
    } else {
        form.year.as_str()
    };
    let lang = form.lang.unwrap_or(face.lang);
    html! {
        section #annual-report aria-labelledby="annual-report-h" {
            h2 #annual-report-h { (t("review.annual.heading")) }
            p { (t("review.annual.intro")) }
            form.filters method="get" action="/hardships/report" novalidate {
                div.field.has-error[form.bad_year] {
                    label for="r-year" { (t("review.annual.year")) }
                    @if form.bad_year { p.error #r-year-error { (t("review.annual.year.error")) } }
                    input #r-year name="year" type="text" inputmode="numeric" maxlength="4" size="6" autocomplete="off" value=(year)
                        aria-invalid=[form.bad_year.then_some("true")] aria-describedby=[form.bad_year.then_some("r-year-error")] autofocus[form.bad_year];
                }
                div.field {
                    label for="r-format" { (t("review.annual.format")) }
                    select #r-format name="format" {
                        @for f in ["html", "md", "csv"] {
                            option value=(f) selected[form.format == f] { (t(&format!("review.annual.format.{f}"))) }
                        }
                    }
                }
                div.field {
                    label for="r-lang" { (t("review.annual.lang")) }
                    select #r-lang name="lang" {
                        @for l in [Lang::Nl, Lang::En] {
                            option value=(l.code()) selected[l == lang] {
                                (t(&format!("review.annual.lang.{}", l.code())))
                            }
                        }
                    }
                }
                div.field {
                    input #r-internal name="internal" type="checkbox" value="1" checked[form.internal];
                    " " label for="r-internal" { (t("review.annual.internal")) }
                }
                p { button type="submit" { (t("review.annual.download")) } }
            }
        }
    }
}

/// The overview: filters, the table of hardships, the changes since, and
/// the annual report's form.
pub fn overview(face: Face, view: &OverviewView<'_>) -> Markup {
    let t = |key: &str| face.t(key);
    html! {
        (filters_form(face, view.filters, &view.today))
        @if view.rows.is_empty() {
            p data-hardships="0" {
                @if view.filters.any() { (t("review.overview.none_match")) } @else { (t("review.hardships.none")) }
            }
        } @else {
            p data-shown=(view.rows.len()) { (fill(t("review.overview.count"), &[("n", &view.rows.len())])) }
            div.table-scroll role="region" aria-label=(t("review.hardships.title")) tabindex="0" {
                table data-hardships=(view.rows.len()) {
                    thead { tr {
                        th scope="col" { (t("review.hardship.title")) }
                        th scope="col" { (t("review.hardship.domain")) }
                        th scope="col" { (t("review.hardship.signals")) }
                        th scope="col" { (t("review.hardship.measures")) }
                        th scope="col" { (t("review.overview.changed")) }
                        th scope="col" { (t("review.publish.heading")) }
                    } }
                    tbody {
                        @for r in view.rows {
                            tr data-hardship=(r.id) data-overdue=(r.overdue) {
                                td { a href=(format!("/hardships/{}", r.id)) dir="auto" { (r.title.as_str()) } }
                                td { @if let Some(d) = &r.domain { (choice_label(face.lang, "domain", d).unwrap_or(d)) } }
                                td { (r.signals) }
                                td {
                                    @if r.measures == 0 { "—" }
                                    ul.statuses {
                                        @for (s, n) in &r.by_status {
                                            li data-count-status=(s) { (t(&format!("review.measure.status.{s}"))) ": " (n) }
                                        }
                                    }
                                    @if r.overdue > 0 {
                                        p.overdue { strong { (fill(t("review.overview.overdue"), &[("n", &r.overdue)])) } }
                                    }
                                }
                                td { (day(face.lang, &r.changed_on)) }
                                td { @if r.published { (t("review.overview.public")) } @else { (t("review.overview.internal")) } }
                            }
                        }
                    }
                }
            }
        }
        @if !view.filters.since.is_empty() {
            section #changes {
                h2 { (t("review.overview.changes")) " " (day(face.lang, &view.filters.since)) }
                @if view.changes.is_empty() {
                    p data-changes="0" { (t("review.overview.no_changes")) }
                } @else {
                    ul data-changes=(view.changes.len()) {
                        @for c in view.changes {
                            li data-change=(c.status) {
                                (day(face.lang, &c.day)) " — "
                                a href=(format!("/hardships/{}#measures", c.hardship_id)) dir="auto" { (c.title.as_str()) } ": "
                                (t(&format!("review.measure.kind.{}", c.kind))) " (" (t(&format!("review.measure.lever.{}", c.lever))) ") → "
                                strong { (t(&format!("review.measure.status.{}", c.status))) }
                            }
                        }
                    }
                }
            }
        }
        (annual_form(face, &view.today, view.annual))
    }
}
