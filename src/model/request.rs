//! Request bodies (SPEC §2). Unknown fields are refused ("never silently dropped"), and a
//! field that may be left out may not be sent as `null` unless null means something.

#[cfg(feature = "ssr")]
use super::schema;
use super::{MergeStrategy, Priority, SessionState, SessionStatus, SubtaskStatus, TaskStatus};
use serde::{Deserialize, Deserializer, Serialize};

/// Deserialises a field that, when present, must hold a real value (not `null`).
pub(super) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Deserialises a field where `null` is meaningful ("clear it"): absent → `None`,
/// `null` → `Some(None)`, a value → `Some(Some(v))`.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Body of `POST /api/projects`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewProject {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::id))]
    pub id: Option<String>,
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::name))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::base_path_or_null))]
    pub base_path: Option<String>,
    /// Workspaces for its sessions (default `true`).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = bool))]
    pub isolation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::branch_or_null))]
    pub base_branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::setup_or_null))]
    pub setup_command: Option<String>,
}

/// Body of `PATCH /api/projects/:id`; `basePath: null` clears the directory, and
/// `baseBranch`/`setupCommand: null` go back to their defaults.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectPatch {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::name))]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::base_path_or_null))]
    pub base_path: Option<Option<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = bool))]
    pub isolation: Option<bool>,
    /// `null`: workspaces start from the branch checked out in `basePath`.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::branch_or_null))]
    pub base_branch: Option<Option<String>>,
    /// `null` or blank: the repository's `.maestro/setup.sh` is used, if it has one.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::setup_or_null))]
    pub setup_command: Option<Option<String>>,
    /// How "Merge" lands a workspace by default.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = MergeStrategy))]
    pub merge_strategy: Option<MergeStrategy>,
}

/// Body of `POST /api/tasks`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTask {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::id))]
    pub id: Option<String>,
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::id))]
    pub project_id: String,
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::title))]
    pub title: String,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::text))]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::text))]
    pub prompt: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Priority))]
    pub priority: Option<Priority>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = TaskStatus))]
    pub status: Option<TaskStatus>,
}

/// Body of `PATCH /api/tasks/:id`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskPatch {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::title))]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::text))]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::text))]
    pub prompt: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = TaskStatus))]
    pub status: Option<TaskStatus>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Priority))]
    pub priority: Option<Priority>,
}

/// Body of `POST /api/tasks/:id/subtasks`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSubtask {
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::title))]
    pub title: String,
}

/// Body of `PATCH /api/tasks/:id/subtasks/:sid`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubtaskPatch {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::title))]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = SubtaskStatus))]
    pub status: Option<SubtaskStatus>,
}

/// Body of `POST /api/sessions`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSession {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::id))]
    pub id: Option<String>,
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::id))]
    pub project_id: String,
    #[serde(default)]
    pub task_ids: Vec<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::name))]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::agent_or_null))]
    pub agent_id: Option<String>,
    /// Where it runs (SPEC §8): left out or null, the task's workspace in a git project
    /// (made on its first session); `"new"` a new one; `"none"` the project's directory;
    /// or a workspace's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::workspace_choice))]
    pub workspace: Option<String>,
    /// More for its agent to do, told after its tasks' prompt (a review's comments, a
    /// merge's conflicts); at most `SESSION_PROMPT_MAX` bytes.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::session_prompt))]
    pub prompt: Option<String>,
}

/// Body of `PUT /api/sessions/:id/state`: what the session's agent is doing (SPEC §9).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionStateUpdate {
    pub state: SessionState,
    /// What it asks or says, in a line (no control characters); absent or blank: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::state_message))]
    pub message: Option<String>,
}

/// Body of `POST /api/sessions/:id/log`: a line for the session's timeline (SPEC §9).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionLogLine {
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::title))]
    pub text: String,
}

/// [`NewSession::workspace`]: make a new workspace for the session's task.
pub const WORKSPACE_NEW: &str = "new";
/// [`NewSession::workspace`]: run in the project's directory.
pub const WORKSPACE_NONE: &str = "none";

/// Body of `PATCH /api/sessions/:id`; `agentId: null` clears the agent.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionPatch {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::name))]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = SessionStatus))]
    pub status: Option<SessionStatus>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::agent_or_null))]
    pub agent_id: Option<Option<String>>,
}

/// Body of `POST /api/workspaces`: a worktree for the task, on a new branch from `base`
/// (the branch checked out in the project's directory when left out).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewWorkspace {
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::id))]
    pub task_id: String,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::branch))]
    pub base: Option<String>,
}

/// Body of `POST /api/workspaces/:id/archive`; `force` loses uncommitted work and ignores
/// a session running in it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArchiveWorkspace {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = bool))]
    pub force: Option<bool>,
}

/// Body of `POST /api/workspaces/:id/commit`: everything, with `message` (the task's title
/// when left out).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommitWorkspace {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::message))]
    pub message: Option<String>,
}

/// Body of `POST /api/workspaces/:id/merge`: into the workspace's base branch, as a merge
/// commit or one squashed commit, with `message` (a default when left out).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MergeWorkspace {
    /// Null or left out: the project's `mergeStrategy` (a merge commit unless set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<MergeStrategy>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::message))]
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_refuse_unknown_fields_and_meaningless_nulls() {
        assert!(serde_json::from_str::<TaskPatch>(r#"{"titel":"x"}"#).is_err());
        assert!(serde_json::from_str::<TaskPatch>(r#"{"title":null}"#).is_err());
        let p: ProjectPatch = serde_json::from_str(r#"{"basePath":null}"#).unwrap();
        assert_eq!(p.base_path, Some(None));
        let p: ProjectPatch = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(p.base_path, None);
    }
}
