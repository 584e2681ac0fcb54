//! Every answer is a page: whatever produced an error — a handler, axum's own
//! rejections and 405s, the request timeout, a caught panic, or hyper itself
//! (see [`super::wire`]) — the visitor gets a readable page with the security
//! headers and the right status.
//!
//! Invariant: no response of either face leaves without the headers of
//! [`SECURITY_HEADERS`], and no error leaves with an empty or plain-text body.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use maud::Markup;

use crate::views::Lang;

/// The Content-Security-Policy of every page: nothing but our own stylesheet and
/// images, forms only to ourselves, no framing (OWASP Secure Headers).
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The headers every response carries (OWASP Secure Headers Project):
/// the CSP above; no Referer leaves our pages (the form's address must not
/// follow a link out); no MIME sniffing; no opener, no embedding elsewhere,
/// no framing; no camera, microphone or location.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("content-security-policy", CSP),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    ),
];

/// Adds the security headers of every response.
pub async fn security_headers(req: Request, next: Next) -> Response<Body> {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        h.insert(*name, HeaderValue::from_static(value));
    }
    // Pages may hold what someone typed or a receipt: never keep them in a cache.
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.remove(header::SERVER);
    res
}

/// Longest request target served; a longer one gets 414 (no page of either
/// face has an address anywhere near this long).
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// How a face draws the page for an error status in a language.
pub type StatusPage = Arc<dyn Fn(Lang, StatusCode) -> Markup + Send + Sync>;

/// The text keys of the page for `status` (`status.404.title`, …); statuses
/// without a text of their own share the one of their class.
pub fn status_key(status: StatusCode) -> String {
    const OWN: [u16; 12] = [400, 403, 404, 405, 408, 413, 414, 415, 422, 431, 500, 503];
    let code = status.as_u16();
    if OWN.contains(&code) {
        format!("status.{code}")
    } else if status.is_server_error() {
        "status.5xx".to_owned()
    } else {
        "status.4xx".to_owned()
    }
}

/// Turns every error answer that is not already a page (an axum rejection in
/// plain text, a 405 or 408 with no body, a caught panic) into the face's
/// page for its status, in the visitor's language. Headers such as `Allow`
/// and `Retry-After` are kept. A request target longer than
/// [`MAX_URI_BYTES`] is answered 414 here, before any handler.
pub async fn readable_errors(
    State(page): State<StatusPage>,
    req: Request,
    next: Next,
) -> Response<Body> {
    let lang = Lang::negotiate(req.uri().query(), req.headers());
    let res = if req.uri().path_and_query().map_or(0, |p| p.as_str().len()) > MAX_URI_BYTES {
        StatusCode::URI_TOO_LONG.into_response()
    } else {
        next.run(req).await
    };
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) || is_html(&res) {
        return res;
    }
    let (mut parts, _) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Response::from_parts(parts, Body::from(page(lang, status).into_string()))
}

fn is_html(res: &Response<Body>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// What a caught panic is turned into.
pub type OnPanic = fn(Box<dyn std::any::Any + Send>) -> Response<Body>;

/// Catches a handler's panic as a 500, which [`readable_errors`] then makes
/// a page of; the panic's message stays out of the answer.
pub fn catch_panics() -> tower_http::catch_panic::CatchPanicLayer<OnPanic> {
    fn internal(_: Box<dyn std::any::Any + Send>) -> Response<Body> {
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
    tower_http::catch_panic::CatchPanicLayer::custom(internal as OnPanic)
}

/// An answer with `status`, the security headers and a page in both
/// languages, for a request refused before it reached a face (a client
/// behind a trusted proxy over its bound); `extra` headers come on top.
pub fn refusal(status: StatusCode, extra: &[(&'static str, &'static str)]) -> Response<Body> {
    let body = crate::views::both_languages_page(&status_key(status)).into_string();
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    for (name, value) in [("cache-control", "no-store"), ("x-robots-tag", "noindex")]
        .iter()
        .chain(SECURITY_HEADERS)
        .chain(extra)
    {
        headers.insert(*name, HeaderValue::from_static(value));
    }
    res
}

/// A whole HTTP/1.1 answer with `status`, the security headers, and a page
/// in both languages (nothing of the request could be read to choose one),
/// for the connection to send before it closes: what hyper would otherwise
/// answer with an empty body, and the refusal of a connection over the
/// per-client bound. `extra` headers come on top (`Retry-After`).
pub fn raw_answer(status: StatusCode, extra: &[(&str, &str)]) -> Vec<u8> {
    let body = crate::views::both_languages_page(&status_key(status)).into_string();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
         connection: close\r\ncache-control: no-store\r\nx-robots-tag: noindex\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    );
    for (name, value) in SECURITY_HEADERS.iter().chain(extra) {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(&body);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use axum::Router;
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    fn page(lang: Lang, status: StatusCode) -> Markup {
        let key = status_key(status);
        maud::html! { html lang=(lang.code()) { h1 { (lang.t(&format!("{key}.title"))) } } }
    }

    async fn panics() -> &'static str {
        panic!("a fault in a handler")
    }

    #[tokio::test]
    async fn a_panic_in_a_handler_is_a_page_with_the_headers() {
        let app = Router::new()
            .route("/boom", get(panics))
            .layer(catch_panics())
            .layer(axum::middleware::from_fn_with_state(
                Arc::new(page) as StatusPage,
                readable_errors,
            ))
            .layer(axum::middleware::from_fn(security_headers));
        let req = Request::get("/boom")
            .header("accept-language", "en")
            .body(Body::empty())
            .unwrap();
        let res = app.oneshot(req).await.unwrap();
        assert_eq!(res.status(), 500);
        assert_eq!(res.headers()["content-security-policy"], CSP);
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("lang=\"en\""), "{body}");
        assert!(body.contains(Lang::En.t("status.500.title")), "{body}");
        assert!(!body.contains("a fault in a handler"), "{body}");
    }

    #[test]
    fn every_status_page_has_its_texts_in_both_languages() {
        for code in [
            400, 401, 403, 404, 405, 408, 413, 414, 415, 422, 429, 431, 500, 502, 503,
        ] {
            let key = status_key(StatusCode::from_u16(code).unwrap());
            for lang in [Lang::Nl, Lang::En] {
                for part in ["title", "body"] {
                    assert!(
                        lang.get(&format!("{key}.{part}")).is_some(),
                        "{key}.{part} in {lang:?}"
                    );
                }
            }
        }
    }
}
