//! `/workspaces` (SPEC §8): list and read them, make one for a task, its changed files and
//! one file's diff, commit, merge, rebase and push, archive and restore. The git work is the workspace service's; a git
//! refusal answers 409 with git's reason, a git call past its time limit 504. What is on
//! another node's disk the service asks that node for (a request a node relayed here is
//! not passed on again: `FromNode`).

use super::doc::{GitReads, GitTimeout, Missing, Refusals, Relayed, Retry};
use super::{found, idempotency_key, listed, paging, ApiResult};
use crate::auth::FromNode;
use crate::http::{ApiJson, ApiPath, ApiQuery, ErrorBody};
use crate::model::{
    ArchiveWorkspace, CommitWorkspace, FileDiff, MergeWorkspace, NewWorkspace, PullRequest, PullRequests, Workspace,
    WorkspaceFiles, WorkspaceStatus,
};
use crate::store::Store;
use crate::workspace::Workspaces;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Extension;
use axum::Json;
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct WorkspaceFilter {
    project_id: Option<String>,
    task_id: Option<String>,
    status: Option<WorkspaceStatus>,
    /// Rows per page, 1–1000 (and at most 1 MiB of them). Without it a list comes in pages
    /// of 1000 rows or 1 MiB: follow `Next-Cursor` for the rest.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// Where the page starts: the `Next-Cursor` of the page before.
    #[param(pattern = r"^-?[0-9]{1,18}\.[A-Za-z0-9_-]{1,128}$")]
    cursor: Option<String>,
}

/// Which file's diff.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct DiffQuery {
    /// The file, relative to the workspace's top (`/`-separated), as `files` lists it.
    #[param(min_length = 1, max_length = 4096)]
    path: String,
    /// Where a renamed file was (its `oldPath` in `files`).
    #[param(min_length = 1, max_length = 4096)]
    old_path: Option<String>,
}

#[utoipa::path(get, path = "/workspaces", tag = "workspaces", params(WorkspaceFilter), responses((status = 200, description = "Newest first", body = Vec<Workspace>, headers(("Next-Cursor" = String, description = "Set when rows remain (with or without `limit`: a list comes in pages of at most 1 MiB): pass it as `cursor`"))), (status = 400, body = ErrorBody)))]
pub(super) async fn list_workspaces(State(store): State<Store>, ApiQuery(q): ApiQuery<WorkspaceFilter>) -> ApiResult {
    let paging = paging(q.limit, q.cursor.as_deref())?;
    let (project, task) = (q.project_id.as_deref(), q.task_id.as_deref());
    Ok(store.read(|st| listed(st.workspaces_where(project, task, q.status), paging)))
}

#[utoipa::path(get, path = "/workspaces/{id}", tag = "workspaces", params(("id" = String, Path)), responses((status = 200, body = Workspace), Missing))]
pub(super) async fn get_workspace(State(store): State<Store>, ApiPath(id): ApiPath<String>) -> ApiResult {
    found(store.read_fresh(|st| st.workspaces.get(&id).cloned()).await, "workspace", &id)
}

/// Makes a git worktree for the task on a new branch (`maestro/<task-slug>-<4 chars>`) from
/// `base` (the branch checked out in the project's directory when left out), under the
/// server's data directory, with the files `.worktreeinclude` lists copied in. The project's
/// `basePath` must be inside a git repository (409 otherwise).
#[utoipa::path(post, path = "/workspaces", tag = "workspaces", params(Retry), request_body = NewWorkspace, responses((status = 201, body = Workspace), Refusals, GitTimeout))]
pub(super) async fn create_workspace(
    State(ws): State<Workspaces>,
    h: HeaderMap,
    ApiJson(b): ApiJson<NewWorkspace>,
) -> ApiResult {
    let key = idempotency_key(&h, &("CreateWorkspace", &b))?;
    Ok((StatusCode::CREATED, Json(ws.create(b, key).await?)).into_response())
}

/// The changed files against the merge-base with base (committed, staged, unstaged and
/// untracked), with line counts, computed now.
#[utoipa::path(get, path = "/workspaces/{id}/files", tag = "workspaces", params(("id" = String, Path)), responses((status = 200, body = WorkspaceFiles), GitReads, Relayed))]
pub(super) async fn workspace_files(
    State(ws): State<Workspaces>,
    relayed: Option<Extension<FromNode>>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    Ok(Json(ws.relayed(relayed.is_some()).files(&id).await?).into_response())
}

