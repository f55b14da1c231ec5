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
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::Required;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct InspectQuery {
    path: String,
}

/// Written out: utoipa's derive drops `required` from a parameter with `schema_with`.
impl utoipa::IntoParams for InspectQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let about = "The directory, absolute (a relative one is answered as such, and not looked at).";
        let path = ParameterBuilder::new().name("path").parameter_in(ParameterIn::Query).required(Required::True);
        vec![path.description(Some(about)).schema(Some(crate::model::schema::path_to_inspect())).build()]
    }
}

/// Whether the path exists and is a directory, and the git repository it is in: its top,
/// the branch checked out, its branches (most recent first, at most 50) and whether it has
/// `.maestro/setup.sh`.
#[utoipa::path(get, path = "/directories/inspect", tag = "projects", params(InspectQuery), responses((status = 200, body = DirectoryInfo), (status = 400, description = "A blank path, control characters, or longer than 1024 characters", body = ErrorBody), GitTimeout))]
pub(super) async fn inspect_directory(State(ws): State<Workspaces>, ApiQuery(q): ApiQuery<InspectQuery>) -> ApiResult {
    Ok(Json(ws.inspect(q.path).await?).into_response())
}
