//! The page of one signal, decrypted: the answers (with what the personal-data
//! guard finds in them), triage, the thread with the sender (standard texts,
//! acknowledging in one click, marking replies handled), internal notes, the
//! hardships it is part of and the signal's audit trail; "previous" and "next" in the queue it came from.
//!
//! Invariant: every decrypted text is rendered through maud's escaping, in
//! an element of its own with `dir="auto"`, which isolates it (HTML's
//! `unicode-bidi: isolate`), so bidirectional controls a sender typed cannot
//! reorder the page around it; and
//! the handler sends this page from a wiped buffer.

use maud::{Markup, html};
use zeroize::Zeroizing;

use super::{Face, domain_options, layout, status_label};
use crate::audit;
use crate::review::glance::reference;
use crate::review::place::{Neighbours, Place};
use crate::review::session::Reviewer;
use crate::review::signals::{STANDARD, TriageForm};
use crate::signal::{STATUSES, questions};
use crate::store::signals::SignalRecord;
use crate::views::{Lang, choice_label, fill};

/// What the signal page shows besides the record.
pub struct SignalView<'a> {
    /// The record.
    pub record: &'a SignalRecord,
    /// Decrypted answers, (label, text), in form order.
    pub answers: &'a [(String, Zeroizing<String>)],
    /// Per answer, the kinds of personal data the guard finds in it.
    pub flags: &'a [Vec<&'static str>],
    /// The triage form's values (as stored, or as sent and refused).
    pub form: &'a TriageForm,
    /// Domains in use beside the form's.
    pub domains: &'a [String],
    /// The team's labels.
    pub vocabulary: &'a [String],
    /// The reviewers an assignee is chosen from.
    pub reviewers: &'a [String],
    /// Decrypted notes: (author, day, text).
    pub notes: &'a [(String, String, Zeroizing<String>)],
    /// Decrypted thread: (author, day, text).
    pub thread: &'a [(String, String, Zeroizing<String>)],
    /// The sender's messages not answered or handled yet.
    pub unanswered: i64,
    /// A standard message put in the message box, in the sender's language.
    pub draft: Option<&'a str>,
    /// The language the sender wrote in.
    pub sender_lang: Lang,
    /// This signal's latest audit rows, newest first.
    pub trail: &'a [audit::Row],
    /// How many audit rows this signal has in all.
    pub trail_total: u64,
    /// Where in the queue the page was opened.
    pub place: Option<&'a Place>,
    /// The signals before and after it there.
    pub neighbours: &'a Neighbours,
    /// What was just done, for the confirmation.
    pub done: Option<&'static str>,
    /// The signal whose triage was saved before this one came next.
    pub of: Option<&'a str>,
    /// The text box that was sent empty.
    pub empty: Option<&'static str>,
    /// Every hardship, its title decrypted.
    pub hardships: &'a [super::HardshipLine],
    /// The ids of the hardships this signal is linked to.
    pub linked: &'a [String],
}

fn place_fields(place: Option<&Place>) -> Markup {
    html! {
        @if let Some(p) = place {
            input type="hidden" name="from" value=(p.from());
            input type="hidden" name="pos" value=(p.pos);
        }
    }
}

fn link_at(place: &Place, id: &str, pos: u64) -> String {
    format!("/signals/{id}?{}", place.query_at(pos))
}

