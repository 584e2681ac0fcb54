//! The public results: `/resultaten` (`/results`), the hardships the team
//! published with what is being done about them and what changed this year;
//! and the part of a sender's follow-up page that says which published
//! hardship their signal is part of.
//!
//! Invariant: these pages show only what a reviewer published for the public
//! (public title, summary and cause, the measures' public texts and their
//! progress) and, of the signals, only their number, never below
//! [`views::export::SUPPRESS_BELOW`]: a smaller number is "<5". Never an id (of a signal, a
//! hardship or a measure), a signal's text or who published; elements are
//! numbered by their place on the page, never by an id.

use maud::{Markup, html};

use super::layout;
use crate::store::publications::{PublicHardship, PublicMeasure};
use crate::views::{self, Lang, choice_label, fill, href};

/// Hardships on one page of the results (the first page also lists what
/// changed this year). A page of every hardship and every measure would be
/// megabytes at the programme's scale.
pub const PER_PAGE: usize = 20;
/// The most changes of this year listed; the summary above counts them all.
pub const MAX_CHANGES: usize = 30;
/// The statuses in which a measure no longer has a target to meet.
const FINISHED: &[&str] = &["implemented", "not_implemented", "withdrawn"];

/// The results page's path in each language.
pub fn results_path(lang: Lang) -> &'static str {
    match lang {
        Lang::Nl => "/resultaten",
        Lang::En => "/results",
    }
}

/// How many pages `total` hardships fill (an empty list is one page).
pub fn page_count(total: usize) -> usize {
    total.div_ceil(PER_PAGE).max(1)
}

/// The number of signals as the public may see it: "<5" below five.
pub fn signal_count(n: u64) -> String {
    views::export::shown(n)
}

/// Whether measure `m` is past its target day (`today` is `YYYY-MM-DD`)
/// while it is still open.
pub fn past_target(m: &PublicMeasure, today: &str) -> bool {
    m.target_on
        .as_deref()
        .is_some_and(|target| target < today && !FINISHED.contains(&m.status.as_str()))
}

/// What changed of the published hardships: one line of this year's list.
#[derive(Debug, PartialEq, Eq)]
pub struct Change<'a> {
    /// The day (`YYYY-MM-DD`).
    pub day: &'a str,
    /// The hardship's public title.
    pub title: &'a str,
    /// The measure's public text and its new status; `None` for the
    /// hardship published.
    pub measure: Option<(&'a str, &'a str)>,
}

/// Every change dated in `year` (`"2026"`), newest first: each status a
/// published measure got, and each hardship published.
pub fn changes_in<'a>(hardships: &'a [PublicHardship], year: &str) -> Vec<Change<'a>> {
    let in_year = |day: &str| day.get(..4) == Some(year) && day.get(4..5) == Some("-");
    let mut changes = Vec::new();
    for h in hardships {
        if in_year(&h.published_on) {
            changes.push(Change {
                day: &h.published_on,
                title: &h.title,
                measure: None,
            });
        }
        for m in &h.measures {
            for (status, day) in &m.history {
                if in_year(day) {
                    changes.push(Change {
                        day,
                        title: &h.title,
                        measure: Some((&m.text, status)),
                    });
                }
            }
        }
    }
    // Newest first; within a day by title, so the order says nothing of the
    // moment of each act.
    changes.sort_by(|a, b| {
        b.day
            .cmp(a.day)
            .then_with(|| a.title.cmp(b.title))
            .then_with(|| a.measure.cmp(&b.measure))
    });
    changes
}

/// What the results page shows.
#[derive(Debug)]
pub struct ResultsView<'a> {
    /// Every published hardship, in the order of the list.
    pub hardships: &'a [PublicHardship],
    /// The page asked for, from 1; at most [`page_count`].
    pub page: usize,
    /// Today (`YYYY-MM-DD`).
    pub today: &'a str,
}

/// A label from the review face's lists (kind, lever, status), or the value.
fn label(lang: Lang, group: &str, value: &str) -> String {
    lang.get(&format!("review.measure.{group}.{value}"))
        .map_or_else(|| value.to_owned(), str::to_owned)
}

/// The address of page `page` of the results in `lang`.
fn page_href(lang: Lang, page: usize) -> String {
    if page <= 1 {
        href(results_path(lang), lang)
    } else {
        format!("{}&page={page}", href(results_path(lang), lang))
    }
}

