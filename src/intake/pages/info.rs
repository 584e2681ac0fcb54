//! The privacy page and the accessibility statement: plain pages whose whole
//! text lives in `templates/`.
//!
//! Invariant: these pages show no visitor data at all; only settings
//! (`public_url`) and the embedded texts, escaped.

use maud::{Markup, html};

use super::layout;
use crate::views::{Lang, href, prose};

/// `/privacy`: what is stored, what never is, what the server sees for a
/// moment, and what signaal cannot protect against.
pub fn privacy_page(lang: Lang, public_url: &str) -> Markup {
    let sections = [
        "stored", "never", "moment", "cannot", "advice", "cookies", "rights",
    ];
    layout(
        lang,
        lang.t("privacy.title"),
        "/privacy",
        html! {
            h1 { (lang.t("privacy.title")) }
            p.lead { (lang.t("privacy.intro")) }
            @for key in sections {
                section aria-labelledby={ "privacy-" (key) } {
                    h2 id={ "privacy-" (key) } { (lang.t(&format!("privacy.{key}.title"))) }
                    (prose(lang.t(&format!("privacy.{key}.body"))))
                    @if key == "advice" {
                        div.qr-row {
                            img.qr src="/embed/qr.png" width="160" height="160" alt=(lang.t("qr.alt"));
                            p { (lang.t("network.scan")) br; span.url { (public_url) } }
                        }
                    }
                }
            }
            p { a href=(href("/", lang)) { (lang.t("page.back")) } }
        },
    )
}

/// `/toegankelijkheid` and `/accessibility`: the accessibility statement in
/// the form Dutch government sites publish.
pub fn accessibility_page(lang: Lang) -> Markup {
    let sections = ["status", "standard", "checked", "limits", "contact"];
    layout(
        lang,
        lang.t("a11y.title"),
        super::accessibility_path(lang),
        html! {
            h1 { (lang.t("a11y.title")) }
            p.lead { (lang.t("a11y.intro")) }
            @for key in sections {
                section aria-labelledby={ "a11y-" (key) } {
                    h2 id={ "a11y-" (key) } { (lang.t(&format!("a11y.{key}.title"))) }
                    (prose(lang.t(&format!("a11y.{key}.body"))))
                }
            }
        },
    )
}
