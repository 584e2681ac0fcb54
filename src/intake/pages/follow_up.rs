//! The follow-up pages: the field for the receipt code, and the sender's view
//! of their signal — status, what they sent, the thread and a form to answer.
//!
//! Invariant: the code and every decrypted text are rendered only through
//! maud's escaping, never into a URL (forms post to fixed addresses; the code
//! rides along in a hidden POST field). The pages that hold them are sent from
//! wiped buffers ([`crate::web::wiped`]) by the handlers.

use maud::{Markup, html};
use zeroize::Zeroizing;

use super::{LangSwitch, layout, layout_with};
use crate::signal::guard::Kind;
use crate::store::publications::PublicHardship;
use crate::views::{self, Lang, href};

/// The field that carries the code.
pub const RECEIPT_FIELD: &str = "receipt";
/// The field of a new message.
pub const MESSAGE_FIELD: &str = "message";

/// A problem with a new message, shown above the kept text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageProblem {
    /// Nothing was written.
    Empty,
    /// Longer than allowed (characters).
    TooLong(usize),
    /// The guard found these kinds of personal data.
    PersonalData(Vec<Kind>),
    /// Storing failed: nothing was kept, the text is still in the form.
    NotStored,
    /// A limit stopped it: not sent yet, try again after this many seconds.
    Limited(u64),
}

/// One message of the thread, decrypted.
#[derive(Debug)]
pub struct ThreadMessage {
    /// `team` or `sender`.
    pub author: String,
    /// Day written.
    pub day: String,
    /// The text, wiped on drop; `None` if it cannot be opened.
    pub text: Option<Zeroizing<String>>,
}

/// What the sender's page shows.
#[derive(Debug)]
pub struct ThreadView<'a> {
    /// The code as the sender should see it, grouped.
    pub code: &'a str,
    /// The status key (`new`, `in_progress`, …), already adjusted for an
    /// acknowledgement (see [`status_key`]).
    pub status: &'a str,
    /// Day of arrival.
    pub received_on: &'a str,
    /// Day of the last change.
    pub last_change: &'a str,
    /// What was sent: (label, text), in form order.
    pub answers: &'a [(String, Zeroizing<String>)],
    /// The thread, in order.
    pub thread: &'a [ThreadMessage],
    /// The message just stored, if that is why this page is shown.
    pub sent: bool,
    /// A problem with the message being written, and its text kept.
    pub problem: Option<(MessageProblem, &'a str)>,
    /// A message being written, brought along by a language switch.
    pub draft: &'a str,
    /// The published hardships the signal is part of.
    pub part_of: &'a [PublicHardship],
    /// Today (`YYYY-MM-DD`), to say whether a measure is past its target.
    pub today: &'a str,
}

/// The status the sender sees: a signal the team has acknowledged (by a
/// message) counts as "being looked at" even while its status is still new.
pub fn status_key(status: &str, acknowledged: bool) -> &'static str {
    match status {
        "new" if acknowledged => "in_progress",
        "new" => "new",
        "in_progress" => "in_progress",
        "forwarded" => "forwarded",
        "closed" => "closed",
        "not_admissible" => "not_admissible",
        _ => "in_progress",
    }
}

/// `GET /follow-up`, and the same page after a code was refused (`refused`).
pub fn start_page(lang: Lang, refused: bool) -> Markup {
    let title = if refused {
        format!(
            "{}: {}",
            lang.t("followup.refused.title"),
            lang.t("followup.title")
        )
    } else {
        lang.t("followup.title").to_owned()
    };
    layout(
        lang,
        &title,
        "/follow-up",
        html! {
            @if refused {
                div.error-summary #error-summary role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus {
                    h2 #error-summary-title { (lang.t("followup.refused.title")) }
                    p { a href={ "#" (RECEIPT_FIELD) } { (lang.t("followup.refused.body")) } }
                }
            }
            h1 { (lang.t("followup.title")) }
            p.lead { (lang.t("followup.intro")) }
            form method="post" action=(href("/follow-up", lang)) accept-charset="utf-8" novalidate {
                input type="hidden" name="lang" value=(lang.code());
                div class=(if refused { "field has-error" } else { "field" }) {
                    label for=(RECEIPT_FIELD) { (lang.t("followup.code_label")) }
                    p.hint #receipt-hint { (lang.t("followup.code_hint")) }
                    @if refused { p.error #receipt-error { span.visually-hidden { (lang.t("error.prefix")) " " } (lang.t("followup.refused.field")) } }
                    input type="text" id=(RECEIPT_FIELD) name=(RECEIPT_FIELD) autocomplete="off"
                        autocapitalize="characters" spellcheck="false" required aria-required="true"
                        aria-invalid=[refused.then_some("true")]
                        aria-describedby=(if refused { "receipt-hint receipt-error" } else { "receipt-hint" });
                }
                button.primary type="submit" { (lang.t("followup.open")) }
            }
            p.safe { (lang.t("followup.safe")) " " a href=(href("/privacy", lang)) { (lang.t("form.privacy_link")) } }
        },
    )
}

