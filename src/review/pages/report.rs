//! The aggregate report's page: counts by month, domain, status and origin,
//! exact for the team, and beside each the figure that may be published
//! (below five shown as `<5`, as in the CSV).

use maud::{Markup, html};

use super::super::Face;
use super::super::session::Reviewer;
use super::{layout, status_label};
use crate::store::report::ReportCell;
use crate::views::choice_label;
use crate::views::export::shown;

/// `GET /report`.
pub fn report(face: Face, who: &Reviewer, cells: &[ReportCell]) -> Markup {
    let t = |key: &str| face.t(key);
    layout(
        face,
        t("review.report.title"),
        Some(who),
        html! {
            h1 { (t("review.report.title")) }
            p { (t("review.report.intro")) " " a href="/report.csv" download { (t("review.report.csv")) } }
            div.table-scroll role="region" aria-label=(t("review.report.title")) tabindex="0" {
                table.report {
                    thead { tr { @for col in ["month", "domain", "status", "origin", "signals", "publishable"] {
                        th scope="col" { (t(&format!("review.col.{col}"))) }
                    } } }
                    tbody { @for c in cells {
                        tr {
                            td { (c.month) } td { (choice_label(face.lang, "domain", &c.domain).unwrap_or(&c.domain)) }
                            td data-status=(c.status) { (status_label(face, &c.status)) }
                            td { (choice_label(face.lang, "origin", &c.origin).unwrap_or(&c.origin)) } td.count { (c.count) } td.count data-publishable { (shown(c.count)) }
                        }
                    } }
                }
            }
        },
    )
}
