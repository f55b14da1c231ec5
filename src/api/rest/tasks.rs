//! `/tasks` and their `/subtasks`.

use super::doc::{Missing, Refusals, Retry};
use super::{found, listed, mutate, paging, ApiResult, Success};
use crate::http::{ApiJson, ApiPath, ApiQuery, ErrorBody};
use crate::model::{NewSubtask, NewTask, SubtaskPatch, Task, TaskPatch, TaskStatus};
use crate::store::{Command, Store};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct TaskFilter {
    project_id: Option<String>,
    status: Option<TaskStatus>,
    /// Rows per page, 1–1000 (and at most 1 MiB of them). Without it a list comes in pages
    /// of 1000 rows or 1 MiB: follow `Next-Cursor` for the rest.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// Where the page starts: the `Next-Cursor` of the page before.
    #[param(pattern = r"^-?[0-9]{1,18}\.[A-Za-z0-9_-]{1,128}$")]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/tasks", tag = "tasks", params(TaskFilter), responses((status = 200, description = "Newest first", body = Vec<Task>, headers(("Next-Cursor" = String, description = "Set when rows remain (with or without `limit`: a list comes in pages of at most 1 MiB): pass it as `cursor`"))), (status = 400, body = ErrorBody)))]
pub(super) async fn list_tasks(State(store): State<Store>, ApiQuery(q): ApiQuery<TaskFilter>) -> ApiResult {
    let paging = paging(q.limit, q.cursor.as_deref())?;
    Ok(store.read(|st| listed(st.tasks_where(q.project_id.as_deref(), q.status), paging)))
}

#[utoipa::path(get, path = "/tasks/{id}", tag = "tasks", params(("id" = String, Path)), responses((status = 200, body = Task), Missing))]
pub(super) async fn get_task(State(store): State<Store>, ApiPath(id): ApiPath<String>) -> ApiResult {
    found(store.read_fresh(|st| st.tasks.get(&id).cloned()).await, "task", &id)
}

#[utoipa::path(post, path = "/tasks", tag = "tasks", params(Retry), request_body = NewTask, responses((status = 201, body = Task), Refusals))]
pub(super) async fn create_task(State(store): State<Store>, h: HeaderMap, ApiJson(b): ApiJson<NewTask>) -> ApiResult {
    mutate(&store, &h, Command::CreateTask { task: b }, StatusCode::CREATED).await
}

#[utoipa::path(patch, path = "/tasks/{id}", tag = "tasks", params(("id" = String, Path), Retry), request_body = TaskPatch, responses((status = 200, body = Task), Refusals))]
pub(super) async fn update_task(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<TaskPatch>,
) -> ApiResult {
    mutate(&store, &h, Command::UpdateTask { id, patch: b }, StatusCode::OK).await
}

/// Deletes a task and unlinks its sessions. Refused (409) while one of its workspaces is
/// active (archive it first); its archived and merged workspaces go with it, their branches
/// kept in git.
#[utoipa::path(delete, path = "/tasks/{id}", tag = "tasks", params(("id" = String, Path), Retry), responses((status = 200, body = Success), Refusals))]
pub(super) async fn delete_task(State(store): State<Store>, h: HeaderMap, ApiPath(id): ApiPath<String>) -> ApiResult {
    mutate(&store, &h, Command::DeleteTask { id }, StatusCode::OK).await
}

#[utoipa::path(post, path = "/tasks/{id}/subtasks", tag = "tasks", params(("id" = String, Path), Retry), request_body = NewSubtask, responses((status = 201, body = Task), Refusals))]
pub(super) async fn add_subtask(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<NewSubtask>,
) -> ApiResult {
    mutate(&store, &h, Command::AddSubtask { task_id: id, subtask: b }, StatusCode::CREATED).await
}

#[utoipa::path(patch, path = "/tasks/{id}/subtasks/{sid}", tag = "tasks", params(("id" = String, Path), ("sid" = String, Path), Retry), request_body = SubtaskPatch, responses((status = 200, body = Task), Refusals))]
pub(super) async fn update_subtask(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath((id, sid)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<SubtaskPatch>,
) -> ApiResult {
    mutate(&store, &h, Command::UpdateSubtask { task_id: id, subtask_id: sid, patch: b }, StatusCode::OK).await
}

#[utoipa::path(delete, path = "/tasks/{id}/subtasks/{sid}", tag = "tasks", params(("id" = String, Path), ("sid" = String, Path), Retry), responses((status = 200, body = Task), Refusals))]
pub(super) async fn delete_subtask(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath((id, sid)): ApiPath<(String, String)>,
) -> ApiResult {
    mutate(&store, &h, Command::DeleteSubtask { task_id: id, subtask_id: sid }, StatusCode::OK).await
}