/// One signal, decrypted.
pub fn signal(face: Face, who: &Reviewer, v: &SignalView<'_>) -> Markup {
    let r = v.record;
    let t = |key: &str| face.t(key);
    let action = |what: &str| format!("/signals/{}/{what}", r.id);
    let refn = reference(&r.id);
    let title = fill(t("review.signal.title_ref"), &[("ref", &refn)]);
    let insert_link = |key: &str| {
        let mut q = match v.place {
            Some(p) => p.query_at(p.pos),
            None => String::new(),
        };
        if !q.is_empty() {
            q.push('&');
        }
        format!("/signals/{}?{q}insert={key}#message", r.id)
    };
    layout(
        face,
        &title,
        Some(who),
        html! {
            @if let Some(done) = v.done {
                div.confirmation role="status" data-done=(done) {
                    @if let Some(of) = v.of {
                        (fill(t("review.done.triage_next"), &[("ref", &reference(of))]))
                    } @else {
                        (t(&format!("review.done.{done}")))
                    }
                }
            }
            nav.steps aria-label=(t("review.signal.steps")) {
                @if let Some(p) = v.place {
                    a href=(p.queue_href()) { (t("review.back_to_queue")) }
                    @if let Some((id, pos)) = &v.neighbours.prev { a rel="prev" href=(link_at(p, id, *pos)) { (t("review.signal.previous")) } }
                    @if let Some((id, pos)) = &v.neighbours.next { a rel="next" href=(link_at(p, id, *pos)) { (t("review.signal.next")) } }
                } @else {
                    a href="/" { (t("review.back_to_queue")) }
                }
            }
            div.signal-head {
                h1 { (title) }
                p { code title=(t("review.signal.id")) { (r.id) } }
            }
            p { (fill(t("review.signal.received"), &[("day", &r.received_on)])) " "
                strong data-status=(r.status) { (status_label(face, &r.status)) }
                " · " a href=(action("envelope.age")) download { (t("review.signal.download")) } }
            div.columns {
                div {
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
                    (thread(face, who, v, &insert_link))
                    section {
                        h2 { (t("review.signal.notes")) }
                        @for (who_wrote, day, text) in v.notes {
                            article.note { p.meta { (who_wrote) ", " (day) } p.text dir="auto" { (text.as_str()) } }
                        }
                        form method="post" action=(action("notes")) {
                            input type="hidden" name="csrf" value=(who.csrf);
                            (place_fields(v.place))
                            @let empty = v.empty == Some("note");
                            div.field.has-error[empty] { label for="note" { (t("review.signal.add_note_label")) }
                                @if empty { p.error #note-error { (t("review.signal.empty_note")) } }
                                textarea #note name="note" rows="4" maxlength="10000" aria-invalid=[empty.then_some("true")] aria-describedby=[empty.then_some("note-error")] {} }
                            p { button.secondary type="submit" { (t("review.signal.add_note")) } }
                        }
                    }
                    (hardships(face, who, v))
                }
                div {
                    (triage(face, who, v))
                    (trail(face, v))
                }
            }
        },
    )
}

/// The hardships the signal is part of (each with "unlink"), and the form
/// that links it to another.
fn hardships(face: Face, who: &Reviewer, v: &SignalView<'_>) -> Markup {
    let t = |key: &str| face.t(key);
    let id = &v.record.id;
    let (linked, other): (Vec<_>, Vec<_>) =
        v.hardships.iter().partition(|h| v.linked.contains(&h.id));
    html! {
        section #hardships {
            h2 { (t("review.signal.hardships")) }
            @if linked.is_empty() {
                p { (t("review.signal.no_hardships")) }
            } @else {
                ul {
                    @for h in &linked {
                        li data-linked-hardship=(h.id) {
                            a href=(format!("/hardships/{}", h.id)) dir="auto" { (h.title.as_str()) } " "
                            form.inline method="post" action=(format!("/signals/{id}/hardships/unlink")) {
                                input type="hidden" name="csrf" value=(who.csrf);
                                input type="hidden" name="hardship" value=(h.id);
                                button.secondary type="submit" { (t("review.signal.unlink")) }
                            }
                        }
                    }
                }
            }
            @if other.is_empty() {
                p { a href="/hardships#new" { (t("review.signal.new_hardship")) } }
            } @else {
                form method="post" action=(format!("/signals/{id}/hardships")) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    div.field {
                        label for="link-hardship" { (t("review.signal.link_label")) }
                        select #link-hardship name="hardship" {
                            @for h in &other { option value=(h.id) { (h.title.as_str()) } }
                        }
                    }
                    p { button.secondary type="submit" { (t("review.signal.link")) } }
                }
            }
        }
    }
}

