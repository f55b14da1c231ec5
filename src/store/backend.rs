//! The storage seam: what the store's writer needs from wherever it keeps what it commits.
//!
//! A trait object rather than an enum: the writer thread is its one caller and the backend
//! is chosen once at start (`Store::open` takes SQLite, `Store::open_on` any backend), so a
//! second one (PostgreSQL) is a new implementation beside `sqlite.rs`, not a change to the
//! writer, and the store's tests can run against each.

use super::{Footprint, LoggedEvent, StoreError};
use crate::model::{EventData, Millis, Project, ReviewComment, Session, Task, Workspace};
use crate::store::state::State;
use std::sync::Arc;

/// What is durable at start-up.
pub struct Loaded {
    pub state: State,
    /// The last `seq` ever handed out (never reused, even after the log is pruned).
    pub last_seq: u64,
    pub footprint: Footprint,
}

/// One batch of commands' changes, made durable together or not at all.
#[derive(Default)]
pub struct Staged {
    /// The events, in `seq` order; each also says which entity row it writes.
    pub events: Vec<Arc<LoggedEvent>>,
    /// Idempotent requests to remember.
    pub keys: Vec<KeyRecord>,
}

/// A request made with an `Idempotency-Key`: what it looked like and what it got.
pub struct KeyRecord {
    pub key: String,
    pub fingerprint: String,
    pub outcome: String,
    pub at: Millis,
}

/// What housekeeping prunes to.
pub struct Budgets {
    /// Events kept, and bytes of them.
    pub events: u64,
    pub event_bytes: u64,
    /// Idempotency keys kept, the bytes of their outcomes, and none recorded before.
    pub keys: u64,
    pub key_bytes: u64,
    pub keys_since: Millis,
}

/// The entity row an event writes: `data` is its new JSON, `None` when it goes. Events
/// that only link (the link is inside both rows' JSON) write none.
pub struct RowChange<'a> {
    pub table: &'static str,
    pub id: &'a str,
    pub data: Option<String>,
}

impl<'a> RowChange<'a> {
    pub fn of(e: &'a EventData) -> Result<Option<RowChange<'a>>, StoreError> {
        let (table, id, data) = match e {
            EventData::ProjectCreated(p) | EventData::ProjectUpdated(p) => {
                ("projects", p.id.as_str(), Some(serde_json::to_string(p)?))
            }
            EventData::TaskCreated(t) | EventData::TaskUpdated(t) => {
                ("tasks", t.id.as_str(), Some(serde_json::to_string(t)?))
            }
            EventData::SessionCreated(s) | EventData::SessionUpdated(s) => {
                ("sessions", s.id.as_str(), Some(serde_json::to_string(s)?))
            }
            EventData::WorkspaceCreated(w) | EventData::WorkspaceUpdated(w) => {
                ("workspaces", w.id.as_str(), Some(serde_json::to_string(w)?))
            }
            EventData::CommentCreated(c) | EventData::CommentUpdated(c) => {
                ("comments", c.id.as_str(), Some(serde_json::to_string(c)?))
            }
            EventData::ProjectDeleted(d) => ("projects", d.id.as_str(), None),
            EventData::TaskDeleted(d) => ("tasks", d.id.as_str(), None),
            EventData::SessionDeleted(d) => ("sessions", d.id.as_str(), None),
            EventData::WorkspaceDeleted(d) => ("workspaces", d.id.as_str(), None),
            EventData::CommentDeleted(d) => ("comments", d.id.as_str(), None),
            _ => return Ok(None),
        };
        Ok(Some(RowChange { table, id, data }))
    }
}

impl Budgets {
    /// The newest `seq` to prune the log up to, if any must go: it keeps the newest
    /// `events`, and of those at most `event_bytes` (`cut_for_bytes(keep)` finds the
    /// newest `seq` that must go for the rest to fit in `keep` bytes).
    pub fn log_cut(
        &self,
        last_seq: u64,
        fp: &Footprint,
        cut_for_bytes: impl FnOnce(u64) -> Result<u64, StoreError>,
    ) -> Result<Option<u64>, StoreError> {
        let by_count = last_seq.saturating_sub(self.events);
        let by_bytes = if fp.log_bytes > self.event_bytes { cut_for_bytes(self.event_bytes)? } else { 0 };
        let upto = by_count.max(by_bytes);
        Ok((upto >= fp.first_retained).then_some(upto))
    }
}

/// The state from the entity tables' JSON rows, as both backends store them:
/// `read(table)` returns that table's `data` column.
pub fn load_state(mut read: impl FnMut(&str) -> Result<Vec<String>, StoreError>) -> Result<State, StoreError> {
    let mut state = State::default();
    for json in read("projects")? {
        let p: Project = serde_json::from_str(&json)?;
        state.projects.insert(p.id.clone(), p);
    }
    for json in read("tasks")? {
        let t: Task = serde_json::from_str(&json)?;
        state.tasks.insert(t.id.clone(), t);
    }
    for json in read("sessions")? {
        let s: Session = serde_json::from_str(&json)?;
        state.sessions.insert(s.id.clone(), s);
    }
    for json in read("workspaces")? {
        let w: Workspace = serde_json::from_str(&json)?;
        state.workspaces.insert(w.id.clone(), w);
    }
    for json in read("comments")? {
        let c: ReviewComment = serde_json::from_str(&json)?;
        state.comments.insert(c.id.clone(), c);
    }
    Ok(state)
}

/// One page of events, oldest first, from rows read in `seq` order: no more than
/// `max_bytes` of JSON but for the first event (a page always makes progress).
pub fn page(
    rows: impl Iterator<Item = Result<(u64, String), StoreError>>,
    max_bytes: usize,
) -> Result<Vec<(u64, String)>, StoreError> {
    let (mut out, mut bytes) = (Vec::new(), 0usize);
    for row in rows {
        let (seq, data) = row?;
        bytes += data.len();
        if bytes > max_bytes && !out.is_empty() {
            break;
        }
        out.push((seq, data));
    }
    Ok(out)
}

/// What other nodes sharing the backend committed since this one last looked: their
/// events (stored JSON, in `seq` order, none missing) and the footprint as it now is.
pub struct Others {
    pub events: Vec<(u64, String)>,
    pub footprint: Footprint,
}

/// What a backend that other nodes share tells the node about them, from a thread of its
/// own (see [`Backend::follow`]).
pub enum News {
    /// Some node committed (a wake-up, or the poll that backs wake-ups up): catch up.
    Commits,
    /// The nodes alive now (id → URL) and those that stopped beating.
    Nodes { alive: Vec<(String, String)>, dead: Vec<String> },
}

/// Who this node is to the others.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    pub id: String,
    /// Where the other nodes reach this one (to relay its terminals).
    pub url: String,
}

