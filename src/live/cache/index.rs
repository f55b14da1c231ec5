//! One project's tasks in list order, so that a window of the list and the counts come
//! without a pass over every task.

use crate::model::{Task, TaskStatus};
use std::collections::BTreeSet;

/// One project's tasks in list order (newest first), overall and per status, so that a
/// window of the list and the counts come without a pass over every task.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct ProjectIndex {
    /// `(created_at, id)` ascending: newest first is this reversed ([`Task::newest_first`]).
    pub(super) all: BTreeSet<(i64, String)>,
    pub(super) by_status: [BTreeSet<(i64, String)>; TaskStatus::COUNT],
}

impl ProjectIndex {
    pub(super) fn insert(&mut self, t: &Task) {
        self.all.insert((t.created_at, t.id.clone()));
        self.by_status[t.status.slot()].insert((t.created_at, t.id.clone()));
    }

    pub(super) fn remove(&mut self, t: &Task) {
        let key = (t.created_at, t.id.clone());
        self.all.remove(&key);
        self.by_status[t.status.slot()].remove(&key);
    }

    pub(super) fn list(&self, status: Option<TaskStatus>) -> &BTreeSet<(i64, String)> {
        match status {
            Some(s) => &self.by_status[s.slot()],
            None => &self.all,
        }
    }
}
