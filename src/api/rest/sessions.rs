//! `/sessions`, and the links between a session and its tasks.

use super::doc::{GitTimeout, Missing, Refusals, Retry};
use super::{found, idempotency_key, listed, mutate, paging, render, ApiResult, Success};
use crate::agents::Agents;
use crate::http::AppError;
use crate::http::{ApiJson, ApiPath, ApiQuery, ErrorBody};
use crate::model::{NewSession, Session, SessionLogLine, SessionPatch, SessionStateUpdate, SessionStatus};
use crate::store::{Command, Outcome, Store};
use crate::terminal::Terminals;
use crate::workspace::Workspaces;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct SessionFilter {
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
pub(super) async fn list_sessions(State(store): State<Store>, ApiQuery(q): ApiQuery<SessionFilter>) -> ApiResult {
    let paging = paging(q.limit, q.cursor.as_deref())?;
    Ok(store.read(|st| listed(st.sessions_where(q.task_id.as_deref(), q.project_id.as_deref(), q.status), paging)))
}

#[utoipa::path(get, path = "/sessions/{id}", tag = "sessions", params(("id" = String, Path)), responses((status = 200, body = Session), Missing))]
pub(super) async fn get_session(State(store): State<Store>, ApiPath(id): ApiPath<String>) -> ApiResult {
    found(store.read_fresh(|st| st.sessions.get(&id).cloned()).await, "session", &id)
}

/// Starts a session. In a project whose directory is in a git repository it runs in its
/// first task's workspace (made on the task's first session) unless `workspace` says
/// otherwise (SPEC §8); git's refusals are 409 with its reason.
#[utoipa::path(post, path = "/sessions", tag = "sessions", params(Retry), request_body = NewSession, responses((status = 201, body = Session), Refusals, GitTimeout))]
pub(super) async fn create_session(
    State(store): State<Store>,
    State(agents): State<Agents>,
    State(workspaces): State<Workspaces>,
    State(terminals): State<Terminals>,
    h: HeaderMap,
    ApiJson(mut b): ApiJson<NewSession>,
) -> ApiResult {
    agents.check(&b.project_id, b.agent_id.as_deref()).map_err(AppError::invalid)?;
    // The key's fingerprint is the request's, before its workspace is chosen.
    let key = idempotency_key(&h, &Command::CreateSession { session: b.clone() })?;
    b.workspace = workspaces.for_session(&b, key.as_ref()).await?.map(|w| w.id);
    let outcome = store.execute(Command::CreateSession { session: b }, key).await?;
    // SPEC §9: its agent starts now, whether or not a browser opens it.
    if let Outcome::Session(s) = &outcome {
        terminals.start_agent(s).await;
    }
    Ok(render(StatusCode::CREATED, outcome))
}

#[utoipa::path(patch, path = "/sessions/{id}", tag = "sessions", params(("id" = String, Path), Retry), request_body = SessionPatch, responses((status = 200, body = Session), Refusals))]
pub(super) async fn update_session(
    State(store): State<Store>,
    State(agents): State<Agents>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<SessionPatch>,
) -> ApiResult {
    agents.check_patch(&store, &id, &b).map_err(AppError::invalid)?;
    mutate(&store, &h, Command::UpdateSession { id, patch: b }, StatusCode::OK).await
}

/// What the session's agent is doing (SPEC §9): `needs_input` (with the question as
/// `message`) flags it for the person. Refused (409) once the session has ended.
#[utoipa::path(put, path = "/sessions/{id}/state", tag = "sessions", params(("id" = String, Path), Retry), request_body = SessionStateUpdate, responses((status = 200, body = Session), Refusals))]
pub(super) async fn set_session_state(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(update): ApiJson<SessionStateUpdate>,
) -> ApiResult {
    mutate(&store, &h, Command::SetSessionState { id, update }, StatusCode::OK).await
}

/// Adds a line to the session's timeline (SPEC §9): one line of at most 500 characters
/// (2,000 bytes), no control characters; the newest 20 lines are kept.
#[utoipa::path(post, path = "/sessions/{id}/log", tag = "sessions", params(("id" = String, Path), Retry), request_body = SessionLogLine, responses((status = 200, body = Session), Refusals))]
pub(super) async fn log_session(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(line): ApiJson<SessionLogLine>,
) -> ApiResult {
    mutate(&store, &h, Command::LogSession { id, line }, StatusCode::OK).await
}

#[utoipa::path(delete, path = "/sessions/{id}", tag = "sessions", params(("id" = String, Path), Retry), responses((status = 200, body = Success), Refusals))]
pub(super) async fn delete_session(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    mutate(&store, &h, Command::DeleteSession { id }, StatusCode::OK).await
}

#[utoipa::path(post, path = "/sessions/{sid}/tasks/{tid}", tag = "sessions", params(("sid" = String, Path), ("tid" = String, Path), Retry), responses((status = 200, body = Session), Refusals))]
pub(super) async fn link_task(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath((session_id, task_id)): ApiPath<(String, String)>,
) -> ApiResult {
    mutate(&store, &h, Command::LinkTask { session_id, task_id }, StatusCode::OK).await
}

#[utoipa::path(delete, path = "/sessions/{sid}/tasks/{tid}", tag = "sessions", params(("sid" = String, Path), ("tid" = String, Path), Retry), responses((status = 200, body = Session), Refusals))]
pub(super) async fn unlink_task(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath((session_id, task_id)): ApiPath<(String, String)>,
) -> ApiResult {
    mutate(&store, &h, Command::UnlinkTask { session_id, task_id }, StatusCode::OK).await
}
