//! maud pages of the review face.
//!
//! Invariants: everything a sender or reviewer wrote is rendered through maud's
//! escaping and never into a URL, `<script>` or `<style>`; there is no
//! `PreEscaped` here. Pages that show decrypted text are sent from a buffer
//! that is wiped when the response body is dropped ([`wiped`]). Every word of
//! the page itself comes from `templates/` in the [`Face`]'s language; stored
//! values (statuses, audit actions) stay as they are in `data-` attributes.

use maud::{DOCTYPE, Markup, html};
use zeroize::Zeroizing;

use super::Face;
use super::session::Reviewer;
use crate::audit;
use crate::signal::STATUSES;
use crate::store::queue::{QueueFilter, QueuePage, Sort};
use crate::store::signals::SignalRecord;

/// The frame of every review page: DEMO banner, navigation, logout.
pub fn layout(face: Face, title: &str, who: Option<&Reviewer>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(face.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex, nofollow";
                meta name="referrer" content="no-referrer";
                title { (title) " — " (face.t("review.title_suffix")) }
                link rel="stylesheet" href="/style.css";
            }
            body {
                @if face.demo {
                    p.demo-banner role="alert" data-demo {
                        strong { "DEMO" } " — " (face.t("review.demo"))
                    }
                }
                header.site {
                    div.wrap {
                        a.brand href="/" { (face.t("review.site")) }
                        @if let Some(r) = who {
                            nav aria-label=(face.t("review.nav")) {
                                a href="/" { (face.t("review.nav.queue")) } " · "
                                a href="/search" { (face.t("review.nav.search")) } " · "
                                a href="/report" { (face.t("review.nav.report")) } " · "
                                span { (face.t("review.logged_in_as")) " " strong { (r.name) } " " }
                                form.inline method="post" action="/logout" {
                                    input type="hidden" name="csrf" value=(r.csrf);
                                    button type="submit" { (face.t("review.logout")) }
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
pub fn message(face: Face, title: &str, text: &str) -> Markup {
    plain(
        face,
        title,
        html! { p { (text) } p { a href="/" { (face.t("review.back_to_queue")) } } },
    )
}

/// A page shown without a session (no navigation): its title as the heading,
/// then `body`.
fn plain(face: Face, title: &str, body: Markup) -> Markup {
    layout(face, title, None, html! { h1 { (title) } (body) })
}

/// A note or message that arrived after the session ended, given back unsaved.
pub fn unsaved(face: Face, text: &str) -> Markup {
    plain(
        face,
        face.t("review.error.no_session.title"),
        html! {
            p role="alert" { (face.t("review.unsaved.body")) }
            p { label for="unsaved" { (face.t("review.unsaved.label")) } br;
                textarea #unsaved rows="8" readonly { (text) } }
            p { a href="/login" { (face.t("review.unsaved.login")) } }
        },
    )
}

/// A status as people read it; the stored value itself if it is not one of
/// [`STATUSES`] (so an unexpected value is shown, never hidden).
pub fn status_label(face: Face, status: &str) -> &str {
    if STATUSES.contains(&status) {
        face.t(&format!("review.status.{status}"))
    } else {
        status
    }
}

/// `text` with each `{name}` replaced by its value.
pub fn fill(text: &str, values: &[(&str, &dyn std::fmt::Display)]) -> String {
    values.iter().fold(text.to_owned(), |out, (name, value)| {
        out.replace(&format!("{{{name}}}"), &value.to_string())
    })
}

/// The login form, with an error line after a refusal.
pub fn login(face: Face, production: bool, error: Option<&str>) -> Markup {
    plain(
        face,
        face.t("review.login.title"),
        html! {
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/login" {
                p { label for="name" { (face.t("review.login.name")) } br;
                    input #name name="name" autocomplete="username" required; }
                p { label for="passphrase" { (face.t("review.login.passphrase")) } br;
                    input #passphrase type="password" name="passphrase" autocomplete="current-password" required; }
                p { label for="totp" { (face.t("review.login.totp")) @if !production { (face.t("review.login.totp_optional")) } } br;
                    input #totp name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}"; }
                p { button type="submit" { (face.t("review.login.submit")) } }
            }
            @if face.demo {
                p { (fill(face.t("review.login.demo"), &[("name", &"demo")])) }
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
    face: Face,
    who: &Reviewer,
    filter: &QueueFilter,
    page: &QueuePage,
    domains: &[String],
) -> Markup {
    let current = filter.page.max(1);
    let pages = page
        .total
        .div_ceil(u64::from(crate::store::queue::PER_PAGE))
        .max(1);
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
                    @for d in domains { option value=(d) selected[filter.domain.as_deref() == Some(d.as_str())] { (choice_label(face, "domain", d).unwrap_or(d)) } }
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
                                td data-domain=[r.domain.as_deref()] { (r.domain.as_deref().map_or("—", |d| choice_label(face, "domain", d).unwrap_or(d))) }
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
pub fn signal(face: Face, who: &Reviewer, v: &SignalView<'_>) -> Markup {
    let r = v.record;
    let t = |key: &str| face.t(key);
    let action = |what: &str| format!("/signals/{}/{what}", r.id);
    let author = |a: &str| match a {
        "team" | "sender" => t(&format!("review.author.{a}")).to_owned(),
        name => name.to_owned(),
    };
    layout(
        face,
        t("review.signal.title"),
        Some(who),
        html! {
            h1 { (t("review.signal.title")) " " code { (r.id) } }
            p { (fill(t("review.signal.received"), &[("day", &r.received_on)])) " "
                strong data-status=(r.status) { (status_label(face, &r.status)) }
                " · " a href=(action("envelope.age")) download { (t("review.signal.download")) } }
            section.answers {
                h2 { (t("review.signal.answers")) }
                dl {
                    @for (i, (label, text)) in v.answers.iter().enumerate() {
                        dt { (label) }
                        dd.answer { (text.as_str()) }
                        @if let Some(kinds) = v.flags.get(i).filter(|k| !k.is_empty()) {
                            dd.guard data-guard=(kinds.join(" ")) {
                                (t("review.signal.guard")) " "
                                (kinds.iter().map(|k| t(&format!("guard.kind.{k}"))).collect::<Vec<_>>().join(", "))
                            }
                        }
                    }
                }
            }
            section {
                h2 { (t("review.signal.triage")) }
                form method="post" action=(action("triage")) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    p { label { (t("review.col.status")) " " select name="status" {
                        @for s in STATUSES { option value=(s) selected[r.status == *s] { (status_label(face, s)) } }
                    } } }
                    p { label { (t("review.col.domain")) " " input name="domain" list="domains" value=(r.domain.as_deref().or(v.suggested_domain).unwrap_or("")) maxlength="64"; } }
                    p { label { (t("review.col.origin")) " " input name="origin" list="origins" value=(r.origin.as_deref().or(v.suggested_origin).unwrap_or("")) maxlength="64"; } }
                    p { label { (t("review.col.labels")) " " input name="labels" value=(r.labels) maxlength="200"; } }
                    p { label { (t("review.col.assignee")) " " input name="assignee" value=(r.assignee.as_deref().unwrap_or("")) maxlength="32"; } }
                    (choices(face, "domains", "domain"))
                    (choices(face, "origins", "origin"))
                    p { button type="submit" { (t("review.signal.save_triage")) } }
                }
            }
            section {
                h2 { (t("review.signal.thread")) }
                @if v.thread.is_empty() { p { (t("review.signal.no_messages")) } }
                @for (who_wrote, day, text) in v.thread {
                    article.message data-author=(who_wrote) { p.meta { (author(who_wrote)) ", " (day) } p.text { (text.as_str()) } }
                }
                form method="post" action=(action("messages")) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    p { label for="message" { (t("review.signal.write")) } br;
                        textarea #message name="message" rows="4" maxlength="10000" required {} }
                    p { button type="submit" { (t("review.signal.send")) } }
                }
            }
            section {
                h2 { (t("review.signal.notes")) }
                @for (who_wrote, day, text) in v.notes {
                    article.note { p.meta { (who_wrote) ", " (day) } p.text { (text.as_str()) } }
                }
                form method="post" action=(action("notes")) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    p { label for="note" { (t("review.signal.add_note_label")) } br;
                        textarea #note name="note" rows="4" maxlength="10000" required {} }
                    p { button type="submit" { (t("review.signal.add_note")) } }
                }
            }
            section {
                h2 { (t("review.signal.trail")) }
                p { (fill(t("review.signal.trail_shown"), &[("shown", &v.trail.len()), ("total", &v.trail_total)])) }
                table.audit {
                    thead { tr {
                        th { "#" } th { (t("review.trail.when")) } th { (t("review.trail.who")) }
                        th { (t("review.trail.what")) } th { (t("review.trail.detail")) }
                    } }
                    tbody { @for a in v.trail {
                        tr { td { (a.seq) } td { (a.at) } td { (a.actor) } td data-action=(a.action) { (face.lang.get(&format!("review.action.{}", a.action)).unwrap_or(&a.action)) } td { (a.detail) } }
                    } }
                }
            }
        },
    )
}

/// A `<datalist>` of the form's options for question `field`, so triage uses
/// the same categories as the form (free text stays possible).
fn choices(face: Face, id: &str, field: &str) -> Markup {
    html! { datalist id=(id) { @for o in options_of(field) {
        option value=(o) label=(face.t(&format!("q.{field}.{o}"))) {}
    } } }
}

fn options_of(question: &str) -> &'static [String] {
    crate::signal::questions::all()
        .iter()
        .find(|q| q.name == question)
        .map(|q| q.options.as_slice())
        .unwrap_or_default()
}

/// What the form calls option `value` of `question` (domain `benefits`:
/// "Toeslagen en uitkeringen"); `None` when the form has no such option, as
/// for a category a reviewer typed at triage, which is then shown as it is.
pub fn choice_label(face: Face, question: &str, value: &str) -> Option<&'static str> {
    options_of(question)
        .iter()
        .any(|o| o == value)
        .then(|| face.t(&format!("q.{question}.{value}")))
}

pub use crate::web::wiped;
