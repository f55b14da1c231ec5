//! The server functions of review comments (SPEC §8 "Review"): a workspace's, writing,
//! editing, resolving and deleting one, and "Send to agent" — each the same store command
//! or terminals' work as its REST route.

#[cfg(feature = "ssr")]
use super::ssr::{run, store};
use super::AtSeq;
use crate::model::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// A workspace's comments (at most `WORKSPACE_COMMENTS_MAX`), by place.
#[server(prefix = "/sfn", input = Json)]
pub async fn list_workspace_comments(workspace_id: String) -> Result<AtSeq<ReviewComment>, FnError> {
    Ok(store()?.read_at(|s| s.workspace_comments(&workspace_id).into_iter().cloned().collect()))
}

#[cfg(feature = "ssr")]
async fn one_comment(cmd: crate::store::Command) -> Result<ReviewComment, FnError> {
    match run(cmd).await? {
        crate::store::Outcome::Comment(c) => Ok(c),
        other => Err(FnError::internal(&format!("unexpected outcome {other:?}"))),
    }
}

/// A draft on lines `line`–`end_line` of `path` (see [`NewComment`]).
#[server(prefix = "/sfn", input = Json)]
pub async fn create_comment(workspace_id: String, comment: NewComment) -> Result<ReviewComment, FnError> {
    one_comment(crate::store::Command::CreateComment { workspace_id, comment }).await
}

/// A draft's new body, or a comment's new status.
#[server(prefix = "/sfn", input = Json)]
pub async fn update_comment(id: String, patch: CommentPatch) -> Result<ReviewComment, FnError> {
    one_comment(crate::store::Command::UpdateComment { id, patch }).await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn delete_comment(id: String) -> Result<(), FnError> {
    run(crate::store::Command::DeleteComment { id }).await.map(|_| ())
}

/// "Send to agent": the workspace's drafts as one message to its running session (or a
/// session started with them), as `POST /api/workspaces/:id/comments/send`.
// Named so its struct does not shadow the model's `SendComments`.
#[server(prefix = "/sfn", input = Json, name = SendReviewComments)]
pub async fn send_comments(workspace_id: String, agent_id: Option<String>) -> Result<CommentsSent, FnError> {
    let terminals =
        use_context::<crate::terminal::Terminals>().ok_or_else(|| FnError::internal("server state missing"))?;
    Ok(terminals.send_comments(&workspace_id, &SendComments { agent_id }, false, None).await?)
}
