//! The review face's pages: the frame every page shares (DEMO banner,
//! navigation, logout), short message pages, and one file per larger page
//! (login, queue, signal, hardships, search, report). Handlers render them; nothing here reads a request
//! or the store.
//!
//! Invariants: everything a sender or reviewer wrote is rendered through maud's
//! escaping and never into a URL, `<script>` or `<style>`; there is no
//! `PreEscaped` here. Pages that show decrypted text are sent from a buffer
//! that is wiped when the response body is dropped ([`crate::web::wiped`]).
//! Every word of the page itself comes from `templates/` in the [`Face`]'s
//! language; stored values (statuses, audit actions) stay as they are in
//! `data-` attributes.

mod hardships;
mod login;
mod monitoring;
mod publish;
mod queue;
mod report;
mod search;
mod signal;

pub use hardships::{
    HARDSHIP_DONE, HardshipLine, HardshipShown, LinkedShown, MeasureShown, hardship, hardships,
    refused,
};
pub use login::login;
pub use monitoring::{AnnualForm, ChangeShown, OverviewRow, OverviewView};
pub use publish::publish_check;
pub use queue::{QueueView, domain_options, queue};
pub use report::report;
pub use search::{SearchShown, search};
pub use signal::{SignalView, signal};

use maud::{DOCTYPE, Markup, html};

/// The review face's own stylesheet, embedded at build time.
pub const STYLESHEET: &str = include_str!("../../../templates/review.css");

use super::Face;
use super::session::Reviewer;
use crate::signal::STATUSES;

/// The frame of every review page: DEMO banner, navigation, logout.
pub fn layout(face: Face, title: &str, who: Option<&Reviewer>, body: Markup) -> Markup {
    // The body may hold what was decrypted for this page: once it is in
    // the page, its own buffer is wiped (the page's is, when sent).
    let body = zeroize::Zeroizing::new(body.into_string());
    html! {
        (DOCTYPE)
        html lang=(face.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex, nofollow";
                meta name="referrer" content="no-referrer";
                title { (title) " — " (face.t("review.title_suffix")) }
                link rel="stylesheet" href="/style.css";
            }
            body {
                a.skip href="#main" { (face.t("review.skip")) }
                @if face.demo {
                    p.demo-banner role="note" data-demo {
                        strong { "DEMO" } " — " (face.t("review.demo"))
                    }
                }
                header.site {
                    div.wrap {
                        a.brand href="/" { (face.t("review.site")) }
                        @if let Some(r) = who {
                            nav aria-label=(face.t("review.nav")) {
                                a href="/" { (face.t("review.nav.queue")) } " · "
                                a href="/hardships" { (face.t("review.nav.hardships")) } " · "
                                a href="/search" { (face.t("review.nav.search")) } " · "
                                a href="/report" { (face.t("review.nav.report")) } " · "
                                span { (face.t("review.logged_in_as")) " " strong { (r.name) } " " }
                                form.inline method="post" action="/logout" {
                                    input type="hidden" name="csrf" value=(r.csrf);
                                    button type="submit" { (face.t("review.logout")) }
                                }
                            }
                        }
                    }
                }
                main #main.wrap tabindex="-1" {
                    @if let Some(n) = who.and_then(|r| r.notice) {
                        p.notice role="alert" data-refused-second-factors=(n) {
                            (crate::views::fill(face.t("review.login.refused_second_factors"), &[("n", &n)]))
                        }
                    }
                    (maud::PreEscaped(body.as_str()))
                }
            }
        }
    }
}

/// A short page that explains a refusal or fault, in the frame of a
/// logged-in reviewer's pages when `who` is given.
pub fn message_for(face: Face, who: Option<&Reviewer>, title: &str, text: &str) -> Markup {
    layout(
        face,
        title,
        who,
        html! { h1 { (title) } p { (text) } p { a href="/" { (face.t("review.back_to_queue")) } } },
    )
}

/// A short page that explains a refusal or fault.
pub fn message(face: Face, title: &str, text: &str) -> Markup {
    plain(
        face,
        title,
        html! { p { (text) } p { a href="/" { (face.t("review.back_to_queue")) } } },
    )
}

/// A page shown without a session (no navigation): its title as the heading,
/// then `body`.
fn plain(face: Face, title: &str, body: Markup) -> Markup {
    layout(face, title, None, html! { h1 { (title) } (body) })
}

/// A note or message that arrived after the session ended, given back unsaved.
pub fn unsaved(face: Face, text: &str) -> Markup {
    plain(
        face,
        face.t("review.error.no_session.title"),
        html! {
            p role="alert" { (face.t("review.unsaved.body")) }
            p { label for="unsaved" { (face.t("review.unsaved.label")) } br;
                textarea #unsaved rows="8" readonly { (text) } }
            p { a href="/login" { (face.t("review.unsaved.login")) } }
        },
    )
}

/// A status as people read it; the stored value itself if it is not one of
/// [`STATUSES`] (so an unexpected value is shown, never hidden).
pub fn status_label(face: Face, status: &str) -> &str {
    if STATUSES.contains(&status) {
        face.t(&format!("review.status.{status}"))
    } else {
        status
    }
}
