//! Workspaces (SPEC §8): a task's git worktree on a branch of its own, and what it changed
//! against its base — the record, its summary, and the changed files and diffs a client reads.

use super::page;
use super::Millis;
use serde::{Deserialize, Serialize};

/// Where a workspace stands: its worktree is on disk (`active`), its branch was merged into
/// base, or its worktree was removed with the branch kept (`archived`).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceStatus {
    #[default]
    Active,
    Merged,
    Archived,
}

/// How a workspace's branch lands on its base: a merge commit with both as parents, or one
/// new commit on base with all the branch's changes (`squash`).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MergeStrategy {
    #[default]
    Merge,
    Squash,
}

/// A pull request opened for a workspace's branch (`POST /api/workspaces/:id/pr`).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullRequest {
    /// Its address on GitHub.
    pub url: String,
}

/// Whether a workspace's branch can be pushed and a pull request opened for it (`GET
/// /api/workspaces/:id/pr`), asked of an active workspace: the answer of the node whose disk
/// holds it, whose remote and `gh` would be used.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullRequests {
    pub available: bool,
    /// Why not, in plain words (no remote; `gh` missing or logged out there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The remote a push goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    /// Why a push would be refused (no remote, or several and none is `origin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_refused: Option<String>,
}

impl MergeStrategy {
    pub const ALL: [MergeStrategy; 2] = [Self::Merge, Self::Squash];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Merge => "merge",
            Self::Squash => "squash",
        }
    }
}

impl WorkspaceStatus {
    pub const ALL: [WorkspaceStatus; 3] = [Self::Active, Self::Merged, Self::Archived];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Merged => "merged",
            Self::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The totals a workspace shows on its session row, task row and card.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangeSummary {
    pub files: u64,
    pub additions: u64,
    pub deletions: u64,
    /// Commits on the branch that base does not have.
    pub ahead: u64,
    /// Commits on base since the branch left it.
    pub behind: u64,
    /// Anything uncommitted: staged, unstaged or untracked.
    pub dirty: bool,
}

/// A task's git worktree, on a branch of its own, on the node whose disk holds it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    pub id: String,
    pub project_id: String,
    pub task_id: String,
    /// The branch the agent works on (`maestro/<task-slug>-<4 chars>`).
    pub branch: String,
    /// The branch it was made from, which its changes are measured against.
    pub base: String,
    /// Base's commit when the workspace was made.
    pub base_commit: String,
    /// The worktree's directory, absolute, on `node`'s disk.
    pub path: String,
    /// The server node whose disk holds it, when several share one database; `null` otherwise.
    #[serde(default)]
    pub node: Option<String>,
    pub status: WorkspaceStatus,
    /// Kept current while it is active; as it last was once archived.
    pub changes: ChangeSummary,
    /// Bytes its worktree takes on disk, as last measured (not while archived).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_bytes: Option<u64>,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// +1 on every change, so caches can drop stale copies.
    pub version: u64,
}

impl Workspace {
    /// List order: newest first, ties by id (as tasks and sessions).
    pub fn newest_first(a: &Workspace, b: &Workspace) -> std::cmp::Ordering {
        page::list_order(a, b)
    }
}

/// How a file changed.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Added,
    Modified,
    Deleted,
    Renamed,
    /// Changed in any way, with no line counts.
    Binary,
}

/// One changed file.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FileChange {
    /// Relative to the workspace's top, `/`-separated.
    pub path: String,
    /// Where a renamed file was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    pub status: FileStatus,
    pub additions: u64,
    pub deletions: u64,
}

/// A workspace's changed files against the merge-base with its base, and their totals.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceFiles {
    pub merge_base: String,
    /// Sorted by path.
    pub files: Vec<FileChange>,
    pub summary: ChangeSummary,
}

/// One file's diff, or why there is none to show.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum FileDiff {
    /// The unified diff (`a/` and `b/` prefixes, three lines of context).
    Text {
        diff: String,
    },
    Binary,
    /// The diff is longer than `limit` bytes.
    TooLarge {
        limit: usize,
    },
    /// Nothing differs (or the file is ignored).
    Unchanged,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Session;

    #[test]
    fn a_session_written_before_workspaces_loads_without_one() {
        let old = r#"{"id":"sess_1","projectId":"proj_1","taskIds":[],"name":"s","agentId":null,"env":{},
            "status":"running","startedAt":1,"lastActivity":1,"completedAt":null,"version":1}"#;
        let s: Session = serde_json::from_str(old).unwrap();
        assert_eq!(s.workspace_id, None);
        assert_eq!(serde_json::to_value(&s).unwrap()["workspaceId"], serde_json::Value::Null);
    }

    #[test]
    fn a_workspace_is_camel_case_with_node_always_and_disk_bytes_when_measured() {
        let w = Workspace { id: "ws_1".into(), base_commit: "abc".into(), ..Default::default() };
        let v = serde_json::to_value(&w).unwrap();
        assert_eq!(v["baseCommit"], "abc");
        assert_eq!(v["status"], "active");
        assert_eq!(v["node"], serde_json::Value::Null);
        assert!(v.get("diskBytes").is_none());
        assert_eq!(
            v["changes"],
            serde_json::json!({"files": 0, "additions": 0, "deletions": 0, "ahead": 0, "behind": 0, "dirty": false})
        );
        let diff = serde_json::to_value(FileDiff::TooLarge { limit: 10 }).unwrap();
        assert_eq!(diff, serde_json::json!({"kind": "tooLarge", "limit": 10}));
    }
}
