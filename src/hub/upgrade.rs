//! `GET /ws`: the WebSocket upgrade, done by hand so that the hub owns the raw stream.

use super::replay::serve_client;
use super::Hub;
use crate::http::ApiQuery;
use crate::http::AppError;
use crate::http::SocketFd;
use axum::body::Body;
use axum::extract::Request;
use axum::extract::State;
use axum::http::header;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::Response;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::Role;
use tungstenite::protocol::WebSocketConfig;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WsQuery {
    since: Option<u64>,
}

/// `GET /ws?since=SEQ`: a WebSocket upgrade (RFC 6455), done here rather than by axum's
/// extractor so that the hub owns the raw stream its shared frames are written to.
pub async fn ws_handler(
    State(hub): State<Hub>,
    ApiQuery(q): ApiQuery<WsQuery>,
    mut req: Request,
) -> Result<Response, AppError> {
    let accept = accept_key(req.headers())?;
    // Raw writes only where the upgraded stream's bytes are the socket's: HTTP/1.1 in the
    // clear (an HTTP/2 stream shares its socket with other streams).
    let fd = match req.version() {
        axum::http::Version::HTTP_11 => req.extensions().get::<axum::extract::ConnectInfo<SocketFd>>().map(|i| i.0),
        _ => None,
    };
    let upgrade = req.extensions_mut().remove::<hyper::upgrade::OnUpgrade>().ok_or_else(|| {
        AppError::new(StatusCode::UPGRADE_REQUIRED, "upgrade_required", "this connection cannot be upgraded")
    })?;
    // Subscribe before answering the upgrade: a client that gets its 101 is sure to see
    // every event committed after it (and, with `since`, the replay covers the rest).
    let rx = hub.store.subscribe();
    tokio::spawn(async move {
        match upgrade.await {
            Ok(io) => {
                // Clients only send pongs: a small read buffer and message cap keep each
                // idle connection cheap.
                let config = WebSocketConfig::default()
                    .read_buffer_size(4 * 1024)
                    .max_message_size(Some(64 * 1024))
                    .max_frame_size(Some(64 * 1024));
                let ws = WebSocketStream::from_raw_socket(TokioIo::new(io), Role::Server, Some(config)).await;
                serve_client(ws, fd, hub, rx, q.since).await;
            }
            Err(e) => tracing::debug!(error = %e, "websocket upgrade failed"),
        }
    });
    Ok(Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .body(Body::empty())
        .expect("a valid response"))
}

/// The `Sec-WebSocket-Accept` answer to a valid upgrade request.
pub(super) fn accept_key(headers: &HeaderMap) -> Result<String, AppError> {
    let has = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    if !has(header::CONNECTION, "upgrade") || !has(header::UPGRADE, "websocket") {
        return Err(AppError::new(StatusCode::UPGRADE_REQUIRED, "upgrade_required", "expected a WebSocket upgrade"));
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION).is_none_or(|v| v != "13") {
        return Err(AppError::invalid("Sec-WebSocket-Version must be 13"));
    }
    let key =
        headers.get(header::SEC_WEBSOCKET_KEY).ok_or_else(|| AppError::invalid("Sec-WebSocket-Key is missing"))?;
    Ok(tungstenite::handshake::derive_accept_key(key.as_bytes()))
}
