//! The entities of SPEC §1: projects, tasks with their subtasks, sessions, agents.

use super::page;
use super::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A group of tasks with a directory their terminals start in, and how its agents work
/// there (SPEC §8). Fields added later have serde defaults: rows written before load.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: String,
    /// 1–200 chars after trimming.
    pub name: String,
    /// Absolute directory the project's terminals start in; `None` means the user's home.
    pub base_path: Option<String>,
    /// Sessions of a project in a git repository run in workspaces (their own worktree);
    /// `false`: in `basePath`, as before workspaces.
    #[serde(default = "yes")]
    pub isolation: bool,
    /// The branch workspaces are made from; `None`: the one checked out in `basePath`.
    #[serde(default)]
    pub base_branch: Option<String>,
    /// Run in a new workspace before its agent; `None`: the repository's
    /// `.maestro/setup.sh`, if it has one.
    #[serde(default)]
    pub setup_command: Option<String>,
    /// The server's HMAC of the setup command, made when it was set through the API: the
    /// server runs only a command whose signature holds, so a row written into the
    /// database does not become code. Harmless to show: it proves only this command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(read_only))]
    pub setup_signature: Option<String>,
    /// How "Merge" lands a workspace when the person does not choose (SPEC §8).
    #[serde(default)]
    pub merge_strategy: super::MergeStrategy,
    pub created_at: Millis,
    pub updated_at: Millis,
}

fn yes() -> bool {
    true
}

impl Default for Project {
    fn default() -> Self {
        Project {
            id: String::new(),
            name: String::new(),
            base_path: None,
            isolation: true,
            base_branch: None,
            setup_command: None,
            setup_signature: None,
            merge_strategy: Default::default(),
            created_at: 0,
            updated_at: 0,
        }
    }
}

/// Where a task stands; `completed` also stamps `completedAt`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    #[default]
    Pending,
    InProgress,
    /// The agent has finished and its change waits for the person (SPEC §8).
    InReview,
    Completed,
    Blocked,
}

impl TaskStatus {
    /// How many there are: per-status counts are arrays of this length.
    pub const COUNT: usize = 5;
    pub const ALL: [TaskStatus; Self::COUNT] =
        [Self::Pending, Self::InProgress, Self::InReview, Self::Completed, Self::Blocked];

    /// Its place in [`TaskStatus::ALL`]: per-status counts and lists are arrays in that order.
    pub fn slot(self) -> usize {
        Self::ALL.iter().position(|x| *x == self).unwrap_or(0)
    }

    /// The wire name, also used in query strings and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InProgress => "in_progress",
            Self::InReview => "in_review",
            Self::Completed => "completed",
            Self::Blocked => "blocked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// How urgent a task is; `medium` unless said otherwise.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Self::Low, Self::Medium, Self::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A subtask is a checklist item: either still to do or done.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SubtaskStatus {
    #[default]
    Pending,
    Completed,
}

/// A checklist item inside a task; changing one changes (and versions) its task.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subtask {
    pub id: String,
    pub task_id: String,
    pub title: String,
    pub status: SubtaskStatus,
    pub created_at: Millis,
    pub completed_at: Option<Millis>,
}

impl Project {
    /// List order: oldest first (the order people created them in), ties by id.
    pub fn oldest_first(a: &Project, b: &Project) -> std::cmp::Ordering {
        page::list_order(a, b)
    }
}

/// A unit of work inside a project, worked on by any number of sessions.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub description: String,
    /// The text handed to an agent that works on the task.
    pub prompt: String,
    pub status: TaskStatus,
    pub priority: Priority,
    /// Maintained by the server only: the other half of the session↔task link.
    pub session_ids: Vec<String>,
    /// Always `session_ids.len()`; kept on the wire because clients render it directly.
    pub session_count: usize,
    pub subtasks: Vec<Subtask>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub completed_at: Option<Millis>,
    /// +1 on every change, so caches can drop stale copies.
    pub version: u64,
}

/// Whether the agent in a session is still at work.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    #[default]
    Running,
    Completed,
    Failed,
}

