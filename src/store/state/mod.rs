//! The domain: what the store holds and what each mutation does to it, with no I/O.
//!
//! A mutation is *planned* against the current state into the list of events it causes
//! (SPEC §3, in order). Applying those events is the only way state changes, so the event
//! log replayed from empty rebuilds the state exactly, and the persistence layer only has
//! to store what the events say.
//!
//! - `queries`: the reads (lists, filters, one record or `NotFound`);
//! - `plan`: what each command does, a file per entity;
//! - `nodes`: which node runs a session's terminal, and what its death does;
//! - `invariant`: SPEC §1's invariant, checked by the tests;
//! - `budget`: what the state weighs against its byte budget;
//! - `validate`: the rules for what clients send (ids, texts, paths).

mod budget;
mod invariant;
mod nodes;
mod plan;
mod queries;
mod validate;

pub use budget::json_bytes;
pub use plan::{session_env, Inputs, Plan};
pub use validate::check_id;

pub use crate::model::limits::*;

use crate::model::{EventData, Project, ReviewComment, Session, Task, Workspace};
use std::collections::HashMap;

/// The ids of plain terminals (no session) start with this; no session's may.
pub const PLAIN_TERMINAL_PREFIX: &str = "term_";
/// Most subtasks one task may hold.
pub const SUBTASKS_MAX: usize = 1000;
/// Most tasks one session may be linked to: its `MAESTRO_TASK_IDS` stays a few KiB, far
/// below Linux's 128 KiB limit on one environment string.
pub const SESSION_TASKS_MAX: usize = 256;
/// Most sessions one task may be linked to.
pub const TASK_SESSIONS_MAX: usize = 256;
/// Most active workspaces one task may have: each is a whole checkout on disk.
pub const TASK_WORKSPACES_MAX: usize = 32;

/// Everything the store holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    pub projects: HashMap<String, Project>,
    pub tasks: HashMap<String, Task>,
    pub sessions: HashMap<String, Session>,
    pub workspaces: HashMap<String, Workspace>,
    pub comments: HashMap<String, ReviewComment>,
}

impl State {
    /// Applies one event. Link events carry nothing the entity updates around them do not.
    pub fn apply(&mut self, e: &EventData) {
        use EventData::*;
        match e {
            ProjectCreated(p) | ProjectUpdated(p) => {
                self.projects.insert(p.id.clone(), p.clone());
            }
            ProjectDeleted(d) => {
                self.projects.remove(&d.id);
            }
            TaskCreated(t) | TaskUpdated(t) => {
                self.tasks.insert(t.id.clone(), t.clone());
            }
            TaskDeleted(d) => {
                self.tasks.remove(&d.id);
            }
            SessionCreated(s) | SessionUpdated(s) => {
                self.sessions.insert(s.id.clone(), s.clone());
            }
            SessionDeleted(d) => {
                self.sessions.remove(&d.id);
            }
            WorkspaceCreated(w) | WorkspaceUpdated(w) => {
                self.workspaces.insert(w.id.clone(), w.clone());
            }
            WorkspaceDeleted(d) => {
                self.workspaces.remove(&d.id);
            }
            CommentCreated(c) | CommentUpdated(c) => {
                self.comments.insert(c.id.clone(), c.clone());
            }
            CommentDeleted(d) => {
                self.comments.remove(&d.id);
            }
            SessionTaskAdded(_) | SessionTaskRemoved(_) | TaskSessionAdded(_) | TaskSessionRemoved(_) => {}
        }
    }
}