/// `/resultaten` and `/results`: page `v.page` of the published hardships.
pub fn results_page(lang: Lang, v: &ResultsView<'_>) -> Markup {
    let org = super::organisation();
    let total = v.hardships.len();
    let pages = page_count(total);
    let page = v.page.clamp(1, pages);
    let from = (page - 1) * PER_PAGE;
    let shown = v.hardships.iter().skip(from).take(PER_PAGE);
    let title = if page > 1 {
        fill(
            lang.t("results.title.page"),
            &[("page", &page), ("pages", &pages)],
        )
    } else {
        lang.t("results.title").to_owned()
    };
    layout(
        lang,
        &title,
        results_path(lang),
        html! {
            h1 { (lang.t("results.title")) }
            p.lead { (fill(lang.t("results.intro"), &[("team", &org.team)])) }
            p { (lang.t("results.counts")) }
            @if total == 0 {
                p data-results-empty { (lang.t("results.empty")) }
                p { a href=(href("/", lang)) { (lang.t("results.empty.form")) } }
            } @else {
                @if page == 1 { (this_year(lang, v.hardships, v.today)) }
                p data-results-shown=(total) {
                    (fill(lang.t("results.shown"), &[
                        ("from", &(from + 1)),
                        ("to", &(from + PER_PAGE).min(total)),
                        ("total", &total),
                    ]))
                }
                @for (i, h) in shown.enumerate() {
                    (hardship(lang, h, from + i + 1, v.today))
                }
                @if pages > 1 { (pagination(lang, page, pages)) }
            }
            p { a href=(href("/", lang)) { (lang.t("page.back")) } }
        },
    )
}

/// One published hardship, numbered `n` on the page.
fn hardship(lang: Lang, h: &PublicHardship, n: usize, today: &str) -> Markup {
    let heading = format!("hardship-{n}");
    let domain = h
        .domain
        .as_deref()
        .map(|d| choice_label(lang, "domain", d).unwrap_or(d));
    html! {
        article.hardship aria-labelledby=(heading) {
            h2 id=(heading) dir="auto" { (h.title) }
            p.text dir="auto" { (h.summary) }
            dl.facts {
                @if !h.cause.trim().is_empty() {
                    dt { (lang.t("results.cause")) }
                    dd.text dir="auto" { (h.cause) }
                }
                @if let Some(domain) = domain {
                    dt { (lang.t("results.domain")) }
                    dd { (domain) }
                }
                dt { (lang.t("results.signals")) }
                dd data-signals=(signal_count(h.signals)) { (signal_count(h.signals)) }
                dt { (lang.t("results.published_on")) }
                dd { (views::day(lang, &h.published_on)) }
            }
            h3 { (lang.t("results.measures")) }
            (measures(lang, &h.measures, today))
        }
    }
}

/// The measures of a hardship, each with its kind, lever, organisation,
/// status and target.
fn measures(lang: Lang, measures: &[PublicMeasure], today: &str) -> Markup {
    html! {
        @if measures.is_empty() {
            p { (lang.t("results.measures.none")) }
        } @else {
            ul.measures {
                @for m in measures {
                    li.measure data-status=(m.status) {
                        p.text dir="auto" { (m.text) }
                        p.meta {
                            (label(lang, "kind", &m.kind)) " · "
                            (lang.t("results.lever")) ": " (label(lang, "lever", &m.lever)) " · "
                            (lang.t("results.organisation")) ": " span dir="auto" { (m.organisation) }
                        }
                        p.progress {
                            (lang.t("results.status")) ": " strong { (label(lang, "status", &m.status)) }
                            @if let Some(target) = &m.target_on {
                                " · " (lang.t("results.target")) " " (views::day(lang, target))
                            }
                            @if past_target(m, today) {
                                " " strong.flag data-past-target { (lang.t("results.past_target")) }
                            }
                        }
                        @if !m.source.trim().is_empty() {
                            p.meta { (lang.t("results.source")) ": " span dir="auto" { (m.source) } }
                        }
                    }
                }
            }
        }
    }
}

