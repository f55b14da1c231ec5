//! What a terminal socket carries, for this node's sockets and the ones relayed to
//! another node alike: the query a client connects with, what it sends, what it is sent,
//! a send with a deadline.
//!
//! `GET /terminals/{id}/ws?cols=&rows=&project=&offset=&window=`
//! - `offset`: the byte offset to resume from (what the client has already); without it,
//!   the terminal's recent output (its last 256 KiB or a little more) comes first. Offsets
//!   count every byte the terminal ever printed (a session's, as its kept output:
//!   `GET /api/sessions/ID/output`).
//!   Past the end, a session's socket waits for those bytes (a re-adopted terminal's holder
//!   may still be sending them); a plain terminal's starts at the end.
//! - `window`: the client acknowledges (`ack`) what it has shown, and the server keeps at
//!   most this many bytes unacknowledged (64 KiB to 64 MiB); without it, TCP paces the socket.
//!
//! Server → client: binary frames are output, each following the one before it without a
//! byte between; text frames are JSON:
//! - `{"type":"offset","offset":N}` first: the next binary frame's first byte is at offset N.
//! - `{"type":"gap","from":A,"to":B}`: bytes A..B went over the output budgets before this
//!   socket read them (it fell behind, or asked for them too late); output goes on at B.
//! - `{"type":"exit","code":C}`: the process exited (after all its output), then a close.
//!
//! Client → server: binary frames are input; text frames are JSON `{"type":"input","data"}`,
//! `{"type":"resize","cols","rows"}` and `{"type":"ack","offset":N}` (everything before N is
//! shown; only with `window`).
//!
//! Memory per socket is bounded in bytes: the server holds at most one frame of
//! [`FRAME_MAX`](super::stream::FRAME_MAX) for it (beside the terminal's recent output, which
//! all its sockets share), however far behind it is.

use super::SEND_TIMEOUT;
use axum::extract::ws::{Message, WebSocket};
use futures::SinkExt;
use portable_pty::PtySize;
use serde::Deserialize;

/// The smallest and largest `window` a client may ask for.
const WINDOW_MIN: u64 = 64 * 1024;
const WINDOW_MAX: u64 = 64 << 20;

#[derive(Deserialize)]
pub struct SizeQuery {
    pub(super) cols: Option<u16>,
    pub(super) rows: Option<u16>,
    /// A plain terminal's project: it starts in that project's directory.
    pub(super) project: Option<String>,
    /// Where to resume.
    pub(super) offset: Option<u64>,
    /// Bytes the client lets be unacknowledged.
    pub(super) window: Option<u64>,
}

impl SizeQuery {
    pub(super) fn window(&self) -> Option<u64> {
        self.window.map(|w| w.clamp(WINDOW_MIN, WINDOW_MAX))
    }

    /// The query to pass on to the node that runs the terminal.
    pub(super) fn relayed(&self) -> String {
        let pairs = [("cols", self.cols.map(u64::from)), ("rows", self.rows.map(u64::from))];
        let more = [("offset", self.offset), ("window", self.window)];
        let q: Vec<String> = pairs.into_iter().chain(more).filter_map(|(k, v)| v.map(|v| format!("{k}={v}"))).collect();
        q.join("&")
    }
}

/// What a browser sends on a terminal socket.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(super) enum ClientMsg {
    Input { data: String },
    Resize { cols: u16, rows: u16 },
    Ack { offset: u64 },
}

/// Output continues at `offset`.
pub(super) fn offset_msg(offset: u64) -> Message {
    Message::Text(format!(r#"{{"type":"offset","offset":{offset}}}"#).into())
}

/// Bytes `from..to` are gone.
pub(super) fn gap_msg(from: u64, to: u64) -> Message {
    Message::Text(format!(r#"{{"type":"gap","from":{from},"to":{to}}}"#).into())
}

pub(super) fn exit_msg(code: u32) -> Message {
    Message::Text(format!(r#"{{"type":"exit","code":{code}}}"#).into())
}

pub(super) fn size(cols: Option<u16>, rows: Option<u16>) -> PtySize {
    PtySize { cols: cols.unwrap_or(80).clamp(2, 1000), rows: rows.unwrap_or(24).clamp(2, 1000), ..Default::default() }
}

/// Sends one message, giving up on a browser that does not take it in time.
pub(super) async fn send(sink: &mut futures::stream::SplitSink<WebSocket, Message>, msg: Message) -> bool {
    matches!(tokio::time::timeout(SEND_TIMEOUT, sink.send(msg)).await, Ok(Ok(())))
}
