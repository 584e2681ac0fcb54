//! maud pages of the review face.
//!
//! Invariants: everything a sender or reviewer wrote is rendered through maud's
//! escaping and never into a URL, `<script>` or `<style>`; there is no
//! `PreEscaped` here. Pages that show decrypted text are sent from a buffer
//! that is wiped when the response body is dropped ([`wiped`]).

use maud::{DOCTYPE, Markup, html};
use zeroize::Zeroizing;

use super::audit;
use super::session::Reviewer;
use crate::store::review::{QueueFilter, QueuePage, STATUSES, SignalRecord, Sort};

/// The frame of every review page: DEMO banner, navigation, logout.
pub fn layout(demo: bool, title: &str, who: Option<&Reviewer>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex, nofollow";
                meta name="referrer" content="no-referrer";
                title { (title) " — signaal review" }
                link rel="stylesheet" href="/style.css";
            }
            body {
                @if demo {
                    p.demo-banner role="alert" data-demo {
                        strong { "DEMO" } " — demo keys, never for real signals."
                    }
                }
                header.site {
                    div.wrap {
                        a.brand href="/" { "signaal — review" }
                        @if let Some(r) = who {
                            nav aria-label="Review" {
                                a href="/" { "Queue" } " · "
                                a href="/search" { "Search" } " · "
                                a href="/report" { "Report" } " · "
                                span { "Logged in as " strong { (r.name) } " " }
                                form.inline method="post" action="/logout" {
                                    input type="hidden" name="csrf" value=(r.csrf);
                                    button type="submit" { "Log out" }
                                }
                            }
                        }
                    }
                }
                main #main.wrap { (body) }
            }
        }
    }
}

/// A short page that explains a refusal or fault.
pub fn message(demo: bool, title: &str, text: &str) -> Markup {
    layout(
        demo,
        title,
        None,
        html! { h1 { (title) } p { (text) } p { a href="/" { "Back to the queue" } } },
    )
}

/// The login form, with an error line after a refusal.
pub fn login(demo: bool, production: bool, error: Option<&str>) -> Markup {
    layout(
        demo,
        "Log in",
        None,
        html! {
            h1 { "Log in" }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/login" {
                p { label for="name" { "Reviewer name" } br;
                    input #name name="name" autocomplete="username" required; }
                p { label for="passphrase" { "Passphrase of your key" } br;
                    input #passphrase type="password" name="passphrase" autocomplete="current-password" required; }
                p { label for="totp" { "Code from your authenticator app" @if !production { " (if set up)" } } br;
                    input #totp name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}"; }
                p { button type="submit" { "Unlock" } }
            }
            @if demo {
                p { "Demo: the reviewer is " code { "demo" } "; its passphrase was printed when the server first started." }
            }
        },
    )
}

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
    demo: bool,
    who: &Reviewer,
    filter: &QueueFilter,
    page: &QueuePage,
    domains: &[String],
) -> Markup {
    let current = filter.page.max(1);
    let pages = page
        .total
        .div_ceil(u64::from(crate::store::review::PER_PAGE))
        .max(1);
    layout(
        demo,
        "Queue",
        Some(who),
        html! {
            h1 { "Queue" }
            form.filters method="get" action="/" {
                label { "Status " select name="status" {
                    option value="" { "all" }
                    @for s in STATUSES { option value=(s) selected[filter.status.as_deref() == Some(*s)] { (s) } }
                } }
                " "
                label { "Domain " select name="domain" {
                    option value="" { "all" }
                    @for d in domains { option value=(d) selected[filter.domain.as_deref() == Some(d.as_str())] { (d) } }
                } }
                " "
                label { "Sort " select name="sort" {
                    @for s in [Sort::Newest, Sort::Oldest, Sort::Status] {
                        option value=(s.as_str()) selected[filter.sort == s] { (s.as_str()) }
                    }
                } }
                " " button type="submit" { "Show" }
            }
            p data-total=(page.total) { (page.total) " signals · page " (current) " of " (pages) }
            form method="post" action="/export" {
                input type="hidden" name="csrf" value=(who.csrf);
                table.queue {
                    thead { tr {
                        th { "Export" } th { "Signal" } th { "Received" } th { "Status" } th { "Domain" }
                        th { "Labels" } th { "Assignee" } th { "Days open" } th { "Unanswered" } th { "Flags" }
                    } }
                    tbody {
                        @for r in &page.rows {
                            tr data-signal=(r.id) {
                                td { input type="checkbox" name="id" value=(r.id) aria-label="select for export"; }
                                td { a href={ "/signals/" (r.id) } { (r.id) } }
                                td { (r.received_on) }
                                td { (r.status) }
                                td { (r.domain.as_deref().unwrap_or("—")) }
                                td { (r.labels) }
                                td { (r.assignee.as_deref().unwrap_or("—")) }
                                td { (r.days_open) }
                                td { (r.unanswered) }
                                td {
                                    @if r.unanswered > 0 { span.flag data-flag="reply" { "new reply from the sender" } " " }
                                    @if r.ack_overdue { span.flag data-flag="ack" { "no acknowledgement after 7 days" } " " }
                                    @if r.feedback_overdue { span.flag data-flag="feedback" { "no feedback after 3 months" } }
                                }
                            }
                        }
                    }
                }
                p { button type="submit" { "Export selected as age files" } }
            }
            nav.pages aria-label="Pages" {
                @if current > 1 { a rel="prev" href=(query(filter, current - 1)) { "← previous" } " " }
                @if u64::from(current) < pages { a rel="next" href=(query(filter, current + 1)) { "next →" } }
            }
        },
    )
}

/// What the signal page shows besides the record.
pub struct SignalView<'a> {
    /// The record.
    pub record: &'a SignalRecord,
    /// Decrypted answers, (label, text), in form order.
    pub answers: &'a [(String, Zeroizing<String>)],
    /// Per answer, the kinds of personal data the intake's guard finds in it.
    pub flags: &'a [Vec<&'static str>],
    /// The domain the sender chose, offered when none is confirmed yet.
    pub suggested_domain: Option<&'a str>,
    /// The origin the sender chose, offered when none is confirmed yet.
    pub suggested_origin: Option<&'a str>,
    /// Decrypted notes: (author, day, text).
    pub notes: &'a [(String, String, Zeroizing<String>)],
    /// Decrypted thread: (author, day, text).
    pub thread: &'a [(String, String, Zeroizing<String>)],
    /// This signal's latest audit rows, newest first.
    pub trail: &'a [audit::Row],
    /// How many audit rows this signal has in all.
    pub trail_total: u64,
}

