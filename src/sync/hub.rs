//! The hub: relays committed events from the store to every WebSocket client.
//!
//! Fan-out is done by a few shards (one per core, each on its own thread), each owning
//! the sockets of its clients and writing every event to all of them in one pass: one
//! wake per shard per event instead of one (or two) per client, which is what makes 1000
//! listeners cheap. A shard turns each event into a WebSocket text frame once; its
//! clients share it (a refcount, not a copy). A client's own task only replays what it missed, then hands its
//! socket to a shard. Clients send nothing but pongs and closes, so the shard reads their
//! sockets once per ping interval instead of waking for them.
//!
//! A client that cannot keep up queues shared frames; once [`HUB_CAPACITY`] are queued
//! it is closed with a reason and resumes with `?since=`, so its memory is bounded.

use crate::server::AppState;
use crate::store::{LoggedEvent, Store, StoreError};
use crate::sync::ServerMessage;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures::sink::Sink;
use futures::{SinkExt, Stream};
use serde::Deserialize;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::{timeout, Instant};

/// The most frames a slow client may have queued before it is closed.
pub const HUB_CAPACITY: usize = 8192;
/// How often the server pings; a client silent for three intervals is dropped.
pub const PING_INTERVAL: Duration = Duration::from_secs(15);
/// How long one send may block before the client is considered gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// The most events taken from the store's bus for one pass over the clients.
const BATCH_MAX: usize = 256;
/// Close code for a client that fell behind (private-use range 4000–4999).
pub const CLOSE_LAGGING: u16 = 4000;
/// Close code for a server shutdown ("going away").
pub const CLOSE_GOING_AWAY: u16 = 1001;

/// A cheap, cloneable handle to the hub.
#[derive(Clone)]
pub struct Hub {
    /// How often clients are pinged; shards follow changes (tests shorten it).
    ping_interval: Arc<watch::Sender<Duration>>,
    store: Store,
    /// Where new clients go, round robin.
    shards: Arc<[mpsc::UnboundedSender<Join>]>,
    next_shard: Arc<AtomicUsize>,
    shutdown: watch::Receiver<bool>,
}

impl Hub {
    /// Starts one shard per core, each on its own thread, listening to the store's
    /// events; they stop when the store closes or at shutdown.
    ///
    /// Own threads, not tasks of the server's runtime: its scheduler ran the shards
    /// woken by one event one after the other on the same worker (the second sat in the
    /// first's queue), which halved the fan-out's speed. Their sockets stay registered
    /// with the server's runtime, whose I/O driver wakes a shard when a full socket drains.
    pub fn start(store: Store, shutdown: watch::Receiver<bool>) -> Hub {
        let ping_interval = Arc::new(watch::Sender::new(PING_INTERVAL));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
        let shards = (0..cores)
            .map(|i| {
                let (control, joins) = mpsc::unbounded_channel();
                // Subscribed now, before any client: see `Shard::join`.
                let shard = Shard { seq: 0, members: Vec::new() };
                let run = shard.run(store.subscribe(), ping_interval.subscribe(), joins, shutdown.clone());
                let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build();
                let spawned = runtime.map_err(|e| e.to_string()).and_then(|rt| {
                    std::thread::Builder::new()
                        .name(format!("maestro-fanout-{i}"))
                        // No cooperative budget: it made every 128th write return Pending,
                        // so an event reached a shard's clients in several passes.
                        .spawn(move || rt.block_on(tokio::task::coop::unconstrained(run)))
                        .map_err(|e| e.to_string())
                });
                if let Err(e) = spawned {
                    // Its join channel is closed: clients sent to it are refused.
                    tracing::error!(error = %e, "cannot start a fan-out thread");
                }
                control
            })
            .collect();
        Hub { ping_interval, store, shards, next_shard: Arc::default(), shutdown }
    }

