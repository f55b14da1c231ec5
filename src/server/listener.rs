//! Accepting connections, with the limits SPEC §6 asks for and axum's `serve` does not set:
//! a cap on open connections (WebSockets included), refused with a 503 beyond it; a time
//! limit on reading each request's header, which also closes idle keep-alive connections
//! (and so half-sent requests, before any token check); a time limit on each request;
//! HTTP/2 keep-alive pings.

use crate::http::SocketFd;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

/// How many connections, and how long a client may take to send a request's header.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Open connections at once, upgraded WebSockets included.
    pub max_connections: usize,
    /// Time to send a whole request header, and the most a keep-alive connection may idle.
    pub header_timeout: Duration,
    /// Time from a request's header to its response's (a body sent slowly counts here).
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 4096,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// How long graceful shutdown waits for in-flight requests.
const DRAIN: Duration = Duration::from_secs(10);
/// Refusals being written at once; beyond that a connection over the cap is just closed.
const REFUSING_MAX: usize = 64;

/// Serves `router` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish (up to [`DRAIN`]).
pub async fn run(listener: TcpListener, router: Router, limits: Limits, shutdown: impl Future<Output = ()>) {
    let limit = limits.request_timeout;
    let router = router.layer(axum::middleware::from_fn(move |req, next| within(limit, req, next)));
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(20)))
        .keep_alive_timeout(Duration::from_secs(20))
        .max_concurrent_streams(64)
        .enable_connect_protocol();
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let refusing = Arc::new(Semaphore::new(REFUSING_MAX));
    let graceful = GracefulShutdown::new();
    // Tells connections that have not spoken yet to give up (they hold a watcher).
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of descriptors, say: wait for some to close rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            if let Ok(slot) = refusing.clone().try_acquire_owned() {
                tokio::spawn(refuse(tcp, slot));
            }
            continue;
        };
        // Events are small writes that must leave at once, not wait for an ACK.
        let _ = tcp.set_nodelay(true);
        let (builder, router) = (builder.clone(), router.clone());
        let watcher = graceful.watcher();
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            // hyper's protocol detection waits for the first bytes with no time limit.
            let spoke = tokio::select! {
                spoke = tokio::time::timeout(limits.header_timeout, spoken(&tcp)) => spoke.unwrap_or(false),
                _ = stopping.wait_for(|stop| *stop) => false,
            };
            if spoke {
                serve_one(tcp, permit, builder, router, watcher).await;
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still running after {DRAIN:?}; stopping anyway");
    }
}

/// Whether the client sent enough to tell HTTP/1 from HTTP/2 (false: it hung up).
async fn spoken(tcp: &TcpStream) -> bool {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let mut buf = [0u8; PREFACE.len()];
    loop {
        match tcp.peek(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) if n == PREFACE.len() || buf[..n] != PREFACE[..n] => return true,
            // A partial preface: wait for more.
            Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

/// Serves one accepted connection to its end.
async fn serve_one(
    tcp: TcpStream,
    permit: OwnedSemaphorePermit,
    builder: Builder<TokioExecutor>,
    router: Router,
    graceful: hyper_util::server::graceful::Watcher,
) {
    {
        let fd = SocketFd::of(&tcp);
        let peer = tcp.peer_addr().ok().map(crate::auth::Peer);
        let service = router.clone().map_request(move |mut req: axum::extract::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(fd));
            if let Some(p) = peer {
                req.extensions_mut().insert(p);
            }
            req
        });
        let io = TokioIo::new(Counted { tcp, _permit: permit });
        let conn = builder.serve_connection_with_upgrades(io, hyper_util::service::TowerToHyperService::new(service));
        if let Err(e) = graceful.watch(conn.into_owned()).await {
            tracing::debug!(error = %e, "connection ended with an error");
        }
    }
}

/// Answers 408 to a request whose response is not ready in time (a body trickling in, a
/// handler stuck); a WebSocket's response is its 101, so sockets are not limited by it.
async fn within(
    limit: Duration,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => crate::http::AppError::new(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            "timeout",
            format!("the request took longer than {limit:?}"),
        )
        .into_response(),
    }
}

/// Tells a client over the cap why, then closes.
async fn refuse(mut tcp: TcpStream, _slot: OwnedSemaphorePermit) {
    let body = r#"{"error":{"code":"too_many_connections","message":"this Maestro has too many open connections; try again shortly"}}"#;
    let res = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), tcp.write_all(res.as_bytes())).await;
}

/// A connection's socket and its place under the cap, given back when the socket closes:
/// after an upgrade too, since the WebSocket owns this stream.
struct Counted {
    tcp: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
