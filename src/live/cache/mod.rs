//! The client's cache of server state: entities by id, plus which lists a view has
//! loaded. Plain Rust with no signals, so it compiles and is tested natively; the browser
//! keeps one in a reactive signal and patches it from the event stream.
//!
//! Rules (SPEC §4): an event whose `seq` was applied already changes nothing; an entity
//! older (by `version`) than the cached copy changes nothing; a fetched list is merged
//! with what events said since (per-id "last touched" seqs decide who is newer); on
//! `resync` every entity is forgotten and every loaded list is refetched and replaces it.

mod changes;
mod entity;
mod flags;
mod index;
mod load;
mod optimistic;
mod read;
mod sessions;
#[cfg(all(test, feature = "ssr"))]
mod tests;

pub use changes::Changes;
pub use entity::Entity;
pub use flags::Flag;
use index::ProjectIndex;

use crate::model::*;
use std::collections::{HashMap, HashSet};

/// A list some view shows (and so keeps loaded).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ListKey {
    Projects,
    /// Tasks of a project.
    ProjectTasks(String),
    /// Sessions working on a task.
    TaskSessions(String),
    /// Tasks a session works on.
    SessionTasks(String),
    /// What may need the person, in every project: blocked tasks and ended sessions.
    Attention,
    /// A project's active workspaces (what task rows and cards total).
    ProjectWorkspaces(String),
    /// A workspace's review comments.
    WorkspaceComments(String),
    /// What the Sessions pane lists for a project: every project's running sessions and
    /// this one's newest ended (see `sessions.rs`).
    PaneSessions(String),
}

/// What [`Cache::apply`] did with an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Applied (and maybe changed something).
    Applied,
    /// Already applied: ignored.
    Duplicate,
    /// Events are missing before this one: the caller must resync.
    Gap,
}

/// The kinds of entity the cache holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Project,
    Task,
    Session,
    Workspace,
    Comment,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cache {
    /// The last event applied; a reconnect resumes after it.
    pub seq: u64,
    projects: HashMap<String, Project>,
    tasks: HashMap<String, Task>,
    sessions: HashMap<String, Session>,
    workspaces: HashMap<String, Workspace>,
    comments: HashMap<String, ReviewComment>,
    /// The seq of the newest information about each entity (an event, a deletion, or a
    /// fetch), so that an older fetch never overrides a newer event.
    touched: HashMap<(Kind, String), u64>,
    loaded: HashSet<ListKey>,
    /// Tasks by project, in list order.
    index: HashMap<String, ProjectIndex>,
    /// Workspaces by task: `(created_at, id)` ascending, so the newest is the last.
    task_workspaces: HashMap<String, std::collections::BTreeSet<(i64, String)>>,
    /// Blocked tasks and ended sessions among the entities held, by id.
    flagged: std::collections::BTreeMap<String, Flag>,
    /// Entities removed optimistically and not yet deleted for sure (a deletion waiting for
    /// Undo, or for the server's answer): no copy brings them back meanwhile, a rollback does.
    hidden: HashSet<(Kind, String)>,
    /// Per project whose `PaneSessions` were fetched: the oldest ended session sent, when
    /// older ones were left on the server (`None`: every ended one came).
    ended_since: HashMap<String, Option<(Millis, String)>>,
    /// Edits shown before their answers, re-applied over every copy that comes meanwhile.
    pending: optimistic::Layers,
    /// The last edit's token.
    edits: u64,
    /// How many resyncs there were: a list fetched a page at a time starts over when this
    /// changes under it (what came before was forgotten).
    pub resyncs: u64,
    changes: Changes,
}

