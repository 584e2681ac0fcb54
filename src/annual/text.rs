//! The annual report as Markdown and as CSV.
//!
//! Invariants: every text a reviewer wrote is escaped for its format —
//! Markdown's marks are backslashed and line breaks folded, so a text can
//! start no heading, link, table cell or HTML; every CSV field goes through
//! [`csv_field`], so no spreadsheet takes one for a formula. Counts go
//! through [`shown`]. The output is built in one wiped buffer.

use std::fmt::Write as _;

use zeroize::Zeroizing;

use super::{Report, domain_label, label};
use crate::store::hardships::LEVERS;
use crate::views::export::{csv_field, shown};
use crate::views::{day_text, fill};

/// `s` as inline Markdown text: every mark that could format, link, quote
/// or split a table cell is backslashed, line breaks become spaces.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '<' | '>' | '#' | '|' | '!' | '~'
            | '+' | '-' | '=' | '{' | '}' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// The report as Markdown, in a wiped buffer.
pub fn markdown(report: &Report) -> Zeroizing<String> {
    let lang = report.asked.lang;
    let t = |key: &str| lang.t(key);
    let year = report.asked.year;
    let end = day_text(lang, &report.as_of);
    let internal = report.hardships.iter().any(|h| h.internal);
    let mut o = Zeroizing::new(String::with_capacity(4096 + report.hardships.len() * 2048));
    let w = &mut *o;
    let _ = writeln!(w, "# {} {year}\n", t("annual.title"));
    let _ = writeln!(w, "{}\n", fill(t("annual.subtitle"), &[("year", &year)]));
    if internal {
        let _ = writeln!(w, "**{}**\n", t("annual.internal.banner"));
    }
    let _ = writeln!(w, "{}\n", fill(t("annual.as_of"), &[("day", &end)]));
    let _ = writeln!(w, "## {}\n", t("annual.contents"));
    let _ = writeln!(w, "1. [{}](#summary)", t("annual.summary"));
    for (n, h) in report.hardships.iter().enumerate() {
        let tag = if h.internal {
            format!(" ({})", t("annual.internal"))
        } else {
            String::new()
        };
        let _ = writeln!(w, "{}. [{}](#hardship-{}){tag}", n + 2, md(&h.title), n + 1);
    }
    let _ = writeln!(
        w,
        "\n<a id=\"summary\"></a>\n\n## {}\n",
        t("annual.summary")
    );
    if report.hardships.is_empty() {
        let _ = writeln!(w, "{}\n", t("annual.empty"));
    } else {
        let (hardships, signals, measures) = report.totals();
        let _ = writeln!(
            w,
            "{}\n",
            fill(
                t("annual.totals"),
                &[
                    ("hardships", &shown(hardships)),
                    ("signals", &shown(signals)),
                    ("measures", &shown(measures)),
                ],
            )
        );
        let _ = writeln!(w, "### {}\n", t("annual.by_domain"));
        let _ = write!(w, "| {} | {} |", t("annual.domain"), t("annual.hardships"));
        for l in LEVERS {
            let _ = write!(w, " {} |", label(lang, "lever", l));
        }
        let _ = write!(w, "\n|---|---:|");
        for _ in LEVERS {
            let _ = write!(w, "---:|");
        }
        let _ = writeln!(w);
        for (d, n, levers) in report.by_domain() {
            let _ = write!(
                w,
                "| {} | {} |",
                md(&domain_label(lang, d.as_deref())),
                shown(n)
            );
            for l in levers {
                let _ = write!(w, " {} |", shown(l));
            }
            let _ = writeln!(w);
        }
        let _ = writeln!(w, "\n{}\n", t("annual.by_domain.note"));
        let _ = writeln!(w, "### {}\n", t("annual.by_status"));
        let _ = writeln!(
            w,
            "| {} | {} | {} |\n|---|---:|---:|",
            t("annual.status"),
            fill(t("annual.at_end"), &[("day", &end)]),
            fill(t("annual.set_in"), &[("year", &year)])
        );
        for (s, at_end, set) in report.by_status() {
            let _ = writeln!(
                w,
                "| {} | {} | {} |",
                label(lang, "status", s),
                shown(at_end),
                shown(set)
            );
        }
    }
    let _ = writeln!(w, "\n{}\n", t("annual.counts"));
    for (i, h) in report.hardships.iter().enumerate() {
        let n = i + 1;
        let tag = if h.internal {
            format!(" ({})", t("annual.internal"))
        } else {
            String::new()
        };
        let _ = writeln!(
            w,
            "<a id=\"hardship-{n}\"></a>\n\n## {n}. {}{tag}\n",
            md(&h.title)
        );
        let _ = writeln!(w, "- **{}:** {}", t("annual.pattern"), md(&h.pattern));
        if !h.cause.is_empty() {
            let _ = writeln!(w, "- **{}:** {}", t("annual.cause"), md(&h.cause));
        }
        let _ = writeln!(
            w,
            "- **{}:** {}",
            t("annual.domain"),
            md(&domain_label(lang, h.domain.as_deref()))
        );
        let _ = writeln!(w, "- **{}:** {}", t("annual.signals"), shown(h.signals));
        if let Some(p) = &h.published_on {
            let _ = writeln!(
                w,
                "- **{}:** {}",
                t("annual.published_on"),
                day_text(lang, p)
            );
        }
        if h.internal {
            let _ = writeln!(
                w,
                "- **{}:** {}",
                t("annual.publicity"),
                t("annual.internal.one")
            );
        }
        let _ = writeln!(w, "\n### {}\n", t("annual.measures"));
        if h.measures.is_empty() {
            let _ = writeln!(w, "{}\n", t("annual.measures.none"));
            continue;
        }
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} |\n|---|---|---|---|",
            t("annual.measure"),
            t("annual.lever"),
            fill(t("annual.status_end"), &[("day", &end)]),
            fill(t("annual.progress"), &[("year", &year)])
        );
        for m in &h.measures {
            let mut what = format!(
                "**{}:** {} ({}: {}",
                label(lang, "kind", &m.kind),
                md(&m.text),
                t("annual.organisation"),
                md(&m.organisation)
            );
            if !m.source.is_empty() {
                let _ = write!(what, "; {}: {}", t("annual.source"), md(&m.source));
            }
            if let Some(target) = &m.target_on {
                let _ = write!(what, "; {}: {}", t("annual.target"), day_text(lang, target));
            }
            what.push(')');
            let progress = if m.changes.is_empty() {
                fill(t("annual.progress.none"), &[("year", &year)])
            } else {
                m.changes
                    .iter()
                    .map(|(s, d)| format!("{}: {}", day_text(lang, d), label(lang, "status", s)))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let _ = writeln!(
                w,
                "| {what} | {} | {} | {progress} |",
                label(lang, "lever", &m.lever),
                label(lang, "status", &m.status)
            );
            // The row held plaintext; it is wiped with the rest.
            drop(Zeroizing::new(what));
        }
        let _ = writeln!(w);
    }
    o
}

