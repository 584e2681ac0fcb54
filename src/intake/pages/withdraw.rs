//! Withdrawing a signal: the question, with what would be removed, and the
//! page that says what was.
//!
//! Invariant: the code rides only in a hidden POST field (these pages are sent
//! from wiped buffers); nothing here shows what the sender wrote.

use maud::{Markup, html};

use super::{LangSwitch, RECEIPT_FIELD, layout, layout_with};
use crate::views::{self, Lang, href};

/// The field that confirms a withdrawal (`yes`).
pub const WITHDRAW_FIELD: &str = "withdraw";

/// The question: withdraw this signal? What goes, what stays, and the two
/// ways on — withdraw, or back to the signal.
pub fn withdraw_page(lang: Lang, code: &str, received_on: &str, messages: usize) -> Markup {
    layout_with(
        lang,
        lang.t("withdraw.title"),
        "/follow-up",
        LangSwitch::Resend {
            form: "withdraw-form",
            action: "/follow-up/withdrawn",
        },
        html! {
            h1 { (lang.t("withdraw.title")) }
            p.lead { (lang.t("withdraw.intro")) " " (views::day(lang, received_on)) "." }
            h2 { (lang.t("withdraw.removed.title")) }
            ul {
                li { (lang.t("withdraw.removed.signal")) }
                li { (count(lang, messages)) }
                li { (lang.t("withdraw.removed.notes")) }
            }
            h2 { (lang.t("withdraw.kept.title")) }
            (views::prose(lang.t("withdraw.kept.body")))
            p.warning-text { strong { (lang.t("withdraw.final")) } }
            form #withdraw-form method="post" action=(href("/follow-up/withdrawn", lang)) accept-charset="utf-8" {
                input type="hidden" name="lang" value=(lang.code());
                input type="hidden" name=(RECEIPT_FIELD) value=(code);
                div.actions {
                    button.danger type="submit" name=(WITHDRAW_FIELD) value="yes" { (lang.t("withdraw.confirm")) }
                    button.secondary type="submit" formaction=(href("/follow-up", lang)) { (lang.t("withdraw.cancel")) }
                }
            }
        },
    )
}

/// "N messages" in words.
fn count(lang: Lang, messages: usize) -> String {
    match messages {
        0 => lang.t("withdraw.removed.no_messages").to_owned(),
        1 => lang.t("withdraw.removed.one_message").to_owned(),
        n => lang
            .t("withdraw.removed.messages")
            .replace("{n}", &n.to_string()),
    }
}

/// What was removed, after the withdrawal is durable.
/// The team's internal notes are named whether or not there were any: how
/// many there were is the team's business.
pub fn withdrawn_page(lang: Lang, received_on: &str, messages: u64) -> Markup {
    let messages = usize::try_from(messages).unwrap_or(usize::MAX);
    layout(
        lang,
        lang.t("withdrawn.title"),
        "/",
        html! {
            div.panel.success role="status" data-withdrawn {
                h1 { (lang.t("withdrawn.title")) }
            }
            p.lead { (lang.t("withdrawn.intro")) " " (views::day(lang, received_on)) "." }
            h2 { (lang.t("withdraw.removed.title")) }
            ul {
                li { (lang.t("withdraw.removed.signal")) }
                li { (count(lang, messages)) }
                li { (lang.t("withdraw.removed.notes")) }
            }
            (views::prose(lang.t("withdrawn.after")))
            p { a href=(href("/", lang)) { (lang.t("receipt.another")) } }
        },
    )
}