impl Cache {
    /// Applies one event from the stream.
    pub fn apply(&mut self, ev: &Event) -> Applied {
        if ev.seq <= self.seq {
            return Applied::Duplicate;
        }
        if self.seq != 0 && ev.seq != self.seq + 1 {
            return Applied::Gap;
        }
        self.seq = ev.seq;
        let at = ev.seq;
        let id = match &ev.data {
            EventData::TaskCreated(t) | EventData::TaskUpdated(t) => Some(&t.id),
            EventData::SessionCreated(s) | EventData::SessionUpdated(s) => Some(&s.id),
            _ => None,
        };
        let was = id.map(|id| self.flagged.contains_key(id));
        match &ev.data {
            EventData::ProjectCreated(p) | EventData::ProjectUpdated(p) => self.put(p, at),
            EventData::TaskCreated(t) | EventData::TaskUpdated(t) => self.put(t, at),
            EventData::SessionCreated(s) | EventData::SessionUpdated(s) => self.put(s, at),
            EventData::ProjectDeleted(d) => self.gone::<Project>(&d.id, at),
            EventData::TaskDeleted(d) => self.gone::<Task>(&d.id, at),
            EventData::SessionDeleted(d) => self.gone::<Session>(&d.id, at),
            EventData::WorkspaceCreated(w) | EventData::WorkspaceUpdated(w) => self.put(w, at),
            EventData::WorkspaceDeleted(d) => self.gone::<Workspace>(&d.id, at),
            EventData::CommentCreated(c) | EventData::CommentUpdated(c) => self.put(c, at),
            EventData::CommentDeleted(d) => self.gone::<ReviewComment>(&d.id, at),
            // The full entity updates around a link event already carry it.
            EventData::SessionTaskAdded(_)
            | EventData::SessionTaskRemoved(_)
            | EventData::TaskSessionAdded(_)
            | EventData::TaskSessionRemoved(_) => {}
        }
        if let (Some(id), Some(false)) = (id, was) {
            if self.flagged.contains_key(id) {
                self.changes.raised.push(id.clone());
            }
        }
        Applied::Applied
    }

    /// True when newer information than `at` exists for this entity.
    fn newer(&self, kind: Kind, id: &str, at: u64) -> bool {
        self.touched.get(&(kind, id.to_string())).is_some_and(|&t| t > at)
    }

    /// Takes a copy known as of `at`, unless newer information is there already.
    fn put<E: Entity>(&mut self, e: &E, at: u64) {
        if self.newer(E::KIND, e.id(), at) || E::all(self).get(e.id()).is_some_and(|c| c.version() > e.version()) {
            return;
        }
        self.touched.insert((E::KIND, e.id().to_string()), at);
        self.take(e.clone());
    }

    /// Stores a copy, keeping indexes and change notes; returns the one it replaced.
    fn store<E: Entity>(&mut self, e: E) -> Option<E> {
        let old = E::all_mut(self).insert(e.id().to_string(), e.clone());
        E::noted(self, old.as_ref(), Some(&e));
        old
    }

    /// Removes a copy, keeping indexes and change notes.
    fn unstore<E: Entity>(&mut self, id: &str) -> Option<E> {
        let old = E::all_mut(self).remove(id);
        if old.is_some() {
            E::noted(self, old.as_ref(), None);
        }
        old
    }

    /// What changed since the last call.
    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }

    /// Forgets an entity deleted as of `at`.
    fn gone<E: Entity>(&mut self, id: &str, at: u64) {
        self.hidden.remove(&(E::KIND, id.to_string()));
        self.pending.remove(&(E::KIND, id.to_string()));
        self.unstore::<E>(id);
        self.touched.insert((E::KIND, id.to_string()), at);
    }

    /// The first fetch sets the point the event stream resumes from.
    fn baseline(&mut self, key: ListKey, at: u64) {
        if self.seq == 0 {
            self.seq = at;
        }
        self.changes.other |= self.loaded.insert(key);
        self.changes.lists = true;
    }

    /// Forgets every entity (so nothing deleted meanwhile lingers) and returns the lists
    /// to refetch; each refetch replaces its list through the `load_*` methods.
    pub fn resync(&mut self, seq: u64) -> Vec<ListKey> {
        self.seq = seq;
        self.resyncs += 1;
        self.projects.clear();
        self.tasks.clear();
        self.sessions.clear();
        self.workspaces.clear();
        self.comments.clear();
        self.touched.clear();
        self.index.clear();
        self.task_workspaces.clear();
        self.flagged.clear();
        // Edits still waiting show again over the lists' copies as they are refetched.
        self.pending.retain(|_, l| l.forget_base());
        self.changes = Changes { all_tasks: true, lists: true, other: true, ..Default::default() };
        let mut keys: Vec<ListKey> = self.loaded.iter().cloned().collect();
        keys.sort();
        keys
    }
}
