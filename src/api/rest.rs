//! The REST API under `/api` (SPEC §2). Each handler parses, runs one store operation and
//! renders the result; validation lives in the store.

use crate::agents::Agents;
use crate::http::{ApiJson, ApiPath, ApiQuery, AppError, ErrorBody, BODY_LIMIT};
use crate::model::*;
use crate::store::{Command, IdempotencyKey, Outcome, Store};
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

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
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, update_project, delete_project))
        .routes(routes!(list_tasks, create_task))
        .routes(routes!(get_task, update_task, delete_task))
        .routes(routes!(add_subtask))
        .routes(routes!(update_subtask, delete_subtask))
        .routes(routes!(list_sessions, create_session))
        .routes(routes!(get_session, update_session, delete_session))
        .routes(routes!(link_task, unlink_task))
        .routes(routes!(list_agents))
        .routes(routes!(events))
        .routes(routes!(health))
        .split_for_parts();
    let doc = std::sync::Arc::new(serde_json::to_value(&doc).unwrap_or_default());
    router
        .route("/openapi.json", get(move |State(agents): State<Agents>| openapi(doc.clone(), agents)))
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
        Outcome::Deleted => (status, Json(Success { success: true })).into_response(),
    }
}

/// The `Idempotency-Key` header every mutation takes (a description for the document;
/// `idempotency_key` reads it).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
struct Retry {
    /// Makes a retry safe: the same key with the same request answers the first outcome;
    /// with another request, 422.
    #[param(rename = "Idempotency-Key", value_type = String, required = false, min_length = 1, max_length = 255)]
    key: Option<String>,
}

/// What any mutation may answer instead of its success, all with the one error body.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum Refusals {
    /// Invalid input.
    #[response(status = 400)]
    Invalid(ErrorBody),
    /// A record named by the request does not exist.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The request contradicts the current state; `store_full`: the server holds all its
    /// byte budget allows, so nothing was changed (delete something first).
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// The body is over 1 MiB.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not JSON.
    #[response(status = 415)]
    NotJson(ErrorBody),
    /// The `Idempotency-Key` was used before for another request.
    #[response(status = 422)]
    KeyReused(ErrorBody),
    /// The server cannot store changes just now; nothing was changed.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// What a read of one record answers when there is none.
#[derive(utoipa::IntoResponses)]
#[response(status = 404, description = "Not found")]
#[allow(dead_code)]
struct Missing(ErrorBody);

/// What a delete answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Success {
    success: bool,
}

/// The document's frame; the routes add their paths and schemas.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Maestro", description = "The REST API of a Maestro server. Every failure answers `{\"error\": {\"code\", \"message\"}}`. A list asked for without `limit` comes in pages of at most 1 MiB (and 1000 rows): follow the `Next-Cursor` header (pass it as `cursor`) until there is none. Every request needs `Authorization: Bearer <token>` (the server's access token: `MAESTRO_TOKEN`, or DATA_DIR/token); live events are on the WebSocket `/ws`."),
    servers((url = "/api")),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

/// `GET /api/openapi.json`: the document, with the agents this server offers as the only
/// values an `agentId` may take (they are configuration, not types).
async fn openapi(doc: std::sync::Arc<serde_json::Value>, agents: Agents) -> Response {
    let mut v = (*doc).clone();
    let mut names: Vec<serde_json::Value> = agents.names().into_iter().map(Into::into).collect();
    names.push(serde_json::Value::Null);
    for schema in ["NewSession", "SessionPatch"] {
        if let Some(p) = v.pointer_mut(&format!("/components/schemas/{schema}/properties/agentId")) {
            p["enum"] = serde_json::Value::Array(names.clone());
        }
    }
    Json(v).into_response()
}

/// A list's `limit` and `cursor`: where the page starts and how long it is. Without
/// `limit` a list still comes in pages (SPEC §2: no answer bigger than a page's budget),
/// of the most rows a page may hold.
fn paging(limit: Option<usize>, cursor: Option<&str>) -> Result<(Option<page::Cursor>, usize), AppError> {
    let limit = limit.unwrap_or(page::PAGE_ROWS_MAX);
    if !(1..=page::PAGE_ROWS_MAX).contains(&limit) {
        return Err(AppError::invalid(format!("limit must be between 1 and {}", page::PAGE_ROWS_MAX)));
    }
    let after = cursor.map(str::parse).transpose().map_err(AppError::invalid)?;
    Ok((after, limit))
}

