//! `/agents`: what "Work on task" offers.

use crate::agents::Agents;
use crate::http::{ApiQuery, ErrorBody};
use crate::model::Agent;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct AgentFilter {
    project_id: Option<String>,
}

/// The agents "Work on task" offers in a project (without one: those of every project).
#[utoipa::path(get, path = "/agents", tag = "agents", params(AgentFilter), responses((status = 200, body = Vec<Agent>), (status = 400, body = ErrorBody)))]
pub(super) async fn list_agents(State(agents): State<Agents>, ApiQuery(q): ApiQuery<AgentFilter>) -> Json<Vec<Agent>> {
    Json(agents.list(q.project_id.as_deref().unwrap_or("")))
}
