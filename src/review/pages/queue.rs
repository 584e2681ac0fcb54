//! The queue page: one line per signal with its reference, what it is about
//! (decrypted while the page is made), triage metadata and flags; the filter
//! bar, "go to reference", paging, and the selection for bulk changes and
//! the export.
//!
//! Invariants: what a sender wrote is rendered through maud's escaping in an
//! element of its own with `dir="auto"`; stored values (status, domain) stay
//! in `data-` attributes beside their labels; the handler sends this page
//! from a wiped buffer.

use maud::{Markup, html};

use super::{Face, layout, status_label};
use crate::review::glance::{Glance, reference};
use crate::review::queue::query_of;
use crate::review::session::Reviewer;
use crate::signal::{STATUSES, questions};
use crate::store::queue::{Assigned, PER_PAGE, QueueFilter, QueuePage, Sort, UNTRIAGED_SCAN};
use crate::views::{choice_label, fill};

/// What the queue page shows.
pub struct QueueView<'a> {
    /// The filter in force.
    pub filter: &'a QueueFilter,
    /// The page.
    pub page: &'a QueuePage,
    /// Per row, what was decrypted of it.
    pub glances: &'a [Glance],
    /// Domains confirmed at triage (beside the form's own).
    pub domains: &'a [String],
    /// The team's labels, offered by the label filter.
    pub labels: &'a [String],
    /// A reference typed into "go to", shown back.
    pub typed_reference: &'a str,
    /// The signals that reference matched, when not exactly one.
    pub found: Option<&'a [String]>,
    /// Every checkbox ticked.
    pub all: bool,
    /// What a bulk change just did.
    pub bulk: Option<Option<u64>>,
    /// The reviewers a bulk change may assign to.
    pub reviewers: &'a [String],
}

/// The link to signal `id` at `pos` in the queue shown with `filter`.
pub fn signal_link(id: &str, filter: &QueueFilter, pos: u64) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("from", &query_of(filter, 1));
    q.append_pair("pos", &pos.to_string());
    format!("/signals/{id}?{}", q.finish())
}

/// The domains the filter and triage offer: the form's, then others in use.
pub fn domain_options(face: Face, in_use: &[String]) -> Vec<(&str, &str)> {
    let form = questions::options("domain");
    let mut out: Vec<(&str, &str)> = form
        .iter()
        .map(|d| {
            (
                d.as_str(),
                choice_label(face.lang, "domain", d).unwrap_or(d),
            )
        })
        .collect();
    for d in in_use {
        if !form.contains(d) {
            out.push((d.as_str(), d.as_str()));
        }
    }
    out
}

/// The queue's filters of status, domain, assignee and label, as fields with
/// ids starting `prefix` (the queue's filter bar and the search form).
pub fn filter_fields(
    face: Face,
    f: &QueueFilter,
    domains: &[String],
    labels: &[String],
    prefix: &str,
) -> Markup {
    let t = |key: &str| face.t(key);
    let who = match &f.assigned {
        Some(Assigned::To(_)) => "mine",
        Some(Assigned::Nobody) => "nobody",
        None => "",
    };
    let id = |name: &str| format!("{prefix}-{name}");
    html! {
        div.field { label for=(id("status")) { (t("review.filter.status")) }
            select id=(id("status")) name="status" {
                option value="" { (t("review.filter.all")) }
                @for s in STATUSES { option value=(s) selected[f.status.as_deref() == Some(*s)] { (status_label(face, s)) } }
            } }
        div.field { label for=(id("domain")) { (t("review.filter.domain")) }
            select id=(id("domain")) name="domain" {
                option value="" { (t("review.filter.all")) }
                @for (code, label) in domain_options(face, domains) {
                    option value=(code) selected[f.domain.as_deref() == Some(code)] { (label) }
                }
            } }
        div.field { label for=(id("who")) { (t("review.filter.who")) }
            select id=(id("who")) name="who" {
                option value="" { (t("review.filter.everyone")) }
                option value="mine" selected[who == "mine"] { (t("review.filter.mine")) }
                option value="nobody" selected[who == "nobody"] { (t("review.filter.nobody")) }
            } }
        div.field { label for=(id("label")) { (t("review.filter.label_one")) }
            input id=(id("label")) name="label" value=(f.label.as_deref().unwrap_or("")) maxlength="40" size="10" list=(id("labels")) autocomplete="off";
            datalist id=(id("labels")) { @for l in labels { option value=(l) {} } } }
    }
}

