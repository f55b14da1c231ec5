//! The OpenAPI document: its frame, the responses and header every route shares, and the
//! handler that serves it.

use crate::agents::Agents;
use crate::http::ErrorBody;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The `Idempotency-Key` header every mutation takes (a description for the document;
/// `idempotency_key` reads it).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub(super) struct Retry {
    /// Makes a retry safe: the same key with the same request answers the first outcome;
    /// with another request, 422.
    #[param(rename = "Idempotency-Key", value_type = String, required = false, min_length = 1, max_length = 255)]
    key: Option<String>,
}

/// What any mutation may answer instead of its success, all with the one error body.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(super) enum Refusals {
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

/// What a git call past its time limit answers (workspaces).
#[derive(utoipa::IntoResponses)]
#[response(status = 504, description = "git did not finish within its time limit and was stopped")]
#[allow(dead_code)]
pub(super) struct GitTimeout(ErrorBody);

/// What reading a workspace's files may answer instead.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(super) enum GitReads {
    /// A path outside the workspace, or not a file path.
    #[response(status = 400)]
    Invalid(ErrorBody),
    /// No such workspace.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// Archived (restore it first), on another node's disk, or git refused.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// git did not finish within its time limit and was stopped.
    #[response(status = 504)]
    Timeout(ErrorBody),
}

/// What a request for a workspace on another node's disk may answer when it is passed to
/// that node (SPEC §8 "Where") and that node cannot be asked.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(super) enum Relayed {
    /// What answered at the node's address could not prove it is that node.
    #[response(status = 502)]
    NotThatNode(ErrorBody),
    /// The node holding the workspace is not answering (or this server cannot store
    /// changes just now); nothing was changed here.
    #[response(status = 503)]
    Away(ErrorBody),
    /// The nodes disagree on which of them holds it.
    #[response(status = 508)]
    Loop(ErrorBody),
}

/// What a read of one record answers when there is none.
#[derive(utoipa::IntoResponses)]
#[response(status = 404, description = "Not found")]
#[allow(dead_code)]
pub(super) struct Missing(ErrorBody);

/// The document's frame; the routes add their paths and schemas.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Maestro", description = "The REST API of a Maestro server. Every failure answers `{\"error\": {\"code\", \"message\"}}`. A list asked for without `limit` comes in pages of at most 1 MiB (and 1000 rows): follow the `Next-Cursor` header (pass it as `cursor`) until there is none. Every request needs `Authorization: Bearer <token>` (the server's access token: `MAESTRO_TOKEN`, or DATA_DIR/token); live events are on the WebSocket `/ws`; a terminal on `/terminals/{id}/ws?offset=&window=` (its output resumed by byte offset, acknowledged within a window: see the README)."),
    servers((url = "/api")),
    components(schemas(ErrorBody))
)]
pub(super) struct ApiDoc;

/// Says in every operation of the document `doc` that an address over 64 KiB is refused
/// (414, no body) by the HTTP layer, before any route reads it.
pub(super) fn with_address_limit(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else { return };
    for op in paths.values_mut().filter_map(|p| p.as_object_mut()).flat_map(|p| p.values_mut()) {
        if let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) {
            let said =
                serde_json::json!({"description": "The address is over 64 KiB (refused before any route reads it)"});
            responses.entry("414").or_insert(said);
        }
    }
}

/// `GET /api/openapi.json`: the document, with the agents this server offers as the only
/// values an `agentId` may take (they are configuration, not types).
pub(super) async fn openapi(doc: std::sync::Arc<serde_json::Value>, agents: Agents) -> Response {
    let mut v = (*doc).clone();
    let mut names: Vec<serde_json::Value> = agents.names().into_iter().map(Into::into).collect();
    names.push(serde_json::Value::Null);
    for schema in ["NewSession", "SessionPatch", "SendComments"] {
        if let Some(p) = v.pointer_mut(&format!("/components/schemas/{schema}/properties/agentId")) {
            p["enum"] = serde_json::Value::Array(names.clone());
        }
    }
    Json(v).into_response()
}
