//! The store: the only writer of Maestro's state. No HTTP here.
//!
//! One writer thread owns the database. Mutations queue up as [`Command`]s; the thread
//! takes whatever is queued (group commit), plans and applies each command in turn, writes
//! state and events in one transaction, waits for it to be durable, and only then publishes
//! the events and answers the callers. Reads come from an in-memory copy of the committed
//! state and never wait for a disk.
//!
//! Layout: `command` (what callers ask and get back), `error` (`StoreError`), `config`
//! (how to open it, its budgets), `state` (the domain: queries and planners, no I/O),
//! `writer` (the thread), `backend` (the storage seam) with `sqlite` and `pg` beside it,
//! `recent` (the newest events in memory), `foreign` (checks on other nodes' events),
//! `agree` (nodes agreeing on access settings). This file: the [`Store`] handle.

pub mod agree;
pub mod backend;
mod command;
mod config;
mod error;
mod foreign;
mod pg;
mod recent;
mod sqlite;
pub mod state;
mod writer;

pub use command::{Command, IdempotencyKey, Outcome, WorkspaceMade, WorkspacePatch};
pub use config::{
    Footprint, StoreConfig, EVENT_MAX_BYTES, IDEMPOTENCY_BYTES_MAX, IDEMPOTENCY_KEYS_MAX, PAGE_BYTES, RETAIN_BYTES,
    STATE_BYTES,
};
pub use error::StoreError;
pub use sqlite::Sqlite;

use crate::model::{Event, Health};
use command::check_directories;
use state::State;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// A committed event and its JSON, serialised once and shared by every listener.
#[derive(Clone, Debug)]
pub struct LoggedEvent {
    pub event: Event,
    pub json: Arc<str>,
}

/// How many events the bus buffers for a slow listener before it counts as lagging.
pub const BUS_CAPACITY: usize = 16_384;

enum Job {
    Mutate {
        cmd: Command,
        key: Option<IdempotencyKey>,
        reply: oneshot::Sender<Result<Outcome, StoreError>>,
    },
    ReadEvents {
        since: u64,
        limit: usize,
        reply: oneshot::Sender<Result<Vec<Arc<LoggedEvent>>, StoreError>>,
    },
    /// What an `Idempotency-Key` was recorded with: its fingerprint and outcome JSON.
    ReadKey {
        key: String,
        reply: oneshot::Sender<Result<Option<(String, String)>, StoreError>>,
    },
    /// Other nodes committed: apply what they did.
    CatchUp,
    /// Catch up now, and say when done.
    Sync(oneshot::Sender<()>),
    /// These nodes stopped beating: fail the sessions they ran.
    NodesGone(Vec<String>),
    /// Makes the writer panic, as a bug would (tests of what happens then).
    #[cfg(test)]
    Panic,
}

/// The committed state and the `seq` of the last event it includes, read together so a
/// client can merge a fetched list with the events that follow it.
#[derive(Clone, Debug, Default)]
pub struct Committed {
    pub state: State,
    pub seq: u64,
}

/// A cheap, cloneable handle to the store.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    jobs: Option<mpsc::Sender<Job>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The committed state, for readers.
    state: Arc<RwLock<Committed>>,
    bus: broadcast::Sender<Arc<LoggedEvent>>,
    last_seq: Arc<AtomicU64>,
    /// `State::bytes` of the committed state.
    state_bytes: Arc<AtomicU64>,
    started: Instant,
    health: Arc<Vitals>,
    recent: Arc<RwLock<recent::Recent>>,
    /// This node, when it shares its database with others.
    node: Option<backend::NodeInfo>,
    /// The nodes alive now (this one included), id → URL, as the last heartbeat saw them.
    peers: Arc<RwLock<Vec<(String, String)>>>,
    /// What setup commands are signed with (`StoreConfig::setup_key`).
    setup_key: crate::mac::Secret,
}

/// What the writer tells health about itself.
#[derive(Default)]
struct Vitals {
    /// The last commit's storage error, until a later commit succeeds.
    degraded: Mutex<Option<String>>,
    /// Set once when the writer thread is gone.
    failed: watch::Sender<Option<String>>,
    /// What the store holds on disk besides the entities, as of the last commit.
    footprint: Mutex<Footprint>,
}

impl Drop for Inner {
    /// Closing the queue lets the writer finish what is queued and close the file.
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(h) = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = h.join();
        }
    }
}

impl Store {
    /// Opens the SQLite file the config names (or an in-memory one), loads the committed
    /// state and starts the writer thread.
    pub fn open(config: StoreConfig) -> Result<Store, StoreError> {
        if let Some(url) = config.database_url.clone() {
            // The `postgres` client blocks on a runtime of its own, so it is opened on a
            // plain thread (never one of the server's), and then used only by the writer.
            let mut config = config;
            let api = config.api_url.clone();
            config.node.get_or_insert_with(|| backend::NodeInfo {
                id: format!("node_{}", uuid::Uuid::new_v4().simple()),
                url: api.trim_end_matches("/api").to_string(),
            });
            let opened = std::thread::scope(|s| {
                s.spawn(|| Store::open_on(Box::new(pg::Postgres::connect(&url)?), config)).join()
            });
            return opened.unwrap_or_else(|_| Err(StoreError::Failed("opening the database panicked".into())));
        }
        let backend = Sqlite::open(config.path.as_deref(), config.max_file_bytes)?;
        Store::open_on(Box::new(backend), config)
    }

