//! The embed kit for intranet editors: link snippets and the QR code.
//!
//! Invariant: every snippet is a plain `<a>` to `public_url` (plus `?lang=en`
//! for English) with `rel="noreferrer noopener"`: no script, no iframe, no
//! tracking parameter, nothing that tells us or a third party who clicked.

use maud::{Markup, html};

use super::layout;
use crate::views::{Lang, href, prose};

/// One copy-paste snippet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// Which one (`link` or `button`).
    pub style: &'static str,
    /// The language of the snippet's text and of the form it opens.
    pub lang: Lang,
    /// The HTML to paste.
    pub html: String,
}

/// The address of the form in `lang`.
pub fn form_url(public_url: &str, lang: Lang) -> String {
    match lang {
        Lang::Nl => public_url.to_owned(),
        Lang::En if public_url.contains('?') => format!("{public_url}&lang=en"),
        Lang::En => format!("{public_url}?lang=en"),
    }
}

/// Escapes text for an HTML attribute or element in a snippet.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The four snippets: a text link and a button-style link, Dutch and English.
pub fn snippets(public_url: &str) -> Vec<Snippet> {
    let mut out = Vec::new();
    for lang in [Lang::Nl, Lang::En] {
        let url = escape(&form_url(public_url, lang));
        let text = escape(lang.t("embed.link_text"));
        out.push(Snippet {
            style: "link",
            lang,
            html: format!(r#"<a href="{url}" rel="noreferrer noopener">{text}</a>"#),
        });
        out.push(Snippet {
            style: "button",
            lang,
            html: format!(
                r#"<a href="{url}" rel="noreferrer noopener" style="display:inline-block;padding:0.75em 1.25em;background:#154273;color:#ffffff;font-weight:bold;text-decoration:none;border-radius:4px">{text}</a>"#
            ),
        });
    }
    out
}

/// `/embed`: snippets to copy, the QR code to download, and guidance.
pub fn embed_page(lang: Lang, public_url: &str) -> Markup {
    let snippets = snippets(public_url);
    layout(
        lang,
        lang.t("embed.title"),
        "/embed",
        html! {
            h1 { (lang.t("embed.title")) }
            p.lead { (lang.t("embed.intro")) }
            @for style in ["link", "button"] {
                section aria-labelledby={ "embed-" (style) } {
                    h2 id={ "embed-" (style) } { (lang.t(&format!("embed.{style}.title"))) }
                    p { (lang.t(&format!("embed.{style}.body"))) }
                    @for s in snippets.iter().filter(|s| s.style == style) {
                        @let id = format!("snippet-{}-{}", s.style, s.lang.code());
                        div.field {
                            label for=(id) { (lang.t(&format!("embed.for_{}", s.lang.code()))) }
                            textarea.snippet id=(id) readonly rows=(if s.style == "button" { 6 } else { 3 }) spellcheck="false" { (s.html) }
                        }
                    }
                    p { (lang.t("embed.preview")) }
                    p.preview {
                        @if style == "button" {
                            a.button-link href=(form_url(public_url, lang)) rel="noreferrer noopener" { (lang.t("embed.link_text")) }
                        } @else {
                            a href=(form_url(public_url, lang)) rel="noreferrer noopener" { (lang.t("embed.link_text")) }
                        }
                    }
                }
            }
            section aria-labelledby="embed-qr" {
                h2 #embed-qr { (lang.t("embed.qr.title")) }
                p { (lang.t("embed.qr.body")) }
                div.qr-row {
                    img.qr src="/embed/qr.png" width="200" height="200" alt=(lang.t("qr.alt"));
                    ul {
                        li { a href="/embed/qr.svg" download="signaal-qr.svg" { (lang.t("embed.qr.svg")) } }
                        li { a href="/embed/qr.png" download="signaal-qr.png" { (lang.t("embed.qr.png")) } }
                        li { span.url { (public_url) } }
                    }
                }
            }
            section aria-labelledby="embed-guidance" {
                h2 #embed-guidance { (lang.t("embed.guidance.title")) }
                (prose(lang.t("embed.guidance.body")))
            }
            p { a href=(href("/", lang)) { (lang.t("page.back")) } }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_snippet_is_a_plain_link_without_script_frame_or_tracking() {
        let all = snippets("https://signaal.example.nl/?a=\"b\"");
        assert_eq!(all.len(), 4);
        for s in &all {
            assert!(
                s.html
                    .starts_with("<a href=\"https://signaal.example.nl/?a=&quot;b&quot;")
            );
            assert!(s.html.contains(r#"rel="noreferrer noopener""#));
            for bad in ["<script", "<iframe", "utm_", "onclick"] {
                assert!(!s.html.contains(bad), "{bad} in {}", s.html);
            }
        }
        assert!(all.iter().any(|s| s.html.contains("&amp;lang=en")));
    }
}