/// The report as CSV: a header, then one row per measure (and one per
/// hardship without measures), in a wiped buffer.
pub fn csv(report: &Report) -> Zeroizing<String> {
    let lang = report.asked.lang;
    let t = |key: &str| lang.t(key);
    let mut o = Zeroizing::new(String::with_capacity(1024 + report.hardships.len() * 4096));
    let w = &mut *o;
    let _ = writeln!(w, "{}", t("annual.csv.header"));
    for (i, h) in report.hardships.iter().enumerate() {
        let hardship = [
            (i + 1).to_string(),
            if h.internal {
                t("annual.internal").to_owned()
            } else {
                String::new()
            },
            csv_field(&h.title),
            csv_field(&h.pattern),
            csv_field(&h.cause),
            csv_field(&domain_label(lang, h.domain.as_deref())),
            shown(h.signals),
            h.published_on.clone().unwrap_or_default(),
        ]
        .join(",");
        if h.measures.is_empty() {
            let _ = writeln!(w, "{hardship},,,,,,,,");
        }
        for m in &h.measures {
            let changes = m
                .changes
                .iter()
                .map(|(s, d)| format!("{d} {}", label(lang, "status", s)))
                .collect::<Vec<_>>()
                .join("; ");
            let _ = writeln!(
                w,
                "{hardship},{},{},{},{},{},{},{},{}",
                csv_field(label(lang, "kind", &m.kind)),
                csv_field(label(lang, "lever", &m.lever)),
                csv_field(&m.text),
                csv_field(&m.organisation),
                csv_field(&m.source),
                m.target_on.as_deref().unwrap_or(""),
                csv_field(label(lang, "status", &m.status)),
                csv_field(&changes)
            );
        }
        drop(Zeroizing::new(hardship));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_starts_no_markdown_of_its_own() {
        assert_eq!(md("# a | b\n[x](y)"), "\\# a \\| b \\[x\\]\\(y\\)");
        assert_eq!(md("<script>"), "\\<script\\>");
    }
}
