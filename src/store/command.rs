//! What callers ask of the store: the mutations, what they return, and the key that makes
//! a retry safe.

use super::StoreError;
use crate::model::{
    ChangeSummary, CommentPatch, NewComment, NewProject, NewSession, NewSubtask, NewTask, Project, ProjectPatch,
    ReviewComment, Session, SessionLogLine, SessionPatch, SessionState, SessionStateUpdate, SubtaskPatch, Task,
    TaskPatch, Workspace, WorkspaceStatus,
};
use serde::{Deserialize, Serialize, Serializer};

/// Every mutation the store knows. The REST API, the server functions and the terminals
/// all send these, so each mutation has exactly one code path.
///
/// Its JSON is what an `Idempotency-Key` fingerprints, and the keys recorded are shared by
/// every node on a database: each variant serialises as it did before its fields had names
/// (`{"UpdateTask": [id, patch]}`), so that a retry across an upgrade still matches.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Command {
    #[serde(serialize_with = "one")]
    CreateProject {
        project: NewProject,
    },
    #[serde(serialize_with = "two")]
    UpdateProject {
        id: String,
        patch: ProjectPatch,
    },
    #[serde(serialize_with = "one")]
    DeleteProject {
        id: String,
    },
    /// The project with its tasks, sessions, workspaces (their branches stay) and their
    /// comments, in one commit; refused while a session runs or a worktree is on disk.
    DeleteProjectWithContents {
        id: String,
    },
    #[serde(serialize_with = "one")]
    CreateTask {
        task: NewTask,
    },
    #[serde(serialize_with = "two")]
    UpdateTask {
        id: String,
        patch: TaskPatch,
    },
    #[serde(serialize_with = "one")]
    DeleteTask {
        id: String,
    },
    #[serde(serialize_with = "two")]
    AddSubtask {
        task_id: String,
        subtask: NewSubtask,
    },
    #[serde(serialize_with = "three")]
    UpdateSubtask {
        task_id: String,
        subtask_id: String,
        patch: SubtaskPatch,
    },
    #[serde(serialize_with = "two")]
    DeleteSubtask {
        task_id: String,
        subtask_id: String,
    },
    #[serde(serialize_with = "one")]
    CreateSession {
        session: NewSession,
    },
    #[serde(serialize_with = "two")]
    UpdateSession {
        id: String,
        patch: SessionPatch,
    },
    #[serde(serialize_with = "one")]
    DeleteSession {
        id: String,
    },
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
    /// What a running session's agent is doing (SPEC §9).
    SetSessionState {
        id: String,
        update: SessionStateUpdate,
    },
    /// The terminal's guess at what a running session's agent is doing (SPEC §9): made only
    /// while its state is still `seen`, the one the guess was made from, so it never
    /// overrides what the agent (or a person) said meanwhile.
    GuessSessionState {
        id: String,
        state: SessionState,
        seen: Option<SessionState>,
        /// What it asks, for a guessed `needs_input` (the screen's last line).
        message: Option<String>,
    },
    /// A line for a session's timeline (SPEC §9).
    LogSession {
        id: String,
        line: SessionLogLine,
    },
    /// A session's terminal process ended with `code` (SPEC §9): recorded with it, and a
    /// running session completes (0) or fails.
    SessionExited {
        id: String,
        code: u32,
    },
    /// Fails the running sessions whose terminals ran on a node that died.
    #[serde(serialize_with = "one")]
    FailNode {
        node: String,
    },
    /// Records a worktree the workspace service made on disk (the store never runs git).
    /// Boxed: the largest command, it would make every queued command as large.
    CreateWorkspace {
        workspace: Box<WorkspaceMade>,
    },
    /// A workspace's changes, status or disk use, as the workspace service found them.
    UpdateWorkspace {
        id: String,
        patch: WorkspacePatch,
    },
    /// Forgets a workspace that is no longer active (its branch stays in git).
    DeleteWorkspace {
        id: String,
    },
    /// A review comment on an active workspace's diff, as a draft (SPEC §8).
    CreateComment {
        workspace_id: String,
        comment: NewComment,
    },
    UpdateComment {
        id: String,
        patch: CommentPatch,
    },
    DeleteComment {
        id: String,
    },
    /// Marks `ids`, drafts just typed to the workspace's agent, sent.
    SendComments {
        workspace_id: String,
        ids: Vec<String>,
    },
}

