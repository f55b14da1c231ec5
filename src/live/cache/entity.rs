//! What the cache does the same way for every kind of entity.

use super::{Cache, Flag, Kind};
use crate::model::{Project, ReviewComment, Session, Task, TaskStatus, Workspace};
use std::collections::HashMap;

/// What the cache does the same way for every kind of entity: where its copies live and
/// which of two copies is newer.
pub trait Entity: Clone + Send + Sync + 'static {
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
            new.filter(|s| crate::model::session_flagged(s))
                .map(|s| Flag { kind: Kind::Session, project_id: s.project_id.clone() }),
        );
    }
}

impl Entity for Workspace {
    const KIND: Kind = Kind::Workspace;
    fn id(&self) -> &str {
        &self.id
    }
    fn version(&self) -> i64 {
        self.version as i64
    }
    fn all(c: &Cache) -> &HashMap<String, Self> {
        &c.workspaces
    }
    fn all_mut(c: &mut Cache) -> &mut HashMap<String, Self> {
        &mut c.workspaces
    }
    fn noted(c: &mut Cache, old: Option<&Self>, new: Option<&Self>) {
        c.changes.other = true;
        let key = |w: &Workspace| (w.created_at, w.id.clone());
        if let Some(o) = old {
            if let Some(set) = c.task_workspaces.get_mut(&o.task_id) {
                set.remove(&key(o));
                if set.is_empty() {
                    c.task_workspaces.remove(&o.task_id);
                }
            }
        }
        if let Some(n) = new {
            c.task_workspaces.entry(n.task_id.clone()).or_default().insert(key(n));
        }
        // The task's row shows its totals: woken alone, as a change to the task would.
        for t in old.into_iter().chain(new).map(|w| &w.task_id) {
            if !c.changes.workspace_tasks.contains(t) {
                c.changes.workspace_tasks.push(t.clone());
            }
        }
    }
}

impl Entity for ReviewComment {
    const KIND: Kind = Kind::Comment;
    fn id(&self) -> &str {
        &self.id
    }
    fn version(&self) -> i64 {
        self.version as i64
    }
    fn all(c: &Cache) -> &HashMap<String, Self> {
        &c.comments
    }
    fn all_mut(c: &mut Cache) -> &mut HashMap<String, Self> {
        &mut c.comments
    }
}
