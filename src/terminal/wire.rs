//! What a terminal socket carries, for this node's sockets and the ones relayed to
//! another node alike: the size a browser asks for, what it sends, a send with a deadline.

use super::SEND_TIMEOUT;
use axum::extract::ws::{Message, WebSocket};
use futures::SinkExt;
use portable_pty::PtySize;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct SizeQuery {
    pub(super) cols: Option<u16>,
    pub(super) rows: Option<u16>,
    /// A plain terminal's project: it starts in that project's directory.
    pub(super) project: Option<String>,
}

/// What a browser sends on a terminal socket.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(super) enum ClientMsg {
    Input { data: String },
    Resize { cols: u16, rows: u16 },
}

pub(super) fn size(cols: Option<u16>, rows: Option<u16>) -> PtySize {
    PtySize { cols: cols.unwrap_or(80).clamp(2, 1000), rows: rows.unwrap_or(24).clamp(2, 1000), ..Default::default() }
}

/// Sends one message, giving up on a browser that does not take it in time.
pub(super) async fn send(sink: &mut futures::stream::SplitSink<WebSocket, Message>, msg: Message) -> bool {
    matches!(tokio::time::timeout(SEND_TIMEOUT, sink.send(msg)).await, Ok(Ok(())))
}
