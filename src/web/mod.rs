//! What both faces share: security headers and readable error pages
//! ([`answers`]), request logging without identifying data, bounded body
//! reading, pages sent from wiped buffers, and a server loop with a bound on
//! connections in total and per client, a header-read timeout, hyper's own
//! answers made readable ([`wire`]), the PROXY header of the Tor listener
//! ([`proxy`]) and graceful shutdown.

pub mod answers;
pub mod padding;
pub mod proxy;
mod slots;
pub mod wire;

pub use answers::{CSP, StatusPage, catch_panics, readable_errors, security_headers};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{Response, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;
use zeroize::Zeroizing;

/// Logs method, route template, status and latency; nothing that identifies a
/// visitor (no address, no query string, no body).
pub async fn log_request(req: Request, next: Next) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "-".to_owned(), |p| p.as_str().to_owned());
    let mut res = next.run(req).await;
    tracing::info!(
        %method,
        route,
        status = res.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    res.extensions_mut().insert(Logged);
    res
}

/// Marks a response whose request [`log_request`] logged.
#[derive(Debug, Clone, Copy)]
struct Logged;

/// Logs, as [`log_request`] does (route `-`), every answer no route logged:
/// a refusal before routing (a foreign Origin, another Host name), an
/// address the face does not have, a request past its time. So the review
/// face's log holds a line for every request it answered.
pub async fn log_unrouted(req: Request, next: Next) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().clone();
    let res = next.run(req).await;
    if res.extensions().get::<Logged>().is_none() {
        tracing::info!(
            %method,
            route = "-",
            status = res.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "request"
        );
    }
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
    wiped_text(
        Zeroizing::new(markup.into_string()),
        "text/html; charset=utf-8",
    )
}

/// Sends `text` as `content_type` from a buffer that is wiped when hyper
/// drops the body (a download that holds decrypted text).
pub fn wiped_text(text: Zeroizing<String>, content_type: &'static str) -> Response<Body> {
    struct Wiped(Zeroizing<String>);
    impl AsRef<[u8]> for Wiped {
        fn as_ref(&self) -> &[u8] {
            self.0.as_bytes()
        }
    }
    let body = bytes::Bytes::from_owner(Wiped(text));
    ([(header::CONTENT_TYPE, content_type)], Body::from(body)).into_response()
}

/// Settings of one listener.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// Most connections served at once; more wait in the accept queue.
    pub max_connections: usize,
    /// Most connections one client holds at once; more are answered 503.
    pub max_per_client: usize,
    /// Time a client has to send its request headers (and, on the Tor
    /// listener, its PROXY header).
    pub header_timeout: Duration,
    /// Every connection starts with a PROXY protocol header (the Tor listener).
    pub proxy_protocol: bool,
    /// Told of every answer given before a request reaches the face's
    /// routes: the intake counts them in its summary
    /// ([`crate::summary::refused`]), the review face logs them
    /// ([`log_refusal`]).
    pub refused: fn(Refused, u16),
}

/// Why a connection or a request was answered before the face's routes saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The client already held its share of connections (503).
    PerClientBound,
    /// A connection on the Tor listener without a valid PROXY header (400).
    BadProxyHeader,
    /// No request head (or PROXY header) came in time; closed without a
    /// page (counted as 408).
    HeadTimeout,
    /// A request head hyper refused (400, 414, 431, 505: too large, malformed).
    BadHead,
}

impl Refused {
    /// The name in the summary, the metrics and the log.
    pub fn name(self) -> &'static str {
        match self {
            Refused::PerClientBound => "connection:per-client-bound",
            Refused::BadProxyHeader => "connection:bad-proxy-header",
            Refused::HeadTimeout => "connection:head-timeout",
            Refused::BadHead => "connection:bad-head",
        }
    }
}

/// The review face's [`ServeOptions::refused`]: one line, as its requests
/// have (no address).
pub fn log_refusal(reason: Refused, status: u16) {
    tracing::info!(reason = reason.name(), status, "refused before routing");
}

/// How a listener tells its clients apart for the per-client bound.
#[derive(Debug, Clone)]
pub struct Clients {
    /// The keyed hash of an address.
    pub limiters: Arc<crate::limits::Limiters>,
    /// Proxies whose connections carry many clients: they are bound only
    /// by the total.
    pub trusted: Arc<Vec<ipnet::IpNet>>,
}

