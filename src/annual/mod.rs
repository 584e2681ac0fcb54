//! The annual report "Hardheden en oplossingen" ("Hardships and solutions"):
//! per hardship of a year its pattern, cause, number of signals, courses of
//! action and measures with their progress over the year, and a summary, as
//! print-ready HTML ([`html`]), Markdown or CSV ([`text`]), in Dutch or
//! English. `signaal report hardships` and the review face's
//! `GET /hardships/report` both make it here.
//!
//! Which year: a published hardship belongs to year Y when its (latest)
//! publication is dated on or before 31 December Y; with a reviewer's key, an
//! unpublished one (or one published only after Y) when it was created on or
//! before that day, marked internal. A measure belongs to it when it was added
//! by that day; its progress is the status it had at the year's end (while
//! Y lasts: today, the day the report says it stands on) and the statuses
//! set within Y. Signals count when linked by the year's end.
//!
//! Invariants: without an identity only what the team published is read;
//! with one, unpublished texts are opened into wiped buffers and every such
//! hardship is marked internal in every format. Every count goes through
//! [`crate::views::export::shown`] (never below 5), and nothing of a signal but its number is
//! read. The report is audited (through [`audit_entry`]) before it is made.

pub mod html;
pub mod text;

use age::x25519;
use zeroize::Zeroizing;

use crate::audit::{Action, Entry};
use crate::signal::sealed::open_fields;
use crate::store::annual::{YearHardship, YearMeasure};
use crate::store::hardships::{LEVERS, MEASURE_STATUSES};
use crate::store::{Store, StoreError};
use crate::views::Lang;

/// The formats the report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A standalone, print-ready HTML document.
    Html,
    /// Markdown.
    Md,
    /// CSV: one row per measure (and per hardship without one).
    Csv,
}

impl Format {
    /// The format named `s` (`html`, `md`, `csv`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "html" => Some(Self::Html),
            "md" => Some(Self::Md),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }

    /// Its name, as [`Format::parse`] reads it and file names end.
    pub fn code(self) -> &'static str {
        match self {
            Self::Html => "html",
            Self::Md => "md",
            Self::Csv => "csv",
        }
    }

    /// Its media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Html => "text/html; charset=utf-8",
            Self::Md => "text/markdown; charset=utf-8",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// The year `s`, if it is four digits from 2000 to 2999.
pub fn parse_year(s: &str) -> Option<i32> {
    let year = s
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|_| s.trim().len() == 4)?;
    (2000..=2999).contains(&year).then_some(year)
}

/// What report is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Asked {
    /// The year.
    pub year: i32,
    /// The format.
    pub format: Format,
    /// The language.
    pub lang: Lang,
    /// Whether unpublished hardships are in it (a reviewer's key opens them).
    pub internal: bool,
}

/// The audit row of a report written by `actor`.
pub fn audit_entry(actor: &str, asked: &Asked) -> Entry {
    Entry::general(
        actor,
        Action::HardshipReport,
        format!(
            "year {} format {} lang {} unpublished {}",
            asked.year,
            asked.format.code(),
            asked.lang.code(),
            if asked.internal { "yes" } else { "no" }
        ),
    )
}

/// A measure as the report shows it.
pub struct Measure {
    /// Its kind.
    pub kind: String,
    /// Its lever.
    pub lever: String,
    /// Its text.
    pub text: Zeroizing<String>,
    /// The responsible organisation.
    pub organisation: Zeroizing<String>,
    /// Where it comes from, or empty.
    pub source: Zeroizing<String>,
    /// Its target day, if one.
    pub target_on: Option<String>,
    /// Its status at the year's end.
    pub status: String,
    /// The (status, day) set within the year, oldest first.
    pub changes: Vec<(String, String)>,
}

/// A hardship as the report shows it.
pub struct Hardship {
    /// Whether it is not public (only in a reviewer's report).
    pub internal: bool,
    /// Its title.
    pub title: Zeroizing<String>,
    /// The pattern: what goes wrong, for whom.
    pub pattern: Zeroizing<String>,
    /// The cause, or empty.
    pub cause: Zeroizing<String>,
    /// Its domain, if chosen.
    pub domain: Option<String>,
    /// Its origin, if chosen.
    pub origin: Option<String>,
    /// How many signals are linked to it (shown through `views::export::shown`).
    pub signals: u64,
    /// The day it was made public, if it was.
    pub published_on: Option<String>,
    /// Its measures.
    pub measures: Vec<Measure>,
}

/// The report: the year and its hardships, public ones first, each group by title.
pub struct Report {
    /// What was asked.
    pub asked: Asked,
    /// The day the report stands on: the year's last day, or today while
    /// the year lasts.
    pub as_of: String,
    /// The hardships.
    pub hardships: Vec<Hardship>,
}