/// Where the store keeps its state, event log and idempotency keys.
///
/// A backend several nodes share (PostgreSQL) also has each write take the one global
/// lock first (`begin`), hands over what the others committed meanwhile so that commands
/// are planned against the latest state, and tells the node of others' commits between
/// its own writes (`follow`, `others`). The defaults describe a backend only this node
/// writes (SQLite).
pub trait Backend: Send {
    /// Opens the write transaction, taking the lock that orders every node's commits,
    /// and returns what other nodes committed before it. `commit` or `abort` ends it.
    fn begin(&mut self) -> Result<Option<Others>, StoreError> {
        Ok(None)
    }
    /// Ends the transaction `begin` opened, keeping nothing.
    fn abort(&mut self) {}
    /// What other nodes committed since this one last looked (no lock taken).
    fn others(&mut self) -> Result<Option<Others>, StoreError> {
        Ok(None)
    }
    /// Starts telling this node about the others: `tell` returns `false` once the store
    /// is gone, and the thread behind it then stops.
    fn follow(&mut self, _me: &NodeInfo, _tell: Box<dyn FnMut(News) -> bool + Send>) -> Result<(), StoreError> {
        Ok(())
    }
    /// Everything durable.
    fn load(&mut self) -> Result<Loaded, StoreError>;
    /// A recorded idempotent request: its fingerprint and outcome JSON.
    fn idempotency_get(&mut self, key: &str) -> Result<Option<(String, String)>, StoreError>;
    /// Makes `staged` durable in one transaction, with `last_seq` as the last seq handed
    /// out; prunes to `budgets` when given. Returns only once it is durable.
    fn commit(&mut self, staged: &Staged, last_seq: u64, budgets: Option<&Budgets>) -> Result<Footprint, StoreError>;
    /// Events after `since`, oldest first, as stored JSON: at most `limit`, and no more
    /// than `max_bytes` of JSON but for the first.
    fn events_after(&mut self, since: u64, limit: usize, max_bytes: usize) -> Result<Vec<(u64, String)>, StoreError>;
}
