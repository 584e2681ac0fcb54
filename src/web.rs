//! What both faces share: security headers, request logging without identifying
//! data, bounded body reading, pages sent from wiped buffers, and a server loop
//! with a connection bound, a header-read timeout and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderValue, Response, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;
use zeroize::Zeroizing;

/// The Content-Security-Policy of every page: nothing but our own stylesheet and
/// images, forms only to ourselves, no framing (OWASP Secure Headers).
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers of every response.
pub async fn security_headers(req: Request, next: Next) -> Response<Body> {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    // No Referer leaves our pages: the form's address must not follow a link out.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    // Pages may hold what someone typed or a receipt: never keep them in a cache.
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.remove(header::SERVER);
    res
}

/// Logs method, route template, status and latency; nothing that identifies a
/// visitor (no address, no query string, no body).
pub async fn log_request(req: Request, next: Next) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "-".to_owned(), |p| p.as_str().to_owned());
    let res = next.run(req).await;
    tracing::info!(
        %method,
        route,
        status = res.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    res
}

/// Why a body could not be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// Longer than allowed.
    #[error("the body is too large")]
    TooLarge,
    /// The client stopped sending or the connection failed.
    #[error("the body could not be read")]
    Broken,
}

/// Reads a body of at most `limit` bytes into a buffer that is wiped on drop.
pub async fn read_body(body: Body, limit: usize) -> Result<Zeroizing<Vec<u8>>, BodyError> {
    let mut out = Zeroizing::new(Vec::with_capacity(limit.min(16 * 1024)));
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Broken)?;
        if let Ok(chunk) = frame.into_data() {
            if out.len() + chunk.len() > limit {
                return Err(BodyError::TooLarge);
            }
            if out.capacity() < out.len() + chunk.len() {
                // Grow by hand so the old buffer is wiped rather than freed as is.
                let mut bigger = Zeroizing::new(Vec::with_capacity(limit));
                bigger.extend_from_slice(&out);
                out = bigger;
            }
            out.extend_from_slice(&chunk);
        }
    }
    Ok(out)
}

/// Sends a page from a buffer that is wiped when hyper drops the body: for
/// pages that show decrypted text or a receipt code.
pub fn wiped(markup: maud::Markup) -> Response<Body> {
    struct Wiped(Zeroizing<String>);
    impl AsRef<[u8]> for Wiped {
        fn as_ref(&self) -> &[u8] {
            self.0.as_bytes()
        }
    }
    let body = bytes::Bytes::from_owner(Wiped(Zeroizing::new(markup.into_string())));
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        Body::from(body),
    )
        .into_response()
}

/// Settings of one listener.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// Most connections served at once; more wait in the accept queue.
    pub max_connections: usize,
    /// Time a client has to send its request headers.
    pub header_timeout: Duration,
}

/// Serves `app` on `listener` until `shutdown` turns true, then lets open
/// requests finish (for up to 10 seconds).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: ServeOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(options.max_connections));
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&permits).acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            () = stopped(&mut shutdown) => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut shutdown) => break,
        };
        let _ = stream.set_nodelay(true);
        let svc =
            app.clone()
                .map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                    req
                });
        let svc = hyper_util::service::TowerToHyperService::new(svc);
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(options.header_timeout)
            .serve_connection(TokioIo::new(stream), svc);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after 10 seconds; closing them");
    }
}

/// Resolves once `rx` says stop (or its sender is gone).
pub async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await.map(|_| ());
}
