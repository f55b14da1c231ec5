//! The server functions of workspaces (SPEC §8): reading them and their changes, and what
//! the browser does to them — archive, restore, commit, merge, rebase, push, open a pull request. Each calls the
//! `Workspaces` service (which passes it to the node holding the workspace), as REST does.

#[cfg(feature = "ssr")]
use super::{ssr, ssr::store};
use super::{whole, AtSeq, ListPage};
use crate::model::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The workspaces with these ids (the open sessions' own, for their rows).
#[server(prefix = "/sfn", input = Json)]
pub async fn get_workspaces(ids: Vec<String>) -> Result<AtSeq<Workspace>, FnError> {
    if ids.len() > 1000 {
        return Err(crate::http::AppError::invalid("at most 1000 workspaces at once").into());
    }
    Ok(store()?.read_at(|s| ids.iter().filter_map(|id| s.workspaces.get(id).cloned()).collect()))
}

/// A project's active workspaces, newest first: what the task rows and cards total.
pub async fn list_project_workspaces(project_id: String) -> Result<AtSeq<Workspace>, FnError> {
    whole(|cursor| list_workspaces_page(project_id.clone(), cursor)).await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn list_workspaces_page(project_id: String, cursor: Option<String>) -> Result<ListPage<Workspace>, FnError> {
    let after = ssr::cursor(cursor)?;
    Ok(ssr::list_page(store()?.read_at(|s| {
        let active = s.workspaces_where(Some(&project_id), None, Some(WorkspaceStatus::Active));
        ssr::rows_page(active, after.as_ref())
    })))
}

/// A workspace's changed files, computed now, as `GET /api/workspaces/:id/files`.
// Named so its struct does not shadow the model's `WorkspaceFiles`.
#[server(prefix = "/sfn", input = Json, name = GetWorkspaceFiles)]
pub async fn workspace_files(id: String) -> Result<WorkspaceFiles, FnError> {
    Ok(ssr::workspaces()?.files(&id).await?)
}

/// One file's diff (`old_path`: where a renamed file was), as `GET /api/workspaces/:id/diff`.
#[server(prefix = "/sfn", input = Json)]
pub async fn workspace_diff(id: String, path: String, old_path: Option<String>) -> Result<FileDiff, FnError> {
    Ok(ssr::workspaces()?.diff(&id, &path, old_path.as_deref()).await?)
}

/// The most workspaces of one task [`list_task_workspaces`] sends (newest first; a task has
/// at most 32 active ones, the rest are archived or merged).
pub const TASK_WORKSPACES_LISTED: usize = 200;

/// A task's workspaces, newest first.
#[server(prefix = "/sfn", input = Json)]
pub async fn list_task_workspaces(task_id: String) -> Result<AtSeq<Workspace>, FnError> {
    Ok(store()?.read_at(|s| {
        let mut v: Vec<Workspace> = s.workspaces_where(None, Some(&task_id), None).cloned().collect();
        v.sort_by(Workspace::newest_first);
        v.truncate(TASK_WORKSPACES_LISTED);
        v
    }))
}

/// Removes a workspace's worktree and keeps its branch (SPEC §8); refused while a session
/// runs in it or while files are uncommitted, unless `force`.
#[server(prefix = "/sfn", input = Json)]
pub async fn archive_workspace(id: String, force: bool) -> Result<Workspace, FnError> {
    Ok(ssr::workspaces()?.archive(&id, force, None).await?)
}

/// Checks an archived workspace's branch out again.
#[server(prefix = "/sfn", input = Json)]
pub async fn restore_workspace(id: String) -> Result<Workspace, FnError> {
    Ok(ssr::workspaces()?.restore(&id, None).await?)
}

/// Commits everything in a workspace, with `message` (the task's title when `None`).
#[server(prefix = "/sfn", input = Json)]
pub async fn commit_workspace(id: String, message: Option<String>) -> Result<Workspace, FnError> {
    Ok(ssr::workspaces()?.commit(&id, message, None).await?)
}

/// Merges a workspace's branch into its base; a conflict is refused with its `files`.
#[server(prefix = "/sfn", input = Json)]
pub async fn merge_workspace(
    id: String,
    strategy: MergeStrategy,
    message: Option<String>,
) -> Result<Workspace, FnError> {
    Ok(ssr::workspaces()?.merge(&id, strategy, message, None).await?)
}

/// Rebases a workspace's branch onto its base; a conflict is refused with its `files`.
#[server(prefix = "/sfn", input = Json)]
pub async fn rebase_workspace(id: String) -> Result<Workspace, FnError> {
    Ok(ssr::workspaces()?.rebase(&id, None).await?)
}

/// Pushes a workspace's branch to the repository's remote.
#[server(prefix = "/sfn", input = Json)]
pub async fn push_workspace(id: String) -> Result<Workspace, FnError> {
    Ok(ssr::workspaces()?.push(&id, None).await?)
}

/// What the landing bar offers for a workspace, as the server whose disk holds it answers:
/// "Open pull request" where its `gh` is installed and logged in, "Push" where its
/// repository has the remote (an error: that server cannot be reached).
#[server(prefix = "/sfn", input = Json)]
pub async fn pull_requests_offered(id: String) -> Result<PullRequests, FnError> {
    Ok(ssr::workspaces()?.pull_requests_for(&id).await?)
}

/// Pushes a workspace's branch and opens a pull request for it; its address.
#[server(prefix = "/sfn", input = Json)]
pub async fn open_pull_request(id: String) -> Result<PullRequest, FnError> {
    Ok(ssr::workspaces()?.pull_request(&id).await?)
}
