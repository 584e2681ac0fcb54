//! The signal form, with the GOV.UK / NL Design System error pattern: a summary
//! at the top linking to each field, each error beside its field, everything
//! typed kept. The personal-data notice follows the same pattern.
//!
//! Invariant: what the sender typed is shown back only through maud's escaping,
//! and only in the page that answers their own request. No JavaScript: focus
//! goes to a summary through `autofocus` on an element with `tabindex="-1"`.

use maud::{Markup, html};

use super::{LangSwitch, layout_with};
use crate::signal::answers::{Answers, FieldError};
use crate::signal::guard::Finding;
use crate::signal::questions::{self, Kind, Question};
use crate::views::{Lang, fill, href};

/// The checkbox that lets a held-back signal through.
pub const CONFIRM_FIELD: &str = "confirm_personal_data";
/// The form's one-time token (see `intake::once`).
pub const FORM_TOKEN_FIELD: &str = "form_token";

/// What the form shows: what was typed, what is wrong with it, and notices.
#[derive(Debug, Default)]
pub struct FormView<'a> {
    /// Answers to show again.
    pub answers: Option<&'a Answers>,
    /// Problems by field.
    pub errors: &'a [(&'static str, FieldError)],
    /// Personal data the guard found, by field and kind (never the value).
    pub findings: &'a [Finding],
    /// `Some(public_url)` when the visitor seems to be on a work network.
    pub work_network: Option<&'a str>,
    /// A refusal or fault to explain above the kept form: (title, text).
    pub problem: Option<(&'a str, String)>,
    /// The form's one-time token.
    pub token: &'a str,
}

fn error_text(lang: Lang, error: FieldError) -> String {
    match error {
        FieldError::Required => lang.t("error.required").to_owned(),
        FieldError::TooLong(max) => lang.t("error.too_long").replace("{max}", &max.to_string()),
        FieldError::BadChoice => lang.t("error.bad_choice").to_owned(),
    }
}

/// The whole form page.
pub fn form_page(lang: Lang, view: &FormView<'_>) -> Markup {
    let title = if let Some((problem, _)) = &view.problem {
        format!("{problem}: {}", lang.t("form.title"))
    } else if !view.errors.is_empty() {
        format!("{}: {}", lang.t("error.summary"), lang.t("form.title"))
    } else if !view.findings.is_empty() {
        format!("{}: {}", lang.t("guard.title"), lang.t("form.title"))
    } else {
        lang.t("form.title").to_owned()
    };
    let value = |name: &str| view.answers.map_or("", |a| a.get(name));
    let error_of = |name: &str| {
        view.errors
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, e)| *e)
    };
    let all = questions::all();
    let (required, optional): (Vec<&Question>, Vec<&Question>) =
        all.iter().partition(|q| q.required);
    let warning_of = |name: &str| {
        let kinds: Vec<&str> = view
            .findings
            .iter()
            .filter(|f| f.field == name)
            .map(|f| lang.t(&format!("guard.kind.{}", f.kind.key())))
            .collect();
        (!kinds.is_empty()).then(|| format!("{} {}", lang.t("guard.field_note"), kinds.join(", ")))
    };
    let open_more = optional.iter().any(|q| {
        !value(&q.name).is_empty() || error_of(&q.name).is_some() || warning_of(&q.name).is_some()
    });
    // Switching language sends what was typed along, on the first visit too.
    let switch = LangSwitch::Resend {
        form: "signal-form",
        action: "/signal",
    };
    let org = super::organisation();
    layout_with(
        lang,
        &title,
        "/",
        switch,
        html! {
            @if let Some((problem, text)) = &view.problem {
                div.error-summary #error-summary role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus {
                    h2 #error-summary-title { (problem) }
                    p { (text) }
                }
            } @else if !view.errors.is_empty() {
                div.error-summary #error-summary role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus {
                    h2 #error-summary-title { (lang.t("error.summary")) }
                    ul {
                        @for (name, error) in view.errors {
                            li { a href={ "#" (name) } { (error_text(lang, *error)) } }
                        }
                    }
                }
            } @else if !view.findings.is_empty() {
                (guard_notice(lang, view.findings))
            }
            h1 { (lang.t("form.title")) }
            p.lead { (lang.t("form.intro")) }
            (acute(lang))
            aside.who aria-labelledby="who-title" {
                h2 #who-title { (lang.t("form.who.title")) }
                p { (fill(lang.t("form.who.body"), &[("team", &org.team), ("organisation", &org.name)])) }
                p { (lang.t("form.who.not_whistleblowing")) " "
                    a href=(lang.t("link.whistleblowing.url")) rel="noreferrer" { (lang.t("link.whistleblowing.text")) } "." }
                p { a href=(href("/privacy", lang)) { (lang.t("form.who.more")) } }
            }
            @if let Some(url) = view.work_network {
                (work_network_notice(lang, url))
            }
            form #signal-form method="post" action=(href("/signal", lang)) accept-charset="utf-8" novalidate {
                input type="hidden" name="lang" value=(lang.code());
                // A hidden text box rather than a hidden input: a browser
                // that restores the form (back, a restored tab) restores the
                // box with the text it had, so the form sent again carries
                // its first token and is recognised, not stored twice.
                @if !view.token.is_empty() {
                    textarea name=(FORM_TOKEN_FIELD) hidden aria-hidden="true" tabindex="-1" { (view.token) }
                }
                @for q in &required {
                    (field(lang, q, value(&q.name), error_of(&q.name), warning_of(&q.name)))
                }
                p.hint { (lang.t("form.required_note")) }
                details.more open[open_more] {
                    summary { (lang.t("form.more")) }
                    @for q in &optional {
                        (field(lang, q, value(&q.name), error_of(&q.name), warning_of(&q.name)))
                    }
                }
                @if !view.findings.is_empty() {
                    div.confirm #confirm {
                        div.choice {
                            input type="checkbox" id=(CONFIRM_FIELD) name=(CONFIRM_FIELD) value="yes";
                            label for=(CONFIRM_FIELD) { (lang.t("guard.confirm")) }
                        }
                    }
                }
                p.safe { (lang.t("form.safe")) " " a href=(href("/privacy", lang)) { (lang.t("form.privacy_link")) } }
                button.primary type="submit" { (lang.t("form.submit")) }
            }
        },
    )
}

