//! The REST API under `/api` (SPEC §2). Each handler parses, runs one store operation and
//! renders the result; validation lives in the store.

use crate::agents::Agents;
use crate::http::{AppError, Body, Path, Query, BODY_LIMIT};
use crate::model::*;
use crate::store::{Command, IdempotencyKey, Outcome, Store};
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The most events one `GET /api/events` returns.
pub const EVENTS_PAGE_MAX: usize = 10_000;

type ApiResult = Result<Response, AppError>;

/// The API's routes, for any state the store can be taken from.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Store: FromRef<S>,
    Agents: FromRef<S>,
{
    Router::new()
        .route("/projects", get(list_projects).post(create_project))
        .route("/projects/{id}", get(get_project).patch(update_project).delete(delete_project))
        .route("/tasks", get(list_tasks).post(create_task))
        .route("/tasks/{id}", get(get_task).patch(update_task).delete(delete_task))
        .route("/tasks/{id}/subtasks", post(add_subtask))
        .route("/tasks/{id}/subtasks/{sid}", axum::routing::patch(update_subtask).delete(delete_subtask))
        .route("/sessions", get(list_sessions).post(create_session))
        .route("/sessions/{id}", get(get_session).patch(update_session).delete(delete_session))
        .route("/sessions/{sid}/tasks/{tid}", post(link_task).delete(unlink_task))
        .route("/agents", get(list_agents))
        .route("/events", get(events))
        .route("/health", get(health))
        .fallback(|| async { AppError::not_found("no such API endpoint") })
        .method_not_allowed_fallback(|| async {
            AppError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed here")
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// Runs a mutation, honouring an `Idempotency-Key` header, and renders its outcome.
async fn mutate(store: &Store, headers: &HeaderMap, cmd: Command, status: StatusCode) -> ApiResult {
    let key = idempotency_key(headers, &cmd)?;
    let outcome = store.execute(cmd, key).await?;
    Ok(render(status, outcome))
}

/// The header, if sent, with a fingerprint of the command it came with.
fn idempotency_key(headers: &HeaderMap, cmd: &Command) -> Result<Option<IdempotencyKey>, AppError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()))
        .ok_or_else(|| AppError::invalid("Idempotency-Key must be 1–255 visible ASCII characters"))?;
    let body = serde_json::to_vec(cmd).map_err(|e| AppError::invalid(e.to_string()))?;
    let fingerprint = format!("{:x}", Sha256::digest(&body));
    Ok(Some(IdempotencyKey { key: key.to_string(), fingerprint }))
}

pub fn render(status: StatusCode, outcome: Outcome) -> Response {
    match outcome {
        Outcome::Project(p) => (status, Json(p)).into_response(),
        Outcome::Task(t) => (status, Json(t)).into_response(),
        Outcome::Session(s) => (status, Json(s)).into_response(),
        Outcome::Deleted => (status, Json(serde_json::json!({"success": true}))).into_response(),
    }
}

fn found<T: serde::Serialize>(v: Option<T>, kind: &str, id: &str) -> ApiResult {
    v.map(|v| Json(v).into_response()).ok_or_else(|| AppError::not_found(format!("{kind} {id} not found")))
}

// ----- projects -------------------------------------------------------------------------

async fn list_projects(State(store): State<Store>) -> Json<Vec<Project>> {
    Json(store.read(|st| st.list_projects()))
}

async fn get_project(State(store): State<Store>, Path(id): Path<String>) -> ApiResult {
    found(store.read(|st| st.projects.get(&id).cloned()), "project", &id)
}

async fn create_project(State(store): State<Store>, h: HeaderMap, Body(b): Body<NewProject>) -> ApiResult {
    mutate(&store, &h, Command::CreateProject(b), StatusCode::CREATED).await
}

async fn update_project(
    State(store): State<Store>,
    h: HeaderMap,
    Path(id): Path<String>,
    Body(b): Body<ProjectPatch>,
) -> ApiResult {
    mutate(&store, &h, Command::UpdateProject(id, b), StatusCode::OK).await
}

async fn delete_project(State(store): State<Store>, h: HeaderMap, Path(id): Path<String>) -> ApiResult {
    mutate(&store, &h, Command::DeleteProject(id), StatusCode::OK).await
}

// ----- tasks ----------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TaskFilter {
    project_id: Option<String>,
    status: Option<TaskStatus>,
}

async fn list_tasks(State(store): State<Store>, Query(q): Query<TaskFilter>) -> Json<Vec<Task>> {
    Json(store.read(|st| st.list_tasks(q.project_id.as_deref(), q.status)))
}

async fn get_task(State(store): State<Store>, Path(id): Path<String>) -> ApiResult {
    found(store.read(|st| st.tasks.get(&id).cloned()), "task", &id)
}

async fn create_task(State(store): State<Store>, h: HeaderMap, Body(b): Body<NewTask>) -> ApiResult {
    mutate(&store, &h, Command::CreateTask(b), StatusCode::CREATED).await
}