/// The "needs attention" box, with an id starting `prefix`.
pub fn attention_field(face: Face, f: &QueueFilter, prefix: &str) -> Markup {
    let id = format!("{prefix}-attention");
    html! {
        div.field.check { input id=(id) type="checkbox" name="attention" value="1" checked[f.attention];
            label for=(id) { (face.t("review.filter.attention")) } }
    }
}

fn filter_bar(face: Face, v: &QueueView<'_>) -> Markup {
    let t = |key: &str| face.t(key);
    let f = v.filter;
    html! {
        form.filters method="get" action="/" role="search" aria-label=(t("review.filter.label")) {
            (filter_fields(face, f, v.domains, v.labels, "f"))
            div.field { label for="f-sort" { (t("review.filter.sort")) }
                select #f-sort name="sort" {
                    @for s in Sort::ALL {
                        option value=(s.as_str()) selected[f.sort == s] { (t(&format!("review.sort.{}", s.as_str()))) }
                    }
                } }
            (attention_field(face, f, "f"))
            div.field.actions { button.secondary type="submit" { (t("review.filter.show")) } }
        }
        p.search-here { a href={ "/search?" (crate::review::queue::query_of(f, 1)) } { (t("review.filter.search_here")) } }
    }
}

fn go_to(face: Face, v: &QueueView<'_>) -> Markup {
    let t = |key: &str| face.t(key);
    html! {
        form.goto method="get" action="/" {
            label for="ref" { (t("review.goto.label")) }
            input #ref name="ref" value=(v.typed_reference) maxlength="20" size="11" autocomplete="off" placeholder="ABCD-EFGH";
            button.secondary type="submit" { (t("review.goto.submit")) }
        }
        @if let Some(found) = v.found {
            div.notice role="status" {
                @if found.is_empty() {
                    p { (fill(t("review.goto.none"), &[("ref", &v.typed_reference)])) }
                } @else {
                    p { (fill(t("review.goto.several"), &[("ref", &v.typed_reference)])) }
                    ul { @for id in found { li { a href={ "/signals/" (id) } { (reference(id)) } " (" code { (id) } ")" } } }
                }
            }
        }
    }
}

fn flags(face: Face, r: &crate::store::queue::QueueRow) -> Markup {
    let t = |key: &str| face.t(key);
    html! {
        @if r.unanswered > 0 { span.flag.reply data-flag="reply" data-unanswered=(r.unanswered) { (t("review.flag.reply")) } " " }
        @if r.ack_overdue { span.flag data-flag="ack" { (t("review.flag.ack")) } " " }
        @if r.feedback_overdue { span.flag data-flag="feedback" { (t("review.flag.feedback")) } }
    }
}