/// Longest a refused connection is given to read its 503 page.
const REFUSAL_TIME: Duration = Duration::from_secs(2);
/// Most refused connections being answered at once; past it they are closed.
const REFUSALS_AT_ONCE: usize = 64;
/// Largest request head hyper reads (past it: 431, made readable by [`wire`]).
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Serves `app` on `listener` until `shutdown` turns true, then lets open
/// requests finish (for up to 10 seconds).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: ServeOptions,
    clients: Clients,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(options.max_connections));
    let refusals = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
    let slots = slots::Slots::new(options.max_per_client);
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
        let connection = Connection {
            app: app.clone(),
            options,
            clients: clients.clone(),
            slots: Arc::clone(&slots),
            refusals: Arc::clone(&refusals),
            watcher: graceful.watcher(),
        };
        tokio::spawn(async move {
            connection.run(stream, peer).await;
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

/// What one accepted connection needs.
struct Connection {
    app: Router,
    options: ServeOptions,
    clients: Clients,
    slots: Arc<slots::Slots>,
    refusals: Arc<Semaphore>,
    watcher: hyper_util::server::graceful::Watcher,
}

impl Connection {
    async fn run(self, mut stream: tokio::net::TcpStream, peer: SocketAddr) {
        let peer = if self.options.proxy_protocol {
            let read = proxy::read_header(&mut stream, peer);
            match tokio::time::timeout(self.options.header_timeout, read).await {
                Ok(Ok(source)) => source,
                Ok(Err(e)) => {
                    warn_once_about_proxy(&e);
                    if !matches!(e, proxy::ProxyError::Closed) {
                        (self.options.refused)(Refused::BadProxyHeader, 400);
                    }
                    refuse(stream, &self.refusals, axum::http::StatusCode::BAD_REQUEST).await;
                    return;
                }
                Err(_) => {
                    (self.options.refused)(Refused::HeadTimeout, 408);
                    return;
                }
            }
        } else {
            peer
        };
        let ip = peer.ip().to_canonical();
        let through_proxy = self.clients.trusted.iter().any(|net| net.contains(&ip));
        let _slot = if through_proxy {
            None
        } else {
            match self.slots.take(self.clients.limiters.client_key(ip)) {
                Some(slot) => Some(slot),
                None => {
                    (self.options.refused)(Refused::PerClientBound, 503);
                    refuse(
                        stream,
                        &self.refusals,
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    )
                    .await;
                    return;
                }
            }
        };
        let taken = Arc::new(wire::Taken::default());
        let noted = Arc::clone(&taken);
        let (app, slots, clients) = (self.app, self.slots, self.clients);
        let refused = self.options.refused;
        let svc = tower::service_fn(move |mut req: axum::http::Request<hyper::body::Incoming>| {
            noted.push(req.method() == axum::http::Method::HEAD);
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            // A proxy's connection carries many clients: each request holds
            // a slot of the client it names while it is read and handled, so
            // slow bodies from one client behind the proxy cannot take every
            // connection the proxy has to signaal.
            let slot = if through_proxy {
                let client =
                    crate::limits::client_addr(peer, req.headers(), clients.trusted.as_slice());
                slots
                    .take(clients.limiters.client_key(client))
                    .ok_or(())
                    .map(Some)
            } else {
                Ok(None)
            };
            let app = app.clone();
            async move {
                match slot {
                    Ok(slot) => {
                        let res = app.oneshot(req).await;
                        drop(slot);
                        res
                    }
                    Err(()) => {
                        refused(Refused::PerClientBound, 503);
                        Ok(answers::refusal(
                            axum::http::StatusCode::SERVICE_UNAVAILABLE,
                            &[("retry-after", "10"), ("connection", "close")],
                        ))
                    }
                }
            }
        });
        let svc = hyper_util::service::TowerToHyperService::new(svc);
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(self.options.header_timeout)
            .max_header_size(MAX_HEAD_BYTES)
            .writev(false)
            .serve_connection(
                TokioIo::new(wire::Answered::new(stream, Arc::clone(&taken), refused)),
                svc,
            );
        if let Err(e) = self.watcher.watch(conn).await {
            // A connection that kept its requests coming and then idled is
            // closed by the same timeout: only one that never sent a whole
            // head was refused.
            if e.is_timeout() && !taken.any_request() {
                refused(Refused::HeadTimeout, 408);
            }
        }
    }
}

/// Answers a connection that is not served with a page of `status`, gives
/// the client a moment to read it, and closes. The connection holds no slot
/// meanwhile; past [`REFUSALS_AT_ONCE`] it is closed without a word.
async fn refuse(
    mut stream: tokio::net::TcpStream,
    refusals: &Arc<Semaphore>,
    status: axum::http::StatusCode,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(_refusing) = Arc::clone(refusals).try_acquire_owned() else {
        return;
    };
    let answer = answers::raw_answer(status, &[("retry-after", "10")]);
    let _ = tokio::time::timeout(REFUSAL_TIME, async {
        stream.write_all(&answer).await?;
        stream.shutdown().await?;
        // Read what the client sent, so that closing does not reset the
        // connection before it has read the page.
        // What it sent may be a signal: the buffer is wiped.
        let mut sink = Zeroizing::new([0u8; 4096]);
        while stream.read(sink.as_mut()).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}

/// A connection on the Tor listener without a PROXY header means Tor is
/// not set up for it: said once, not per connection (the intake logs no
/// visitor's moment).
fn warn_once_about_proxy(error: &proxy::ProxyError) {
    static SAID: std::sync::Once = std::sync::Once::new();
    if matches!(error, proxy::ProxyError::Closed) {
        return;
    }
    SAID.call_once(|| {
        tracing::warn!(
            "a connection on tor_addr did not start with a PROXY header ({error}); set \
             HiddenServiceExportCircuitID haproxy for this onion service"
        );
    });
}

/// Resolves once `rx` says stop (or its sender is gone).
pub async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await.map(|_| ());
}