fn thread(
    face: Face,
    who: &Reviewer,
    v: &SignalView<'_>,
    insert_link: &dyn Fn(&str) -> String,
) -> Markup {
    let t = |key: &str| face.t(key);
    let r = v.record;
    let action = |what: &str| format!("/signals/{}/{what}", r.id);
    let author = |a: &str| match a {
        "team" | "sender" => t(&format!("review.author.{a}")).to_owned(),
        name => name.to_owned(),
    };
    html! {
        section #thread {
            h2 { (t("review.signal.thread")) }
            @if v.thread.is_empty() { p { (t("review.signal.no_messages")) } }
            @for (who_wrote, day, text) in v.thread {
                article.message data-author=(who_wrote) { p.meta { (author(who_wrote)) ", " (day) } p.text dir="auto" { (text.as_str()) } }
            }
            @if v.unanswered > 0 {
                form.inline-action method="post" action=(action("handled")) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    (place_fields(v.place))
                    p { span.flag.reply data-flag="reply" { (t("review.flag.reply")) } " "
                        button.secondary type="submit" { (t("review.signal.handled")) } }
                }
            }
            @if r.status == "new" {
                form method="post" action=(action("acknowledge")) {
                    input type="hidden" name="csrf" value=(who.csrf);
                    (place_fields(v.place))
                    p { button.secondary type="submit" { (t("review.signal.acknowledge")) } br;
                        span.hint { (fill(t("review.signal.acknowledge_hint"), &[("lang", &t(&format!("review.lang.{}", v.sender_lang.code())))])) } }
                }
            }
            p { (t("review.signal.standard")) " "
                @for (i, key) in STANDARD.iter().enumerate() {
                    @if i > 0 { " · " }
                    a href=(insert_link(key)) data-standard=(key) { (t(&format!("review.standard.{key}.label"))) }
                }
            }
            form method="post" action=(action("messages")) {
                input type="hidden" name="csrf" value=(who.csrf);
                (place_fields(v.place))
                @let empty = v.empty == Some("message");
                div.field.has-error[empty] { label for="message" { (t("review.signal.write")) }
                    @if empty { p.error #message-error { (t("review.signal.empty_message")) } }
                    textarea #message name="message" rows="6" maxlength="10000" aria-invalid=[empty.then_some("true")] aria-describedby=[empty.then_some("message-error")] { (v.draft.unwrap_or("")) } }
                p { button.secondary type="submit" { (t("review.signal.send")) } }
            }
        }
    }
}

fn error_of(form: &TriageForm, field: &str) -> Option<&'static str> {
    form.errors
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, k)| *k)
}