/// Renders the page `paging` asks for, in list order, with the next page's cursor in a
/// `Next-Cursor` header. Rows are serialized where they lie, never copied.
fn listed<'a, T: page::Listed + 'a>(
    rows: impl Iterator<Item = &'a T>,
    (after, limit): (Option<page::Cursor>, usize),
) -> Response {
    let p = page::page(rows, after.as_ref(), limit);
    let mut res = Json(&p.rows).into_response();
    if let Some(next) = p.next.and_then(|c| header::HeaderValue::from_str(&c.to_string()).ok()) {
        res.headers_mut().insert("next-cursor", next);
    }
    res
}

fn found<T: serde::Serialize>(v: Option<T>, kind: &str, id: &str) -> ApiResult {
    v.map(|v| Json(v).into_response()).ok_or_else(|| AppError::not_found(format!("{kind} {id} not found")))
}

// ----- projects -------------------------------------------------------------------------

/// `limit` and `cursor` of `GET /api/projects`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProjectFilter {
    /// Rows per page, 1–1000 (and at most 1 MiB of them). Without it a list comes in pages
    /// of 1000 rows or 1 MiB: follow `Next-Cursor` for the rest.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// Where the page starts: the `Next-Cursor` of the page before.
    #[param(pattern = r"^-?[0-9]{1,18}\.[A-Za-z0-9_-]{1,128}$")]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/projects", tag = "projects", params(ProjectFilter), responses((status = 200, description = "Oldest first", body = Vec<Project>, headers(("Next-Cursor" = String, description = "Set when rows remain (with or without `limit`: a list comes in pages of at most 1 MiB): pass it as `cursor`"))), (status = 400, body = ErrorBody)))]
async fn list_projects(State(store): State<Store>, ApiQuery(q): ApiQuery<ProjectFilter>) -> ApiResult {
    let paging = paging(q.limit, q.cursor.as_deref())?;
    Ok(store.read(|st| listed(st.projects.values(), paging)))
}

#[utoipa::path(get, path = "/projects/{id}", tag = "projects", params(("id" = String, Path)), responses((status = 200, body = Project), Missing))]
async fn get_project(State(store): State<Store>, ApiPath(id): ApiPath<String>) -> ApiResult {
    found(store.read_fresh(|st| st.projects.get(&id).cloned()).await, "project", &id)
}

#[utoipa::path(post, path = "/projects", tag = "projects", params(Retry), request_body = NewProject, responses((status = 201, body = Project), Refusals))]
async fn create_project(State(store): State<Store>, h: HeaderMap, ApiJson(b): ApiJson<NewProject>) -> ApiResult {
    mutate(&store, &h, Command::CreateProject { project: b }, StatusCode::CREATED).await
}

#[utoipa::path(patch, path = "/projects/{id}", tag = "projects", params(("id" = String, Path), Retry), request_body = ProjectPatch, responses((status = 200, body = Project), Refusals))]
async fn update_project(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ProjectPatch>,
) -> ApiResult {
    mutate(&store, &h, Command::UpdateProject { id, patch: b }, StatusCode::OK).await
}

#[utoipa::path(delete, path = "/projects/{id}", tag = "projects", params(("id" = String, Path), Retry), responses((status = 200, body = Success), Refusals))]
async fn delete_project(State(store): State<Store>, h: HeaderMap, ApiPath(id): ApiPath<String>) -> ApiResult {
    mutate(&store, &h, Command::DeleteProject { id }, StatusCode::OK).await
}