/// One signal, decrypted.
pub fn signal(demo: bool, who: &Reviewer, v: &SignalView<'_>) -> Markup {
    let r = v.record;
    let action = |what: &str| format!("/signals/{}/{what}", r.id);
    layout(
        demo,
        "Signal",
        Some(who),
        html! {
            h1 { "Signal " code { (r.id) } }
            p { "Received " (r.received_on) " · status " strong data-status=(r.status) { (r.status) }
                " · " a href=(action("envelope.age")) download { "download the age file" } }
            section.answers {
                h2 { "What the sender wrote" }
                dl {
                    @for (i, (label, text)) in v.answers.iter().enumerate() {
                        dt { (label) }
                        dd.answer { (text.as_str()) }
                        @if let Some(kinds) = v.flags.get(i).filter(|k| !k.is_empty()) {
                            dd.guard data-guard=(kinds.join(" ")) {
                                "May contain personal data: " (kinds.join(", "))
                            }
                        }
                    }
                }
            }
            section {
                h2 { "Triage" }
                form method="post" action=(action("triage")) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    p { label { "Status " select name="status" {
                        @for s in STATUSES { option value=(s) selected[r.status == *s] { (s) } }
                    } } }
                    p { label { "Domain " input name="domain" list="domains" value=(r.domain.as_deref().or(v.suggested_domain).unwrap_or("")) maxlength="64"; } }
                    p { label { "Origin " input name="origin" list="origins" value=(r.origin.as_deref().or(v.suggested_origin).unwrap_or("")) maxlength="64"; } }
                    p { label { "Labels " input name="labels" value=(r.labels) maxlength="200"; } }
                    p { label { "Assignee " input name="assignee" value=(r.assignee.as_deref().unwrap_or("")) maxlength="32"; } }
                    (choices("domains", "domain"))
                    (choices("origins", "origin"))
                    p { button type="submit" { "Save triage" } }
                }
            }
            section {
                h2 { "Thread with the sender" }
                @if v.thread.is_empty() { p { "No messages yet." } }
                @for (author, day, text) in v.thread {
                    article.message data-author=(author) { p.meta { (author) ", " (day) } p.text { (text.as_str()) } }
                }
                form method="post" action=(action("messages")) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    p { label for="message" { "Write to the sender (they read it with their receipt code)" } br;
                        textarea #message name="message" rows="4" maxlength="10000" required {} }
                    p { button type="submit" { "Send" } }
                }
            }
            section {
                h2 { "Internal notes" }
                @for (author, day, text) in v.notes {
                    article.note { p.meta { (author) ", " (day) } p.text { (text.as_str()) } }
                }
                form method="post" action=(action("notes")) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    p { label for="note" { "Add a note (encrypted to the team)" } br;
                        textarea #note name="note" rows="4" maxlength="10000" required {} }
                    p { button type="submit" { "Add note" } }
                }
            }
            section {
                h2 { "Audit trail of this signal" }
                p { "Newest first; " (v.trail.len()) " of " (v.trail_total) " shown." }
                table.audit {
                    thead { tr { th { "#" } th { "When (UTC)" } th { "Who" } th { "What" } th { "Detail" } } }
                    tbody { @for a in v.trail {
                        tr { td { (a.seq) } td { (a.at) } td { (a.actor) } td data-action=(a.action) { (a.action) } td { (a.detail) } }
                    } }
                }
            }
        },
    )
}

/// A `<datalist>` of the form's options for question `field`, so triage uses
/// the same categories as the form (free text stays possible).
fn choices(id: &str, field: &str) -> Markup {
    let options = crate::intake::questions::all()
        .iter()
        .find(|q| q.name == field)
        .map(|q| q.options.as_slice())
        .unwrap_or_default();
    html! { datalist id=(id) { @for o in options { option value=(o) {} } } }
}

pub use crate::web::wiped;
