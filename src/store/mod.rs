//! The store: the only writer of Maestro's state. No HTTP here.
//!
//! One writer thread owns the database. Mutations queue up as [`Command`]s; the thread
//! takes whatever is queued (group commit), plans and applies each command in turn, writes
//! state and events in one transaction, waits for it to be durable, and only then publishes
//! the events and answers the callers. Reads come from an in-memory copy of the committed
//! state and never wait for a disk.

pub mod agree;
pub mod backend;
mod foreign;
mod pg;
mod recent;
mod sqlite;
pub mod state;
mod writer;

pub use sqlite::Sqlite;

use crate::model::*;
use serde::{Deserialize, Serialize};
use state::State;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// Why the store refused or failed. The API maps each to a status code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Bad input (400).
    #[error("{0}")]
    Invalid(String),
    /// A record named by the request does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// What the store holds would pass its byte budget (409, `store_full`): nothing changed.
    #[error("{0}")]
    Full(String),
    /// An `Idempotency-Key` was reused for a different request (422).
    #[error("{0}")]
    KeyReused(String),
    /// `since` is older than the retained log (410): the client must refetch.
    #[error("events after seq {since} are no longer retained (oldest kept is {oldest})")]
    Gone { since: u64, oldest: u64 },
    /// The disk failed us (full, say); nothing was acknowledged (503).
    #[error("storage error: {0}")]
    Storage(String),
    /// The writer is gone: nothing can be written until the server restarts (503).
    #[error("the store cannot write any more: {0}")]
    Failed(String),
    /// The store is shutting down.
    #[error("the store is shutting down")]
    Closed,
}

impl StoreError {
    /// The HTTP status and machine-readable code that say this error on any way in
    /// (numbers, not an HTTP type: the store knows nothing of the wire).
    pub fn status(&self) -> (u16, &'static str) {
        match self {
            StoreError::Invalid(_) => (400, error_code::INVALID),
            StoreError::NotFound(_) => (404, error_code::NOT_FOUND),
            StoreError::Conflict(_) => (409, error_code::CONFLICT),
            // The state conflicts with growing: deleting something makes room.
            StoreError::Full(_) => (409, "store_full"),
            StoreError::KeyReused(_) => (422, "idempotency_key_reused"),
            StoreError::Gone { .. } => (410, "gone"),
            // The request was fine; the server cannot write just now (disk full, say).
            StoreError::Storage(_) => (503, "storage_unavailable"),
            StoreError::Failed(_) => (503, "storage_failed"),
            StoreError::Closed => (503, "shutting_down"),
        }
    }
}

/// Every mutation the store knows. The REST API, the server functions and the terminals
/// all send these, so each mutation has exactly one code path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    CreateProject(NewProject),
    UpdateProject(String, ProjectPatch),
    DeleteProject(String),
    CreateTask(NewTask),
    UpdateTask(String, TaskPatch),
    DeleteTask(String),
    AddSubtask(String, NewSubtask),
    UpdateSubtask(String, String, SubtaskPatch),
    DeleteSubtask(String, String),
    CreateSession(NewSession),
    UpdateSession(String, SessionPatch),
    DeleteSession(String),
    LinkTask {
        session_id: String,
        task_id: String,
    },
    UnlinkTask {
        session_id: String,
        task_id: String,
    },
    /// Records which node runs a session's terminal (several nodes on one database).
    ClaimTerminal {
        session_id: String,
        node: String,
    },
    /// Fails the running sessions whose terminals ran on a node that died.
    FailNode(String),
}

/// What a successful mutation returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    Project(Project),
    Task(Task),
    Session(Session),
    Deleted,
}

/// An `Idempotency-Key` and what the request it came with looked like, so that the same
/// key with a different request is told apart from a retry.
#[derive(Clone, Debug)]
pub struct IdempotencyKey {
    pub key: String,
    pub fingerprint: String,
}