fn triage(face: Face, who: &Reviewer, v: &SignalView<'_>) -> Markup {
    let t = |key: &str| face.t(key);
    let f = v.form;
    let r = v.record;
    let field = |name: &'static str, label: &str, control: Markup| {
        let err = error_of(f, name);
        html! {
            div.field.has-error[err.is_some()] {
                label for={ "t-" (name) } { (label) }
                @if let Some(e) = err { p.error #{ "t-" (name) "-error" } { (t(e)) } }
                (control)
            }
        }
    };
    let invalid = |name: &str| error_of(f, name).map(|_| "true");
    let described = |name: &str| error_of(f, name).map(|_| format!("t-{name}-error"));
    let domains = domain_options(face, v.domains);
    let origins = questions::options("origin");
    let mut labels: Vec<&str> = v.vocabulary.iter().map(String::as_str).collect();
    for l in &f.labels {
        if !labels.iter().any(|x| x == l) {
            labels.push(l);
        }
    }
    html! {
        section.triage #triage {
            h2 { (t("review.signal.triage")) }
            @if !f.errors.is_empty() {
                div.error-summary role="alert" aria-labelledby="triage-errors" tabindex="-1" {
                    h2 #triage-errors { (t("review.triage.errors")) }
                    ul { @for (name, key) in &f.errors { li { a href={ "#t-" (name) } { (t(key)) } } } }
                }
            }
            form method="post" action={ "/signals/" (r.id) "/triage" } {
                input type="hidden" name="csrf" value=(who.csrf);
                (place_fields(v.place))
                (field("status", t("review.col.status"), html! {
                    select #t-status name="status" aria-invalid=[invalid("status")] aria-describedby=[described("status")] {
                        @for s in STATUSES { option value=(s) selected[f.status == *s] { (status_label(face, s)) } }
                    }
                }))
                (field("domain", t("review.col.domain"), html! {
                    select #t-domain name="domain" aria-invalid=[invalid("domain")] aria-describedby=[described("domain")] {
                        option value="" { (t("review.triage.none")) }
                        @for (code, label) in &domains { option value=(code) selected[f.domain == *code] { (label) } }
                        @if !f.domain.is_empty() && !domains.iter().any(|(c, _)| *c == f.domain) {
                            option value=(f.domain) selected { (f.domain) }
                        }
                    }
                }))
                (field("origin", t("review.col.origin"), html! {
                    select #t-origin name="origin" aria-invalid=[invalid("origin")] aria-describedby=[described("origin")] {
                        option value="" { (t("review.triage.none")) }
                        @for o in origins { option value=(o) selected[f.origin == *o] { (choice_label(face.lang, "origin", o).unwrap_or(o)) } }
                        @if !f.origin.is_empty() && !origins.contains(&f.origin) {
                            option value=(f.origin) selected { (f.origin) }
                        }
                    }
                }))
                fieldset.field.has-error[error_of(f, "labels").is_some()] {
                    legend { (t("review.col.labels")) }
                    @if let Some(e) = error_of(f, "labels") { p.error #t-labels-error { (t(e)) } }
                    @for (i, l) in labels.iter().enumerate() {
                        div.field.check {
                            input type="checkbox" id={ "t-label-" (i) } name="label" value=(l) checked[f.labels.iter().any(|x| x == l)];
                            label for={ "t-label-" (i) } { span.chip { (l) } }
                        }
                    }
                    label for="t-labels" { (t("review.triage.new_labels")) }
                    p.hint #t-labels-hint { (t("review.triage.new_labels_hint")) }
                    input #t-labels name="labels" value=(f.new_labels) aria-invalid=[invalid("labels")]
                        aria-describedby=(if error_of(f, "labels").is_some() { "t-labels-hint t-labels-error" } else { "t-labels-hint" });
                }
                (field("assignee", t("review.col.assignee"), html! {
                    div.actions {
                        select #t-assignee name="assignee" aria-invalid=[invalid("assignee")] aria-describedby=[described("assignee")] {
                            option value="" { (t("review.triage.nobody")) }
                            @for name in v.reviewers { option value=(name) selected[f.assignee == *name] { (name) } }
                            @if !f.assignee.is_empty() && !v.reviewers.contains(&f.assignee) {
                                option value=(f.assignee) selected { (f.assignee) }
                            }
                        }
                        button.secondary type="submit" name="assign_me" value="1" { (t("review.triage.assign_me")) }
                    }
                }))
                div.actions {
                    button.primary type="submit" name="then" value="stay" { (t("review.signal.save_triage")) }
                    @if v.place.is_some() {
                        button.secondary type="submit" name="then" value="next" { (t("review.signal.save_next")) }
                    }
                }
            }
        }
    }
}

/// One line of the trail: a row, or repeated opens in one session folded
/// into one line.
enum Line<'a> {
    One(&'a audit::Row),
    Opens {
        actor: &'a str,
        count: usize,
        first: &'a audit::Row,
        last: &'a audit::Row,
    },
}

/// Whether `a` and `b` are opens in one session: the same reviewer, and the
/// same session named in their detail (rows from before sessions were named
/// have none, and fold by reviewer).
fn same_session(a: &audit::Row, b: &audit::Row) -> bool {
    a.action == "view" && b.action == "view" && a.actor == b.actor && a.detail == b.detail
}

/// Folds runs of `view` rows of one session, with nothing else done to the
/// signal between, into one line each; every row stays in the audit log
/// itself (and `signaal audit verify` checks them all).
fn fold(trail: &[audit::Row]) -> Vec<Line<'_>> {
    let mut out: Vec<Line<'_>> = Vec::new();
    for row in trail {
        let folded = match out.last_mut() {
            Some(Line::Opens { count, first, .. }) if same_session(first, row) => {
                *count += 1;
                *first = row;
                true
            }
            Some(line) => match *line {
                Line::One(prev) if same_session(prev, row) => {
                    *line = Line::Opens {
                        actor: &row.actor,
                        count: 2,
                        first: row,
                        last: prev,
                    };
                    true
                }
                _ => false,
            },
            None => false,
        };
        if !folded {
            out.push(Line::One(row));
        }
    }
    out
}