/// The notice of the personal-data guard: what kind was found and where, and
/// the two ways on. Lists field labels and kinds, never the values.
fn guard_notice(lang: Lang, findings: &[Finding]) -> Markup {
    html! {
        div.guard-summary #guard-summary role="alert" aria-labelledby="guard-summary-title" tabindex="-1" autofocus {
            h2 #guard-summary-title { (lang.t("guard.title")) }
            p { (lang.t("guard.intro")) }
            ul {
                @for f in findings {
                    li {
                        a href={ "#" (f.field) } {
                            (lang.t(&format!("guard.kind.{}", f.kind.key())))
                            " — " (lang.t("guard.in")) " ‘" (lang.t(&format!("q.{}.label", f.field))) "’"
                        }
                    }
                }
            }
            p { (lang.t("guard.why")) }
            // The link leads to the checkbox itself, so following it puts the
            // focus there, ready for the space bar.
            p { (lang.t("guard.ways")) " " a href={ "#" (CONFIRM_FIELD) } { (lang.t("guard.confirm")) } }
        }
    }
}

/// The acute route, before anything is written: one citizen who needs help
/// now goes to the national route for multi-problem cases, not here.
fn acute(lang: Lang) -> Markup {
    html! {
        p.acute {
            (lang.t("form.acute")) " "
            a href=(lang.t("link.acute.url")) rel="noreferrer" { (lang.t("link.acute.text")) } "."
            " " (lang.t("form.acute_after"))
        }
    }
}

/// A calm notice for visitors who seem to be on a work network, with the QR
/// code to continue on a personal phone.
fn work_network_notice(lang: Lang, public_url: &str) -> Markup {
    html! {
        aside.notice.work-network aria-labelledby="work-network-title" {
            h2 #work-network-title { (lang.t("network.title")) }
            p { (lang.t("network.body")) }
            div.qr-row {
                img.qr src="/embed/qr.png" width="160" height="160" alt=(lang.t("qr.alt"));
                p { (lang.t("network.scan")) br; span.url { (public_url) } }
            }
            p { a href=(href("/privacy", lang)) { (lang.t("network.more")) } }
        }
    }
}

