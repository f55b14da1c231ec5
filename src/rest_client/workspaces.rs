//! Workspaces (SPEC §8): list and read them, make one for a task, their changed files and a
//! file's diff, commit, merge, rebase and push, archive and restore.

use super::{seg, Client, ClientError};
use crate::model::*;
use reqwest::Method;
use serde::Serialize;

/// Filters of `GET /api/workspaces`.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<WorkspaceStatus>,
}

/// Which file's diff (`oldPath`: where a renamed file was).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DiffQuery<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_path: Option<&'a str>,
}

impl Client {
    pub async fn workspaces(&self, q: &WorkspaceQuery) -> Result<Vec<Workspace>, ClientError> {
        self.list("/workspaces", q).await
    }

    pub async fn workspace(&self, id: &str) -> Result<Workspace, ClientError> {
        self.get(&format!("/workspaces/{}", seg(id))).await
    }

    pub async fn create_workspace(&self, w: &NewWorkspace) -> Result<Workspace, ClientError> {
        self.send(Method::POST, "/workspaces", w).await
    }

    /// The changed files against the merge-base with its base, with their totals.
    pub async fn workspace_files(&self, id: &str) -> Result<WorkspaceFiles, ClientError> {
        self.get(&format!("/workspaces/{}/files", seg(id))).await
    }

    /// One file's diff (`old_path`: where a renamed file was, as `files` says).
    pub async fn workspace_diff(&self, id: &str, path: &str, old_path: Option<&str>) -> Result<FileDiff, ClientError> {
        let q = DiffQuery { path, old_path };
        self.call(Method::GET, &format!("/workspaces/{}/diff", seg(id)), Some(&q), None).await
    }

    /// Removes its worktree, keeping its branch; refused (409) with uncommitted work or a
    /// session running in it, unless `force`.
    pub async fn archive_workspace(&self, id: &str, force: bool) -> Result<Workspace, ClientError> {
        let body = ArchiveWorkspace { force: force.then_some(true) };
        self.send(Method::POST, &format!("/workspaces/{}/archive", seg(id)), body).await
    }

    pub async fn restore_workspace(&self, id: &str) -> Result<Workspace, ClientError> {
        self.call(Method::POST, &format!("/workspaces/{}/restore", seg(id)), None, None).await
    }

    /// Commits everything in it (`message`: the task's title when `None`).
    pub async fn commit_workspace(&self, id: &str, message: Option<String>) -> Result<Workspace, ClientError> {
        self.send(Method::POST, &format!("/workspaces/{}/commit", seg(id)), CommitWorkspace { message }).await
    }

    /// Merges its branch into its base; a conflict is refused (409), changing nothing.
    pub async fn merge_workspace(&self, id: &str, body: &MergeWorkspace) -> Result<Workspace, ClientError> {
        self.send(Method::POST, &format!("/workspaces/{}/merge", seg(id)), body).await
    }

    /// Rebases its branch onto its base; a conflict is refused (409), changing nothing.
    pub async fn rebase_workspace(&self, id: &str) -> Result<Workspace, ClientError> {
        self.call(Method::POST, &format!("/workspaces/{}/rebase", seg(id)), None, None).await
    }

    /// Pushes its branch to the repository's remote.
    pub async fn push_workspace(&self, id: &str) -> Result<Workspace, ClientError> {
        self.call(Method::POST, &format!("/workspaces/{}/push", seg(id)), None, None).await
    }

    /// Pushes its branch and opens a pull request with the server's `gh`.
    pub async fn open_pull_request(&self, id: &str) -> Result<PullRequest, ClientError> {
        self.call(Method::POST, &format!("/workspaces/{}/pr", seg(id)), None, None).await
    }

    /// Whether a pull request can be opened for it (the `gh` of the node whose disk holds it).
    pub async fn pull_requests(&self, id: &str) -> Result<PullRequests, ClientError> {
        self.call(Method::GET, &format!("/workspaces/{}/pr", seg(id)), None, None).await
    }

    /// Its review comments, in the order they were written.
    pub async fn comments(&self, id: &str) -> Result<Vec<ReviewComment>, ClientError> {
        self.list(&format!("/workspaces/{}/comments", seg(id)), &()).await
    }

    pub async fn create_comment(&self, id: &str, c: &NewComment) -> Result<ReviewComment, ClientError> {
        self.send(Method::POST, &format!("/workspaces/{}/comments", seg(id)), c).await
    }

    pub async fn update_comment(&self, id: &str, patch: &CommentPatch) -> Result<ReviewComment, ClientError> {
        self.send(Method::PATCH, &format!("/comments/{}", seg(id)), patch).await
    }

    pub async fn delete_comment(&self, id: &str) -> Result<(), ClientError> {
        self.call::<serde_json::Value>(Method::DELETE, &format!("/comments/{}", seg(id)), None, None).await.map(|_| ())
    }

    /// Its drafts, as one message, to its running session's agent (or a session started).
    pub async fn send_comments(&self, id: &str, body: &SendComments) -> Result<CommentsSent, ClientError> {
        self.send(Method::POST, &format!("/workspaces/{}/comments/send", seg(id)), body).await
    }
}