/// The day of an audit row's RFC 3339 time (`2026-12-04`).
fn day_of(at: &str) -> &str {
    at.get(..10).unwrap_or(at)
}

/// The time of day of an audit row's RFC 3339 time (`10:02`).
fn clock(at: &str) -> &str {
    at.get(11..16).unwrap_or(at)
}

/// The trail's rows, repeated opens in one session folded.
fn trail_rows(face: Face, trail: &[audit::Row]) -> Markup {
    let t = |key: &str| face.t(key);
    html! {
        @for line in fold(trail) {
            @match line {
                Line::One(a) => {
                    tr { td { (a.seq) } td { (a.at) } td { (a.actor) } td data-action=(a.action) { (face.lang.get(&format!("review.action.{}", a.action)).unwrap_or(&a.action)) } td { (a.detail) } }
                }
                Line::Opens { actor, count, first, last } => {
                    tr data-folded=(count) {
                        td { (first.seq) "–" (last.seq) }
                        td { (day_of(&first.at)) @if day_of(&first.at) != day_of(&last.at) { " – " (day_of(&last.at)) } }
                        td { (actor) }
                        td data-action="view" { (t("review.action.view")) " " (fill(t("review.trail.opened"), &[("n", &count), ("from", &clock(&first.at)), ("to", &clock(&last.at))])) }
                        td { (first.detail) }
                    }
                }
            }
        }
    }
}

fn trail(face: Face, v: &SignalView<'_>) -> Markup {
    let t = |key: &str| face.t(key);
    html! {
        section {
            h2 { (t("review.signal.trail")) }
            p { (fill(t("review.signal.trail_shown"), &[("shown", &v.trail.len()), ("total", &v.trail_total)])) }
            div.table-scroll role="region" aria-label=(t("review.signal.trail")) tabindex="0" {
                table.audit {
                    thead { tr {
                        th scope="col" { "#" } th scope="col" { (t("review.trail.when")) } th scope="col" { (t("review.trail.who")) }
                        th scope="col" { (t("review.trail.what")) } th scope="col" { (t("review.trail.detail")) }
                    } }
                    tbody { (trail_rows(face, v.trail)) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, at: &str, actor: &str, action: &str, detail: &str) -> audit::Row {
        audit::Row {
            seq,
            at: at.into(),
            actor: actor.into(),
            action: action.into(),
            signal_id: Some("s".into()),
            detail: detail.into(),
            prev_hash: Vec::new(),
            hash: Vec::new(),
        }
    }

    fn shape(lines: &[Line<'_>]) -> Vec<(i64, usize)> {
        lines
            .iter()
            .map(|l| match l {
                Line::One(r) => (r.seq, 1),
                Line::Opens { first, count, .. } => (first.seq, *count),
            })
            .collect()
    }

    #[test]
    fn opens_fold_per_session_and_nothing_else_does() {
        // Newest first, as the trail is shown.
        let trail = [
            row(9, "2026-12-05T00:10:00Z", "ann", "view", "session bb"),
            row(8, "2026-12-04T23:50:00Z", "ann", "view", "session bb"),
            row(7, "2026-12-04T10:09:00Z", "ann", "view", "session aa"),
            row(6, "2026-12-04T10:05:00Z", "ann", "view", "session aa"),
            row(5, "2026-12-04T10:04:00Z", "bob", "view", "session cc"),
            row(4, "2026-12-04T10:03:00Z", "ann", "view", "session aa"),
            row(
                3,
                "2026-12-04T10:02:00Z",
                "ann",
                "triage",
                "status in_progress",
            ),
            row(2, "2026-12-04T10:01:00Z", "ann", "view", "session aa"),
            row(1, "2026-12-04T10:00:00Z", "ann", "view", "session aa"),
        ];
        let lines = fold(&trail);
        assert_eq!(
            shape(&lines),
            [(8, 2), (6, 2), (5, 1), (4, 1), (3, 1), (1, 2)],
            "another session, another reviewer or another action between breaks a fold"
        );
        let face = Face {
            demo: false,
            lang: crate::views::Lang::Nl,
        };
        let html = trail_rows(face, &trail).into_string();
        assert!(
            html.contains("2026-12-04 – 2026-12-05"),
            "a fold across midnight names both days: {html}"
        );
    }
}