/// The queue.
pub fn queue(face: Face, who: &Reviewer, v: &QueueView<'_>) -> Markup {
    let page = v.page;
    let filter = v.filter;
    let current = filter.page.max(1);
    let offset = u64::from(current - 1) * u64::from(PER_PAGE);
    let t = |key: &str| face.t(key);
    let title = t("review.queue.title");
    let count = if page.more {
        fill(
            t("review.queue.count_more"),
            &[("total", &page.total), ("page", &current)],
        )
    } else {
        let pages = page.total.div_ceil(u64::from(PER_PAGE)).max(1);
        fill(
            t("review.queue.count"),
            &[
                ("total", &page.total),
                ("page", &current),
                ("pages", &pages),
            ],
        )
    };
    layout(
        face,
        title,
        Some(who),
        html! {
            h1 { (title) }
            p.jump { a href="#signals" { (t("review.queue.jump")) } }
            (filter_bar(face, v))
            (go_to(face, v))
            @match v.bulk {
                Some(Some(n)) => { div.confirmation role="status" data-done="bulk" { (fill(t("review.bulk.done"), &[("n", &n)])) } }
                Some(None) => { div.notice role="status" { p { (t("review.bulk.none")) } } }
                None => {}
            }
            @if filter.chosen_partly {
                p.notice data-chosen-partly { (fill(t("review.queue.chosen_partly"), &[("n", &UNTRIAGED_SCAN)])) }
            }
            p.count data-total=(page.total) data-more[page.more] { (count) " · "
                @if v.all { a href={ "/?" (query_of(filter, current)) } { (t("review.queue.select_none")) } }
                @else { a href={ "/?" (query_of(filter, current)) "&all=1" } { (t("review.queue.select_all")) } } }
            form.queue method="post" action="/export" {
                input type="hidden" name="csrf" value=(who.csrf);
                input type="hidden" name="back" value=(query_of(filter, current));
                div.table-scroll #signals role="region" aria-label=(t("review.queue.table")) tabindex="0" {
                    table.queue {
                        thead { tr {
                            @for col in ["select", "signal", "received", "status", "domain", "scale", "about", "labels", "assignee", "flags"] {
                                th scope="col" { (t(&format!("review.col.{col}"))) }
                            }
                        } }
                        tbody {
                            @for (i, r) in page.rows.iter().enumerate() {
                                @let g = v.glances.get(i);
                                @let refn = reference(&r.id);
                                tr data-signal=(r.id) {
                                    td { input type="checkbox" name="id" value=(r.id) checked[v.all]
                                        aria-label=(fill(t("review.queue.select"), &[("ref", &refn)])); }
                                    th scope="row" { a.ref href=(signal_link(&r.id, filter, offset + i as u64)) { (refn) } }
                                    td.day { (r.received_on) }
                                    td data-status=(r.status) { (status_label(face, &r.status)) }
                                    @if let Some(d) = r.domain.as_deref() {
                                        td data-domain=(d) { (choice_label(face.lang, "domain", d).unwrap_or(d)) }
                                    } @else if let Some(d) = g.and_then(|g| g.domain) {
                                        td data-domain=(d) data-domain-by="sender" {
                                            (choice_label(face.lang, "domain", d).unwrap_or(d))
                                            " " span.by { (t("review.queue.by_sender")) }
                                        }
                                    } @else { td { "—" } }
                                    td { (g.and_then(|g| g.scale).map_or("—", |s| choice_label(face.lang, "scale", s).unwrap_or(s))) }
                                    @if let Some(g) = g.filter(|g| g.opened) {
                                        td.snippet dir="auto" { (g.snippet.as_str()) }
                                    } @else {
                                        td.snippet { em { (t("review.signal.undecryptable")) } }
                                    }
                                    td { @for l in r.label_list() { span.chip data-label=(l) { (l) } " " } }
                                    td { (r.assignee.as_deref().unwrap_or("—")) }
                                    td { (flags(face, r)) }
                                }
                            }
                        }
                    }
                }
                @if page.rows.is_empty() { p { (t("review.queue.empty")) } }
                fieldset.bulk {
                    legend { (t("review.bulk.legend")) }
                    div.actions {
                        div.field { label for="b-status" { (t("review.col.status")) }
                            select #b-status name="status" {
                                option value="" { (t("review.bulk.keep")) }
                                @for s in STATUSES { option value=(s) { (status_label(face, s)) } }
                            } }
                        div.field { label for="b-assignee" { (t("review.col.assignee")) }
                            select #b-assignee name="assignee" {
                                option value="" { (t("review.bulk.keep")) }
                                option value="-" { (t("review.triage.nobody")) }
                                @for name in v.reviewers { option value=(name) { (name) } }
                            } }
                        div.field { label for="b-label" { (t("review.bulk.label")) }
                            input #b-label name="label" maxlength="40" size="12"; }
                        div.field { button.primary type="submit" formaction="/bulk" { (t("review.bulk.apply")) } }
                        div.field { button.secondary type="submit" { (t("review.queue.export")) } }
                        div.field { button.secondary type="submit" formaction="/queue.csv" { (t("review.queue.csv")) } }
                    }
                }
            }
            nav.pages aria-label=(t("review.queue.pages")) {
                @if current > 1 { a rel="prev" href={ "/?" (query_of(filter, current - 1)) } { (t("review.queue.previous")) } " " }
                @if page.next { a rel="next" href={ "/?" (query_of(filter, current + 1)) } { (t("review.queue.next")) } }
            }
        },
    )
}
