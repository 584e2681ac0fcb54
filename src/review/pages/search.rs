//! The search page: the form (query, the queue's filters, and under "advanced"
//! how many signals to scan) and what it found, each hit's matching sentence
//! escaped with the match marked.

use maud::{Markup, html};

use super::super::Face;
use super::super::glance::reference;
use super::super::search::{Asked, Outcome};
use super::super::session::Reviewer;
use super::queue::{attention_field, filter_fields};
use super::{layout, status_label};
use crate::store::queue::UNTRIAGED_SCAN;
use crate::views::fill;

/// What the page shows below its form.
pub enum SearchShown<'a> {
    /// Only the form.
    Blank,
    /// The form, refused: it was sent without words.
    Empty,
    /// The form as sent and what the scan found.
    Found {
        /// What the scan found.
        outcome: &'a Outcome,
        /// Signals stored in all.
        total: u64,
        /// How long the scan took.
        millis: u128,
    },
}

/// `GET` and `POST /search`.
pub fn search(
    face: Face,
    who: &Reviewer,
    asked: &Asked,
    domains: &[String],
    shown: SearchShown<'_>,
) -> Markup {
    let t = |key: &str| face.t(key);
    let title = t("review.search.title");
    layout(
        face,
        title,
        Some(who),
        html! {
            h1 { (title) }
            @match shown {
                SearchShown::Blank => { (form(face, who, asked, domains)) }
                SearchShown::Empty => {
                    div.error-summary role="alert" { p.error { a href="#q" { (t("review.search.empty")) } } }
                    (form(face, who, asked, domains))
                }
                SearchShown::Found { outcome, total, millis } => {
                    (form(face, who, asked, domains))
                    @if asked.filter.chosen_partly {
                        p.notice data-chosen-partly { (fill(t("review.queue.chosen_partly"), &[("n", &UNTRIAGED_SCAN)])) }
                    }
                    p data-scanned=(outcome.scanned) data-total=(total) {
                        (fill(t("review.search.scanned"), &[("scanned", &outcome.scanned), ("total", &total), ("ms", &millis)]))
                        @if outcome.timed_out { (t("review.search.timed_out")) }
                        @else if outcome.scanned < total { (fill(t("review.search.newest"), &[("n", &outcome.scanned)])) }
                        @else { "." }
                    }
                    p role="status" { (fill(t("review.search.found"), &[("n", &outcome.hits.len())])) }
                    ul.hits { @for h in &outcome.hits {
                        li data-signal=(h.id) data-found-in=(h.place.key()) {
                            a.ref href={ "/signals/" (h.id) } { (reference(&h.id)) } " · " (h.day) " · " (status_label(face, &h.status))
                            " · " (t(&format!("review.search.in.{}", h.place.key())))
                            br;
                            span.sentence dir="auto" { (h.sentence.0.as_str()) mark { (h.sentence.1.as_str()) } (h.sentence.2.as_str()) }
                        }
                    } }
                }
            }
        },
    )
}

fn form(face: Face, reviewer: &Reviewer, asked: &Asked, domains: &[String]) -> maud::Markup {
    let t = |key: &str| face.t(key);
    html! {
        form.search method="post" action="/search" novalidate {
            input type="hidden" name="csrf" value=(reviewer.csrf);
            div.field { label for="q" { (t("review.search.label")) }
                input #q type="search" name="q" value=(asked.needle.as_str()) size="40"; }
            div.actions {
                (filter_fields(face, &asked.filter, domains, &asked.labels, "s"))
                (attention_field(face, &asked.filter, "s"))
            }
            details.advanced {
                summary { (t("review.search.advanced")) }
                div.field { label for="scope" { (t("review.search.scope")) }
                    input #scope type="number" name="scope" value=(asked.scope) min="1" max="1000000"; }
            }
            p { button.primary type="submit" { (t("review.search.submit")) } }
        }
    }
}
