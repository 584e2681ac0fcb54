//! The login page: name, passphrase and second factor.
//!
//! Invariant: nothing typed is ever shown back; a refusal shows one generic line.

use maud::{Markup, html};

use super::{Face, plain};
use crate::views::fill;

/// The login form, with an error line after a refusal.
pub fn login(face: Face, production: bool, error: Option<&str>) -> Markup {
    plain(
        face,
        face.t("review.login.title"),
        html! {
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/login" {
                p { label for="name" { (face.t("review.login.name")) } br;
                    input #name name="name" autocomplete="username" autofocus; }
                p { label for="passphrase" { (face.t("review.login.passphrase")) } br;
                    input #passphrase type="password" name="passphrase" autocomplete="current-password"; }
                p { label for="totp" { (face.t("review.login.totp")) @if !production { (face.t("review.login.totp_optional")) } } br;
                    input #totp name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}"; }
                p { button type="submit" { (face.t("review.login.submit")) } }
            }
            @if face.demo {
                p { (fill(face.t("review.login.demo"), &[("name", &"demo")])) }
            }
        },
    )
}