// ----- tasks ----------------------------------------------------------------------------

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TaskFilter {
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
async fn list_tasks(State(store): State<Store>, ApiQuery(q): ApiQuery<TaskFilter>) -> ApiResult {
    let paging = paging(q.limit, q.cursor.as_deref())?;
    Ok(store.read(|st| listed(st.tasks_where(q.project_id.as_deref(), q.status), paging)))
}

#[utoipa::path(get, path = "/tasks/{id}", tag = "tasks", params(("id" = String, Path)), responses((status = 200, body = Task), Missing))]
async fn get_task(State(store): State<Store>, ApiPath(id): ApiPath<String>) -> ApiResult {
    found(store.read_fresh(|st| st.tasks.get(&id).cloned()).await, "task", &id)
}

#[utoipa::path(post, path = "/tasks", tag = "tasks", params(Retry), request_body = NewTask, responses((status = 201, body = Task), Refusals))]
async fn create_task(State(store): State<Store>, h: HeaderMap, ApiJson(b): ApiJson<NewTask>) -> ApiResult {
    mutate(&store, &h, Command::CreateTask { task: b }, StatusCode::CREATED).await
}

#[utoipa::path(patch, path = "/tasks/{id}", tag = "tasks", params(("id" = String, Path), Retry), request_body = TaskPatch, responses((status = 200, body = Task), Refusals))]
async fn update_task(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<TaskPatch>,
) -> ApiResult {
    mutate(&store, &h, Command::UpdateTask { id, patch: b }, StatusCode::OK).await
}

#[utoipa::path(delete, path = "/tasks/{id}", tag = "tasks", params(("id" = String, Path), Retry), responses((status = 200, body = Success), Refusals))]
async fn delete_task(State(store): State<Store>, h: HeaderMap, ApiPath(id): ApiPath<String>) -> ApiResult {
    mutate(&store, &h, Command::DeleteTask { id }, StatusCode::OK).await
}

#[utoipa::path(post, path = "/tasks/{id}/subtasks", tag = "tasks", params(("id" = String, Path), Retry), request_body = NewSubtask, responses((status = 201, body = Task), Refusals))]
async fn add_subtask(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<NewSubtask>,
) -> ApiResult {
    mutate(&store, &h, Command::AddSubtask { task_id: id, subtask: b }, StatusCode::CREATED).await
}

#[utoipa::path(patch, path = "/tasks/{id}/subtasks/{sid}", tag = "tasks", params(("id" = String, Path), ("sid" = String, Path), Retry), request_body = SubtaskPatch, responses((status = 200, body = Task), Refusals))]
async fn update_subtask(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath((id, sid)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<SubtaskPatch>,
) -> ApiResult {
    mutate(&store, &h, Command::UpdateSubtask { task_id: id, subtask_id: sid, patch: b }, StatusCode::OK).await
}

#[utoipa::path(delete, path = "/tasks/{id}/subtasks/{sid}", tag = "tasks", params(("id" = String, Path), ("sid" = String, Path), Retry), responses((status = 200, body = Task), Refusals))]
async fn delete_subtask(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath((id, sid)): ApiPath<(String, String)>,
) -> ApiResult {
    mutate(&store, &h, Command::DeleteSubtask { task_id: id, subtask_id: sid }, StatusCode::OK).await
}

// ----- sessions -------------------------------------------------------------------------

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SessionFilter {
    task_id: Option<String>,
    project_id: Option<String>,
    status: Option<SessionStatus>,
    /// Rows per page, 1–1000 (and at most 1 MiB of them). Without it a list comes in pages
    /// of 1000 rows or 1 MiB: follow `Next-Cursor` for the rest.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// Where the page starts: the `Next-Cursor` of the page before.
    #[param(pattern = r"^-?[0-9]{1,18}\.[A-Za-z0-9_-]{1,128}$")]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/sessions", tag = "sessions", params(SessionFilter), responses((status = 200, description = "Newest first", body = Vec<Session>, headers(("Next-Cursor" = String, description = "Set when rows remain (with or without `limit`: a list comes in pages of at most 1 MiB): pass it as `cursor`"))), (status = 400, body = ErrorBody)))]
async fn list_sessions(State(store): State<Store>, ApiQuery(q): ApiQuery<SessionFilter>) -> ApiResult {
    let paging = paging(q.limit, q.cursor.as_deref())?;
    Ok(store.read(|st| listed(st.sessions_where(q.task_id.as_deref(), q.project_id.as_deref(), q.status), paging)))
}

#[utoipa::path(get, path = "/sessions/{id}", tag = "sessions", params(("id" = String, Path)), responses((status = 200, body = Session), Missing))]
async fn get_session(State(store): State<Store>, ApiPath(id): ApiPath<String>) -> ApiResult {
    found(store.read_fresh(|st| st.sessions.get(&id).cloned()).await, "session", &id)
}

#[utoipa::path(post, path = "/sessions", tag = "sessions", params(Retry), request_body = NewSession, responses((status = 201, body = Session), Refusals))]
async fn create_session(
    State(store): State<Store>,
    State(agents): State<Agents>,
    h: HeaderMap,
    ApiJson(b): ApiJson<NewSession>,
) -> ApiResult {
    agents.check(&b.project_id, b.agent_id.as_deref()).map_err(AppError::invalid)?;
    mutate(&store, &h, Command::CreateSession { session: b }, StatusCode::CREATED).await
}

#[utoipa::path(patch, path = "/sessions/{id}", tag = "sessions", params(("id" = String, Path), Retry), request_body = SessionPatch, responses((status = 200, body = Session), Refusals))]
async fn update_session(
    State(store): State<Store>,
    State(agents): State<Agents>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<SessionPatch>,
) -> ApiResult {
    agents.check_patch(&store, &id, &b).map_err(AppError::invalid)?;
    mutate(&store, &h, Command::UpdateSession { id, patch: b }, StatusCode::OK).await
}

// ----- agents ---------------------------------------------------------------------------

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AgentFilter {
    project_id: Option<String>,
}

/// The agents "Work on task" offers in a project (without one: those of every project).
#[utoipa::path(get, path = "/agents", tag = "agents", params(AgentFilter), responses((status = 200, body = Vec<Agent>), (status = 400, body = ErrorBody)))]
async fn list_agents(State(agents): State<Agents>, ApiQuery(q): ApiQuery<AgentFilter>) -> Json<Vec<Agent>> {
    Json(agents.list(q.project_id.as_deref().unwrap_or("")))
}

#[utoipa::path(delete, path = "/sessions/{id}", tag = "sessions", params(("id" = String, Path), Retry), responses((status = 200, body = Success), Refusals))]
async fn delete_session(State(store): State<Store>, h: HeaderMap, ApiPath(id): ApiPath<String>) -> ApiResult {
    mutate(&store, &h, Command::DeleteSession { id }, StatusCode::OK).await
}

#[utoipa::path(post, path = "/sessions/{sid}/tasks/{tid}", tag = "sessions", params(("sid" = String, Path), ("tid" = String, Path), Retry), responses((status = 200, body = Session), Refusals))]
async fn link_task(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath((session_id, task_id)): ApiPath<(String, String)>,
) -> ApiResult {
    mutate(&store, &h, Command::LinkTask { session_id, task_id }, StatusCode::OK).await
}

#[utoipa::path(delete, path = "/sessions/{sid}/tasks/{tid}", tag = "sessions", params(("sid" = String, Path), ("tid" = String, Path), Retry), responses((status = 200, body = Session), Refusals))]
async fn unlink_task(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath((session_id, task_id)): ApiPath<(String, String)>,
) -> ApiResult {
    mutate(&store, &h, Command::UnlinkTask { session_id, task_id }, StatusCode::OK).await
}

// ----- events and health ----------------------------------------------------------------

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    /// The last `seq` already seen (0: from the start of the log).
    #[serde(default)]
    since: u64,
    /// At most this many events (1–10,000; 1,000 by default).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<usize>,
}

/// The retained events after `since`, as the stored JSON (no re-serialisation).
#[utoipa::path(get, path = "/events", tag = "events", params(EventsQuery), responses((status = 200, description = "Retained events after `since`, oldest first, at most 1 MiB of them but for the first", body = Vec<Event>), (status = 400, body = ErrorBody), (status = 410, description = "`since` is older than the retained log: refetch", body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn events(State(store): State<Store>, ApiQuery(q): ApiQuery<EventsQuery>) -> ApiResult {
    // A `seq` is a signed 64-bit number on every client's side (JSON, JavaScript, SQL).
    if q.since > i64::MAX as u64 {
        return Err(AppError::invalid(format!("since must be at most {}", i64::MAX)));
    }
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
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, description = "The store can write", body = Health), (status = 503, description = "Degraded or failed (same body)", body = Health)))]
async fn health(State(store): State<Store>) -> Response {
    let h = store.health();
    let status = if h.status == "ok" { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(h)).into_response()
}