    /// The same hub with another ping interval (tests).
    pub fn with_ping_interval(self, every: Duration) -> Hub {
        self.ping_interval.send_replace(every);
        self
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
    let rx = hub.store.subscribe();
    // Clients only send pongs: a small read buffer and message cap keep each idle
    // connection cheap. Frames are queued in a write buffer and flushed per batch.
    ws.read_buffer_size(4 * 1024)
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
        .write_buffer_size(64 * 1024)
        .max_write_buffer_size(1 << 20)
        .on_upgrade(move |socket| serve_client(socket, hub, rx, q.since))
}

/// Why a client was let go.
enum End {
    /// Close with this code and reason.
    Close(u16, String),
    /// The peer is gone or unresponsive: just drop the connection.
    Drop,
}

/// Replays what the client missed, then hands its socket to a shard. `rx` was subscribed
/// before the log is read, so nothing falls between replay and live.
async fn serve_client(mut ws: WebSocket, hub: Hub, rx: broadcast::Receiver<Arc<LoggedEvent>>, since: Option<u64>) {
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
                        for e in page {
                            within_timeout(ws.feed(Message::Text(Utf8Bytes::from(&*e.json)))).await?;
                            last = e.event.seq;
                        }
                        within_timeout(ws.flush()).await?;
                    }
                    Err(StoreError::Gone { .. }) => {
                        last = hub.store.last_seq();
                        let resync = ServerMessage::resync_json(last).into();
                        within_timeout(ws.send(Message::Text(resync))).await?;
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
            let frame = CloseFrame { code, reason: reason.into() };
            let _ = timeout(Duration::from_secs(1), ws.send(Message::Close(Some(frame)))).await;
            return;
        }
        Err(End::Drop) => return,
    };

    let shard = &hub.shards[hub.next_shard.fetch_add(1, Ordering::Relaxed) % hub.shards.len()];
    let member =
        Member { ws, last, sent: last, queue: VecDeque::new(), unflushed: false, closing: None, heard: Instant::now() };
    // Fails only when the shard has ended: the server is going away.
    let _ = shard.send(Join(member, rx));
}

/// A client that has replayed up to `member.last`, with the bus receiver it subscribed
/// before its replay (to fill the gap up to where the shard is).
struct Join(Member, broadcast::Receiver<Arc<LoggedEvent>>);

/// One client, as its shard sees it.
struct Member {
    ws: WebSocket,
    /// The newest seq queued for it.
    last: u64,
    /// The newest seq the socket has accepted (where a lagging client resumes).
    sent: u64,
    /// Messages the socket has not accepted yet (empty unless the peer is slow).
    queue: VecDeque<(u64, Message)>,
    /// Accepted by the sink but maybe not written to the socket yet.
    unflushed: bool,
    /// Set once a close frame is queued: nothing more is sent, and the member is let go
    /// once the peer answers it, or at this deadline.
    closing: Option<Instant>,
    /// When the peer last sent anything (pongs, above all).
    heard: Instant,
}

/// How far a pump got.
enum Pumped {
    /// Everything queued is written.
    Idle,
    /// Waiting on the socket (full, or a close reply to come); it wakes the shard.
    Blocked,
    /// The peer is gone, or answered our close: let it go.
    Done,
}

impl Member {
    fn push(&mut self, seq: u64, msg: Message) {
        if self.closing.is_some() {
            return;
        }
        if self.queue.len() >= HUB_CAPACITY {
            self.queue.clear();
            self.fell_behind(self.sent);
        } else {
            self.queue.push_back((seq, msg));
        }
    }

    /// Closes a client that fell behind, telling it where to resume from.
    fn fell_behind(&mut self, resume_from: u64) {
        self.close(CLOSE_LAGGING, format!("too slow: resume with ?since={resume_from}"));
    }

    /// Queues a close frame (after what is already queued); nothing is queued after it.
    fn close(&mut self, code: u16, reason: String) {
        if self.closing.is_none() {
            self.queue.push_back((0, Message::Close(Some(CloseFrame { code, reason: reason.into() }))));
            self.closing = Some(Instant::now() + SEND_TIMEOUT);
        }
    }

