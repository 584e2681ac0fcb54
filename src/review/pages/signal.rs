//! The page of one signal, decrypted: the answers (with what the personal-data
//! guard finds in them), triage, the thread with the sender, internal notes
//! and the signal's audit trail.
//!
//! Invariant: every decrypted text is rendered through maud's escaping, in
//! an element of its own with `dir="auto"`, which isolates it (HTML's
//! `unicode-bidi: isolate`), so bidirectional controls a sender typed cannot
//! reorder the page around it; and
//! the handler sends this page from a wiped buffer.

use maud::{Markup, html};
use zeroize::Zeroizing;

use super::{Face, layout, status_label};
use crate::audit;
use crate::review::session::Reviewer;
use crate::signal::{STATUSES, questions};
use crate::store::signals::SignalRecord;
use crate::views::fill;

/// What the signal page shows besides the record.
pub struct SignalView<'a> {
    /// The record.
    pub record: &'a SignalRecord,
    /// Decrypted answers, (label, text), in form order.
    pub answers: &'a [(String, Zeroizing<String>)],
    /// Per answer, the kinds of personal data the guard finds in it.
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
                        dd.answer dir="auto" { (text.as_str()) }
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
                    article.message data-author=(who_wrote) { p.meta { (author(who_wrote)) ", " (day) } p.text dir="auto" { (text.as_str()) } }
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
                    article.note { p.meta { (who_wrote) ", " (day) } p.text dir="auto" { (text.as_str()) } }
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
    html! { datalist id=(id) { @for o in questions::options(field) {
        option value=(o) label=(face.t(&format!("q.{field}.{o}"))) {}
    } } }
}
