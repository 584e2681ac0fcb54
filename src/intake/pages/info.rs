//! The privacy page and the accessibility statement: plain pages whose whole
//! text lives in `templates/`.
//!
//! Invariant: these pages show no visitor data at all; only settings
//! (`public_url`) and the embedded texts, escaped.

use maud::{Markup, html};

use super::layout;
use crate::config::Retention;
use crate::views::{Lang, fill, href, prose};

/// What the privacy page says about this installation.
#[derive(Debug)]
pub struct PrivacyView<'a> {
    /// The form's address.
    pub public_url: &'a str,
    /// Seconds between two mixes.
    pub mix_interval_secs: u64,
    /// Backups a day.
    pub backups_per_day: u32,
    /// Days a sealed backup is kept.
    pub backup_keep_days: u32,
    /// The running retention periods.
    pub retention: &'a Retention,
}

/// `/privacy`: who is responsible and on what grounds (the items of article
/// 13 of the AVG/GDPR, with this installation's organisation and retention
/// periods), what is stored, what never is, what the server sees for a
/// moment, how the order of arrival is hidden and what an examiner could
/// still learn (with the mix interval of this installation), and what
/// signaal cannot protect against.
pub fn privacy_page(lang: Lang, v: &PrivacyView<'_>) -> Markup {
    let backups = if v.backups_per_day == 1 {
        lang.t("backups.one").to_owned()
    } else {
        lang.t("backups.many")
            .replace("{n}", &v.backups_per_day.to_string())
    };
    let sections = [
        "stored", "never", "moment", "order", "cannot", "advice", "cookies",
    ];
    let org = super::organisation();
    layout(
        lang,
        lang.t("privacy.title"),
        "/privacy",
        html! {
            h1 { (lang.t("privacy.title")) }
            p.lead { (lang.t("privacy.intro")) }
            section aria-labelledby="privacy-who" {
                h2 #privacy-who { (lang.t("privacy.who.title")) }
                dl.facts {
                    dt { (lang.t("privacy.who.controller")) }
                    dd data-controller { (text_or_unset(lang, &org.controller)) }
                    dt { (lang.t("privacy.who.organisation")) }
                    dd data-organisation { (org.name) " — " (org.team) }
                    dt { (lang.t("privacy.who.contact")) }
                    dd { (super::contact(lang, &org.contact)) }
                    dt { (lang.t("privacy.who.dpo")) }
                    dd data-dpo { (super::contact(lang, &org.dpo)) }
                }
            }
            @for key in ["purpose", "basis", "recipients"] {
                section aria-labelledby={ "privacy-" (key) } {
                    h2 id={ "privacy-" (key) } { (lang.t(&format!("privacy.{key}.title"))) }
                    (prose(&fill(lang.t(&format!("privacy.{key}.body")), &[("team", &org.team), ("organisation", &org.name)])))
                }
            }
            section aria-labelledby="privacy-retention" {
                h2 #privacy-retention { (lang.t("privacy.retention.title")) }
                p { (lang.t("privacy.retention.intro")) }
                ul data-retention {
                    @for (status, days) in retention_rows(v.retention) {
                        li data-status=(status) {
                            strong { (lang.t(&format!("privacy.retention.status.{status}"))) } ": "
                            (kept(lang, status, days))
                        }
                    }
                }
                p data-backup-keep-days=(v.backup_keep_days) {
                    (lang.t("privacy.retention.backups").replace("{days}", &days(lang, v.backup_keep_days)))
                }
                (prose(lang.t("privacy.retention.after")))
            }
            @for key in sections {
                section aria-labelledby={ "privacy-" (key) } {
                    h2 id={ "privacy-" (key) } { (lang.t(&format!("privacy.{key}.title"))) }
                    (prose(&lang.t(&format!("privacy.{key}.body"))
                        .replace("{every}", &interval(lang, "every", v.mix_interval_secs))
                        .replace("{span}", &interval(lang, "span", v.mix_interval_secs))
                        .replace("{backups}", &backups)))
                    @if key == "advice" {
                        div.qr-row {
                            img.qr src="/embed/qr.png" width="160" height="160" alt=(lang.t("qr.alt"));
                            p { (lang.t("network.scan")) br; span.url { (v.public_url) } }
                        }
                    }
                }
            }
            section aria-labelledby="privacy-rights" {
                h2 #privacy-rights { (lang.t("privacy.rights.title")) }
                (prose(lang.t("privacy.rights.body")))
                p { (lang.t("privacy.complaint")) " "
                    a href=(lang.t("link.ap.url")) rel="noreferrer" { (lang.t("link.ap.text")) } "." }
            }
            section aria-labelledby="privacy-whistleblowing" {
                h2 #privacy-whistleblowing { (lang.t("privacy.whistleblowing.title")) }
                p { (lang.t("form.who.not_whistleblowing")) " "
                    a href=(lang.t("link.whistleblowing.url")) rel="noreferrer" { (lang.t("link.whistleblowing.text")) } "." }
            }
            p { a href=(href("/", lang)) { (lang.t("page.back")) } }
        },
    )
}

