//! The hub: relays committed events from the store to every WebSocket client.
//!
//! Fan-out is done by a few shards (one per core, each on its own thread), each owning
//! the sockets of its clients and writing every event to all of them in one pass: one
//! wake per shard per event instead of one (or two) per client, which is what makes 1000
//! listeners cheap. A shard turns each event into the bytes of a WebSocket text frame
//! once; its clients share them (a refcount, not a copy) and the shard writes them
//! straight to each socket, with one `send` on the descriptor recorded when the
//! connection was accepted ([`SocketFd`]). A client's own task only replays what it
//! missed, then hands its socket to a shard. Clients send nothing but pongs and closes, so
//! the shard reads their sockets (with tungstenite, which also answers their pings) once
//! per ping interval instead of waking for them.
//!
//! A client that cannot keep up queues shared frames; once [`HUB_CAPACITY`] of them or
//! [`HUB_QUEUE_BYTES`] are queued it is closed with a reason and resumes with `?since=`,
//! so its memory is bounded.

use crate::http::{AppError, Query, SocketFd};
use crate::store::{LoggedEvent, Store, StoreError};
use crate::sync::ServerMessage;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures::sink::Sink;
use futures::Stream;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::{timeout, Instant};
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame, Frame};
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::Message;

/// The most frames a slow client may have queued before it is closed...
pub const HUB_CAPACITY: usize = 8192;
/// ...and the most bytes (frames are shared between clients, so this bounds what one
/// client can keep alive, not what it costs alone).
pub const HUB_QUEUE_BYTES: usize = 4 << 20;
/// How often the server pings; a client silent for three intervals is dropped.
pub const PING_INTERVAL: Duration = Duration::from_secs(15);
/// How long one send may block before the client is considered gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// The most events taken from the store's bus for one pass over the clients.
const BATCH_MAX: usize = 256;
/// The most queued frames given to one write.
const WRITE_SLICES: usize = 64;
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
    /// Starts one shard per core, each on its own thread pinned to its own core,
    /// listening to the store's events; they stop when the store closes or at shutdown.
    ///
    /// Own threads, not tasks of the server's runtime: its scheduler ran the shards
    /// woken by one event one after the other on the same worker (the second sat in the
    /// first's queue), which halved the fan-out's speed. Pinned, because the kernel did the
    /// same with threads: woken together by the store while the other core was busy, both
    /// often queued on one core and stayed there, and the last clients got the event a
    /// millisecond later. The price: a shard cannot leave a core that something else keeps
    /// busy (with a busy loop on one core, p99 was ~0.5 ms worse than unpinned). Their
    /// sockets stay registered with the server's runtime, whose I/O driver wakes a shard
    /// when a full socket drains.
    pub fn start(store: Store, shutdown: watch::Receiver<bool>) -> Hub {
        let ping_interval = Arc::new(watch::Sender::new(PING_INTERVAL));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
        let cpus = allowed_cpus();
        let shards = (0..cores)
            .map(|i| {
                let (control, joins) = mpsc::unbounded_channel();
                // Subscribed now, before any client: see `Shard::join`.
                let shard = Shard { seq: 0, members: Vec::new() };
                let run = shard.run(store.subscribe(), ping_interval.subscribe(), joins, shutdown.clone());
                // One core each, when there are several shards and enough cores to go
                // round (a CPU quota can leave fewer shards than the cores it may use).
                let cpu = if cores > 1 && cpus.len() >= cores { cpus.get(i).copied() } else { None };
                let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build();
                let spawned = runtime.map_err(|e| e.to_string()).and_then(|rt| {
                    std::thread::Builder::new()
                        .name(format!("maestro-fanout-{i}"))
                        .spawn(move || {
                            if let Some(cpu) = cpu {
                                pin_to(cpu);
                            }
                            // No cooperative budget: it made every 128th write return
                            // Pending, so an event reached a shard's clients in several passes.
                            rt.block_on(tokio::task::coop::unconstrained(run))
                        })
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

/// The CPUs this process may run on, lowest first (none where that cannot be known).
fn allowed_cpus() -> Vec<usize> {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{sched_getaffinity, CpuSet};
        if let Ok(set) = sched_getaffinity(nix::unistd::Pid::from_raw(0)) {
            return (0..CpuSet::count()).filter(|&cpu| set.is_set(cpu).unwrap_or(false)).collect();
        }
    }
    Vec::new()
}

/// Keeps the calling thread on one CPU; where it cannot, the thread runs where it may.
fn pin_to(cpu: usize) {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{sched_setaffinity, CpuSet};
        let mut set = CpuSet::new();
        let pinned = set.set(cpu).and_then(|()| sched_setaffinity(nix::unistd::Pid::from_raw(0), &set));
        if let Err(e) = pinned {
            tracing::debug!(cpu, error = %e, "cannot pin a fan-out thread");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpu;
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WsQuery {
    since: Option<u64>,
}

/// A client's connection after the upgrade. The hub writes whole frames to the stream
/// underneath; the WebSocket layer reads (pongs, closes) and answers pings.
type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// `GET /ws?since=SEQ`: a WebSocket upgrade (RFC 6455), done here rather than by axum's
/// extractor so that the hub owns the raw stream its shared frames are written to.
pub async fn ws_handler(
    State(hub): State<Hub>,
    Query(q): Query<WsQuery>,
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
fn accept_key(headers: &HeaderMap) -> Result<String, AppError> {
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

/// Appends the bytes of one complete frame from the server (never masked) to `out`.
fn format_into(out: &mut Vec<u8>, frame: Frame) {
    out.reserve(frame.len());
    frame.format(out).expect("formatting into memory cannot fail");
}

/// The bytes of one complete frame from the server.
fn wire(frame: Frame) -> Bytes {
    let mut out = Vec::new();
    format_into(&mut out, frame);
    out.into()
}

/// A text frame carrying `json`.
fn text(json: &str) -> Frame {
    Frame::message(Bytes::copy_from_slice(json.as_bytes()), OpCode::Data(Data::Text), true)
}

/// The bytes of a text frame carrying `json`.
fn text_frame(json: &str) -> Bytes {
    wire(text(json))
}

/// A close frame with a code and a reason.
fn close_frame(code: u16, reason: &str) -> Bytes {
    wire(Frame::close(Some(CloseFrame { code: CloseCode::from(code), reason: reason.into() })))
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
async fn serve_client(
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

/// A client that has replayed up to `member.last`, with the bus receiver it subscribed
/// before its replay (to fill the gap up to where the shard is).
struct Join(Member, broadcast::Receiver<Arc<LoggedEvent>>);

/// One client, as its shard sees it.
struct Member {
    ws: Socket,
    /// Its socket's descriptor, to write to directly; it stays open as long as `ws` does.
    fd: Option<SocketFd>,
    /// The newest seq queued for it.
    last: u64,
    /// The newest seq the socket has accepted (where a lagging client resumes).
    sent: u64,
    /// Frames (with the seq each carries, 0 for control frames) the socket has not
    /// taken yet: empty unless the peer is slow.
    queue: VecDeque<(u64, Bytes)>,
    /// The bytes in `queue`.
    queued: usize,
    /// How much of the front frame the socket has taken.
    written: usize,
    /// Reading may have queued an answer of the WebSocket layer's own (a pong to the
    /// peer's ping): it goes out before our next frame, never inside one.
    answers: bool,
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
    fn push(&mut self, seq: u64, frame: Bytes) {
        if self.closing.is_some() {
            return;
        }
        if self.queue.len() >= HUB_CAPACITY || self.queued + frame.len() > HUB_QUEUE_BYTES {
            self.drop_queued();
            self.fell_behind(self.sent);
        } else {
            self.queued += frame.len();
            self.queue.push_back((seq, frame));
        }
    }

    /// Forgets what is queued, but the rest of a frame the socket has begun to take.
    fn drop_queued(&mut self) {
        self.queue.truncate(usize::from(self.written > 0));
        self.queued = self.queue.iter().map(|(_, f)| f.len()).sum();
    }

    /// Closes a client that fell behind, telling it where to resume from.
    fn fell_behind(&mut self, resume_from: u64) {
        self.close(CLOSE_LAGGING, format!("too slow: resume with ?since={resume_from}"));
    }

    /// Queues a close frame (after what is already queued); nothing is queued after it.
    fn close(&mut self, code: u16, reason: String) {
        if self.closing.is_none() {
            let frame = close_frame(code, &reason);
            self.queued += frame.len();
            self.queue.push_back((0, frame));
            self.closing = Some(Instant::now() + SEND_TIMEOUT);
        }
    }

    /// Reads everything the peer has sent; ready once it closed or failed. Only between
    /// our frames: the WebSocket layer may write an answer while it reads.
    fn poll_peer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        debug_assert_eq!(self.written, 0);
        loop {
            match Pin::new(&mut self.ws).poll_next(cx) {
                Poll::Ready(Some(Ok(Message::Close(_)))) | Poll::Ready(Some(Err(_))) | Poll::Ready(None) => {
                    return Poll::Ready(())
                }
                Poll::Ready(Some(Ok(_))) => {
                    self.heard = Instant::now();
                    self.answers = true;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Reads what the peer sent since the last call, without asking to be woken for
    /// more: false once it closed, failed or stayed silent for `silence`.
    fn still_there(&mut self, silence: Duration) -> bool {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        // In the middle of a frame (the socket is full) there is nothing to read between.
        (self.written > 0 || self.poll_peer(&mut cx).is_pending()) && self.heard.elapsed() <= silence
    }

    /// Writes as much of the queue as the socket takes, without waiting.
    fn pump(&mut self, cx: &mut Context<'_>) -> Pumped {
        if self.answers {
            match Pin::new(&mut self.ws).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.answers = false,
                Poll::Ready(Err(_)) => return Pumped::Done,
                Poll::Pending => return Pumped::Blocked,
            }
        }
        while !self.queue.is_empty() {
            // Everything queued in one write (a burst of events is one syscall).
            let mut slices = [std::io::IoSlice::new(&[]); WRITE_SLICES];
            for (slice, (_, frame)) in slices.iter_mut().zip(&self.queue) {
                *slice = std::io::IoSlice::new(frame);
            }
            slices[0] = std::io::IoSlice::new(&self.queue[0].1[self.written..]);
            let count = self.queue.len().min(WRITE_SLICES);
            let sent = self.fd.and_then(|fd| send_now(fd, &slices[..count]));
            let mut n = match sent {
                Some(Ok(n)) => n,
                Some(Err(_)) => return Pumped::Done,
                // Full (or no descriptor): tokio's write sees that too and arranges for the
                // shard to be woken once the socket drains.
                None => match Pin::new(self.ws.get_mut()).poll_write_vectored(cx, &slices[..count]) {
                    Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return Pumped::Done,
                    Poll::Ready(Ok(n)) => n,
                    Poll::Pending => return Pumped::Blocked,
                },
            };
            while let Some((seq, frame)) = self.queue.front() {
                let left = frame.len() - self.written;
                if n < left {
                    self.written += n;
                    break;
                }
                n -= left;
                self.sent = self.sent.max(*seq);
                self.written = 0;
                self.queued -= frame.len();
                self.queue.pop_front();
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

/// Writes to the socket without waiting: `None` when it is full.
#[cfg(target_os = "linux")]
fn send_now(fd: SocketFd, frames: &[std::io::IoSlice<'_>]) -> Option<std::io::Result<usize>> {
    use nix::sys::socket::{send, sendmsg, MsgFlags};
    let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
    let sent = match frames {
        [one] => send(fd.0, one, flags),
        _ => sendmsg::<()>(fd.0, frames, &[], flags, None),
    };
    match sent {
        Ok(0) => Some(Err(std::io::ErrorKind::WriteZero.into())),
        Ok(n) => Some(Ok(n)),
        Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => None,
        Err(e) => Some(Err(e.into())),
    }
}

/// Elsewhere every write goes through tokio.
#[cfg(not(target_os = "linux"))]
fn send_now(_: SocketFd, _: &[std::io::IoSlice<'_>]) -> Option<std::io::Result<usize>> {
    None
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
                    // Each event becomes a frame once; members share its bytes.
                    let batch: Vec<(u64, Bytes)> = batch.iter().map(|e| (e.event.seq, text_frame(&e.json))).collect();
                    self.seq = batch.iter().map(|f| f.0).fold(self.seq, u64::max);
                    for m in &mut self.members {
                        for (seq, frame) in &batch {
                            if *seq > m.last {
                                m.last = *seq;
                                m.push(*seq, frame.clone());
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
                    // An empty ping, the same two bytes for everyone.
                    let ping = wire(Frame::ping(Bytes::new()));
                    for m in &mut self.members {
                        m.push(0, ping.clone());
                    }
                    blocked = self.pump_all().await;
                }
                _ = &mut stopping => {
                    for m in &mut self.members {
                        m.drop_queued();
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
                    m.push(e.event.seq, text_frame(&e.json));
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
        if m.queue.is_empty() && !m.answers && m.closing.is_none() {
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
