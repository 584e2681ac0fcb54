//! The privacy page and the accessibility statement: plain pages whose whole
//! text lives in `templates/`.
//!
//! Invariant: these pages show no visitor data at all; only settings
//! (`public_url`) and the embedded texts, escaped.

use maud::{Markup, html};

use super::layout;
use crate::views::{Lang, href, prose};

/// `/privacy`: what is stored, what never is, what the server sees for a
/// moment, how the order of arrival is hidden and what an examiner could
/// still learn (with the mix interval of this installation), and what
/// signaal cannot protect against.
pub fn privacy_page(
    lang: Lang,
    public_url: &str,
    mix_interval_secs: u64,
    backups_per_day: u32,
) -> Markup {
    let backups = if backups_per_day == 1 {
        lang.t("backups.one").to_owned()
    } else {
        lang.t("backups.many")
            .replace("{n}", &backups_per_day.to_string())
    };
    let sections = [
        "stored", "never", "moment", "order", "cannot", "advice", "cookies", "rights",
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
                    (prose(&lang.t(&format!("privacy.{key}.body"))
                        .replace("{every}", &interval(lang, "every", mix_interval_secs))
                        .replace("{span}", &interval(lang, "span", mix_interval_secs))
                        .replace("{backups}", &backups)))
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

/// A length of time in words: "every hour", "30 minutes" (`form` is
/// `every` or `span`), in whole hours or minutes where it is one.
fn interval(lang: Lang, form: &str, secs: u64) -> String {
    let (n, unit) = match secs {
        s if s % 3600 == 0 => (s / 3600, "hour"),
        s if s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    let key = if n == 1 {
        format!("interval.{form}.{unit}")
    } else {
        format!("interval.{form}.{unit}s")
    };
    lang.t(&key).replace("{n}", &n.to_string())
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