async fn update_task(
    State(store): State<Store>,
    h: HeaderMap,
    Path(id): Path<String>,
    Body(b): Body<TaskPatch>,
) -> ApiResult {
    mutate(&store, &h, Command::UpdateTask(id, b), StatusCode::OK).await
}

async fn delete_task(State(store): State<Store>, h: HeaderMap, Path(id): Path<String>) -> ApiResult {
    mutate(&store, &h, Command::DeleteTask(id), StatusCode::OK).await
}

async fn add_subtask(
    State(store): State<Store>,
    h: HeaderMap,
    Path(id): Path<String>,
    Body(b): Body<NewSubtask>,
) -> ApiResult {
    mutate(&store, &h, Command::AddSubtask(id, b), StatusCode::CREATED).await
}

async fn update_subtask(
    State(store): State<Store>,
    h: HeaderMap,
    Path((id, sid)): Path<(String, String)>,
    Body(b): Body<SubtaskPatch>,
) -> ApiResult {
    mutate(&store, &h, Command::UpdateSubtask(id, sid, b), StatusCode::OK).await
}

async fn delete_subtask(
    State(store): State<Store>,
    h: HeaderMap,
    Path((id, sid)): Path<(String, String)>,
) -> ApiResult {
    mutate(&store, &h, Command::DeleteSubtask(id, sid), StatusCode::OK).await
}

// ----- sessions -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SessionFilter {
    task_id: Option<String>,
    project_id: Option<String>,
    status: Option<SessionStatus>,
}

async fn list_sessions(State(store): State<Store>, Query(q): Query<SessionFilter>) -> Json<Vec<Session>> {
    Json(store.read(|st| st.list_sessions(q.task_id.as_deref(), q.project_id.as_deref(), q.status)))
}

async fn get_session(State(store): State<Store>, Path(id): Path<String>) -> ApiResult {
    found(store.read(|st| st.sessions.get(&id).cloned()), "session", &id)
}

async fn create_session(
    State(store): State<Store>,
    State(agents): State<Agents>,
    h: HeaderMap,
    Body(b): Body<NewSession>,
) -> ApiResult {
    agents.check(&b.project_id, b.agent_id.as_deref()).map_err(AppError::invalid)?;
    mutate(&store, &h, Command::CreateSession(b), StatusCode::CREATED).await
}

async fn update_session(
    State(store): State<Store>,
    State(agents): State<Agents>,
    h: HeaderMap,
    Path(id): Path<String>,
    Body(b): Body<SessionPatch>,
) -> ApiResult {
    agents.check_patch(&store, &id, &b).map_err(AppError::invalid)?;
    mutate(&store, &h, Command::UpdateSession(id, b), StatusCode::OK).await
}

// ----- agents ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AgentFilter {
    project_id: Option<String>,
}

/// The agents "Work on task" offers in a project (without one: those of every project).
async fn list_agents(State(agents): State<Agents>, Query(q): Query<AgentFilter>) -> Json<Vec<Agent>> {
    Json(agents.list(q.project_id.as_deref().unwrap_or("")))
}

async fn delete_session(State(store): State<Store>, h: HeaderMap, Path(id): Path<String>) -> ApiResult {
    mutate(&store, &h, Command::DeleteSession(id), StatusCode::OK).await
}

async fn link_task(
    State(store): State<Store>,
    h: HeaderMap,
    Path((session_id, task_id)): Path<(String, String)>,
) -> ApiResult {
    mutate(&store, &h, Command::LinkTask { session_id, task_id }, StatusCode::OK).await
}

async fn unlink_task(
    State(store): State<Store>,
    h: HeaderMap,
    Path((session_id, task_id)): Path<(String, String)>,
) -> ApiResult {
    mutate(&store, &h, Command::UnlinkTask { session_id, task_id }, StatusCode::OK).await
}

// ----- events and health ----------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    #[serde(default)]
    since: u64,
    limit: Option<usize>,
}

/// The retained events after `since`, as the stored JSON (no re-serialisation).
async fn events(State(store): State<Store>, Query(q): Query<EventsQuery>) -> ApiResult {
    let limit = q.limit.unwrap_or(1000);
    if !(1..=EVENTS_PAGE_MAX).contains(&limit) {
        return Err(AppError::invalid(format!("limit must be between 1 and {EVENTS_PAGE_MAX}")));
    }
    let events = store.events_since(q.since, limit).await?;
    let mut body = String::with_capacity(events.iter().map(|e| e.json.len() + 1).sum::<usize>() + 2);
    body.push('[');
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&e.json);
    }
    body.push(']');
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// 200 while the store can write; 503 (same body) when it cannot, so that a load balancer
/// or supervisor sees it.
async fn health(State(store): State<Store>) -> Response {
    let h = store.health();
    let status = if h.status == "ok" { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(h)).into_response()
}
