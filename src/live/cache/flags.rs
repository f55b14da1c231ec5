//! Flags: what may need the person (a session that ended, a task that is blocked), kept
//! in step with the copies held, for the attention list and the notifications.

use super::{Cache, Kind, ListKey};
use crate::model::{Session, Task};

/// Something that may need the person: a session that ended, a task that is blocked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    pub kind: Kind,
    pub project_id: String,
}

impl Cache {
    /// Keeps `flagged` in step with a copy of `id` stored (`flag`: whether and how it is
    /// flagged now) or removed (`None`).
    pub(super) fn flag(&mut self, id: Option<&str>, flag: Option<Flag>) {
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
}
