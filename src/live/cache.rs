//! The client's cache of server state: entities by id, plus which lists a view has
//! loaded. Plain Rust with no signals, so it compiles and is tested natively; the browser
//! keeps one in a reactive signal and patches it from the event stream.
//!
//! Rules (SPEC §4): an event whose `seq` was applied already changes nothing; an entity
//! older (by `version`) than the cached copy changes nothing; a fetched list is merged
//! with what events said since (per-id "last touched" seqs decide who is newer); on
//! `resync` every entity is forgotten and every loaded list is refetched and replaces it.

use crate::model::*;
use std::collections::{BTreeSet, HashMap, HashSet};

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
}

/// What the cache does the same way for every kind of entity: where its copies live and
/// which of two copies is newer.
pub trait Entity: Clone {
    const KIND: Kind;
    fn id(&self) -> &str;
    /// Grows with every change: `version`, or for projects `updatedAt` (the store's clock
    /// is strictly increasing, so it orders a project's copies just as well).
    fn version(&self) -> i64;
    fn all(c: &Cache) -> &HashMap<String, Self>;
    fn all_mut(c: &mut Cache) -> &mut HashMap<String, Self>;
    /// Keeps the indexes and the change notes in step with a copy stored or removed.
    fn noted(c: &mut Cache, _old: Option<&Self>, _new: Option<&Self>) {
        c.changes.other = true;
    }
}

impl Entity for Project {
    const KIND: Kind = Kind::Project;
    fn id(&self) -> &str {
        &self.id
    }
    fn version(&self) -> i64 {
        self.updated_at
    }
    fn all(c: &Cache) -> &HashMap<String, Self> {
        &c.projects
    }
    fn all_mut(c: &mut Cache) -> &mut HashMap<String, Self> {
        &mut c.projects
    }
}

impl Entity for Task {
    const KIND: Kind = Kind::Task;
    fn id(&self) -> &str {
        &self.id
    }
    fn version(&self) -> i64 {
        self.version as i64
    }
    fn all(c: &Cache) -> &HashMap<String, Self> {
        &c.tasks
    }
    fn all_mut(c: &mut Cache) -> &mut HashMap<String, Self> {
        &mut c.tasks
    }
    fn noted(c: &mut Cache, old: Option<&Self>, new: Option<&Self>) {
        let place = |t: &Task| (t.project_id.clone(), t.status, t.created_at);
        if old.map(place) != new.map(place) {
            if let Some(o) = old {
                c.index.entry(o.project_id.clone()).or_default().remove(o);
            }
            if let Some(n) = new {
                c.index.entry(n.project_id.clone()).or_default().insert(n);
            }
            c.changes.lists = true;
        }
        if let Some(id) = old.or(new).map(|t| t.id.clone()) {
            c.changes.tasks.push(id);
        }
        c.flag(
            old.or(new).map(Task::id),
            new.filter(|t| t.status == TaskStatus::Blocked)
                .map(|t| Flag { kind: Kind::Task, project_id: t.project_id.clone() }),
        );
    }
}

impl Entity for Session {
    const KIND: Kind = Kind::Session;
    fn id(&self) -> &str {
        &self.id
    }
    fn version(&self) -> i64 {
        self.version as i64
    }
    fn all(c: &Cache) -> &HashMap<String, Self> {
        &c.sessions
    }
    fn all_mut(c: &mut Cache) -> &mut HashMap<String, Self> {
        &mut c.sessions
    }
    fn noted(c: &mut Cache, old: Option<&Self>, new: Option<&Self>) {
        c.changes.other = true;
        c.flag(
            old.or(new).map(Session::id),
            new.filter(|s| s.status != SessionStatus::Running)
                .map(|s| Flag { kind: Kind::Session, project_id: s.project_id.clone() }),
        );
    }
}

/// What changed since the UI last asked ([`Cache::take_changes`]), so that it tells only
/// what shows those: applying an event costs the same however many tasks there are.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    /// Tasks stored, replaced or removed (a row shows each).
    pub tasks: Vec<String>,
    /// Every task may have changed (a resync).
    pub all_tasks: bool,
    /// A project's task list changed its members, order or counts.
    pub lists: bool,
    /// Anything else: projects, sessions, which lists are loaded, flags.
    pub other: bool,
    /// Ids flagged by an event (a session that ended, a task that became blocked): what
    /// a notification tells. Loads and the tab's own edits raise nothing here.
    pub raised: Vec<String>,
    /// Ids no longer flagged (unblocked, deleted): looking at them again starts over.
    pub lowered: Vec<String>,
}