/// A worktree made on disk, for [`Command::CreateWorkspace`]: the store adds the id, the
/// project (the task's) and the stamps.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WorkspaceMade {
    pub task_id: String,
    pub branch: String,
    pub base: String,
    pub base_commit: String,
    pub path: String,
    pub node: Option<String>,
    pub changes: ChangeSummary,
    pub disk_bytes: Option<u64>,
}

/// What [`Command::UpdateWorkspace`] changes; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WorkspacePatch {
    /// Refused on a workspace that is not active, unless `status` comes with it: an archived
    /// workspace's changes are no longer followed (a late recompute must not bring them back).
    pub changes: Option<ChangeSummary>,
    pub status: Option<WorkspaceStatus>,
    /// `Some(None)` forgets the measure (an archived worktree takes no disk).
    pub disk_bytes: Option<Option<u64>>,
}

/// A variant's one field as the variant's value (a newtype variant's JSON).
fn one<A: Serialize, S: Serializer>(a: &A, s: S) -> Result<S::Ok, S::Error> {
    a.serialize(s)
}

/// A variant's fields as an array (a tuple variant's JSON).
fn two<A: Serialize, B: Serialize, S: Serializer>(a: &A, b: &B, s: S) -> Result<S::Ok, S::Error> {
    (a, b).serialize(s)
}

fn three<A: Serialize, B: Serialize, C: Serialize, S: Serializer>(
    a: &A,
    b: &B,
    c: &C,
    s: S,
) -> Result<S::Ok, S::Error> {
    (a, b, c).serialize(s)
}

/// What a successful mutation returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    Project(Project),
    Task(Task),
    Session(Session),
    Workspace(Workspace),
    Comment(ReviewComment),
    /// A workspace's comments, in list order.
    Comments(Vec<ReviewComment>),
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
        Command::CreateProject { project } => project.base_path.as_deref(),
        Command::UpdateProject { patch, .. } => patch.base_path.as_ref().and_then(|p| p.as_deref()),
        _ => None,
    };
    match path.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) if p.starts_with('/') && !std::path::Path::new(p).is_dir() => {
            Err(StoreError::Invalid(format!("basePath {p:?} is not a directory on the server")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON fingerprinted for an `Idempotency-Key` is the one recorded keys were made of.
    #[test]
    fn commands_serialise_as_before_their_fields_had_names() {
        let json = |c: Command| serde_json::to_string(&c).unwrap();
        let patch = SubtaskPatch { title: Some("x".into()), ..Default::default() };
        assert_eq!(json(Command::DeleteTask { id: "t".into() }), r#"{"DeleteTask":"t"}"#);
        assert_eq!(
            json(Command::UpdateSubtask { task_id: "t".into(), subtask_id: "s".into(), patch: patch.clone() }),
            format!(r#"{{"UpdateSubtask":["t","s",{}]}}"#, serde_json::to_string(&patch).unwrap())
        );
        assert_eq!(
            json(Command::DeleteSubtask { task_id: "t".into(), subtask_id: "s".into() }),
            r#"{"DeleteSubtask":["t","s"]}"#
        );
        assert_eq!(
            json(Command::LinkTask { session_id: "s".into(), task_id: "t".into() }),
            r#"{"LinkTask":{"session_id":"s","task_id":"t"}}"#
        );
        assert_eq!(json(Command::FailNode { node: "n".into() }), r#"{"FailNode":"n"}"#);
    }
}
