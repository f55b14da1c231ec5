//! `/events`: the retained log, for clients that poll or resume.

use super::ApiResult;
use crate::http::{ApiQuery, AppError, ErrorBody};
use crate::model::Event;
use crate::store::Store;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;

/// The most events one `GET /api/events` returns.
pub const EVENTS_PAGE_MAX: usize = 10_000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct EventsQuery {
    /// The last `seq` already seen (0: from the start of the log).
    #[serde(default)]
    since: u64,
    /// At most this many events (1–10,000; 1,000 by default).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<usize>,
}

/// The retained events after `since`, as the stored JSON (no re-serialisation).
#[utoipa::path(get, path = "/events", tag = "events", params(EventsQuery), responses((status = 200, description = "Retained events after `since`, oldest first, at most 1 MiB of them but for the first", body = Vec<Event>), (status = 400, body = ErrorBody), (status = 410, description = "`since` is older than the retained log: refetch", body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn events(State(store): State<Store>, ApiQuery(q): ApiQuery<EventsQuery>) -> ApiResult {
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