/// One file's unified diff against the merge-base with base; a binary file, or a diff over
/// 8 MiB, says so instead.
#[utoipa::path(get, path = "/workspaces/{id}/diff", tag = "workspaces", params(("id" = String, Path), DiffQuery), responses((status = 200, body = FileDiff), GitReads, Relayed))]
pub(super) async fn workspace_diff(
    State(ws): State<Workspaces>,
    relayed: Option<Extension<FromNode>>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> ApiResult {
    let ws = ws.relayed(relayed.is_some());
    Ok(Json(ws.diff(&id, &q.path, q.old_path.as_deref()).await?).into_response())
}

/// Removes the worktree and keeps the branch. Refused (409) while a session runs in it or
/// while files are uncommitted, unless `force`.
#[utoipa::path(post, path = "/workspaces/{id}/archive", tag = "workspaces", params(("id" = String, Path), Retry), request_body = ArchiveWorkspace, responses((status = 200, body = Workspace), Refusals, GitTimeout, Relayed))]
pub(super) async fn archive_workspace(
    State(ws): State<Workspaces>,
    relayed: Option<Extension<FromNode>>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ArchiveWorkspace>,
) -> ApiResult {
    // The request as it means, so that a node it is passed to fingerprints it the same.
    let force = b.force.unwrap_or(false);
    let key = idempotency_key(&h, &("ArchiveWorkspace", &id, force))?;
    Ok(Json(ws.relayed(relayed.is_some()).archive(&id, force, key).await?).into_response())
}

/// Checks an archived workspace's branch out again, where it was.
#[utoipa::path(post, path = "/workspaces/{id}/restore", tag = "workspaces", params(("id" = String, Path), Retry), responses((status = 200, body = Workspace), Refusals, GitTimeout, Relayed))]
pub(super) async fn restore_workspace(
    State(ws): State<Workspaces>,
    relayed: Option<Extension<FromNode>>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let key = idempotency_key(&h, &("RestoreWorkspace", &id))?;
    Ok(Json(ws.relayed(relayed.is_some()).restore(&id, key).await?).into_response())
}

/// Commits everything in the workspace (staged, unstaged and untracked files; `.gitignore`
/// respected) as the repository's configured author, with `message` (the task's title when
/// left out). Nothing to commit is 409.
#[utoipa::path(post, path = "/workspaces/{id}/commit", tag = "workspaces", params(("id" = String, Path), Retry), request_body = CommitWorkspace, responses((status = 200, body = Workspace), Refusals, GitTimeout, Relayed))]
pub(super) async fn commit_workspace(
    State(ws): State<Workspaces>,
    relayed: Option<Extension<FromNode>>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<CommitWorkspace>,
) -> ApiResult {
    let key = idempotency_key(&h, &("CommitWorkspace", &id, &b))?;
    Ok(Json(ws.relayed(relayed.is_some()).commit(&id, b.message, key).await?).into_response())
}

/// Merges the workspace's branch into its base, as a merge commit (`merge`, the default)
/// or one squashed commit (`squash`); the workspace becomes `merged`. The person's checkout
/// of the repository is changed only when it has the base branch checked out, and then only
/// when it is clean (a fast-forward); otherwise the base branch moves alone. Refused (409,
/// nothing changed) with uncommitted work in the workspace ("commit first"), with nothing
/// to merge, when base's checkout has uncommitted changes, and when the merge would
/// conflict: then the error's `files` lists the conflicting files.
#[utoipa::path(post, path = "/workspaces/{id}/merge", tag = "workspaces", params(("id" = String, Path), Retry), request_body = MergeWorkspace, responses((status = 200, body = Workspace), Refusals, GitTimeout, Relayed))]
pub(super) async fn merge_workspace(
    State(ws): State<Workspaces>,
    relayed: Option<Extension<FromNode>>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<MergeWorkspace>,
) -> ApiResult {
    let strategy = b.strategy.unwrap_or_else(|| ws.merge_strategy(&id));
    let key = idempotency_key(&h, &("MergeWorkspace", &id, strategy, &b.message))?;
    Ok(Json(ws.relayed(relayed.is_some()).merge(&id, strategy, b.message, key).await?).into_response())
}

/// Rebases the workspace's branch onto its base's current tip. Refused (409) with
/// uncommitted work; a conflict aborts the rebase, changes nothing, and lists the files in
/// the error's `files`.
#[utoipa::path(post, path = "/workspaces/{id}/rebase", tag = "workspaces", params(("id" = String, Path), Retry), responses((status = 200, body = Workspace), Refusals, GitTimeout, Relayed))]
pub(super) async fn rebase_workspace(
    State(ws): State<Workspaces>,
    relayed: Option<Extension<FromNode>>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let key = idempotency_key(&h, &("RebaseWorkspace", &id))?;
    Ok(Json(ws.relayed(relayed.is_some()).rebase(&id, key).await?).into_response())
}

/// Pushes the workspace's branch to the repository's remote (`origin`, or its only one),
/// never asking for credentials: no remote, a rejected push or failed authentication is
/// 409 with git's reason.
#[utoipa::path(post, path = "/workspaces/{id}/push", tag = "workspaces", params(("id" = String, Path), Retry), responses((status = 200, body = Workspace), Refusals, GitTimeout, Relayed))]
pub(super) async fn push_workspace(
    State(ws): State<Workspaces>,
    relayed: Option<Extension<FromNode>>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let key = idempotency_key(&h, &("PushWorkspace", &id))?;
    Ok(Json(ws.relayed(relayed.is_some()).push(&id, key).await?).into_response())
}

/// Pushes the workspace's branch and opens a GitHub pull request for it with `gh pr create
/// --fill` (its commits give the title and body), on the node whose disk holds it. 409
/// where `gh` is not installed or not logged in there (the reason says which), for a
/// workspace that is not active, and with `gh`'s or git's reason when they refuse.
#[utoipa::path(post, path = "/workspaces/{id}/pr", tag = "workspaces", params(("id" = String, Path)), responses((status = 200, body = PullRequest), Refusals, GitTimeout, Relayed))]
pub(super) async fn open_pull_request(
    State(ws): State<Workspaces>,
    relayed: Option<Extension<FromNode>>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    Ok(Json(ws.relayed(relayed.is_some()).pull_request(&id).await?).into_response())
}

/// Whether a pull request can be opened for the workspace, as `POST` would answer: it is
/// active and the `gh` of the node whose disk holds it (that node is asked) is installed
/// and logged in; the reason when not.
#[utoipa::path(get, path = "/workspaces/{id}/pr", tag = "workspaces", params(("id" = String, Path)), responses((status = 200, body = PullRequests), Refusals, Relayed))]
pub(super) async fn pull_requests(
    State(ws): State<Workspaces>,
    relayed: Option<Extension<FromNode>>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    Ok(Json(ws.relayed(relayed.is_some()).pull_requests_for(&id).await?).into_response())
}