    /// The same on any backend (`config.path` and `max_file_bytes` are the backend's
    /// business then).
    pub fn open_on(mut backend: Box<dyn backend::Backend>, config: StoreConfig) -> Result<Store, StoreError> {
        let loaded = backend.load()?;
        let state = Arc::new(RwLock::new(Committed { state: loaded.state.clone(), seq: loaded.last_seq }));
        let (bus, _) = broadcast::channel(BUS_CAPACITY);
        let last_seq = Arc::new(AtomicU64::new(loaded.last_seq));
        let bytes = loaded.state.bytes();
        let state_bytes = Arc::new(AtomicU64::new(bytes));
        let (tx, rx) = mpsc::channel(4096);
        let catching = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let peers = Arc::new(RwLock::new(Vec::new()));
        if let Some(me) = &config.node {
            backend.follow(me, tell(tx.downgrade(), catching.clone(), peers.clone()))?;
        }
        // Times never go back, even if the wall clock does across a restart.
        let st = &loaded.state;
        let last_now = (st.projects.values().map(|p| p.updated_at))
            .chain(st.tasks.values().map(|t| t.updated_at))
            .chain(st.sessions.values().map(|s| s.last_activity))
            .chain(st.workspaces.values().map(|w| w.updated_at))
            .max()
            .unwrap_or(0);
        let health = Arc::new(Vitals::default());
        let recent = Arc::new(RwLock::new(recent::Recent::new()));
        *health.footprint.lock().unwrap_or_else(|e| e.into_inner()) = loaded.footprint;
        let writer = writer::Writer {
            backend,
            work: loaded.state,
            shared: state.clone(),
            bus: bus.clone(),
            last_seq: last_seq.clone(),
            bytes,
            committed_bytes: state_bytes.clone(),
            footprint: loaded.footprint,
            recent: recent.clone(),
            config,
            last_now,
            health: health.clone(),
            catching,
        };
        let node = writer.config.node.clone();
        let setup_key = writer.config.setup_key.clone();
        let vitals = health.clone();
        let handle = std::thread::Builder::new()
            .name("maestro-store".into())
            .spawn(move || {
                // A panic here must not leave a server that looks healthy and cannot write.
                let ended = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| writer.run(rx)));
                if let Err(panic) = ended {
                    let what = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "a panic".into());
                    tracing::error!(panic = what, "the store's writer thread died");
                    vitals.failed.send_replace(Some(format!("the writer thread panicked: {what}")));
                }
            })
            .map_err(|e| StoreError::Storage(format!("cannot start writer thread: {e}")))?;
        Ok(Store {
            inner: Arc::new(Inner {
                jobs: Some(tx),
                writer: Mutex::new(Some(handle)),
                state,
                bus,
                last_seq,
                state_bytes,
                started: Instant::now(),
                health,
                recent,
                node,
                peers,
                setup_key,
            }),
        })
    }

    /// The key this store signs setup commands with, for checking them before one runs.
    pub fn setup_key(&self) -> &crate::mac::Secret {
        &self.inner.setup_key
    }

    /// This node's id, when several nodes share the database (`None`: this is the only one).
    pub fn node_id(&self) -> Option<&str> {
        self.inner.node.as_ref().map(|n| n.id.as_str())
    }

    /// Where a node alive now is reached (its base URL), by its id.
    pub fn node_url(&self, id: &str) -> Option<String> {
        let peers = self.inner.peers.read().unwrap_or_else(|e| e.into_inner());
        peers.iter().find(|(n, _)| n == id).map(|(_, url)| url.clone())
    }

    /// Runs one mutation; returns once it is durable and its events are published.
    pub async fn execute(&self, cmd: Command, key: Option<IdempotencyKey>) -> Result<Outcome, StoreError> {
        check_directories(&cmd)?;
        let (reply, rx) = oneshot::channel();
        self.send(Job::Mutate { cmd, key, reply }).await?;
        rx.await.map_err(|_| self.gone())?
    }

    /// Retained events after `since`, oldest first, at most `limit` and about
    /// [`PAGE_BYTES`]; `Gone` when the log no longer reaches back that far. Recent ones
    /// come from memory, without waiting for the writer.
    pub async fn events_since(&self, since: u64, limit: usize) -> Result<Vec<Arc<LoggedEvent>>, StoreError> {
        if let Some(events) =
            self.inner.recent.read().unwrap_or_else(|e| e.into_inner()).after(since, limit, PAGE_BYTES)
        {
            return Ok(events);
        }
        let (reply, rx) = oneshot::channel();
        self.send(Job::ReadEvents { since, limit, reply }).await?;
        rx.await.map_err(|_| self.gone())?
    }

    /// What an earlier request with this `Idempotency-Key` got, when it was the same request
    /// (`KeyReused` when it was another): for a mutation whose work comes before its command
    /// (a workspace's git work), so that a retry does not do that work again.
    pub async fn recorded(&self, key: &IdempotencyKey) -> Result<Option<Outcome>, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.send(Job::ReadKey { key: key.key.clone(), reply }).await?;
        let Some((fingerprint, outcome)) = rx.await.map_err(|_| self.gone())?? else { return Ok(None) };
        if fingerprint != key.fingerprint {
            return Err(StoreError::KeyReused(format!(
                "Idempotency-Key {:?} was already used for a different request",
                key.key
            )));
        }
        Ok(Some(serde_json::from_str(&outcome)?))
    }

    async fn send(&self, job: Job) -> Result<(), StoreError> {
        let jobs = self.inner.jobs.as_ref().ok_or(StoreError::Closed)?;
        jobs.send(job).await.map_err(|_| self.gone())
    }

    /// Why the writer no longer answers: it died, or the store is closing.
    fn gone(&self) -> StoreError {
        match self.inner.health.failed.borrow().clone() {
            Some(why) => StoreError::Failed(why),
            None => StoreError::Closed,
        }
    }

    /// Resolves, with the reason, once the writer is gone for good.
    pub async fn failed(&self) -> String {
        let mut failed = self.inner.health.failed.subscribe();
        let why = failed.wait_for(Option::is_some).await.ok().and_then(|why| why.clone());
        match why {
            Some(why) => why,
            None => std::future::pending().await,
        }
    }

    /// Reads the committed state.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.inner.state.read().unwrap_or_else(|e| e.into_inner()).state)
    }

    /// Reads something that may have just been made on another node: when this node does
    /// not have it, it first catches up with the database, so that a client sent to
    /// another node right after a write (no sticky load balancer) finds what it wrote.
    pub async fn read_fresh<R>(&self, f: impl Fn(&State) -> Option<R>) -> Option<R> {
        if let Some(r) = self.read(&f) {
            return Some(r);
        }
        if self.inner.node.is_some() {
            let (reply, done) = oneshot::channel();
            if self.send(Job::Sync(reply)).await.is_ok() {
                let _ = done.await;
            }
        }
        self.read(f)
    }

    /// Reads the committed state and the `seq` it is current to.
    pub fn read_at<R>(&self, f: impl FnOnce(&State) -> R) -> (R, u64) {
        let c = self.inner.state.read().unwrap_or_else(|e| e.into_inner());
        (f(&c.state), c.seq)
    }

    /// Every event committed from now on, in `seq` order. A receiver that falls more than
    /// [`BUS_CAPACITY`] events behind gets `Lagged` and must resume from the log.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LoggedEvent>> {
        self.inner.bus.subscribe()
    }

    /// The last committed `seq`.
    pub fn last_seq(&self) -> u64 {
        self.inner.last_seq.load(Ordering::Acquire)
    }

    /// What the state holds by the measure of its byte budget (`max_state_bytes`), as of
    /// the last commit.
    pub fn state_bytes(&self) -> u64 {
        self.inner.state_bytes.load(Ordering::Acquire)
    }

    /// What the log and the idempotency keys take up, as of the last commit.
    pub fn footprint(&self) -> Footprint {
        *self.inner.health.footprint.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `ok`, `degraded` (the last write failed) or `failed` (no write can succeed).
    pub fn health(&self) -> Health {
        let failed = self.inner.health.failed.borrow().clone();
        let degraded = self.inner.health.degraded.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let (status, error) = match (failed, degraded) {
            (Some(e), _) => ("failed", Some(e)),
            (None, Some(e)) => ("degraded", Some(e)),
            (None, None) => ("ok", None),
        };
        Health {
            status: status.into(),
            seq: self.last_seq(),
            uptime_ms: self.inner.started.elapsed().as_millis() as u64,
            error,
            node: self.node_id().map(str::to_string),
        }
    }
}

/// What the backend's listener tells the writer and the peer list, for as long as the
/// store is open: commits become one queued catch-up at a time; dead nodes a job.
fn tell(
    jobs: mpsc::WeakSender<Job>,
    catching: Arc<std::sync::atomic::AtomicBool>,
    peers: Arc<RwLock<Vec<(String, String)>>>,
) -> Box<dyn FnMut(backend::News) -> bool + Send> {
    Box::new(move |news| {
        let Some(jobs) = jobs.upgrade() else { return false };
        match news {
            backend::News::Commits => {
                if !catching.swap(true, Ordering::AcqRel) && jobs.try_send(Job::CatchUp).is_err() {
                    // A full queue: the writes in it catch up anyway, under the lock.
                    catching.store(false, Ordering::Release);
                }
            }
            backend::News::Nodes { alive, dead } => {
                *peers.write().unwrap_or_else(|e| e.into_inner()) = alive;
                if !dead.is_empty() {
                    let _ = jobs.try_send(Job::NodesGone(dead));
                }
            }
        }
        true
    })
}

#[cfg(test)]
mod tests;