/// Every status with its retention in days (0: no fixed period).
fn retention_rows(r: &Retention) -> [(&'static str, u32); 5] {
    [
        ("new", r.new_days),
        ("in_progress", r.in_progress_days),
        ("forwarded", r.forwarded_days),
        ("closed", r.closed_days),
        ("not_admissible", r.not_admissible_days),
    ]
}

/// How long a signal of `status` is kept, in words. 0 keeps it for ever
/// (no purge deletes it): an open signal until its outcome's period applies,
/// a finished one until its sender withdraws it.
fn kept(lang: Lang, status: &str, n: u32) -> String {
    let open = matches!(status, "new" | "in_progress");
    let key = match (n, open) {
        (0, true) => "privacy.retention.open_no_limit",
        (0, false) => "privacy.retention.final_no_limit",
        (_, true) => "privacy.retention.after_arrival",
        (_, false) => "privacy.retention.after_finished",
    };
    lang.t(key).replace("{days}", &days(lang, n))
}

/// A number of days in words: "1 dag", "30 days".
fn days(lang: Lang, n: u32) -> String {
    if n == 1 {
        lang.t("days.one").to_owned()
    } else {
        lang.t("days.many").replace("{n}", &n.to_string())
    }
}

/// An operator's setting, or "not given" when it is empty.
fn text_or_unset(lang: Lang, value: &str) -> Markup {
    if value.trim().is_empty() {
        html! { em { (lang.t("org.not_set")) } }
    } else {
        html! { (value) }
    }
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
/// the model form of the Dutch government: status, date, the site it is
/// about, how it was checked, known issues, contact and the enforcement route.
pub fn accessibility_page(lang: Lang, public_url: &str) -> Markup {
    let org = super::organisation();
    let date = lang.t("a11y.date");
    layout(
        lang,
        lang.t("a11y.title"),
        super::accessibility_path(lang),
        html! {
            h1 { (lang.t("a11y.title")) }
            p.lead { (fill(lang.t("a11y.intro"), &[("organisation", &org.name)])) }
            dl.facts {
                dt { (lang.t("a11y.site")) }
                dd { span.url { (public_url) } }
                dt { (lang.t("a11y.status.label")) }
                dd data-a11y-status { strong { (lang.t("a11y.status.value")) } }
                dt { (lang.t("a11y.date.label")) }
                dd { (crate::views::day(lang, date)) }
            }
            @for key in ["status", "standard", "checked", "limits"] {
                section aria-labelledby={ "a11y-" (key) } {
                    h2 id={ "a11y-" (key) } { (lang.t(&format!("a11y.{key}.title"))) }
                    (prose(lang.t(&format!("a11y.{key}.body"))))
                }
            }
            section aria-labelledby="a11y-contact" {
                h2 #a11y-contact { (lang.t("a11y.contact.title")) }
                (prose(lang.t("a11y.contact.body")))
                p { (lang.t("org.contact")) " " (super::contact(lang, &org.contact)) }
            }
            section aria-labelledby="a11y-enforcement" {
                h2 #a11y-enforcement { (lang.t("a11y.enforcement.title")) }
                p { (lang.t("a11y.enforcement.body")) " "
                    a href=(lang.t("link.ombudsman.url")) rel="noreferrer" { (lang.t("link.ombudsman.text")) } "." }
            }
        },
    )
}
