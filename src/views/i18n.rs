//! Languages and the texts of `templates/`, embedded at build time.
//!
//! Both languages must hold the same keys; [`check`] runs at start and stops
//! signaal if one is missing, so a visitor never sees a key instead of a text.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::http::HeaderMap;

/// A language a page speaks, on either face.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Dutch, the default.
    Nl,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 code, for `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    /// The other language (for the language link).
    pub fn other(self) -> Lang {
        match self {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        }
    }

    /// Reads `lang=` from a query string, then `Accept-Language`; Dutch otherwise.
    pub fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(lang) = query.and_then(from_query) {
            return lang;
        }
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(from_accept_language)
            .unwrap_or(Lang::Nl)
    }

    /// Parses a `lang` value.
    pub fn parse(value: &str) -> Option<Lang> {
        match value.trim().to_ascii_lowercase().as_str() {
            "nl" => Some(Lang::Nl),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The text under `key`, if there is one (for values that may or may not
    /// have a text, such as an audit action written by a newer signaal).
    pub fn get(self, key: &str) -> Option<&'static str> {
        let texts = match self {
            Lang::Nl => &NL,
            Lang::En => &EN,
        };
        texts.get(key).map(String::as_str)
    }

    /// The text under `key`; empty if it is missing (prevented by [`check`]).
    pub fn t(self, key: &str) -> &'static str {
        match self.get(key) {
            Some(text) => text,
            None => {
                tracing::error!(key, "missing text");
                #[cfg(test)]
                MISSING.with(|m| m.borrow_mut().push(key.to_owned()));
                ""
            }
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Keys asked for but missing, so tests that render pages can catch them.
    pub(crate) static MISSING: std::cell::RefCell<Vec<String>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

fn from_query(query: &str) -> Option<Lang> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
}

/// The first of nl/en in the visitor's preference order.
fn from_accept_language(value: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for part in value.split(',') {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or_default().trim();
        let q = pieces
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or_default();
        if let Some(lang) = Lang::parse(primary) {
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
    }
    best.filter(|(q, _)| *q > 0.0).map(|(_, l)| l)
}

type Texts = BTreeMap<String, String>;

fn load(source: &str) -> Texts {
    toml::from_str(source).unwrap_or_default()
}

static NL: LazyLock<Texts> = LazyLock::new(|| load(include_str!("../../templates/nl.toml")));
static EN: LazyLock<Texts> = LazyLock::new(|| load(include_str!("../../templates/en.toml")));

/// Checks that both languages parse and hold the same keys.
pub fn check() -> Result<(), String> {
    for (name, source) in [
        ("templates/nl.toml", include_str!("../../templates/nl.toml")),
        ("templates/en.toml", include_str!("../../templates/en.toml")),
    ] {
        toml::from_str::<Texts>(source)
            .map_err(|e| format!("{name} is not valid: {}", e.message()))?;
    }
    let missing_en: Vec<&str> = NL
        .keys()
        .filter(|k| !EN.contains_key(*k))
        .map(String::as_str)
        .collect();
    let missing_nl: Vec<&str> = EN
        .keys()
        .filter(|k| !NL.contains_key(*k))
        .map(String::as_str)
        .collect();
    if !missing_en.is_empty() || !missing_nl.is_empty() {
        return Err(format!(
            "texts missing in templates/en.toml: [{}]; in templates/nl.toml: [{}]",
            missing_en.join(", "),
            missing_nl.join(", ")
        ));
    }
    Ok(())
}

/// Checks that every text the form's questions are shown with exists in both
/// languages (a hint may be left empty).
pub fn check_questions() -> Result<(), String> {
    for q in crate::signal::questions::all() {
        for key in q.text_keys() {
            for lang in [Lang::Nl, Lang::En] {
                if lang.t(&key).is_empty() && !key.ends_with(".hint") {
                    return Err(format!(
                        "the text {key} is missing in templates/{}.toml",
                        lang.code()
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_are_complete() {
        assert_eq!(check(), Ok(()));
    }

    #[test]
    fn the_link_wins_over_the_browser() {
        let mut h = HeaderMap::new();
        h.insert(
            "accept-language",
            "en-GB,en;q=0.9".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(Lang::negotiate(None, &h), Lang::En);
        assert_eq!(Lang::negotiate(Some("lang=nl"), &h), Lang::Nl);
        assert_eq!(Lang::negotiate(Some("x=1"), &HeaderMap::new()), Lang::Nl);
        h.insert(
            "accept-language",
            "de, nl;q=0.5, en;q=0.4"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(Lang::negotiate(None, &h), Lang::Nl);
    }
}