/// Something that may need the person: a session that ended, a task that is blocked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    pub kind: Kind,
    pub project_id: String,
}

/// One project's tasks in list order (newest first), overall and per status, so that a
/// window of the list and the counts come without a pass over every task.
#[derive(Clone, Debug, Default, PartialEq)]
struct ProjectIndex {
    /// `(created_at, id)` ascending: newest first is this reversed ([`Task::newest_first`]).
    all: BTreeSet<(i64, String)>,
    by_status: [BTreeSet<(i64, String)>; 4],
}

impl ProjectIndex {
    fn insert(&mut self, t: &Task) {
        self.all.insert((t.created_at, t.id.clone()));
        self.by_status[t.status.slot()].insert((t.created_at, t.id.clone()));
    }

    fn remove(&mut self, t: &Task) {
        let key = (t.created_at, t.id.clone());
        self.all.remove(&key);
        self.by_status[t.status.slot()].remove(&key);
    }

    fn list(&self, status: Option<TaskStatus>) -> &BTreeSet<(i64, String)> {
        match status {
            Some(s) => &self.by_status[s.slot()],
            None => &self.all,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cache {
    /// The last event applied; a reconnect resumes after it.
    pub seq: u64,
    projects: HashMap<String, Project>,
    tasks: HashMap<String, Task>,
    sessions: HashMap<String, Session>,
    /// The seq of the newest information about each entity (an event, a deletion, or a
    /// fetch), so that an older fetch never overrides a newer event.
    touched: HashMap<(Kind, String), u64>,
    loaded: HashSet<ListKey>,
    /// Tasks by project, in list order.
    index: HashMap<String, ProjectIndex>,
    /// Blocked tasks and ended sessions among the entities held, by id.
    flagged: std::collections::BTreeMap<String, Flag>,
    /// Entities removed optimistically and not yet deleted for sure (a deletion waiting for
    /// Undo, or for the server's answer): no copy brings them back meanwhile, a rollback does.
    hidden: HashSet<(Kind, String)>,
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

    /// Keeps `flagged` in step with a copy of `id` stored (`flag`: whether and how it is
    /// flagged now) or removed (`None`).
    fn flag(&mut self, id: Option<&str>, flag: Option<Flag>) {
        let Some(id) = id else { return };
        let changed = match flag {
            Some(f) => self.flagged.insert(id.to_string(), f.clone()).as_ref() != Some(&f),
            None => {
                let gone = self.flagged.remove(id).is_some();
                if gone {
                    self.changes.lowered.push(id.to_string());
                }
                gone
            }
        };
        self.changes.other |= changed;
    }

    /// Blocked tasks and ended sessions held, by id (every project's, once the
    /// `Attention` list is loaded).
    pub fn flagged(&self) -> impl Iterator<Item = (&String, &Flag)> {
        self.flagged.iter()
    }

    pub fn is_flagged(&self, id: &str) -> bool {
        self.flagged.contains_key(id)
    }

    /// Merges the `Attention` list: blocked tasks and ended sessions of every project.
    pub fn load_attention(&mut self, tasks: &[Task], sessions: &[Session], at: u64) {
        for t in tasks {
            self.put(t, at);
        }
        for s in sessions {
            self.put(s, at);
        }
        self.baseline(ListKey::Attention, at);
    }

    /// The flagged tasks and sessions, newest first, if the `Attention` list is loaded.
    pub fn attention(&self) -> Option<(Vec<Task>, Vec<Session>)> {
        self.is_loaded(&ListKey::Attention).then(|| {
            let mut tasks: Vec<Task> = self.flagged.keys().filter_map(|id| self.tasks.get(id).cloned()).collect();
            let mut sessions: Vec<Session> =
                self.flagged.keys().filter_map(|id| self.sessions.get(id).cloned()).collect();
            tasks.sort_by(Task::newest_first);
            sessions.sort_by(Session::newest_first);
            (tasks, sessions)
        })
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
        if self.hidden.contains(&(E::KIND, e.id().to_string())) {
            return;
        }
        self.store(e.clone());
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

    /// Merges the project list, fetched when the store was at `at`.
    pub fn load_projects(&mut self, list: &[Project], at: u64) {
        for p in list {
            self.put(p, at);
        }
        self.baseline(ListKey::Projects, at);
    }

    /// Merges a fetched task list (`ProjectTasks` or `SessionTasks`).
    pub fn load_tasks(&mut self, key: ListKey, list: &[Task], at: u64) {
        for t in list {
            self.put(t, at);
        }
        self.baseline(key, at);
    }

    /// Merges a fetched `TaskSessions` list.
    pub fn load_sessions(&mut self, key: ListKey, list: &[Session], at: u64) {
        for s in list {
            self.put(s, at);
        }
        self.baseline(key, at);
    }

    /// Forgets every entity (so nothing deleted meanwhile lingers) and returns the lists
    /// to refetch; each refetch replaces its list through the `load_*` methods.
    pub fn resync(&mut self, seq: u64) -> Vec<ListKey> {
        self.seq = seq;
        self.resyncs += 1;
        self.projects.clear();
        self.tasks.clear();
        self.sessions.clear();
        self.touched.clear();
        self.index.clear();
        self.flagged.clear();
        self.changes = Changes { all_tasks: true, lists: true, other: true, ..Default::default() };
        let mut keys: Vec<ListKey> = self.loaded.iter().cloned().collect();
        keys.sort();
        keys
    }

    pub fn is_loaded(&self, key: &ListKey) -> bool {
        self.loaded.contains(key)
    }

    pub fn project(&self, id: &str) -> Option<&Project> {
        self.projects.get(id)
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.get(id)
    }

    pub fn session(&self, id: &str) -> Option<&Session> {
        self.sessions.get(id)
    }

    /// Every project, oldest first, if the list is loaded.
    pub fn projects(&self) -> Option<Vec<Project>> {
        self.is_loaded(&ListKey::Projects).then(|| {
            let mut v: Vec<Project> = self.projects.values().cloned().collect();
            v.sort_by(Project::oldest_first);
            v
        })
    }

    /// A project's tasks, newest first, if loaded.
    pub fn project_tasks(&self, project_id: &str) -> Option<Vec<Task>> {
        if !self.is_loaded(&ListKey::ProjectTasks(project_id.to_string())) {
            return None;
        }
        let ids = self.project_window(project_id, None, 0, usize::MAX);
        Some(ids.iter().filter_map(|id| self.tasks.get(id).cloned()).collect())
    }

    /// A project's tasks newest first, as far as the cache holds them, without a copy: for
    /// a reader that stops early (the first few that match).
    pub fn project_tasks_iter<'a>(&'a self, project_id: &str) -> impl Iterator<Item = &'a Task> + 'a {
        let ix = self.index.get(project_id);
        ix.into_iter().flat_map(|ix| ix.all.iter().rev()).filter_map(|(_, id)| self.tasks.get(id))
    }

    /// Ids of a window of a project's task list (newest first, of one status or all):
    /// `len` of them from `start`. Until the list is loaded, of the tasks held so far (the
    /// pages fetched come in list order, so these are its start).
    pub fn project_window(
        &self,
        project_id: &str,
        status: Option<TaskStatus>,
        start: usize,
        len: usize,
    ) -> Vec<String> {
        let Some(ix) = self.index.get(project_id) else { return Vec::new() };
        ix.list(status).iter().rev().skip(start).take(len).map(|(_, id)| id.clone()).collect()
    }

    /// How many tasks a project has, in all and per status (in [`TaskStatus::ALL`]'s
    /// order), if its list is loaded.
    pub fn project_counts(&self, project_id: &str) -> Option<(usize, [usize; 4])> {
        if !self.is_loaded(&ListKey::ProjectTasks(project_id.to_string())) {
            return None;
        }
        let Some(ix) = self.index.get(project_id) else { return Some((0, [0; 4])) };
        Some((ix.all.len(), std::array::from_fn(|i| ix.by_status[i].len())))
    }

    /// Where a task is in its project's list (of one status or all), counting from 0.
    pub fn position(&self, project_id: &str, status: Option<TaskStatus>, id: &str) -> Option<usize> {
        let t = self.tasks.get(id)?;
        let list = self.index.get(project_id)?.list(status);
        list.contains(&(t.created_at, t.id.clone())).then(|| list.range((t.created_at, t.id.clone())..).count() - 1)
    }

    /// The sessions working on a task, newest first, if loaded.
    pub fn task_sessions(&self, task_id: &str) -> Option<Vec<Session>> {
        self.is_loaded(&ListKey::TaskSessions(task_id.to_string())).then(|| {
            let mut v: Vec<Session> =
                self.sessions.values().filter(|s| s.task_ids.iter().any(|t| t == task_id)).cloned().collect();
            v.sort_by(Session::newest_first);
            v
        })
    }

    /// The tasks a session works on, newest first, if loaded.
    pub fn session_tasks(&self, session_id: &str) -> Option<Vec<Task>> {
        self.is_loaded(&ListKey::SessionTasks(session_id.to_string())).then(|| {
            let mut v: Vec<Task> =
                self.tasks.values().filter(|t| t.session_ids.iter().any(|s| s == session_id)).cloned().collect();
            v.sort_by(Task::newest_first);
            v
        })
    }

    /// The ids of the tasks a session works on, newest first, if that list is loaded, as
    /// the session's own side says (what an optimistic link changes, and what a
    /// `SessionUpdated` event carries): the UI is woken by session changes for these and
    /// tracks each task for its contents.
    pub fn session_task_ids(&self, session_id: &str) -> Option<Vec<String>> {
        if !self.is_loaded(&ListKey::SessionTasks(session_id.to_string())) {
            return None;
        }
        let Some(s) = self.sessions.get(session_id) else { return Some(Vec::new()) };
        let mut v: Vec<&Task> = s.task_ids.iter().filter_map(|t| self.tasks.get(t)).collect();
        v.sort_by(|a, b| Task::newest_first(a, b));
        Some(v.into_iter().map(|t| t.id.clone()).collect())
    }

    /// True when an event deleted this entity: nothing may bring it back.
    fn deleted<E: Entity>(&self, id: &str) -> bool {
        !E::all(self).contains_key(id) && self.touched.contains_key(&(E::KIND, id.to_string()))
    }

    /// A mutation's own answer: newer than (or as new as) what is cached unless an event
    /// already brought a later version, or deleted it.
    pub fn confirm<E: Entity>(&mut self, e: &E) {
        let hidden = self.hidden.contains(&(E::KIND, e.id().to_string()));
        let newest = E::all(self).get(e.id()).is_none_or(|c| c.version() <= e.version());
        if !hidden && !self.deleted::<E>(e.id()) && newest {
            self.store(e.clone());
        }
    }

    /// Optimistic edit or creation: shows `e` at once and returns what to restore if the
    /// server refuses. The server's own copy (same or higher version) replaces it.
    pub fn optimistic<E: Entity>(&mut self, e: E) -> Option<E> {
        self.store(e)
    }

    /// Optimistic delete: hides the entity at once (copies that come meanwhile do not show
    /// it); returns it for a rollback.
    pub fn optimistic_remove<E: Entity>(&mut self, id: &str) -> Option<E> {
        let old = self.unstore(id);
        if old.is_some() {
            self.hidden.insert((E::KIND, id.to_string()));
        }
        old
    }

    /// The server says `id` does not exist (deleted elsewhere, its event not here yet):
    /// it goes, and no rollback or late copy brings it back.
    pub fn forget<E: Entity>(&mut self, id: &str) {
        let at = self.seq;
        self.gone::<E>(id, at);
    }

    /// Undoes an optimistic change of `id` (`previous` as the change returned it: `None`
    /// for a creation), unless a newer server copy or a deletion arrived meanwhile.
    pub fn rollback<E: Entity>(&mut self, id: &str, previous: Option<E>) {
        match previous {
            Some(p) => {
                // Hidden by an optimistic delete, and not deleted by an event since: it comes back.
                let hidden = self.hidden.remove(&(E::KIND, id.to_string()));
                if (hidden || !self.deleted::<E>(id)) && E::all(self).get(id).is_none_or(|c| c.version() <= p.version())
                {
                    self.store(p);
                }
            }
            None => {
                self.unstore::<E>(id);
            }
        }
    }

    /// Merges one page of a project's task list, fetched when the store was at `at`; the
    /// last page makes the list loaded. Pages cut by key (`model::page`) may each be at
    /// their own `at`: what changed between them comes by events, like after any fetch.
    pub fn load_task_page(&mut self, project_id: &str, tasks: &[Task], last: bool, at: u64) {
        if last {
            self.load_tasks(ListKey::ProjectTasks(project_id.to_string()), tasks, at);
        } else {
            self.load_task_entities(tasks, at);
        }
    }

    /// Merges tasks fetched as the first part of a list (not yet the list itself).
    pub fn load_task_entities(&mut self, list: &[Task], at: u64) {
        for t in list {
            self.put(t, at);
        }
        if self.seq == 0 {
            self.seq = at;
        }
    }

    /// Merges sessions fetched by id (not a list any view keeps).
    pub fn load_session_entities(&mut self, list: &[Session], at: u64) {
        for s in list {
            self.put(s, at);
        }
        if self.seq == 0 {
            self.seq = at;
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests;
