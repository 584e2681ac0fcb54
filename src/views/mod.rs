//! maud layouts and components shared by the pages of both faces.
//!
//! Invariant: user data is only ever rendered through maud's escaping; no user
//! data goes into `<script>`, `<style>` or URL attributes.

mod embed;
mod follow_up;
mod form;
pub mod i18n;
mod pages;

pub use embed::{embed_page, snippets};
pub use follow_up::{
    MESSAGE_FIELD, MessageProblem, RECEIPT_FIELD, ThreadMessage, ThreadView,
    start_page as follow_up_page, status_key, thread_page,
};
pub use form::{CONFIRM_FIELD, FormView, form_page};
pub use i18n::Lang;
pub use pages::{accessibility_page, privacy_page};

use maud::{DOCTYPE, Markup, html};

/// The stylesheet, embedded at build time.
pub const STYLESHEET: &str = include_str!("../../templates/style.css");

/// A link to `path` in `lang`. The language is always in the link, so a choice
/// made by link holds even when the browser asks for the other language (and
/// no cookie is needed to remember it).
pub fn href(path: &str, lang: Lang) -> String {
    format!("{path}?lang={}", lang.code())
}

/// The field a language switch sends with a form: show the page again in this
/// language, with what was typed, and act on nothing.
pub const SHOW_LANG_FIELD: &str = "show_lang";

/// How the header offers the other language.
#[derive(Debug, Clone, Copy)]
pub enum LangSwitch {
    /// A link: the page holds nothing that would be lost.
    Link,
    /// A button that sends the form `form` again to `action` (with
    /// [`SHOW_LANG_FIELD`], and `?lang=` in the address as a link would have),
    /// so what was typed, or the code the page holds, comes back in the other
    /// language instead of being lost to a link.
    Resend {
        form: &'static str,
        action: &'static str,
    },
}

/// The page frame of the intake: language, skip link, header, footer.
pub fn intake_layout(lang: Lang, title: &str, self_path: &str, body: Markup) -> Markup {
    intake_page(lang, title, self_path, LangSwitch::Link, body)
}

/// [`intake_layout`] with a chosen [`LangSwitch`].
pub fn intake_page(
    lang: Lang,
    title: &str,
    self_path: &str,
    switch: LangSwitch,
    body: Markup,
) -> Markup {
    // The accessibility statement has a path of its own in each language.
    let other_path = if self_path == accessibility_path(lang) {
        accessibility_path(lang.other())
    } else {
        self_path
    };
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " — " (lang.t("site.name")) }
                link rel="stylesheet" href="/style.css";
            }
            body {
                a.skip href="#main" { (lang.t("skip")) }
                header.site {
                    div.wrap {
                        a.brand href=(href("/", lang)) { (lang.t("site.name")) }
                        @match switch {
                            LangSwitch::Link => a.lang href=(href(other_path, lang.other())) lang=(lang.other().code()) hreflang=(lang.other().code()) {
                                (lang.t("nav.other_lang"))
                            },
                            LangSwitch::Resend { form, action } => button.lang type="submit" form=(form) formnovalidate
                                formaction=(href(action, lang.other()))
                                name=(SHOW_LANG_FIELD) value=(lang.other().code()) lang=(lang.other().code()) {
                                (lang.t("nav.other_lang"))
                            },
                        }
                    }
                }
                main #main.wrap tabindex="-1" { (body) }
                footer.site {
                    nav.wrap aria-label=(lang.t("site.name")) {
                        ul {
                            li { a href=(href("/", lang)) { (lang.t("nav.form")) } }
                            li { a href=(href("/follow-up", lang)) { (lang.t("nav.followup")) } }
                            li { a href=(href("/privacy", lang)) { (lang.t("nav.privacy")) } }
                            li { a href=(href("/embed", lang)) { (lang.t("nav.embed")) } }
                            li { a href=(href(accessibility_path(lang), lang)) { (lang.t("nav.accessibility")) } }
                        }
                    }
                }
            }
        }
    }
}

/// The accessibility statement's path in each language.
pub fn accessibility_path(lang: Lang) -> &'static str {
    match lang {
        Lang::Nl => "/toegankelijkheid",
        Lang::En => "/accessibility",
    }
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

/// A page that explains a refusal or a fault, with a way back.
pub fn message_page(lang: Lang, title: &str, body: &str) -> Markup {
    intake_layout(
        lang,
        title,
        "/",
        html! {
            h1 { (title) }
            p { (body) }
            p { a href=(href("/", lang)) { (lang.t("page.back")) } }
        },
    )
}

/// The receipt page: shown only after the signal is durably stored. The code
/// stands alone in its element so it can be selected and copied in one go.
pub fn receipt_page(lang: Lang, grouped_code: &str) -> Markup {
    intake_page(
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
            div.code-box {
                p.code-label #code-label { (lang.t("receipt.code_label")) }
                p.receipt data-receipt=(grouped_code) aria-labelledby="code-label" { (grouped_code) }
                p.hint { (lang.t("receipt.code_hint")) }
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
    fn every_page_finds_every_text_it_needs_in_both_languages() {
        use crate::signal::answers::{FieldError, decode};
        use crate::signal::guard::{Finding, Kind};
        let answers = decode(b"situation=x&organisation=y")
            .unwrap_or_default()
            .answers;
        let errors = [
            ("situation", FieldError::Required),
            ("rule", FieldError::TooLong(5)),
            ("domain", FieldError::BadChoice),
        ];
        let kinds = [
            Kind::Bsn,
            Kind::Iban,
            Kind::Email,
            Kind::Phone,
            Kind::Address,
            Kind::BirthDate,
        ];
        let findings: Vec<Finding> = kinds
            .iter()
            .map(|&kind| Finding {
                field: "solution",
                kind,
            })
            .collect();
        for lang in [Lang::Nl, Lang::En] {
            let views = [
                FormView {
                    work_network: Some("https://x.example/"),
                    ..FormView::default()
                },
                FormView {
                    answers: Some(&answers),
                    errors: &errors,
                    ..FormView::default()
                },
                FormView {
                    answers: Some(&answers),
                    findings: &findings,
                    ..FormView::default()
                },
                FormView {
                    problem: Some(("t", "b".into())),
                    ..FormView::default()
                },
            ];
            for view in &views {
                let _ = form_page(lang, view);
            }
            let _ = receipt_page(lang, "AAAA-BBBB");
            let _ = privacy_page(lang, "https://x.example/");
            let _ = accessibility_page(lang);
            let _ = embed_page(lang, "https://x.example/");
            let _ = message_page(lang, "t", "b");
        }
        let missing = i18n::MISSING.with(|m| m.borrow().clone());
        assert!(missing.is_empty(), "missing texts: {missing:?}");
    }

    #[test]
    fn every_link_carries_its_language() {
        assert_eq!(href("/privacy", Lang::Nl), "/privacy?lang=nl");
        assert_eq!(href("/", Lang::En), "/?lang=en");
    }
}
