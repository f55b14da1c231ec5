//! The hub: relays committed events from the store to every WebSocket client.
//!
//! Each event is turned into a WebSocket text frame once; clients share it (a refcount,
//! not a copy). A client reads from one shared ring buffer, so a slow client costs no
//! extra memory: once it falls [`HUB_CAPACITY`] frames behind it is closed with a reason
//! and resumes with `?since=`.

use crate::server::AppState;
use crate::store::{Store, StoreError};
use crate::sync::ServerMessage;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio::time::{timeout, Instant};

/// Frames the shared ring holds for slow clients.
pub const HUB_CAPACITY: usize = 8192;
/// How often the server pings; a client silent for three intervals is dropped.
pub const PING_INTERVAL: Duration = Duration::from_secs(15);
/// How long one send may block before the client is considered gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// The most frames written with one flush.
const BATCH_MAX: usize = 256;
/// Close code for a client that fell behind (private-use range 4000–4999).
pub const CLOSE_LAGGING: u16 = 4000;
/// Close code for a server shutdown ("going away").
pub const CLOSE_GOING_AWAY: u16 = 1001;

/// One event as a ready-to-send frame.
#[derive(Clone, Debug)]
pub struct Frame {
    pub seq: u64,
    pub text: Utf8Bytes,
}

/// A cheap, cloneable handle to the hub.
#[derive(Clone)]
pub struct Hub {
    /// How often clients are pinged; silent for three of these, they are dropped.
    ping_interval: Duration,
    store: Store,
    frames: broadcast::Sender<Frame>,
    shutdown: watch::Receiver<bool>,
}

