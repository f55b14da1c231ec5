//! `/directories/inspect`: what a directory given to a project is (SPEC §8), so that a
//! person setting `basePath` sees whether agents will get workspaces there.

use super::doc::GitTimeout;
use super::ApiResult;
use crate::http::{ApiQuery, ErrorBody};
use crate::model::DirectoryInfo;
use crate::workspace::Workspaces;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct InspectQuery {
    /// The directory, absolute (a relative one is answered as such, and not looked at).
    #[param(schema_with = crate::model::schema::path_to_inspect)]
    path: String,
}

/// Whether the path exists and is a directory, and the git repository it is in: its top,
/// the branch checked out, its branches (most recent first, at most 50) and whether it has
/// `.maestro/setup.sh`.
#[utoipa::path(get, path = "/directories/inspect", tag = "projects", params(InspectQuery), responses((status = 200, body = DirectoryInfo), (status = 400, description = "A blank path, control characters, or longer than 1024 characters", body = ErrorBody), GitTimeout))]
pub(super) async fn inspect_directory(State(ws): State<Workspaces>, ApiQuery(q): ApiQuery<InspectQuery>) -> ApiResult {
    Ok(Json(ws.inspect(q.path).await?).into_response())
}
