//! What the pages of both faces share: the stylesheet, texts and language
//! ([`i18n`]), links that carry their language, and small components (longer
//! texts from `templates/`, filled-in texts, the form's wording of a choice).
//! Each face keeps its own pages with it (`intake/pages/`, `review/pages/`).
//!
//! Invariant: user data is only ever rendered through maud's escaping; no user
//! data goes into `<script>`, `<style>` or URL attributes. This module knows no
//! face, no store and no key.

pub mod export;
pub mod i18n;

pub use i18n::Lang;

use maud::{DOCTYPE, Markup, html};

/// The stylesheet, embedded at build time.
pub const STYLESHEET: &str = include_str!("../../templates/style.css");

/// A link to `path` in `lang`. The language is always in the link, so a choice
/// made by link holds even when the browser asks for the other language (and
/// no cookie is needed to remember it).
pub fn href(path: &str, lang: Lang) -> String {
    format!("{path}?lang={}", lang.code())
}

/// Renders a longer text from `templates/`: blank lines part paragraphs, and a
/// block whose lines all start with `- ` becomes a list. Everything is escaped.
pub fn prose(text: &str) -> Markup {
    html! {
        @for block in text.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
            @if block.lines().all(|l| l.trim_start().starts_with("- ")) {
                ul {
                    @for line in block.lines() {
                        li { (line.trim_start().trim_start_matches("- ")) }
                    }
                }
            } @else {
                p { (block) }
            }
        }
    }
}

/// A day (`YYYY-MM-DD`) written out as people write it ("1 december 2026",
/// "1 December 2026"); anything else is given back as it is.
pub fn day_text(lang: Lang, iso: &str) -> String {
    let mut parts = iso.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return iso.to_owned();
    };
    match (y.parse::<u32>(), m.parse::<u8>(), d.parse::<u8>()) {
        (Ok(y), Ok(m @ 1..=12), Ok(d @ 1..=31)) => {
            format!("{d} {} {y}", lang.t(&format!("month.{m}")))
        }
        _ => iso.to_owned(),
    }
}

/// [`day_text`] in a `<time>` element that keeps the date for machines.
pub fn day(lang: Lang, iso: &str) -> Markup {
    html! { time datetime=(iso) { (day_text(lang, iso)) } }
}

/// A waiting time in words, rounded up to whole minutes (or hours from an
/// hour on): "een minuut", "3 minuten", "2 uur"; "a minute", "3 minutes".
pub fn wait(lang: Lang, secs: u64) -> String {
    let minutes = secs.div_ceil(60).max(1);
    let (n, unit) = if minutes >= 60 {
        (minutes.div_ceil(60), "hour")
    } else {
        (minutes, "minute")
    };
    let key = if n == 1 {
        format!("interval.span.{unit}")
    } else {
        format!("interval.span.{unit}s")
    };
    lang.t(&key).replace("{n}", &n.to_string())
}

/// `text` with each `{name}` replaced by its value.
pub fn fill(text: &str, values: &[(&str, &dyn std::fmt::Display)]) -> String {
    values.iter().fold(text.to_owned(), |out, (name, value)| {
        out.replace(&format!("{{{name}}}"), &value.to_string())
    })
}

/// What the form calls option `value` of `question` (domain `benefits`:
/// "Toeslagen en uitkeringen"); `None` when the form has no such option, as
/// for a category a reviewer typed at triage, which is then shown as it is.
pub fn choice_label(lang: Lang, question: &str, value: &str) -> Option<&'static str> {
    crate::signal::questions::options(question)
        .iter()
        .any(|o| o == value)
        .then(|| lang.t(&format!("q.{question}.{value}")))
}

/// A page in Dutch and then English, for an answer given before anything of
/// the request could be read to choose its language (a request hyper could
/// not parse, a connection over the per-client bound): the texts under
/// `key` (`status.431`, …) and a link to the form.
pub fn both_languages_page(key: &str) -> Markup {
    let title = |lang: Lang| lang.t(&format!("{key}.title"));
    html! {
        (DOCTYPE)
        html lang="nl" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title(Lang::Nl)) " / " (title(Lang::En)) }
                link rel="stylesheet" href="/style.css";
            }
            body {
                main #main.wrap {
                    @for lang in [Lang::Nl, Lang::En] {
                        section lang=(lang.code()) {
                            h1 { (title(lang)) }
                            p { (lang.t(&format!("{key}.body"))) }
                            p { a href=(href("/", lang)) { (lang.t("page.home")) } }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn longer_texts_become_paragraphs_and_lists_and_stay_escaped() {
        let html = prose("Eerst <b>dit</b>.\n\n- een\n- twee\n\nTot slot.").into_string();
        assert_eq!(
            html,
            "<p>Eerst &lt;b&gt;dit&lt;/b&gt;.</p><ul><li>een</li><li>twee</li></ul><p>Tot slot.</p>"
        );
    }

    #[test]
    fn days_and_waits_are_written_as_people_write_them() {
        assert_eq!(day_text(Lang::Nl, "2026-12-01"), "1 december 2026");
        assert_eq!(day_text(Lang::En, "2026-12-01"), "1 December 2026");
        assert_eq!(
            day(Lang::Nl, "2026-03-09").into_string(),
            "<time datetime=\"2026-03-09\">9 maart 2026</time>"
        );
        assert_eq!(day_text(Lang::Nl, "gisteren"), "gisteren");
        assert_eq!(wait(Lang::Nl, 1), "een minuut");
        assert_eq!(wait(Lang::Nl, 60), "een minuut");
        assert_eq!(wait(Lang::Nl, 61), "2 minuten");
        assert_eq!(wait(Lang::En, 61), "2 minutes");
        assert_eq!(wait(Lang::En, 30), "a minute");
        assert_eq!(wait(Lang::Nl, 3600), "een uur");
        assert_eq!(wait(Lang::En, 5400), "2 hours");
    }

    #[test]
    fn every_link_carries_its_language() {
        assert_eq!(href("/privacy", Lang::Nl), "/privacy?lang=nl");
        assert_eq!(href("/", Lang::En), "/?lang=en");
    }
}
