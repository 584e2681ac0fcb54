//! The annual report as a standalone, print-ready HTML document in the plain
//! style of a Rijksoverheid report: a title page, a table of contents with
//! anchors, the summary tables and one section per hardship; A4 pages with
//! their numbers in the margin.
//!
//! Invariant: every text is rendered through maud's escaping; the only
//! `PreEscaped` is the constant stylesheet below. The document loads nothing
//! (no scripts, no fonts, no images): it reads the same from a file, offline.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use zeroize::Zeroizing;

use super::{Hardship, Report, domain_label, label};
use crate::store::hardships::LEVERS;
use crate::views::export::shown;
use crate::views::{day, day_text, fill};

/// The print stylesheet: sober sans-serif, the Rijksoverheid's dark blue for
/// headings, A4 with page numbers, each hardship on a page of its own.
const STYLE: &str = r#"
@page { size: A4; margin: 22mm 20mm 24mm 20mm;
  @bottom-right { content: counter(page); font: 9pt Verdana, Arial, sans-serif; color: #333; } }
@page :first { @bottom-right { content: none; } }
html { overflow-wrap: break-word; font-family: "RijksoverheidSansText", "Rijksoverheid Sans", Verdana, Arial, sans-serif;
  font-size: 11pt; line-height: 1.5; color: #000; background: #fff; }
body { max-width: 48rem; margin: 0 auto; padding: 1.5rem; }
h1, h2, h3 { color: #154273; font-weight: bold; line-height: 1.25; break-after: avoid; }
h1 { font-size: 2rem; margin: 0 0 .5rem; }
h2 { font-size: 1.4rem; margin: 2rem 0 .75rem; }
h3 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
a { color: #154273; }
.cover { display: flex; flex-direction: column; break-after: page; }
.cover .lint { width: 2.6rem; height: 5.5rem; background: #154273; margin: 0 auto 3rem; }
.cover .sub { font-size: 1.25rem; margin: 0 0 2rem; }
.cover .asof { margin-top: 2rem; }
.internal-note { border: 2px solid #a90061; padding: .5rem .75rem; font-weight: bold; }
.tag { display: inline-block; border: 1px solid #a90061; color: #a90061; font-size: .8em;
  padding: 0 .35em; margin-left: .4em; vertical-align: middle; font-weight: bold; }
nav.toc { break-after: page; }
nav.toc ol { padding-left: 1.5rem; }
.wide { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .95em; }
caption { text-align: left; font-weight: bold; padding-bottom: .25rem; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid #b2b2b2; }
thead th { border-bottom: 2px solid #154273; }
td.n, th.n { text-align: right; }
tr { break-inside: avoid; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0 0 1rem; }
dt { font-weight: bold; }
dd { margin: 0; }
section.hardship { break-before: page; }
ul.progress { margin: 0; padding-left: 1.1rem; }
.small { font-size: .9em; }
.vh { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
footer { margin-top: 3rem; font-size: .9em; color: #333; }
@media (max-width: 30rem) { body { padding: .75rem; } dl { display: block; } dd { margin-bottom: .4rem; } }
@media print { table[data-by-domain] { font-size: 8.5pt; } .cover { min-height: 240mm; } .cover .asof { margin-top: auto; } .wide { overflow: visible; } body { max-width: none; padding: 0; } a { color: inherit; text-decoration: none; } }
"#;

/// The report as an HTML document, in a wiped buffer.
pub fn document(report: &Report) -> Zeroizing<String> {
    let lang = report.asked.lang;
    let t = |key: &str| lang.t(key);
    let year = report.asked.year;
    let title = format!("{} {year}", t("annual.title"));
    let internal = report.hardships.iter().any(|h| h.internal);
    let page = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) @if internal { " (" (t("annual.internal")) ")" } }
                // Safe: a constant of this file, no user data.
                style { (PreEscaped(STYLE)) }
            }
            body {
                header.cover {
                    div.lint aria-hidden="true" {}
                    h1 { (title) }
                    p.sub { (fill(t("annual.subtitle"), &[("year", &year)])) }
                    @if internal { p.internal-note data-internal { (t("annual.internal.banner")) } }
                    p.asof { (fill(t("annual.as_of"), &[("day", &day_text(lang, &report.as_of))])) }
                }
                nav.toc aria-labelledby="toc" {
                    h2 #toc { (t("annual.contents")) }
                    ol {
                        li { a href="#summary" { (t("annual.summary")) } }
                        @for (n, h) in report.hardships.iter().enumerate() {
                            li {
                                a href=(format!("#hardship-{}", n + 1)) dir="auto" { (h.title.as_str()) }
                                @if h.internal { span.tag { (t("annual.internal")) } }
                            }
                        }
                    }
                }
                main {
                    (summary(report))
                    @for (n, h) in report.hardships.iter().enumerate() {
                        (hardship(report, n + 1, h))
                    }
                }
                footer { p { (t("annual.counts")) } }
            }
        }
    };
    Zeroizing::new(page.into_string())
}

fn summary(report: &Report) -> Markup {
    let lang = report.asked.lang;
    let t = |key: &str| lang.t(key);
    let (hardships, signals, measures) = report.totals();
    let by_domain = report.by_domain();
    html! {
        section #summary aria-labelledby="summary-h" {
            h2 #summary-h { (t("annual.summary")) }
            @if report.hardships.is_empty() {
                p data-empty { (t("annual.empty")) }
            } @else {
                p data-totals {
                    (fill(t("annual.totals"), &[
                        ("hardships", &shown(hardships)),
                        ("signals", &shown(signals)),
                        ("measures", &shown(measures)),
                    ]))
                }
                div.wide role="region" aria-label=(t("annual.by_domain")) tabindex="0" { table data-by-domain {
                    caption { (t("annual.by_domain")) }
                    thead { tr {
                        th scope="col" { (t("annual.domain")) }
                        th.n scope="col" { (t("annual.hardships")) }
                        @for l in LEVERS { th.n scope="col" { (label(lang, "lever", l)) } }
                    } }
                    tbody {
                        @for (d, n, levers) in &by_domain {
                            tr {
                                th scope="row" { (domain_label(lang, d.as_deref())) }
                                td.n { (shown(*n)) }
                                @for l in levers { td.n { (shown(*l)) } }
                            }
                        }
                    }
                } }
                p.small { (t("annual.by_domain.note")) }
                div.wide role="region" aria-label=(t("annual.by_status")) tabindex="0" { table data-by-status {
                    caption { (t("annual.by_status")) }
                    thead { tr {
                        th scope="col" { (t("annual.status")) }
                        th.n scope="col" { (fill(t("annual.at_end"), &[("day", &day_text(lang, &report.as_of))])) }
                        th.n scope="col" { (fill(t("annual.set_in"), &[("year", &report.asked.year)])) }
                    } }
                    tbody {
                        @for (s, at_end, set) in report.by_status() {
                            tr data-status=(s) {
                                th scope="row" { (label(lang, "status", s)) }
                                td.n { (shown(at_end)) }
                                td.n { (shown(set)) }
                            }
                        }
                    }
                } }
            }
            p.small { (t("annual.counts")) }
        }
    }
}

fn hardship(report: &Report, n: usize, h: &Hardship) -> Markup {
    let lang = report.asked.lang;
    let t = |key: &str| lang.t(key);
    let year = report.asked.year;
    let id = format!("hardship-{n}");
    html! {
        section.hardship id=(id) data-internal[h.internal] aria-labelledby=(format!("{id}-h")) {
            h2 id=(format!("{id}-h")) {
                (n) ". " span dir="auto" { (h.title.as_str()) }
                @if h.internal { span.tag { (t("annual.internal")) } }
            }
            dl {
                dt { (t("annual.pattern")) } dd dir="auto" { (h.pattern.as_str()) }
                @if !h.cause.is_empty() { dt { (t("annual.cause")) } dd dir="auto" { (h.cause.as_str()) } }
                dt { (t("annual.domain")) } dd { (domain_label(lang, h.domain.as_deref())) }
                @if let Some(o) = &h.origin {
                    dt { (t("annual.origin")) }
                    dd { (crate::views::choice_label(lang, "origin", o).unwrap_or(o)) }
                }
                dt { (t("annual.signals")) } dd data-signals=(shown(h.signals)) { (shown(h.signals)) }
                @if let Some(p) = &h.published_on { dt { (t("annual.published_on")) } dd { (day(lang, p)) } }
                @if h.internal { dt { (t("annual.publicity")) } dd { (t("annual.internal.one")) } }
            }
            h3 { (t("annual.measures")) }
            @if h.measures.is_empty() {
                p { (t("annual.measures.none")) }
            } @else {
                div.wide role="region" aria-label=(fill(t("annual.measures.of"), &[("n", &n)])) tabindex="0" { table {
                    caption.vh { (fill(t("annual.measures.of"), &[("n", &n)])) }
                    thead { tr {
                        th scope="col" { (t("annual.measure")) }
                        th scope="col" { (t("annual.lever")) }
                        th scope="col" { (fill(t("annual.status_end"), &[("day", &day_text(lang, &report.as_of))])) }
                        th scope="col" { (fill(t("annual.progress"), &[("year", &year)])) }
                    } }
                    tbody {
                        @for m in &h.measures {
                            tr data-measure-status=(m.status) {
                                td {
                                    strong { (label(lang, "kind", &m.kind)) } ": "
                                    span dir="auto" { (m.text.as_str()) }
                                    br;
                                    span.small { (t("annual.organisation")) ": " span dir="auto" { (m.organisation.as_str()) } }
                                    @if !m.source.is_empty() {
                                        br; span.small { (t("annual.source")) ": " span dir="auto" { (m.source.as_str()) } }
                                    }
                                    @if let Some(target) = &m.target_on {
                                        br; span.small { (t("annual.target")) ": " (day(lang, target)) }
                                    }
                                }
                                td { (label(lang, "lever", &m.lever)) }
                                td { (label(lang, "status", &m.status)) }
                                td {
                                    @if m.changes.is_empty() {
                                        (fill(t("annual.progress.none"), &[("year", &year)]))
                                    } @else {
                                        ul.progress {
                                            @for (s, d) in &m.changes {
                                                li { (day(lang, d)) ": " (label(lang, "status", s)) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
        }
    }
}
