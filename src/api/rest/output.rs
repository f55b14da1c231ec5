//! `/sessions/{id}/output`: what a session's terminal printed, kept on disk (SPEC §9), read
//! by absolute byte offset, after the session ended and after restarts; in a cluster, from
//! the node that ran its terminal (relayed there from any other).

use super::doc::{Missing, Relayed};
use super::ApiResult;
use crate::auth::FromNode;
use crate::http::{ApiPath, ApiQuery, AppError, ErrorBody};
use crate::store::Store;
use crate::terminal::Terminals;
use axum::extract::State;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::Extension;
use serde::Deserialize;

/// The most one answer carries.
const LIMIT_MAX: usize = 4 << 20;
/// What one answer carries unless asked for less.
const LIMIT_DEFAULT: usize = 1 << 20;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct OutputQuery {
    /// Where to start, in bytes from the first the terminal ever printed (an answer's
    /// `Output-End`, to follow it). Bytes no longer kept are skipped: `Output-Offset` says
    /// where the answer starts. Default: the first kept byte.
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    offset: Option<u64>,
    /// At most this many bytes, 1–4194304 (default 1048576).
    #[param(minimum = 1, maximum = 4194304)]
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/sessions/{id}/output", tag = "sessions", params(("id" = String, Path), OutputQuery), responses(
    (status = 200, description = "The bytes the terminal printed, raw (ANSI sequences included)", content_type = "application/octet-stream", body = String, headers(
        ("Output-Offset" = u64, description = "The offset of this answer's first byte"),
        ("Output-Start" = u64, description = "The offset of the first byte still kept (older ones went over the byte budget)"),
        ("Output-End" = u64, description = "The offset after the last byte kept so far: where to ask next"),
    )),
    (status = 400, body = ErrorBody),
    Missing,
    Relayed,
))]
pub(super) async fn session_output(
    State(store): State<Store>,
    State(terminals): State<Terminals>,
    relayed: Option<Extension<FromNode>>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<OutputQuery>,
) -> ApiResult {
    let limit = q.limit.unwrap_or(LIMIT_DEFAULT);
    if !(1..=LIMIT_MAX).contains(&limit) {
        return Err(AppError::invalid(format!("limit must be between 1 and {LIMIT_MAX}")));
    }
    if store.read_fresh(|st| st.sessions.get(&id).map(|_| ())).await.is_none() {
        return Err(AppError::not_found(format!("session {id} not found")));
    }
    if q.offset.is_some_and(|o| o > i64::MAX as u64) {
        return Err(AppError::invalid(format!("offset must be at most {}", i64::MAX)));
    }
    // In a cluster, the node that ran its terminal keeps it.
    let (offset, limit_text) = (q.offset.map(|o| o.to_string()), limit.to_string());
    let mut query = vec![("limit", limit_text.as_str())];
    query.extend(offset.as_deref().map(|o| ("offset", o)));
    if let Some(answer) = terminals.output_elsewhere(&id, &query, relayed.is_some()).await {
        return Ok(answer);
    }
    let outputs = terminals.outputs().clone();
    let read = tokio::task::spawn_blocking(move || outputs.read(&id, q.offset.unwrap_or(0), limit)).await;
    let failed = |e: &dyn std::fmt::Display| {
        AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "cannot read the kept output")
            .because(format_args!("reading kept output: {e}"))
    };
    let chunk = match read {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(failed(&e)),
        Err(e) => return Err(failed(&e)),
    };
    let n = |v: u64| HeaderValue::from(v);
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream")),
        (HeaderName::from_static("output-offset"), n(chunk.offset)),
        (HeaderName::from_static("output-start"), n(chunk.kept.start)),
        (HeaderName::from_static("output-end"), n(chunk.kept.end)),
    ];
    Ok((headers, chunk.bytes).into_response())
}
