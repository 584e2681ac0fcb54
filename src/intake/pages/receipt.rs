//! The receipt page: shown only after the signal is durably stored.
//!
//! Invariant: the code stands only in the page and in a hidden POST field of
//! the language button's form, never in an address.

use maud::{Markup, html};

use super::{LangSwitch, RECEIPT_FIELD, layout_with};
use crate::views::{Lang, href, prose};

/// The address to come back to: `public_url`'s follow-up page.
pub fn follow_up_address(public_url: &str) -> String {
    format!("{}/follow-up", public_url.trim_end_matches('/'))
}

/// The receipt page. The code stands alone in its element so it can be
/// selected and copied in one go; the address to come back to stands next
/// to it, on screen and on paper, so that a note of both is all it takes.
pub fn receipt_page(lang: Lang, grouped_code: &str, public_url: &str) -> Markup {
    receipt(lang, grouped_code, public_url, false)
}

/// The receipt of a form sent again with other answers than the ones stored
/// under its token: the same code, under a notice that the changes were not
/// added and that a message with the code adds them.
pub fn receipt_again_page(lang: Lang, grouped_code: &str, public_url: &str) -> Markup {
    receipt(lang, grouped_code, public_url, true)
}

fn receipt(lang: Lang, grouped_code: &str, public_url: &str, changed: bool) -> Markup {
    let address = follow_up_address(public_url);
    layout_with(
        lang,
        lang.t("receipt.title"),
        "/",
        LangSwitch::Resend {
            form: "receipt-again",
            action: "/receipt",
        },
        html! {
            div.panel.success {
                h1 { (lang.t("receipt.title")) }
                p { (lang.t("receipt.stored")) }
            }
            @if changed {
                div.notice data-not-added role="status" {
                    h2 { (lang.t("receipt.changed_title")) }
                    p { (lang.t("receipt.changed")) " "
                        a href=(href("/follow-up", lang)) { (lang.t("nav.followup")) } "." }
                }
            }
            div.code-box {
                p.code-label #code-label { (lang.t("receipt.code_label")) }
                p.receipt data-receipt=(grouped_code) aria-labelledby="code-label" { (grouped_code) }
                p.hint { (lang.t("receipt.code_hint")) }
                p.code-label #address-label { (lang.t("receipt.address_label")) }
                p.address data-follow-up-address=(address) aria-labelledby="address-label" { (address) }
            }
            h2 { (lang.t("receipt.keep_title")) }
            (prose(lang.t("receipt.keep")))
            h2 { (lang.t("receipt.next_title")) }
            (prose(lang.t("receipt.next")))
            h2 { (lang.t("receipt.back_title")) }
            p { (lang.t("receipt.back")) " " a href=(href("/follow-up", lang)) { (lang.t("nav.followup")) } "." }
            p.no-print { (lang.t("receipt.print")) }
            p.no-print { a href=(href("/", lang)) { (lang.t("receipt.another")) } }
            // What the header's language button sends: the code, in the body
            // only, so the receipt can come back in the other language.
            form #receipt-again method="post" action=(href("/receipt", lang)) accept-charset="utf-8" {
                input type="hidden" name="lang" value=(lang.code());
                input type="hidden" name=(RECEIPT_FIELD) value=(grouped_code);
            }
        },
    )
}
