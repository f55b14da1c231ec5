//! `/health`: whether the store can write.

use crate::model::Health;
use crate::store::Store;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// 200 while the store can write; 503 (same body) when it cannot, so that a load balancer
/// or supervisor sees it.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, description = "The store can write", body = Health), (status = 503, description = "Degraded or failed (same body)", body = Health)))]
pub(super) async fn health(State(store): State<Store>) -> Response {
    let h = store.health();
    let status = if h.status == "ok" { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(h)).into_response()
}
