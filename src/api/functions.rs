//! Leptos server functions: the UI's way in. Each is a thin caller of one store operation,
//! exactly like the REST handlers. They live under `/sfn` so they never shadow `/api`.

use crate::model::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn store() -> Result<crate::store::Store, ServerFnError> {
    use_context::<crate::server::AppState>()
        .map(|s| s.store)
        .ok_or_else(|| ServerFnError::new("server state missing"))
}

#[cfg(feature = "ssr")]
async fn run(cmd: crate::store::Command) -> Result<crate::store::Outcome, ServerFnError> {
    store()?
        .execute(cmd, None)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// Every project, oldest first.
#[server(prefix = "/sfn")]
pub async fn list_projects() -> Result<Vec<Project>, ServerFnError> {
    Ok(store()?.read(|s| s.list_projects()))
}

/// Creates a project named `name`.
#[server(prefix = "/sfn")]
pub async fn create_project(name: String) -> Result<Project, ServerFnError> {
    use crate::store::{Command, Outcome};
    match run(Command::CreateProject(NewProject {
        id: None,
        name,
        base_path: None,
    }))
    .await?
    {
        Outcome::Project(p) => Ok(p),
        other => Err(ServerFnError::new(format!("unexpected outcome {other:?}"))),
    }
}