impl SessionStatus {
    pub const ALL: [SessionStatus; 3] = [Self::Running, Self::Completed, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl Task {
    /// List order: newest first, ties by id. The server and the client caches both sort
    /// with it, so that a patched list and a fresh fetch agree.
    pub fn newest_first(a: &Task, b: &Task) -> std::cmp::Ordering {
        page::list_order(a, b)
    }
}

/// A terminal where an agent works, linked to any number of tasks of one project.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    pub project_id: String,
    /// Maintained by the server only: the other half of the session↔task link.
    pub task_ids: Vec<String>,
    pub name: String,
    pub agent_id: Option<String>,
    /// `MAESTRO_*` variables the session's terminal starts with; recomputed on every change.
    pub env: BTreeMap<String, String>,
    pub status: SessionStatus,
    pub started_at: Millis,
    pub last_activity: Millis,
    pub completed_at: Option<Millis>,
    pub version: u64,
    /// The server node its terminal runs on, when several share one database (SPEC §6):
    /// the others relay to it, and fail the session if that node dies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The workspace (SPEC §8) its terminal works in; `null` for none. Rows written before
    /// workspaces existed load as `null`.
    #[serde(default)]
    pub workspace_id: Option<String>,
    /// How its terminal's process ended, once it has (SPEC §9): its exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<u32>,
    /// What its agent is doing while it runs (SPEC §9); absent until anything said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<SessionState>,
    /// What it asks or says, in a line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_message: Option<String>,
    /// When `state` was last set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_at: Option<Millis>,
    /// What its agent said it did, a line each (`maestro session log`), oldest first: the
    /// newest [`TIMELINE_MAX`](crate::model::limits::TIMELINE_MAX) lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineLine>,
    /// What it was started with besides its tasks' prompt ([`NewSession::prompt`]), kept
    /// so that its agent gets it wherever and whenever its terminal starts.
    ///
    /// [`NewSession::prompt`]: super::NewSession::prompt
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
}

/// A line of a session's timeline.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineLine {
    pub at: Millis,
    pub text: String,
}

/// Whether a session needs the person: it ended, or its agent waits for an answer.
pub fn session_flagged(s: &Session) -> bool {
    s.status != SessionStatus::Running || s.state == Some(SessionState::NeedsInput)
}

/// What a running session's agent is doing (SPEC §9): `needs_input` waits for the person.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Working,
    NeedsInput,
    Idle,
}

impl SessionState {
    pub const ALL: [SessionState; 3] = [Self::Working, Self::NeedsInput, Self::Idle];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Working => "working",
            Self::NeedsInput => "needs_input",
            Self::Idle => "idle",
        }
    }

    /// As the API writes it, or with a dash as people type it (`needs-input`).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.replace('-', "_");
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// As people read it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Working => "working",
            Self::NeedsInput => "needs input",
            Self::Idle => "idle",
        }
    }
}

impl Session {
    /// List order: newest first, ties by id (see [`Task::newest_first`]).
    pub fn newest_first(a: &Session, b: &Session) -> std::cmp::Ordering {
        page::list_order(a, b)
    }

    /// When it ended (its last activity if no end was recorded), then its id: the order of
    /// "the newest ended" (the Sessions pane's).
    pub fn ended_key(&self) -> (Millis, &str) {
        (self.completed_at.unwrap_or(self.last_activity), &self.id)
    }
}

/// An agent the person configured (SPEC §5): "Work on task" offers it, a session's
/// `agentId` names it. Its command line stays on the server (it may hold secrets).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    pub id: String,
}

/// What deleting a project with everything of it takes with it: the browser's question
/// names these before it asks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectContents {
    pub tasks: usize,
    /// Sessions ended (completed or failed): they go with the project.
    pub ended_sessions: usize,
    /// Running sessions' names: while any runs, the project is not deleted.
    pub running: Vec<String>,
    /// Workspaces recorded; their branches stay in the repository.
    pub workspaces: usize,
    /// Of those, the ones whose worktree is on disk, removed when they hold no uncommitted work.
    pub worktrees: usize,
}
