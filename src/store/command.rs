//! What callers ask of the store: the mutations, what they return, and the key that makes
//! a retry safe.

use super::StoreError;
use crate::model::{
    NewProject, NewSession, NewSubtask, NewTask, Project, ProjectPatch, Session, SessionPatch, SubtaskPatch, Task,
    TaskPatch,
};
use serde::{Deserialize, Serialize};

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

/// A project's directory must exist where its terminals start (on this server): a
/// mistyped path is refused rather than silently replaced by the home directory.
pub(super) fn check_directories(cmd: &Command) -> Result<(), StoreError> {
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
