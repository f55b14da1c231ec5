//! `/projects`: list, read, create, update, delete (with everything of it when asked).

use super::doc::{Missing, Refusals, Retry};
use super::{found, idempotency_key, listed, mutate, paging, render, ApiResult, Success};
use crate::http::{ApiJson, ApiPath, ApiQuery, ErrorBody};
use crate::model::{NewProject, Project, ProjectPatch};
use crate::store::{Command, Outcome, Store};
use crate::workspace::Workspaces;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;

/// `limit` and `cursor` of `GET /api/projects`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ProjectFilter {
    /// Rows per page, 1–1000 (and at most 1 MiB of them). Without it a list comes in pages
    /// of 1000 rows or 1 MiB: follow `Next-Cursor` for the rest.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// Where the page starts: the `Next-Cursor` of the page before.
    #[param(pattern = r"^-?[0-9]{1,18}\.[A-Za-z0-9_-]{1,128}$")]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/projects", tag = "projects", params(ProjectFilter), responses((status = 200, description = "Oldest first", body = Vec<Project>, headers(("Next-Cursor" = String, description = "Set when rows remain (with or without `limit`: a list comes in pages of at most 1 MiB): pass it as `cursor`"))), (status = 400, body = ErrorBody)))]
pub(super) async fn list_projects(State(store): State<Store>, ApiQuery(q): ApiQuery<ProjectFilter>) -> ApiResult {
    let paging = paging(q.limit, q.cursor.as_deref())?;
    Ok(store.read(|st| listed(st.projects.values(), paging)))
}

#[utoipa::path(get, path = "/projects/{id}", tag = "projects", params(("id" = String, Path)), responses((status = 200, body = Project), Missing))]
pub(super) async fn get_project(State(store): State<Store>, ApiPath(id): ApiPath<String>) -> ApiResult {
    found(store.read_fresh(|st| st.projects.get(&id).cloned()).await, "project", &id)
}

#[utoipa::path(post, path = "/projects", tag = "projects", params(Retry), request_body = NewProject, responses((status = 201, body = Project), Refusals))]
pub(super) async fn create_project(
    State(store): State<Store>,
    h: HeaderMap,
    ApiJson(b): ApiJson<NewProject>,
) -> ApiResult {
    mutate(&store, &h, Command::CreateProject { project: b }, StatusCode::CREATED).await
}

#[utoipa::path(patch, path = "/projects/{id}", tag = "projects", params(("id" = String, Path), Retry), request_body = ProjectPatch, responses((status = 200, body = Project), Refusals))]
pub(super) async fn update_project(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ProjectPatch>,
) -> ApiResult {
    mutate(&store, &h, Command::UpdateProject { id, patch: b }, StatusCode::OK).await
}

/// `cascade` of `DELETE /api/projects/{id}`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct DeleteProjectQuery {
    /// `true`: delete the project with its tasks, ended sessions and workspaces (their
    /// worktrees removed, their branches kept), in one step. Refused (409) while any of its
    /// sessions runs or a worktree holds uncommitted work. Without it a project with tasks
    /// or sessions is refused (409), so that a script does not delete them by accident.
    cascade: Option<bool>,
}

/// Deletes a project. Files in its directory are never touched.
#[utoipa::path(delete, path = "/projects/{id}", tag = "projects", params(("id" = String, Path), DeleteProjectQuery, Retry), responses((status = 200, body = Success), Refusals))]
pub(super) async fn delete_project(
    State(store): State<Store>,
    State(ws): State<Workspaces>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<DeleteProjectQuery>,
) -> ApiResult {
    if q.cascade != Some(true) {
        return mutate(&store, &h, Command::DeleteProject { id }, StatusCode::OK).await;
    }
    let key = idempotency_key(&h, &Command::DeleteProjectWithContents { id: id.clone() })?;
    ws.delete_project(&id, key).await?;
    Ok(render(StatusCode::OK, Outcome::Deleted))
}