fn problem_text(lang: Lang, problem: &MessageProblem) -> String {
    match problem {
        MessageProblem::Empty => lang.t("followup.message.empty").to_owned(),
        MessageProblem::NotStored => lang.t("followup.message.not_stored").to_owned(),
        MessageProblem::Limited(secs) => lang
            .t("followup.message.limited")
            .replace("{wait}", &views::wait(lang, *secs)),
        MessageProblem::TooLong(max) => lang
            .t("followup.message.too_long")
            .replace("{max}", &max.to_string()),
        MessageProblem::PersonalData(kinds) => {
            let names: Vec<&str> = kinds
                .iter()
                .map(|k| lang.t(&format!("guard.kind.{}", k.key())))
                .collect();
            names.join(", ")
        }
    }
}

/// The sender's view of their signal.
pub fn thread_page(lang: Lang, v: &ThreadView<'_>) -> Markup {
    let guard = matches!(v.problem, Some((MessageProblem::PersonalData(_), _)));
    let error = v.problem.as_ref().filter(|_| !guard);
    let title = match &v.problem {
        Some((MessageProblem::PersonalData(_), _)) => {
            format!(
                "{}: {}",
                lang.t("guard.title"),
                lang.t("followup.thread.title")
            )
        }
        Some((MessageProblem::Limited(_), _)) => format!(
            "{}: {}",
            lang.t("followup.message.not_sent"),
            lang.t("followup.thread.title")
        ),
        Some(_) => format!(
            "{}: {}",
            lang.t("error.summary"),
            lang.t("followup.thread.title")
        ),
        None if v.sent => format!(
            "{}: {}",
            lang.t("followup.sent"),
            lang.t("followup.thread.title")
        ),
        None => lang.t("followup.thread.title").to_owned(),
    };
    let typed = v.problem.as_ref().map_or(v.draft, |(_, text)| text);
    let note = v.problem.as_ref().map(|(p, _)| problem_text(lang, p));
    let described = match (&v.problem, guard) {
        (Some(_), true) => "message-hint message-warning",
        (Some(_), false) => "message-hint message-error",
        (None, _) => "message-hint",
    };
    // The page holds the code (and perhaps a message being written): the
    // language switch sends them along rather than dropping them for a link.
    layout_with(
        lang,
        &title,
        "/follow-up",
        LangSwitch::Resend {
            form: "message-form",
            action: "/follow-up/message",
        },
        html! {
            @if v.sent {
                div.panel.success role="status" data-sent {
                    p { (lang.t("followup.sent")) }
                }
            }
            @if let Some((problem, _)) = error {
                div.error-summary #error-summary role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus {
                    h2 #error-summary-title {
                        @if matches!(problem, MessageProblem::Limited(_)) { (lang.t("followup.message.not_sent")) }
                        @else { (lang.t("error.summary")) }
                    }
                    ul { li { a href={ "#" (MESSAGE_FIELD) } { (note.as_deref().unwrap_or_default()) } } }
                }
            }
            @if guard {
                div.guard-summary #guard-summary role="alert" aria-labelledby="guard-summary-title" tabindex="-1" autofocus {
                    h2 #guard-summary-title { (lang.t("guard.title")) }
                    p { (lang.t("followup.guard.intro")) " " a href={ "#" (MESSAGE_FIELD) } { (note.as_deref().unwrap_or_default()) } }
                    p { (lang.t("followup.guard.why")) }
                    p { (lang.t("guard.ways")) " " a href={ "#" (super::CONFIRM_FIELD) } { (lang.t("guard.confirm")) } }
                }
            }
            h1 { (lang.t("followup.thread.title")) }
            @if let Some(question) = open_question(v.thread) {
                section.question #team-question aria-labelledby="question-title" data-open-question {
                    h2 #question-title { (lang.t("followup.question.title")) }
                    p.meta { (lang.t("followup.question.asked")) " " (views::day(lang, &question.day)) }
                    @if let Some(text) = &question.text { p.text dir="auto" { (text.as_str()) } }
                    p { (lang.t("followup.question.when")) " " a href={ "#" (MESSAGE_FIELD) } { (lang.t("followup.question.answer")) } }
                }
            }
            dl.status-box {
                dt { (lang.t("followup.status")) }
                dd data-status=(v.status) { strong { (lang.t(&format!("followup.status.{}", v.status))) } }
                dt { (lang.t("followup.last_change")) }
                dd data-last-change=(v.last_change) { (views::day(lang, v.last_change)) }
                dt { (lang.t("followup.received")) }
                dd { (views::day(lang, v.received_on)) }
            }
            (super::results::part_of(lang, v.part_of, v.today))
            section.thread aria-labelledby="thread-title" {
                h2 #thread-title { (lang.t("followup.thread.messages")) }
                @if v.thread.is_empty() { p { (lang.t("followup.thread.none")) } }
                @for m in v.thread {
                    @let who = if m.author == "team" { "followup.from.team" } else { "followup.from.sender" };
                    article.message data-author=(m.author) {
                        p.meta { strong { (lang.t(who)) } ", " (views::day(lang, &m.day)) }
                        @match &m.text {
                            Some(text) => p.text dir="auto" { (text.as_str()) },
                            None => p.text { em { (lang.t("followup.unreadable")) } },
                        }
                    }
                }
            }
            form #message-form method="post" action=(href("/follow-up/message", lang)) accept-charset="utf-8" novalidate {
                input type="hidden" name="lang" value=(lang.code());
                input type="hidden" name=(RECEIPT_FIELD) value=(v.code);
                div class=(match (&v.problem, guard) { (Some(_), true) => "field has-warning", (Some(_), false) => "field has-error", _ => "field" }) {
                    label for=(MESSAGE_FIELD) { (lang.t("followup.message.label")) }
                    p.hint #message-hint { (lang.t("followup.message.hint")) }
                    @if let Some(n) = &note {
                        @if guard { p.warning #message-warning { (lang.t("guard.field_note")) " " (n) } }
                        @else { p.error #message-error { span.visually-hidden { (lang.t("error.prefix")) " " } (n) } }
                    }
                    textarea id=(MESSAGE_FIELD) name=(MESSAGE_FIELD) rows="6" required aria-required="true"
                        aria-invalid=[error.map(|_| "true")] aria-describedby=(described) { (typed) }
                }
                @if guard {
                    div.confirm #confirm {
                        div.choice {
                            input type="checkbox" id=(super::CONFIRM_FIELD) name=(super::CONFIRM_FIELD) value="yes";
                            label for=(super::CONFIRM_FIELD) { (lang.t("guard.confirm")) }
                        }
                    }
                }
                button.primary type="submit" { (lang.t("followup.message.send")) }
            }
            section aria-labelledby="sent-title" {
                h2 #sent-title { (lang.t("followup.yours")) }
                dl.answers {
                    @for (label, text) in v.answers {
                        dt { (label) }
                        dd.text dir="auto" { (text.as_str()) }
                    }
                }
            }
            section.withdraw aria-labelledby="withdraw-title" {
                h2 #withdraw-title { (lang.t("withdraw.offer.title")) }
                p { (lang.t("withdraw.offer.body")) }
                form method="post" action=(href("/follow-up/withdraw", lang)) accept-charset="utf-8" {
                    input type="hidden" name="lang" value=(lang.code());
                    input type="hidden" name=(RECEIPT_FIELD) value=(v.code);
                    button.secondary type="submit" { (lang.t("withdraw.offer.button")) }
                }
            }
            p.safe { (lang.t("followup.leave")) }
        },
    )
}

