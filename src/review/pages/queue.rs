//! The queue page: metadata only, filtered, sorted and paged, with the
//! selection for an export.
//!
//! Invariant: the queue shows no text a sender wrote; stored values (status,
//! domain) stay in `data-` attributes beside their labels.

use maud::{Markup, html};

use super::{Face, layout, status_label};
use crate::review::session::Reviewer;
use crate::signal::STATUSES;
use crate::store::queue::{PER_PAGE, QueueFilter, QueuePage, Sort};
use crate::views::{choice_label, fill};

fn query(filter: &QueueFilter, page: u32) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    if let Some(s) = &filter.status {
        q.append_pair("status", s);
    }
    if let Some(d) = &filter.domain {
        q.append_pair("domain", d);
    }
    q.append_pair("sort", filter.sort.as_str());
    q.append_pair("page", &page.to_string());
    format!("/?{}", q.finish())
}

/// The queue: metadata only.
pub fn queue(
    face: Face,
    who: &Reviewer,
    filter: &QueueFilter,
    page: &QueuePage,
    domains: &[String],
) -> Markup {
    let current = filter.page.max(1);
    let pages = page.total.div_ceil(u64::from(PER_PAGE)).max(1);
    let t = |key: &str| face.t(key);
    let title = t("review.queue.title");
    layout(
        face,
        title,
        Some(who),
        html! {
            h1 { (title) }
            form.filters method="get" action="/" {
                label { (t("review.filter.status")) " " select name="status" {
                    option value="" { (t("review.filter.all")) }
                    @for s in STATUSES { option value=(s) selected[filter.status.as_deref() == Some(*s)] { (status_label(face, s)) } }
                } }
                " "
                label { (t("review.filter.domain")) " " select name="domain" {
                    option value="" { (t("review.filter.all")) }
                    @for d in domains { option value=(d) selected[filter.domain.as_deref() == Some(d.as_str())] { (choice_label(face.lang, "domain", d).unwrap_or(d)) } }
                } }
                " "
                label { (t("review.filter.sort")) " " select name="sort" {
                    @for s in [Sort::Newest, Sort::Oldest, Sort::Status] {
                        option value=(s.as_str()) selected[filter.sort == s] { (t(&format!("review.sort.{}", s.as_str()))) }
                    }
                } }
                " " button type="submit" { (t("review.filter.show")) }
            }
            p data-total=(page.total) {
                (fill(t("review.queue.count"), &[("total", &page.total), ("page", &current), ("pages", &pages)]))
            }
            form method="post" action="/export" {
                input type="hidden" name="csrf" value=(who.csrf);
                table.queue {
                    thead { tr {
                        @for col in ["export", "signal", "received", "status", "domain", "labels", "assignee", "days_open", "unanswered", "flags"] {
                            th { (t(&format!("review.col.{col}"))) }
                        }
                    } }
                    tbody {
                        @for r in &page.rows {
                            tr data-signal=(r.id) {
                                td { input type="checkbox" name="id" value=(r.id) aria-label=(t("review.queue.select")); }
                                td { a href={ "/signals/" (r.id) } { (r.id) } }
                                td { (r.received_on) }
                                td data-status=(r.status) { (status_label(face, &r.status)) }
                                td data-domain=[r.domain.as_deref()] { (r.domain.as_deref().map_or("—", |d| choice_label(face.lang, "domain", d).unwrap_or(d))) }
                                td { (r.labels) }
                                td { (r.assignee.as_deref().unwrap_or("—")) }
                                td { (r.days_open) }
                                td { (r.unanswered) }
                                td {
                                    @if r.unanswered > 0 { span.flag data-flag="reply" { (t("review.flag.reply")) } " " }
                                    @if r.ack_overdue { span.flag data-flag="ack" { (t("review.flag.ack")) } " " }
                                    @if r.feedback_overdue { span.flag data-flag="feedback" { (t("review.flag.feedback")) } }
                                }
                            }
                        }
                    }
                }
                p { button type="submit" { (t("review.queue.export")) } }
            }
            nav.pages aria-label=(t("review.queue.pages")) {
                @if current > 1 { a rel="prev" href=(query(filter, current - 1)) { (t("review.queue.previous")) } " " }
                @if u64::from(current) < pages { a rel="next" href=(query(filter, current + 1)) { (t("review.queue.next")) } }
            }
        },
    )
}
