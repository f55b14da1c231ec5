//! What the state weighs by the measure of the store's byte budget (SPEC §6).

use super::State;
use crate::model::EventData;
use std::collections::HashMap;

impl State {
    /// What the state holds, by the measure of the store's byte budget: the sum of its
    /// entities' JSON sizes (see [`json_bytes`]). A full count, for start-up; the writer
    /// then keeps it current with [`State::growth`].
    pub fn bytes(&self) -> u64 {
        let p: u64 = self.projects.values().map(json_bytes).sum();
        let t: u64 = self.tasks.values().map(json_bytes).sum();
        let s: u64 = self.sessions.values().map(json_bytes).sum();
        let w: u64 = self.workspaces.values().map(json_bytes).sum();
        let c: u64 = self.comments.values().map(json_bytes).sum();
        p + t + s + w + c
    }

    /// How many bytes applying `events` in turn would add to [`State::bytes`] (negative:
    /// frees), without applying them. Costs the JSON size of each entity they touch.
    pub fn growth(&self, events: &[EventData]) -> i64 {
        use EventData::*;
        // An entity a list of events touches twice counts from its first new size.
        let mut sizes: HashMap<(u8, &str), u64> = HashMap::new();
        let mut total = 0i64;
        for e in events {
            let (key, new) = match e {
                ProjectCreated(p) | ProjectUpdated(p) => ((0, p.id.as_str()), json_bytes(p)),
                ProjectDeleted(d) => ((0, d.id.as_str()), 0),
                TaskCreated(t) | TaskUpdated(t) => ((1, t.id.as_str()), json_bytes(t)),
                TaskDeleted(d) => ((1, d.id.as_str()), 0),
                SessionCreated(s) | SessionUpdated(s) => ((2, s.id.as_str()), json_bytes(s)),
                SessionDeleted(d) => ((2, d.id.as_str()), 0),
                WorkspaceCreated(w) | WorkspaceUpdated(w) => ((3, w.id.as_str()), json_bytes(w)),
                WorkspaceDeleted(d) => ((3, d.id.as_str()), 0),
                CommentCreated(c) | CommentUpdated(c) => ((4, c.id.as_str()), json_bytes(c)),
                CommentDeleted(d) => ((4, d.id.as_str()), 0),
                SessionTaskAdded(_) | SessionTaskRemoved(_) | TaskSessionAdded(_) | TaskSessionRemoved(_) => continue,
            };
            let old = match sizes.get(&key) {
                Some(n) => *n,
                None => match key.0 {
                    0 => self.projects.get(key.1).map_or(0, json_bytes),
                    1 => self.tasks.get(key.1).map_or(0, json_bytes),
                    2 => self.sessions.get(key.1).map_or(0, json_bytes),
                    3 => self.workspaces.get(key.1).map_or(0, json_bytes),
                    _ => self.comments.get(key.1).map_or(0, json_bytes),
                },
            };
            total += new as i64 - old as i64;
            sizes.insert(key, new);
        }
        total
    }
}

/// What one entity counts for against the store's byte budget: the length of its JSON,
/// the same however the state was reached (live, replayed, loaded from either backend).
pub fn json_bytes<T: serde::Serialize>(v: &T) -> u64 {
    crate::model::page::json_len(v) as u64
}