/// The team's question that waits for an answer: the last message, when
/// it is the team's.
fn open_question(thread: &[ThreadMessage]) -> Option<&ThreadMessage> {
    thread.last().filter(|m| m.author == "team")
}

/// The message form on its own, the text kept, when a limit stopped it
/// before the signal could be opened: "not sent yet", and a button to send
/// it again. Holds the code (in a hidden field) and the text: sent from a
/// wiped buffer.
pub fn message_held_page(lang: Lang, code: &str, text: &str, retry_after_secs: u64) -> Markup {
    let wait = views::wait(lang, retry_after_secs);
    layout_with(
        lang,
        lang.t("followup.message.not_sent"),
        "/follow-up",
        LangSwitch::Resend {
            form: "message-form",
            action: "/follow-up/message",
        },
        html! {
            div.error-summary #error-summary role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus data-held {
                h2 #error-summary-title { (lang.t("followup.message.not_sent")) }
                p { (lang.t("followup.message.limited").replace("{wait}", &wait)) }
            }
            h1 { (lang.t("followup.message.not_sent")) }
            form #message-form method="post" action=(href("/follow-up/message", lang)) accept-charset="utf-8" novalidate {
                input type="hidden" name="lang" value=(lang.code());
                input type="hidden" name=(RECEIPT_FIELD) value=(code);
                div.field {
                    label for=(MESSAGE_FIELD) { (lang.t("followup.message.label")) }
                    p.hint #message-hint { (lang.t("followup.message.hint")) }
                    textarea id=(MESSAGE_FIELD) name=(MESSAGE_FIELD) rows="6" required aria-required="true"
                        aria-describedby="message-hint" { (text) }
                }
                button.primary type="submit" { (lang.t("followup.message.send")) }
            }
            p { a href=(href("/follow-up", lang)) { (lang.t("nav.followup")) } }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_follow_up_page_finds_its_texts_in_both_languages() {
        let answers = vec![("Situatie".to_owned(), Zeroizing::new("x".to_owned()))];
        let thread = vec![
            ThreadMessage {
                author: "team".into(),
                day: "2026-11-28".into(),
                text: Some(Zeroizing::new("vraag".into())),
            },
            ThreadMessage {
                author: "sender".into(),
                day: "2026-11-28".into(),
                text: None,
            },
        ];
        let problems = [
            None,
            Some((MessageProblem::Empty, "")),
            Some((MessageProblem::TooLong(10), "x")),
            Some((MessageProblem::NotStored, "x")),
            Some((MessageProblem::Limited(90), "x")),
            Some((
                MessageProblem::PersonalData(vec![Kind::Bsn, Kind::BirthDate]),
                "x",
            )),
        ];
        for lang in [Lang::Nl, Lang::En] {
            let _ = start_page(lang, false);
            let _ = start_page(lang, true);
            for status in [
                "new",
                "in_progress",
                "forwarded",
                "closed",
                "not_admissible",
            ] {
                for problem in &problems {
                    let html = thread_page(
                        lang,
                        &ThreadView {
                            code: "AAAA-BBBB-CCCC-DDDD-EEEE",
                            status,
                            received_on: "2026-11-27",
                            last_change: "2026-11-28",
                            answers: &answers,
                            thread: &thread,
                            sent: problem.is_none(),
                            problem: problem.clone(),
                            draft: "",
                            part_of: &[],
                            today: "2026-12-02",
                        },
                    )
                    .into_string();
                    assert!(!html.contains("?receipt"), "the code is never in a URL");
                }
            }
        }
        let missing = crate::views::i18n::MISSING.with(|m| m.borrow().clone());
        assert!(missing.is_empty(), "missing texts: {missing:?}");
    }

    #[test]
    fn an_acknowledged_new_signal_reads_as_being_looked_at() {
        assert_eq!(status_key("new", false), "new");
        assert_eq!(status_key("new", true), "in_progress");
        assert_eq!(status_key("closed", true), "closed");
    }
}
