//! The login page: name, passphrase and second factor.
//!
//! Invariant: of what was typed only a name of a reviewer name's shape is
//! shown back (so that after a refusal the name need not be typed again, and
//! focus goes to the passphrase); a refusal shows one generic line, the same
//! for every cause. No browser validation: messages come from the server, in
//! the page's language.

use maud::{Markup, html};

use super::{Face, plain};
use crate::views::fill;

/// The login form, with an error line after a refusal and the name kept.
pub fn login(face: Face, production: bool, error: Option<&str>, name: &str) -> Markup {
    let name_given = !name.is_empty();
    plain(
        face,
        face.t("review.login.title"),
        html! {
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/login" novalidate {
                p { label for="name" { (face.t("review.login.name")) } br;
                    input #name name="name" autocomplete="username" value=(name) autofocus[!name_given]; }
                p { label for="passphrase" { (face.t("review.login.passphrase")) } br;
                    input #passphrase type="password" name="passphrase" autocomplete="current-password" autofocus[name_given]; }
                p { label for="totp" { (face.t("review.login.totp")) @if !production { (face.t("review.login.totp_optional")) } } br;
                    input #totp name="totp" inputmode="numeric" autocomplete="one-time-code"; }
                p { button type="submit" { (face.t("review.login.submit")) } }
            }
            @if face.demo {
                p { (fill(face.t("review.login.demo"), &[("name", &"demo")])) }
            }
        },
    )
}