impl Hub {
    /// Starts relaying the store's events; stops when the store closes.
    pub fn start(store: Store, shutdown: watch::Receiver<bool>) -> Hub {
        let (frames, _) = broadcast::channel(HUB_CAPACITY);
        let mut events = store.subscribe();
        let tx = frames.clone();
        let relay_store = store.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(e) => {
                        let _ = tx.send(Frame { seq: e.event.seq, text: Utf8Bytes::from(&*e.json) });
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        // Cannot happen unless this task starves; tell everyone to refetch.
                        tracing::warn!(missed = n, "hub fell behind the store");
                        let seq = relay_store.last_seq();
                        let _ = tx.send(Frame { seq, text: ServerMessage::resync_json(seq).into() });
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Hub { ping_interval: PING_INTERVAL, store, frames, shutdown }
    }

    /// The same hub with another ping interval (tests).
    pub fn with_ping_interval(mut self, every: Duration) -> Hub {
        self.ping_interval = every;
        self
    }

    /// How many clients are listening.
    pub fn clients(&self) -> usize {
        self.frames.receiver_count()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WsQuery {
    since: Option<u64>,
}

/// `GET /ws?since=SEQ`.
pub async fn ws_handler(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    crate::api::rest::Query(q): crate::api::rest::Query<WsQuery>,
) -> Response {
    let hub = state.hub.clone();
    // Subscribe before answering the upgrade: a client that gets its 101 is sure to see
    // every event committed after it (and, with `since`, the replay covers the rest).
    let rx = hub.frames.subscribe();
    // Clients only send pongs: a small read buffer and message cap keep each idle
    // connection cheap. Frames are queued in a write buffer and flushed per batch.
    ws.read_buffer_size(4 * 1024)
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
        .write_buffer_size(64 * 1024)
        .max_write_buffer_size(1 << 20)
        .on_upgrade(move |socket| serve_client(socket, hub, rx, q.since))
}

/// Why a client loop ended.
enum End {
    /// Close with this code and reason.
    Close(u16, String),
    /// The peer is gone or unresponsive: just drop the connection.
    Drop,
}

/// `rx` was subscribed before the log is read, so nothing falls between replay and live.
async fn serve_client(socket: WebSocket, hub: Hub, mut rx: broadcast::Receiver<Frame>, since: Option<u64>) {
    let (mut sink, mut stream) = socket.split();
    let mut shutdown = hub.shutdown.clone();
    let end = async {
        if *shutdown.borrow() {
            return Err(End::Close(CLOSE_GOING_AWAY, "server shutting down".into()));
        }
        let mut last = 0u64;
        if let Some(since) = since {
            last = since;
            loop {
                match hub.store.events_since(last, 1000).await {
                    Ok(page) if page.is_empty() => break,
                    Ok(page) => {
                        for e in page {
                            send(&mut sink, Message::Text(Utf8Bytes::from(&*e.json))).await?;
                            last = e.event.seq;
                        }
                    }
                    Err(StoreError::Gone { .. }) => {
                        last = hub.store.last_seq();
                        send(&mut sink, Message::Text(ServerMessage::resync_json(last).into())).await?;
                        break;
                    }
                    Err(e) => return Err(End::Close(1011, e.to_string())),
                }
            }
        }
        let every = hub.ping_interval;
        let mut ping = tokio::time::interval_at(Instant::now() + every, every);
        let mut heard = Instant::now();
        loop {
            tokio::select! {
                frame = rx.recv() => {
                    // Write whatever else is already queued too, then flush once: one
                    // syscall for a burst instead of one per event.
                    let mut next = Some(frame);
                    let mut batch = 0;
                    while let Some(frame) = next.take() {
                        match frame {
                            Ok(f) if f.seq > last => {
                                last = f.seq;
                                batch += 1;
                                feed(&mut sink, Message::Text(f.text)).await?;
                            }
                            Ok(_) => {} // already replayed
                            Err(broadcast::error::RecvError::Lagged(_)) => {
                                return Err(End::Close(CLOSE_LAGGING, format!("too slow: resume with ?since={last}")));
                            }
                            Err(broadcast::error::RecvError::Closed) => {
                                return Err(End::Close(CLOSE_GOING_AWAY, "server shutting down".into()));
                            }
                        }
                        if batch < BATCH_MAX {
                            next = match rx.try_recv() {
                                Ok(f) => Some(Ok(f)),
                                Err(broadcast::error::TryRecvError::Lagged(n)) => Some(Err(broadcast::error::RecvError::Lagged(n))),
                                Err(_) => None,
                            };
                        }
                    }
                    flush(&mut sink).await?;
                },
                msg = stream.next() => match msg {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Err(End::Drop),
                    Some(Ok(_)) => heard = Instant::now(), // pongs and anything else: alive
                },
                _ = ping.tick() => {
                    if heard.elapsed() > every * 3 {
                        return Err(End::Drop);
                    }
                    send(&mut sink, Message::Ping(Default::default())).await?;
                }
                Ok(()) = shutdown.changed() => {
                    if *shutdown.borrow() {
                        return Err(End::Close(CLOSE_GOING_AWAY, "server shutting down".into()));
                    }
                }
            }
        }
        #[allow(unreachable_code)]
        Ok::<(), End>(())
    }
    .await;
    if let Err(End::Close(code, reason)) = end {
        let frame = CloseFrame { code, reason: reason.into() };
        let _ = timeout(Duration::from_secs(1), sink.send(Message::Close(Some(frame)))).await;
    }
}

/// Sends one message now (or gives up on a peer that blocks too long).
async fn send<S>(sink: &mut S, msg: Message) -> Result<(), End>
where
    S: futures::Sink<Message> + Unpin,
{
    match timeout(SEND_TIMEOUT, sink.send(msg)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(End::Drop),
    }
}

/// Queues one message; [`flush`] writes the queue.
async fn feed<S>(sink: &mut S, msg: Message) -> Result<(), End>
where
    S: futures::Sink<Message> + Unpin,
{
    match timeout(SEND_TIMEOUT, sink.feed(msg)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(End::Drop),
    }
}

async fn flush<S>(sink: &mut S) -> Result<(), End>
where
    S: futures::Sink<Message> + Unpin,
{
    match timeout(SEND_TIMEOUT, sink.flush()).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(End::Drop),
    }
}