    /// Reads everything the peer has sent; ready once it closed or failed.
    fn poll_peer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            match Pin::new(&mut self.ws).poll_next(cx) {
                Poll::Ready(Some(Ok(Message::Close(_)))) | Poll::Ready(Some(Err(_))) | Poll::Ready(None) => {
                    return Poll::Ready(())
                }
                Poll::Ready(Some(Ok(_))) => self.heard = Instant::now(),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Reads what the peer sent since the last call, without asking to be woken for
    /// more: false once it closed, failed or stayed silent for `silence`.
    fn still_there(&mut self, silence: Duration) -> bool {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        self.poll_peer(&mut cx).is_pending() && self.heard.elapsed() <= silence
    }

    /// Writes as much of the queue as the socket takes, without waiting.
    fn pump(&mut self, cx: &mut Context<'_>) -> Pumped {
        let mut ws = Pin::new(&mut self.ws);
        while !self.queue.is_empty() {
            match ws.as_mut().poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) => return Pumped::Done,
                Poll::Pending => return Pumped::Blocked,
            }
            let (seq, msg) = self.queue.pop_front().expect("not empty");
            if ws.as_mut().start_send(msg).is_err() {
                return Pumped::Done;
            }
            self.sent = self.sent.max(seq);
            self.unflushed = true;
        }
        if self.unflushed {
            match ws.as_mut().poll_flush(cx) {
                Poll::Ready(Ok(())) => self.unflushed = false,
                Poll::Ready(Err(_)) => return Pumped::Done,
                Poll::Pending => return Pumped::Blocked,
            }
        }
        if self.closing.is_none() {
            return Pumped::Idle;
        }
        // The close frame is out: wait for the peer's reply, reading what it sent, so that
        // dropping the socket sends a FIN, not a reset that could destroy the close frame.
        match self.poll_peer(cx) {
            Poll::Ready(()) => Pumped::Done,
            Poll::Pending => Pumped::Blocked,
        }
    }
}

/// A share of the clients and the task that writes every frame to them.
struct Shard {
    /// The newest seq taken from the store's bus.
    seq: u64,
    members: Vec<Member>,
}

