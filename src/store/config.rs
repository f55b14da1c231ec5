//! How the store is opened, and the budgets it keeps to (SPEC §6).

use super::backend::NodeInfo;
use crate::mac::Secret;
use std::path::PathBuf;

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
    pub node: Option<NodeInfo>,
    /// Signs the setup commands set through this server (every node on a database has the
    /// same), so that only those are run.
    pub setup_key: Secret,
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
            setup_key: Secret::random(),
        }
    }
}

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
