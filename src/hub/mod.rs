//! The hub: relays committed events from the store to every WebSocket client.
//!
//! Fan-out is done by a few shards (one per core, each on its own thread), each owning
//! the sockets of its clients and writing every event to all of them in one pass: one
//! wake per shard per event instead of one (or two) per client, which is what makes 1000
//! listeners cheap. A shard turns each event into the bytes of a WebSocket text frame
//! once; its clients share them (a refcount, not a copy) and the shard writes them
//! straight to each socket, with one `send` on the descriptor recorded when the
//! connection was accepted ([`SocketFd`](crate::http::SocketFd)). A client's own task only replays what it
//! missed, then hands its socket to a shard. Clients send nothing but pongs and closes, so
//! the shard reads their sockets (with tungstenite, which also answers their pings) once
//! per ping interval instead of waking for them.
//!
//! A client that cannot keep up queues shared frames; once [`HUB_CAPACITY`] of them or
//! [`HUB_QUEUE_BYTES`] are queued it is closed with a reason and resumes with `?since=`,
//! so its memory is bounded.

mod cpu;
mod frame;
mod member;
mod replay;
mod send;
mod shard;
mod upgrade;

pub use upgrade::{ws_handler, WsQuery};

use cpu::{allowed_cpus, pin_to};
use member::Join;
use shard::Shard;

use crate::store::Store;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

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
    /// woken by one event one after the other on the same worker. Pinned, because the
    /// kernel queued threads woken together on one core. The price: a shard cannot leave a
    /// core that something else keeps busy (measured in docs/PERF.md). Their
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
                            // No cooperative budget: it would cut a shard's pass over its
                            // clients into several.
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