impl Shard {
    /// Writes each of the store's events to every member until shutdown.
    async fn run(
        mut self,
        mut events: broadcast::Receiver<Arc<LoggedEvent>>,
        mut ping_interval: watch::Receiver<Duration>,
        mut joins: mpsc::UnboundedReceiver<Join>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut ping = tokio::time::interval(*ping_interval.borrow_and_update());
        ping.reset();
        let mut blocked = 0usize;
        let mut stopping = std::pin::pin!(async {
            // Without a sender (tests) nobody can stop us: wait forever.
            if shutdown.wait_for(|stop| *stop).await.is_err() {
                std::future::pending::<()>().await;
            }
        });
        loop {
            tokio::select! {
                event = events.recv() => {
                    // This event, and whatever else is already queued, in one pass.
                    let mut batch = Vec::new();
                    let mut lagged = false;
                    match event {
                        Ok(e) => batch.push(e),
                        Err(broadcast::error::RecvError::Lagged(_)) => lagged = true,
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                    while batch.len() < BATCH_MAX {
                        match events.try_recv() {
                            Ok(e) => batch.push(e),
                            Err(broadcast::error::TryRecvError::Lagged(_)) => lagged = true,
                            Err(_) => break,
                        }
                    }
                    if lagged {
                        // This shard starved: its clients resume from where they are.
                        for m in &mut self.members {
                            m.fell_behind(m.last);
                        }
                    }
                    // Each event becomes a text frame once; members share it.
                    let batch: Vec<(u64, Utf8Bytes)> =
                        batch.iter().map(|e| (e.event.seq, Utf8Bytes::from(&*e.json))).collect();
                    self.seq = batch.iter().map(|f| f.0).fold(self.seq, u64::max);
                    for m in &mut self.members {
                        for (seq, text) in &batch {
                            if *seq > m.last {
                                m.last = *seq;
                                m.push(*seq, Message::Text(text.clone()));
                            }
                        }
                    }
                    blocked = self.pump_all().await;
                }
                Some(Join(m, rx)) = joins.recv() => {
                    self.join(m, rx);
                    blocked = self.pump_all().await;
                }
                // Sockets that were full took more: write what is queued for them.
                b = std::future::poll_fn(|cx| pump_blocked(&mut self.members, cx, blocked)), if blocked > 0 => blocked = b,
                Ok(()) = ping_interval.changed() => {
                    let every = *ping_interval.borrow_and_update();
                    ping = tokio::time::interval_at(Instant::now() + every, every);
                }
                _ = ping.tick() => {
                    let now = Instant::now();
                    let silence = ping.period() * 3;
                    // Peers gone, silent for three pings, or not taking even a close frame
                    // are dropped.
                    self.members.retain_mut(|m| {
                        m.closing.is_none_or(|deadline| now < deadline) && m.still_there(silence)
                    });
                    for m in &mut self.members {
                        m.push(0, Message::Ping(Default::default()));
                    }
                    blocked = self.pump_all().await;
                }
                _ = &mut stopping => {
                    for m in &mut self.members {
                        m.queue.clear();
                        m.close(CLOSE_GOING_AWAY, "server shutting down".into());
                    }
                    let _ = timeout(Duration::from_secs(1), std::future::poll_fn(|cx| {
                        if pump_members(&mut self.members, cx) == 0 { Poll::Ready(()) } else { Poll::Pending }
                    }))
                    .await;
                    return;
                }
            }
        }
    }

    /// Takes in a client that replayed up to `m.last`. Frames up to `self.seq` went
    /// out before it joined; `rx`, subscribed before its replay, still holds those it
    /// missed meanwhile. Every later frame reaches it through the shard.
    fn join(&mut self, mut m: Member, mut rx: broadcast::Receiver<Arc<LoggedEvent>>) {
        loop {
            match rx.try_recv() {
                Ok(e) if e.event.seq > self.seq => break,
                Ok(e) if e.event.seq > m.last => {
                    m.last = e.event.seq;
                    m.push(e.event.seq, Message::Text(Utf8Bytes::from(&*e.json)));
                }
                Ok(_) => {}
                Err(broadcast::error::TryRecvError::Lagged(_)) => {
                    m.fell_behind(m.last);
                    break;
                }
                Err(_) => break,
            }
        }
        self.members.push(m);
    }

    /// Pumps every member now; returns how many are left blocked.
    async fn pump_all(&mut self) -> usize {
        std::future::poll_fn(|cx| Poll::Ready(pump_members(&mut self.members, cx))).await
    }
}

/// Writes what is queued for each member, lets go of those done; returns how many are
/// blocked (their sockets wake this task when they drain).
fn pump_members(members: &mut Vec<Member>, cx: &mut Context<'_>) -> usize {
    let mut blocked = 0;
    members.retain_mut(|m| {
        if m.queue.is_empty() && !m.unflushed && m.closing.is_none() {
            return true;
        }
        match m.pump(cx) {
            Pumped::Idle => true,
            Pumped::Blocked => {
                blocked += 1;
                true
            }
            Pumped::Done => false,
        }
    });
    blocked
}

/// Pumps the members; ready with the new number of blocked ones once it differs from
/// `blocked` (until then, every blocked socket has registered to wake us).
fn pump_blocked(members: &mut Vec<Member>, cx: &mut Context<'_>, blocked: usize) -> Poll<usize> {
    match pump_members(members, cx) {
        now if now == blocked => Poll::Pending,
        now => Poll::Ready(now),
    }
}

/// Runs a sink operation; a peer that keeps it blocked for [`SEND_TIMEOUT`] is dropped.
async fn within_timeout<F, E>(op: F) -> Result<(), End>
where
    F: std::future::Future<Output = Result<(), E>>,
{
    match timeout(SEND_TIMEOUT, op).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(End::Drop),
    }
}
