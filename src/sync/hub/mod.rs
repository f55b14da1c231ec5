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

use crate::http::{ApiQuery, AppError, SocketFd};
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

mod cpu;
mod frame;
mod member;
mod replay;
mod send;
mod shard;
mod upgrade;

use cpu::*;
use frame::*;
use member::*;
use replay::*;
use send::*;
use shard::*;
use upgrade::*;
pub use upgrade::{ws_handler, WsQuery};