/// What changed this year: how much, and the latest changes.
fn this_year(lang: Lang, hardships: &[PublicHardship], today: &str) -> Markup {
    let year = today.get(..4).unwrap_or(today);
    let changes = changes_in(hardships, year);
    let published = changes.iter().filter(|c| c.measure.is_none()).count();
    let statuses = changes.len() - published;
    html! {
        section.this-year aria-labelledby="this-year-title" data-changes=(changes.len()) {
            h2 #this-year-title { (fill(lang.t("results.year.title"), &[("year", &year)])) }
            @if changes.is_empty() {
                p { (lang.t("results.year.none")) }
            } @else {
                p { (fill(lang.t("results.year.summary"), &[("published", &published), ("changes", &statuses)])) }
                @if changes.len() > MAX_CHANGES {
                    p { (fill(lang.t("results.year.latest"), &[("n", &MAX_CHANGES)])) }
                }
                ul.changes {
                    @for c in changes.iter().take(MAX_CHANGES) {
                        li {
                            (views::day(lang, c.day)) ": " strong dir="auto" { (c.title) } " — "
                            @match c.measure {
                                Some((text, status)) => {
                                    span dir="auto" { (text) } " — "
                                    (lang.t("results.year.now")) " " strong { (label(lang, "status", status)) }
                                }
                                None => (lang.t("results.year.published")),
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Links to the page before and after, and where this page is.
fn pagination(lang: Lang, page: usize, pages: usize) -> Markup {
    html! {
        nav.pages aria-label=(lang.t("results.pages")) {
            ul {
                @if page > 1 {
                    li { a href=(page_href(lang, page - 1)) rel="prev" { (lang.t("results.previous")) } }
                }
                li aria-current="page" { (fill(lang.t("results.page"), &[("page", &page), ("pages", &pages)])) }
                @if page < pages {
                    li { a href=(page_href(lang, page + 1)) rel="next" { (lang.t("results.next")) } }
                }
            }
        }
    }
}

/// On a sender's follow-up page: the published hardships their signal is
/// part of, with each measure's progress. Nothing about other signals, not
/// even how many there are.
pub fn part_of(lang: Lang, hardships: &[PublicHardship], today: &str) -> Markup {
    html! {
        @for (i, h) in hardships.iter().enumerate() {
            @let heading = format!("part-of-{}", i + 1);
            section.part-of aria-labelledby=(heading) data-part-of {
                h2 id=(heading) { (lang.t("results.part_of")) " " span dir="auto" { (h.title) } }
                p.text dir="auto" { (h.summary) }
                (measures(lang, &h.measures, today))
                p { a href=(href(results_path(lang), lang)) { (lang.t("results.part_of.more")) } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn measure(status: &str, target: Option<&str>, history: &[(&str, &str)]) -> PublicMeasure {
        PublicMeasure {
            id: "measureidmeasureid".into(),
            kind: "measure".into(),
            lever: "law".into(),
            status: status.into(),
            target_on: target.map(str::to_owned),
            text: "Change the rule".into(),
            organisation: "SZW".into(),
            source: String::new(),
            history: history
                .iter()
                .map(|(s, d)| ((*s).to_owned(), (*d).to_owned()))
                .collect(),
        }
    }

    fn hardship(title: &str, signals: u64, measures: Vec<PublicMeasure>) -> PublicHardship {
        PublicHardship {
            id: "hardshipidhardshipid".into(),
            published_on: "2026-03-01".into(),
            published_by: "publishedbyanna".into(),
            title: title.into(),
            summary: "Who it hits".into(),
            cause: String::new(),
            domain: Some("benefits".into()),
            origin: None,
            signals,
            measures,
        }
    }

    #[test]
    fn fewer_than_five_signals_are_never_a_number() {
        for n in 0..5 {
            assert_eq!(signal_count(n), "<5");
        }
        assert_eq!(signal_count(5), "5");
        assert_eq!(signal_count(1234), "1234");
    }

    #[test]
    fn an_open_measure_past_its_day_is_flagged_and_a_finished_one_is_not() {
        let today = "2026-12-02";
        assert!(past_target(
            &measure("in_progress", Some("2026-06-01"), &[]),
            today
        ));
        assert!(!past_target(
            &measure("in_progress", Some("2026-12-02"), &[]),
            today
        ));
        assert!(!past_target(&measure("proposed", None, &[]), today));
        for done in FINISHED {
            assert!(!past_target(&measure(done, Some("2025-01-01"), &[]), today));
        }
    }

    #[test]
    fn this_years_changes_are_the_statuses_and_publications_dated_in_it_newest_first() {
        let hs = [
            hardship(
                "B",
                3,
                vec![measure(
                    "implemented",
                    None,
                    &[
                        ("proposed", "2025-11-30"),
                        ("agreed", "2026-02-01"),
                        ("implemented", "2026-10-01"),
                    ],
                )],
            ),
            hardship("A", 9, Vec::new()),
        ];
        let changes = changes_in(&hs, "2026");
        let days: Vec<&str> = changes.iter().map(|c| c.day).collect();
        assert_eq!(
            days,
            ["2026-10-01", "2026-03-01", "2026-03-01", "2026-02-01"]
        );
        assert_eq!(changes[1].title, "A", "one day, by title");
        assert_eq!(changes[0].measure, Some(("Change the rule", "implemented")));
        assert!(changes_in(&hs, "2024").is_empty());
    }

    #[test]
    fn the_pages_show_no_id_and_find_every_text_in_both_languages() {
        let many: Vec<PublicHardship> = (0..PER_PAGE + 3)
            .map(|i| {
                hardship(
                    &format!("Hardship {i:03}"),
                    i as u64,
                    vec![measure(
                        "in_progress",
                        Some("2026-01-01"),
                        &[("proposed", "2026-01-01"), ("in_progress", "2026-05-05")],
                    )],
                )
            })
            .collect();
        for lang in [Lang::Nl, Lang::En] {
            for (hardships, page) in [(&many[..0], 1), (&many[..], 1), (&many[..], 2)] {
                let html = results_page(
                    lang,
                    &ResultsView {
                        hardships,
                        page,
                        today: "2026-12-02",
                    },
                )
                .into_string();
                for never in [
                    "hardshipidhardshipid",
                    "measureidmeasureid",
                    "publishedbyanna",
                ] {
                    assert!(!html.contains(never), "{never} on the page");
                }
                assert!(!html.contains("<5<"), "escaped");
            }
            let html = part_of(lang, &many[..1], "2026-12-02").into_string();
            assert!(html.contains("Hardship 000") && !html.contains("hardshipidhardshipid"));
            assert!(!html.contains("&lt;5"), "no count on the follow-up page");
        }
        let missing = crate::views::i18n::MISSING.with(|m| m.borrow().clone());
        assert!(missing.is_empty(), "missing texts: {missing:?}");
    }
}
