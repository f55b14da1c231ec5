//! Review comments (SPEC §8 "Review"): a workspace's, written as drafts on its diff,
//! edited, resolved or deleted, and its drafts sent to its agent as one message (the
//! terminals' work: typed into its running session, or the prompt of one started).

use super::doc::{Missing, Refusals, Relayed, Retry};
use super::{idempotency_key, listed, mutate, paging, ApiResult};
use crate::auth::FromNode;
use crate::http::{ApiJson, ApiPath, ApiQuery, AppError, ErrorBody};
use crate::model::{CommentPatch, CommentsSent, NewComment, ReviewComment, SendComments};
use crate::store::{Command, Store};
use crate::terminal::Terminals;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct CommentPage {
    /// Rows per page, 1–1000 (and at most 1 MiB of them).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// Where the page starts: the `Next-Cursor` of the page before.
    #[param(pattern = r"^-?[0-9]{1,18}\.[A-Za-z0-9_-]{1,128}$")]
    cursor: Option<String>,
}

/// A workspace's comments, in the order they were written.
#[utoipa::path(get, path = "/workspaces/{id}/comments", tag = "comments", params(("id" = String, Path), CommentPage), responses((status = 200, description = "Oldest first", body = Vec<ReviewComment>, headers(("Next-Cursor" = String, description = "Set when rows remain: pass it as `cursor`"))), (status = 400, body = ErrorBody), Missing))]
pub(super) async fn list_comments(
    State(store): State<Store>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<CommentPage>,
) -> ApiResult {
    let paging = paging(q.limit, q.cursor.as_deref())?;
    if store.read_fresh(|st| st.workspaces.get(&id).map(|_| ())).await.is_none() {
        return Err(AppError::not_found(format!("workspace {id} not found")));
    }
    Ok(store.read(|st| listed(st.comments.values().filter(|c| c.workspace_id == id), paging)))
}

/// A draft comment on lines `line`–`endLine` of `path` in an active workspace's diff
/// (numbered on the new side; `side: old` for deleted lines).
#[utoipa::path(post, path = "/workspaces/{id}/comments", tag = "comments", params(("id" = String, Path), Retry), request_body = NewComment, responses((status = 201, body = ReviewComment), Refusals))]
pub(super) async fn create_comment(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<NewComment>,
) -> ApiResult {
    mutate(&store, &h, Command::CreateComment { workspace_id: id, comment: b }, StatusCode::CREATED).await
}

/// A draft's new body, or a comment's status: `resolved`, or `draft` again (`sent` is
/// set by sending it; a sent or resolved comment's body stays as it was: 409).
#[utoipa::path(patch, path = "/comments/{id}", tag = "comments", params(("id" = String, Path), Retry), request_body = CommentPatch, responses((status = 200, body = ReviewComment), Refusals))]
pub(super) async fn update_comment(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<CommentPatch>,
) -> ApiResult {
    mutate(&store, &h, Command::UpdateComment { id, patch: b }, StatusCode::OK).await
}

#[utoipa::path(delete, path = "/comments/{id}", tag = "comments", params(("id" = String, Path), Retry), responses((status = 200, body = super::Success), Refusals))]
pub(super) async fn delete_comment(
    State(store): State<Store>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    mutate(&store, &h, Command::DeleteComment { id }, StatusCode::OK).await
}

/// "Send to agent": every draft of the workspace as one message, typed into the terminal
/// of the session running in it as its agent's next prompt; with none running, a session
/// started on the workspace's task in it (running `agentId`, or the project's first agent)
/// with the message as its prompt. The drafts sent become `sent`. No drafts, an inactive
/// workspace, or drafts over 64 KiB together: 409.
#[utoipa::path(post, path = "/workspaces/{id}/comments/send", tag = "comments", params(("id" = String, Path), Retry), request_body = SendComments, responses((status = 200, body = CommentsSent), Refusals, Relayed))]
pub(super) async fn send_comments(
    State(terminals): State<Terminals>,
    relayed: Option<Extension<FromNode>>,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<SendComments>,
) -> ApiResult {
    let key = idempotency_key(&h, &("SendComments", &id, &b))?;
    Ok(Json(terminals.send_comments(&id, &b, relayed.is_some(), key).await?).into_response())
}
