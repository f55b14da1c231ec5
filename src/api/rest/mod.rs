//! The REST API under `/api` (SPEC §2). Each handler parses, runs one store operation and
//! renders the result; validation lives in the store.
//!
//! The one [`router`] is built here, with what every handler shares (mutations with their
//! `Idempotency-Key`, pages, a record or 404); the handlers live a file per resource, and
//! `doc` holds the OpenAPI document's frame and the responses every route shares.

mod agents;
mod comments;
mod directories;
mod doc;
mod events;
mod health;
mod output;
mod projects;
mod sessions;
mod tasks;
mod workspaces;

pub use events::EVENTS_PAGE_MAX;

use crate::agents::Agents;
use crate::http::{AppError, BODY_LIMIT};
use crate::model::page;
use crate::store::{Command, IdempotencyKey, Outcome, Store};
use crate::terminal::Terminals;
use crate::workspace::Workspaces;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sha2::{Digest, Sha256};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

type ApiResult = Result<Response, AppError>;

/// The API's routes, for any state the store can be taken from.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Store: FromRef<S>,
    Agents: FromRef<S>,
    Workspaces: FromRef<S>,
    Terminals: FromRef<S>,
{
    let (router, doc) = OpenApiRouter::with_openapi(doc::ApiDoc::openapi())
        .routes(routes!(projects::list_projects, projects::create_project))
        .routes(routes!(projects::get_project, projects::update_project, projects::delete_project))
        .routes(routes!(tasks::list_tasks, tasks::create_task))
        .routes(routes!(tasks::get_task, tasks::update_task, tasks::delete_task))
        .routes(routes!(tasks::add_subtask))
        .routes(routes!(tasks::update_subtask, tasks::delete_subtask))
        .routes(routes!(sessions::list_sessions, sessions::create_session))
        .routes(routes!(sessions::get_session, sessions::update_session, sessions::delete_session))
        .routes(routes!(sessions::link_task, sessions::unlink_task))
        .routes(routes!(output::session_output))
        .routes(routes!(sessions::set_session_state))
        .routes(routes!(sessions::log_session))
        .routes(routes!(workspaces::list_workspaces, workspaces::create_workspace))
        .routes(routes!(workspaces::get_workspace))
        .routes(routes!(workspaces::workspace_files))
        .routes(routes!(workspaces::workspace_diff))
        .routes(routes!(workspaces::archive_workspace))
        .routes(routes!(workspaces::restore_workspace))
        .routes(routes!(directories::inspect_directory))
        .routes(routes!(workspaces::commit_workspace))
        .routes(routes!(workspaces::merge_workspace))
        .routes(routes!(workspaces::rebase_workspace))
        .routes(routes!(workspaces::push_workspace))
        .routes(routes!(workspaces::open_pull_request, workspaces::pull_requests))
        .routes(routes!(comments::list_comments, comments::create_comment))
        .routes(routes!(comments::update_comment, comments::delete_comment))
        .routes(routes!(comments::send_comments))
        .routes(routes!(agents::list_agents))
        .routes(routes!(events::events))
        .routes(routes!(health::health))
        .split_for_parts();
    let mut doc = serde_json::to_value(&doc).unwrap_or_default();
    doc::with_address_limit(&mut doc);
    let doc = std::sync::Arc::new(doc);
    router
        .route("/openapi.json", get(move |State(agents): State<Agents>| doc::openapi(doc.clone(), agents)))
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

/// The header, if sent, with a fingerprint of the request it came with: the command, or
/// (for a mutation whose work comes before its command) the request itself.
fn idempotency_key(headers: &HeaderMap, request: &impl serde::Serialize) -> Result<Option<IdempotencyKey>, AppError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()))
        .ok_or_else(|| AppError::invalid("Idempotency-Key must be 1–255 visible ASCII characters"))?;
    let body = serde_json::to_vec(request).map_err(|e| AppError::invalid(e.to_string()))?;
    let fingerprint = format!("{:x}", Sha256::digest(&body));
    Ok(Some(IdempotencyKey { key: key.to_string(), fingerprint }))
}

pub fn render(status: StatusCode, outcome: Outcome) -> Response {
    match outcome {
        Outcome::Project(p) => (status, Json(p)).into_response(),
        Outcome::Task(t) => (status, Json(t)).into_response(),
        Outcome::Session(s) => (status, Json(s)).into_response(),
        Outcome::Workspace(w) => (status, Json(w)).into_response(),
        Outcome::Comment(c) => (status, Json(c)).into_response(),
        Outcome::Comments(c) => (status, Json(c)).into_response(),
        Outcome::Deleted => (status, Json(Success { success: true })).into_response(),
    }
}

/// What a delete answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Success {
    success: bool,
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