fn field(
    lang: Lang,
    q: &Question,
    value: &str,
    error: Option<FieldError>,
    warning: Option<String>,
) -> Markup {
    let label = lang.t(&format!("q.{}.label", q.name));
    let hint = lang.t(&format!("q.{}.hint", q.name));
    let hint_id = format!("{}-hint", q.name);
    let error_id = format!("{}-error", q.name);
    let warning_id = format!("{}-warning", q.name);
    let mut described = Vec::new();
    if !hint.is_empty() {
        described.push(hint_id.clone());
    }
    if error.is_some() {
        described.push(error_id.clone());
    }
    if warning.is_some() {
        described.push(warning_id.clone());
    }
    let described = (!described.is_empty()).then(|| described.join(" "));
    let class = if error.is_some() {
        "field has-error"
    } else if warning.is_some() {
        "field has-warning"
    } else {
        "field"
    };
    let error_line = error.map(|e| error_text(lang, e));
    match q.kind {
        Kind::Radio => html! {
            div class=(class) {
                fieldset aria-describedby=[described.as_deref()] {
                    legend { (label) }
                    @if !hint.is_empty() { p.hint #(hint_id) { (hint) } }
                    @if let Some(msg) = &error_line { p.error #(error_id) { span.visually-hidden { (lang.t("error.prefix")) " " } (msg) } }
                    @if let Some(msg) = &warning { p.warning #(warning_id) { (msg) } }
                    @for (i, option) in q.options.iter().enumerate() {
                        @let id = if i == 0 { q.name.clone() } else { format!("{}-{}", q.name, option) };
                        div.choice {
                            input type="radio" id=(id) name=(q.name) value=(option) checked[value == option];
                            label for=(id) { (lang.t(&format!("q.{}.{}", q.name, option))) }
                        }
                    }
                }
            }
        },
        _ => html! {
            div class=(class) {
                label for=(q.name) {
                    (label)
                    @if q.required { " " span.req aria-hidden="true" { "*" } }
                }
                @if !hint.is_empty() { p.hint #(hint_id) { (hint) } }
                @if let Some(msg) = &error_line { p.error #(error_id) { span.visually-hidden { (lang.t("error.prefix")) " " } (msg) } }
                @if let Some(msg) = &warning { p.warning #(warning_id) { (msg) } }
                @match q.kind {
                    Kind::Textarea => {
                        textarea id=(q.name) name=(q.name) rows=(if q.required { 8 } else { 4 })
                            required[q.required] aria-required=[q.required.then_some("true")]
                            aria-invalid=[error.map(|_| "true")]
                            aria-describedby=[described.as_deref()] { (value) }
                    }
                    Kind::Select => {
                        select id=(q.name) name=(q.name) aria-invalid=[error.map(|_| "true")]
                            aria-describedby=[described.as_deref()] {
                            option value="" { (lang.t("form.choose")) }
                            @for option in &q.options {
                                option value=(option) selected[value == option] {
                                    (lang.t(&format!("q.{}.{}", q.name, option)))
                                }
                            }
                        }
                    }
                    _ => {
                        input type="text" id=(q.name) name=(q.name) value=(value)
                            autocomplete="off" aria-invalid=[error.map(|_| "true")]
                            aria-describedby=[described.as_deref()];
                    }
                }
            }
        },
    }
}

/// The blank form, rendered once for each language, work-network notice,
/// organisation and DEMO notice, and kept as the text before and after its
/// token: each visit splices its own token in. It is the page served most.
struct Blank {
    lang: Lang,
    work_network: Option<String>,
    organisation: std::sync::Arc<crate::config::Organisation>,
    demo: bool,
    before: String,
    after: String,
}

/// The rendered blank forms; a handful (two languages, two notices), cleared
/// should the operator's settings ever make more.
static BLANKS: std::sync::RwLock<Vec<Blank>> = std::sync::RwLock::new(Vec::new());
const MAX_BLANKS: usize = 16;

/// The blank form page with `token`, as [`form_page`] renders it with only
/// `work_network` and `token` set. `token` is spliced in unescaped: it must
/// have the shape `intake::once` issues (lower-case letters and digits).
pub fn blank_form_page(lang: Lang, work_network: Option<&str>, token: &str) -> String {
    debug_assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()));
    let organisation = super::organisation();
    let demo = super::demo_notice_shown();
    let matches = |b: &Blank| {
        b.lang == lang
            && b.work_network.as_deref() == work_network
            && b.demo == demo
            && *b.organisation == *organisation
    };
    let splice = |b: &Blank| {
        let mut page = String::with_capacity(b.before.len() + token.len() + b.after.len());
        page.push_str(&b.before);
        page.push_str(token);
        page.push_str(&b.after);
        page
    };
    if let Ok(blanks) = BLANKS.read()
        && let Some(b) = blanks.iter().find(|b| matches(b))
    {
        return splice(b);
    }
    // A marker that escaping leaves alone and no text of the form contains.
    const MARK: &str = "0blankformtoken0";
    let page = form_page(
        lang,
        &FormView {
            work_network,
            token: MARK,
            ..FormView::default()
        },
    )
    .into_string();
    let Some((before, after)) = page.split_once(MARK) else {
        return form_page(
            lang,
            &FormView {
                work_network,
                token,
                ..FormView::default()
            },
        )
        .into_string();
    };
    let blank = Blank {
        lang,
        work_network: work_network.map(str::to_owned),
        organisation: organisation.clone(),
        demo,
        before: before.to_owned(),
        after: after.to_owned(),
    };
    let page = splice(&blank);
    if let Ok(mut blanks) = BLANKS.write() {
        if blanks.len() >= MAX_BLANKS {
            blanks.clear();
        }
        if !blanks.iter().any(matches) {
            blanks.push(blank);
        }
    }
    page
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_kept_blank_form_is_the_form_rendered_with_its_token() {
        for lang in [Lang::Nl, Lang::En] {
            for network in [None, Some("https://signaal.example.nl")] {
                for token in ["abcdefghijklmnopqrstuvwxyz", "234567abcdefghijklmnopqrst"] {
                    let fresh = form_page(
                        lang,
                        &FormView {
                            work_network: network,
                            token,
                            ..FormView::default()
                        },
                    )
                    .into_string();
                    assert_eq!(blank_form_page(lang, network, token), fresh);
                }
            }
        }
    }
}