impl Report {
    /// Rows of the summary by domain: (domain, hardships, hardships per
    /// lever in [`LEVERS`]' order), in the form's order of domains, those
    /// without a domain last.
    pub fn by_domain(&self) -> Vec<(Option<String>, u64, Vec<u64>)> {
        let mut domains: Vec<Option<String>> = crate::signal::questions::options("domain")
            .iter()
            .map(|d| Some(d.clone()))
            .collect();
        for h in &self.hardships {
            if !domains.contains(&h.domain) {
                domains.push(h.domain.clone());
            }
        }
        domains.sort_by_key(Option::is_none);
        domains
            .into_iter()
            .filter_map(|d| {
                let of: Vec<&Hardship> = self.hardships.iter().filter(|h| h.domain == d).collect();
                let levers = LEVERS
                    .iter()
                    .map(|l| {
                        of.iter()
                            .filter(|h| h.measures.iter().any(|m| m.lever == *l))
                            .count() as u64
                    })
                    .collect();
                (!of.is_empty()).then_some((d, of.len() as u64, levers))
            })
            .collect()
    }

    /// Rows of the summary by status: (status, measures with it at the
    /// year's end, times it was set within the year).
    pub fn by_status(&self) -> Vec<(&'static str, u64, u64)> {
        let measures = || self.hardships.iter().flat_map(|h| &h.measures);
        MEASURE_STATUSES
            .iter()
            .map(|s| {
                let at_end = measures().filter(|m| m.status == *s).count() as u64;
                let set = measures()
                    .flat_map(|m| &m.changes)
                    .filter(|(c, _)| c == s)
                    .count() as u64;
                (*s, at_end, set)
            })
            .collect()
    }

    /// The totals: hardships, signals behind them, measures.
    pub fn totals(&self) -> (u64, u64, u64) {
        (
            self.hardships.len() as u64,
            self.hardships.iter().map(|h| h.signals).sum(),
            self.hardships.iter().map(|h| h.measures.len() as u64).sum(),
        )
    }
}

/// `YYYY-12-31` of `year`.
pub fn last_day(year: i32) -> String {
    format!("{year:04}-12-31")
}

/// Reads the year's hardships and makes the report as it stands today (a
/// year that has ended: on its last day), opening the unpublished ones with
/// `identity` when `asked.internal`. The caller has written [`audit_entry`]
/// first.
pub fn make(
    store: &Store,
    asked: Asked,
    identity: Option<&x25519::Identity>,
) -> Result<Zeroizing<String>, StoreError> {
    let identity = identity.filter(|_| asked.internal);
    let rows = store.hardships_of_year_blocking(last_day(asked.year), identity.is_some())?;
    let mut report = build(asked, rows, identity);
    let today = time::OffsetDateTime::now_utc().date().to_string();
    report.as_of = report.as_of.min(today);
    Ok(render(&report))
}

/// The report in its format and language.
pub fn render(report: &Report) -> Zeroizing<String> {
    match report.asked.format {
        Format::Html => html::document(report),
        Format::Md => text::markdown(report),
        Format::Csv => text::csv(report),
    }
}

/// The report of `rows`.
pub fn build(asked: Asked, rows: Vec<YearHardship>, identity: Option<&x25519::Identity>) -> Report {
    let first = format!("{:04}-01-01", asked.year);
    let unreadable = asked.lang.t("annual.unreadable");
    let mut hardships: Vec<Hardship> = rows
        .into_iter()
        .filter_map(|row| {
            let (title, pattern, cause, published_on) = match (&row.publication, identity) {
                (Some(p), _) => (
                    Zeroizing::new(p.title.clone()),
                    Zeroizing::new(p.summary.clone()),
                    Zeroizing::new(p.cause.clone()),
                    Some(p.published_on.clone()),
                ),
                (None, Some(identity)) => {
                    let texts = opened(row.envelope.as_deref(), identity);
                    let title = field(&texts, "title")
                        .unwrap_or_else(|| Zeroizing::new(unreadable.to_owned()));
                    (
                        title,
                        field(&texts, "description").unwrap_or_default(),
                        field(&texts, "cause").unwrap_or_default(),
                        None,
                    )
                }
                (None, None) => return None,
            };
            let measures = row
                .measures
                .into_iter()
                .filter_map(|m| measure(m, &first, identity, unreadable))
                .collect();
            Some(Hardship {
                internal: row.publication.is_none(),
                title,
                pattern,
                cause,
                domain: row.domain,
                origin: row.origin,
                signals: row.signals,
                published_on,
                measures,
            })
        })
        .collect();
    hardships.sort_by(|a, b| {
        (a.internal, a.title.to_lowercase()).cmp(&(b.internal, b.title.to_lowercase()))
    });
    Report {
        asked,
        as_of: last_day(asked.year),
        hardships,
    }
}

type Texts = Vec<(String, Zeroizing<String>)>;

