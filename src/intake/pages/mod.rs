//! The intake's pages: the frame every page of the public face shares, the
//! form, the receipt, the follow-up pages, the embed kit, the published
//! results, and the privacy page and accessibility statement. Handlers
//! render them; nothing here reads a request or the store.
//!
//! Invariant: user data is only ever rendered through maud's escaping; no user
//! data goes into `<script>`, `<style>` or URL attributes.

mod embed;
mod follow_up;
mod form;
mod info;
mod receipt;
mod results;
mod withdraw;

pub use embed::embed_page;
pub use follow_up::{
    MESSAGE_FIELD, MessageProblem, RECEIPT_FIELD, ThreadMessage, ThreadView, message_held_page,
    start_page as follow_up_page, status_key, thread_page,
};
pub use form::{CONFIRM_FIELD, FORM_TOKEN_FIELD, FormView, blank_form_page, form_page};
pub use info::{PrivacyView, accessibility_page, privacy_page};
pub use receipt::{receipt_again_page, receipt_page};
pub use results::{ResultsView, page_count, results_page, results_path};
pub use withdraw::{WITHDRAW_FIELD, withdraw_page, withdrawn_page};

use std::sync::{Arc, RwLock};

use maud::{DOCTYPE, Markup, html};

use crate::config::Organisation;
use crate::views::{Lang, href};

/// Who runs this installation, as every page's header and footer show it.
/// Set once when the intake's router is made (error pages are rendered
/// where no settings reach, so the frame reads it from here).
static SITE: RwLock<Option<Arc<Organisation>>> = RwLock::new(None);

/// Sets who runs this installation, for every page rendered from now on.
pub fn set_organisation(organisation: &Organisation) {
    if let Ok(mut site) = SITE.write() {
        *site = Some(Arc::new(organisation.clone()));
    }
}

/// Who runs this installation (the defaults until [`set_organisation`]).
pub fn organisation() -> Arc<Organisation> {
    SITE.read()
        .ok()
        .and_then(|s| s.clone())
        .unwrap_or_else(|| Arc::new(Organisation::default()))
}

/// A contact (web page or e-mail address) as a link, or as text when it is
/// neither; a fixed text when it was not set. Operator settings, escaped.
pub fn contact(lang: Lang, value: &str) -> Markup {
    match Organisation::href(value) {
        Some(target) => html! { a href=(target) rel="noreferrer" { (value.trim()) } },
        None if value.trim().is_empty() => html! { em { (lang.t("org.not_set")) } },
        None => html! { (value) },
    }
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

/// Whether this process serves with demo keys: then every page of the intake
/// says so, above everything else. Set once, when the intake's router is built.
static DEMO: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Shows (or not) the DEMO notice on every intake page from now on.
pub fn show_demo_notice(demo: bool) {
    DEMO.store(demo, std::sync::atomic::Ordering::Relaxed);
}

/// Whether the DEMO notice is shown.
pub fn demo_notice_shown() -> bool {
    DEMO.load(std::sync::atomic::Ordering::Relaxed)
}

/// The page frame of the intake: language, skip link, DEMO notice, header, footer.
pub fn layout(lang: Lang, title: &str, self_path: &str, body: Markup) -> Markup {
    layout_with(lang, title, self_path, LangSwitch::Link, body)
}

/// [`layout`] with a chosen [`LangSwitch`].
pub fn layout_with(
    lang: Lang,
    title: &str,
    self_path: &str,
    switch: LangSwitch,
    body: Markup,
) -> Markup {
    // The body may hold what was decrypted for this page (a thread): once it
    // is in the page, its own buffer is wiped (the page's is, when sent).
    let body = zeroize::Zeroizing::new(body.into_string());
    // The accessibility statement and the results have a path of their own
    // in each language.
    let other_path = if self_path == accessibility_path(lang) {
        accessibility_path(lang.other())
    } else if self_path == results_path(lang) {
        results_path(lang.other())
    } else {
        self_path
    };
    let org = organisation();
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
                @if DEMO.load(std::sync::atomic::Ordering::Relaxed) {
                    p.demo-banner role="alert" data-demo {
                        strong { "DEMO" } " — " (lang.t("demo.notice"))
                    }
                }
                header.site {
                    div.wrap {
                        div.brand-block {
                            a.brand href=(href("/", lang)) { (lang.t("site.name")) }
                            span.org { (org.name) }
                        }
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
                main #main.wrap tabindex="-1" { (maud::PreEscaped(body.as_str())) }
                footer.site {
                    div.wrap.run-by {
                        p { (lang.t("org.run_by")) " " strong { (org.name) } ", " (org.team) "." }
                        p { (lang.t("org.contact")) " " (contact(lang, &org.contact)) }
                    }
                    nav.wrap aria-label=(lang.t("site.name")) {
                        ul {
                            li { a href=(href("/", lang)) { (lang.t("nav.form")) } }
                            li { a href=(href("/follow-up", lang)) { (lang.t("nav.followup")) } }
                            li { a href=(href(results_path(lang), lang)) { (lang.t("results.nav")) } }
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

/// A page that explains a refusal or a fault, with a way back.
pub fn message_page(lang: Lang, title: &str, body: &str) -> Markup {
    message_page_to(lang, title, body, "/", lang.t("page.back"))
}

/// [`message_page`] whose way back leads to `back` (with its link text).
pub fn message_page_to(lang: Lang, title: &str, body: &str, back: &str, back_text: &str) -> Markup {
    layout(
        lang,
        title,
        back,
        html! {
            h1 { (title) }
            p { (body) }
            p { a href=(href(back, lang)) { (back_text) } }
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::views::i18n;

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
            let _ = receipt_page(lang, "AAAA-BBBB", "https://x.example/");
            let _ = privacy_page(
                lang,
                &PrivacyView {
                    public_url: "https://x.example/",
                    mix_interval_secs: 3600,
                    backups_per_day: 1,
                    backup_keep_days: 15,
                    retention: &crate::config::Retention::default(),
                },
            );
            let _ = accessibility_page(lang, "https://x.example/");
            let _ = withdraw_page(lang, "AAAA-BBBB", "2026-12-01", 2);
            let _ = withdrawn_page(lang, "2026-12-01", 2);
            let _ = message_held_page(lang, "AAAA", "tekst", 90);
            let _ = embed_page(lang, "https://x.example/");
            let _ = message_page(lang, "t", "b");
        }
        let missing = i18n::MISSING.with(|m| m.borrow().clone());
        assert!(missing.is_empty(), "missing texts: {missing:?}");
    }
}