/// A committed event and its JSON, serialised once and shared by every listener.
#[derive(Clone, Debug)]
pub struct LoggedEvent {
    pub event: Event,
    pub json: Arc<str>,
}

/// How to open the store.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// The database file; `None` keeps everything in memory (tests).
    pub path: Option<PathBuf>,
    /// Handed to sessions as `MAESTRO_API_URL`.
    pub api_url: String,
    /// How many events the log keeps for clients that resume.
    pub retain_events: u64,
    /// How many bytes of event JSON the log keeps, whatever their count.
    pub retain_bytes: u64,
    /// A hard cap on the data file's size: past it, writes fail as on a full disk.
    pub max_file_bytes: Option<u64>,
    /// The byte budget of the state (its entities' JSON, see `State::bytes`): a change
    /// that would grow it past this is refused with `StoreError::Full`.
    pub max_state_bytes: u64,
    /// A PostgreSQL database to keep everything in instead of the file (`--database-url`).
    pub database_url: Option<String>,
    /// Who this server is to the others on a shared database; made up from `api_url`
    /// when not given.
    pub node: Option<backend::NodeInfo>,
}

impl StoreConfig {
    /// An in-memory store, for tests.
    pub fn memory() -> Self {
        StoreConfig {
            path: None,
            api_url: "http://127.0.0.1:3000/api".into(),
            retain_events: 100_000,
            retain_bytes: RETAIN_BYTES,
            max_file_bytes: None,
            max_state_bytes: STATE_BYTES,
            database_url: None,
            node: None,
        }
    }
}

/// How many events the bus buffers for a slow listener before it counts as lagging.
pub const BUS_CAPACITY: usize = 16_384;
/// The most commands committed in one transaction.
const BATCH_MAX: usize = 512;
/// The largest one event may be, in JSON bytes: every client gets each event, so a change
/// that would make a bigger one (a task grown past this) is refused.
pub const EVENT_MAX_BYTES: usize = 256 * 1024;
/// The most bytes of events one read of the log returns (a replay page, a REST page):
/// always at least one event.
pub const PAGE_BYTES: usize = 1 << 20;
/// Default byte budget of the state (`--max-state-bytes`). The server holds about twice
/// this in memory (the committed state and the writer's own copy).
pub const STATE_BYTES: u64 = 256 << 20;
/// Default byte budget of the event log on disk.
pub const RETAIN_BYTES: u64 = 64 << 20;
/// Most idempotency keys kept, and the most bytes of recorded outcomes.
pub const IDEMPOTENCY_KEYS_MAX: u64 = 10_000;
pub const IDEMPOTENCY_BYTES_MAX: u64 = 32 << 20;

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

/// The parts of the data file that grow with use rather than with the data: each has a
/// byte budget (SPEC §6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Bytes of event JSON in the retained log (budget: `StoreConfig::retain_bytes`).
    pub log_bytes: u64,
    /// The oldest `seq` still retained.
    pub first_retained: u64,
    /// Idempotency keys kept (budget: [`IDEMPOTENCY_KEYS_MAX`]) and the bytes of their
    /// outcomes ([`IDEMPOTENCY_BYTES_MAX`]).
    pub idempotency_keys: u64,
    pub idempotency_bytes: u64,
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
            }),
        })
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

/// A project's directory must exist where its terminals start (on this server): a
/// mistyped path is refused rather than silently replaced by the home directory.
fn check_directories(cmd: &Command) -> Result<(), StoreError> {
    let path = match cmd {
        Command::CreateProject(p) => p.base_path.as_deref(),
        Command::UpdateProject(_, p) => p.base_path.as_ref().and_then(|p| p.as_deref()),
        _ => None,
    };
    match path.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) if p.starts_with('/') && !std::path::Path::new(p).is_dir() => {
            Err(StoreError::Invalid(format!("basePath {p:?} is not a directory on the server")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