fn opened(envelope: Option<&[u8]>, identity: &x25519::Identity) -> Texts {
    envelope
        .and_then(|e| open_fields(e, identity).ok())
        .unwrap_or_default()
}

fn field(texts: &Texts, name: &str) -> Option<Zeroizing<String>> {
    texts
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| Zeroizing::new(v.as_str().to_owned()))
}

/// A measure with its progress; `None` if it had no status by the year's end.
fn measure(
    m: YearMeasure,
    first: &str,
    identity: Option<&x25519::Identity>,
    unreadable: &str,
) -> Option<Measure> {
    let status = m.history.last()?.0.clone();
    let changes = m
        .history
        .iter()
        .filter(|(_, day)| day.as_str() >= first)
        .cloned()
        .collect();
    let (text, organisation, source) = match (m.public, identity) {
        (Some((t, o, s)), _) => (Zeroizing::new(t), Zeroizing::new(o), Zeroizing::new(s)),
        (None, Some(identity)) => {
            let texts = opened(m.envelope.as_deref(), identity);
            (
                field(&texts, "text").unwrap_or_else(|| Zeroizing::new(unreadable.to_owned())),
                field(&texts, "organisation").unwrap_or_default(),
                field(&texts, "source").unwrap_or_default(),
            )
        }
        (None, None) => return None,
    };
    Some(Measure {
        kind: m.kind,
        lever: m.lever,
        text,
        organisation,
        source,
        target_on: m.target_on,
        status,
        changes,
    })
}

/// The label of a domain value in `lang` ("no domain" for none).
pub fn domain_label(lang: Lang, domain: Option<&str>) -> String {
    match domain {
        Some(d) => crate::views::choice_label(lang, "domain", d)
            .unwrap_or(d)
            .to_owned(),
        None => lang.t("annual.domain.none").to_owned(),
    }
}

/// The label of a kind, lever or status value in `lang`.
pub fn label(lang: Lang, list: &str, value: &str) -> &'static str {
    lang.get(&format!("review.measure.{list}.{value}"))
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::store::annual::YearPublication;

    fn row(title: &str, signals: u64, statuses: &[(&str, &str)]) -> YearHardship {
        YearHardship {
            created_on: "2026-01-02".into(),
            domain: Some("benefits".into()),
            origin: None,
            signals,
            publication: Some(YearPublication {
                published_on: "2026-03-01".into(),
                title: title.into(),
                summary: "Summary".into(),
                cause: String::new(),
            }),
            envelope: None,
            measures: vec![YearMeasure {
                kind: "measure".into(),
                lever: "law".into(),
                target_on: None,
                public: Some(("Do it".into(), "SZW".into(), String::new())),
                envelope: None,
                history: statuses
                    .iter()
                    .map(|(s, d)| ((*s).into(), (*d).into()))
                    .collect(),
            }],
        }
    }

    fn asked(format: Format) -> Asked {
        Asked {
            year: 2026,
            format,
            lang: Lang::En,
            internal: false,
        }
    }

    #[test]
    fn a_year_is_four_digits_and_nothing_else() {
        assert_eq!(parse_year("2026"), Some(2026));
        for bad in ["26", "20266", "twee", "", "-2026", "1999", "+202"] {
            assert_eq!(parse_year(bad), None, "{bad}");
        }
    }

    #[test]
    fn progress_is_the_years_changes_and_the_status_at_its_end() {
        let report = build(
            asked(Format::Md),
            vec![
                row(
                    "B",
                    7,
                    &[
                        ("proposed", "2025-11-01"),
                        ("agreed", "2026-02-01"),
                        ("implemented", "2026-09-01"),
                    ],
                ),
                row("a", 3, &[("proposed", "2026-05-01")]),
            ],
            None,
        );
        assert_eq!(*report.hardships[0].title, "a", "by title");
        let m = &report.hardships[1].measures[0];
        assert_eq!(m.status, "implemented");
        assert_eq!(
            m.changes.len(),
            2,
            "the status of 2025 is not a change of 2026"
        );
        assert_eq!(report.totals(), (2, 10, 2));
        let by_status = report.by_status();
        assert!(by_status.contains(&("implemented", 1, 1)));
        assert!(by_status.contains(&("proposed", 1, 1)));
        let by_domain = report.by_domain();
        assert_eq!(by_domain.len(), 1);
        assert_eq!(by_domain[0].1, 2);
        assert_eq!(by_domain[0].2[0], 2, "both pull the law");
    }

    #[test]
    fn every_format_shows_small_counts_as_less_than_five() {
        for format in [Format::Html, Format::Md, Format::Csv] {
            let report = build(
                asked(format),
                vec![row("Title", 3, &[("proposed", "2026-05-01")])],
                None,
            );
            let out = render(&report);
            assert!(out.contains("<5") || out.contains("&lt;5"), "{format:?}");
        }
    }
}
