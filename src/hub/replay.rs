//! A new client: what it missed (`?since=`), then the hand-over to a shard.

use super::frame::close_frame;
use super::frame::format_into;
use super::frame::text;
use super::frame::text_frame;
use super::member::Join;
use super::member::Member;
use super::member::Socket;
use super::Hub;
use super::CLOSE_GOING_AWAY;
use super::SEND_TIMEOUT;
use crate::http::SocketFd;
use crate::model::ServerMessage;
use crate::store::LoggedEvent;
use crate::store::StoreError;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::broadcast;
use tokio::time::timeout;
use tokio::time::Instant;

/// Why a client was let go.
pub(super) enum End {
    /// Close with this code and reason.
    Close(u16, String),
    /// The peer is gone or unresponsive: just drop the connection.
    Drop,
}

/// Replays what the client missed, then hands its socket to a shard. `rx` was subscribed
/// before the log is read, so nothing falls between replay and live.
pub(super) async fn serve_client(
    mut ws: Socket,
    fd: Option<SocketFd>,
    hub: Hub,
    rx: broadcast::Receiver<Arc<LoggedEvent>>,
    since: Option<u64>,
) {
    let replayed = async {
        if *hub.shutdown.borrow() {
            return Err(End::Close(CLOSE_GOING_AWAY, "server shutting down".into()));
        }
        let mut last = 0u64;
        if let Some(since) = since {
            last = since;
            loop {
                match hub.store.events_since(last, 1000).await {
                    Ok(page) if page.is_empty() => break,
                    Ok(page) => {
                        let mut frames = Vec::new();
                        for e in page {
                            format_into(&mut frames, text(&e.json));
                            last = e.event.seq;
                        }
                        within_timeout(ws.get_mut().write_all(&frames)).await?;
                    }
                    Err(StoreError::Gone { .. }) => {
                        last = hub.store.last_seq();
                        let resync = text_frame(&ServerMessage::resync_json(last));
                        within_timeout(ws.get_mut().write_all(&resync)).await?;
                        break;
                    }
                    Err(e) => return Err(End::Close(1011, e.to_string())),
                }
            }
        }
        Ok(last)
    }
    .await;
    let last = match replayed {
        Ok(last) => last,
        Err(End::Close(code, reason)) => {
            let _ = timeout(Duration::from_secs(1), ws.get_mut().write_all(&close_frame(code, &reason))).await;
            return;
        }
        Err(End::Drop) => return,
    };

    let shard = &hub.shards[hub.next_shard.fetch_add(1, Ordering::Relaxed) % hub.shards.len()];
    let member = Member {
        ws,
        fd,
        last,
        sent: last,
        queue: VecDeque::new(),
        queued: 0,
        written: 0,
        answers: false,
        closing: None,
        heard: Instant::now(),
    };
    // Fails only when the shard has ended: the server is going away.
    let _ = shard.send(Join(member, rx));
}

/// Runs a sink operation; a peer that keeps it blocked for [`SEND_TIMEOUT`] is dropped.
pub(super) async fn within_timeout<F, E>(op: F) -> Result<(), End>
where
    F: std::future::Future<Output = Result<(), E>>,
{
    match timeout(SEND_TIMEOUT, op).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(End::Drop),
    }
}
