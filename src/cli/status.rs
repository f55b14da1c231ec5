//! `maestro status`: is the server up, where is its log, what is there to do.

use super::exit::Done;
use super::output::Out;
use crate::model::{Health, SessionStatus, TaskStatus};
use crate::rest_client::{Client, ClientError, SessionQuery, TaskQuery};

/// The server's health and the counts of `project` (every project's when `None`).
pub(super) async fn run(client: &Client, out: Out, project: Option<String>) -> Done {
    let health = match client.health().await {
        Ok(h) => h,
        // Degraded or failed answers 503 with the same body; say it rather than fail.
        Err(ClientError::Api { status: 503, code, message }) => {
            Health { status: code, seq: 0, uptime_ms: 0, error: Some(message), node: None }
        }
        Err(e) => return Err(e.into()),
    };
    let tasks = client.tasks(&TaskQuery { project_id: project.clone(), status: None }).await?;
    let sessions = client.sessions(&SessionQuery { project_id: project.clone(), ..Default::default() }).await?;
    let count = |s: TaskStatus| tasks.iter().filter(|t| t.status == s).count();
    let running = sessions.iter().filter(|s| s.status == SessionStatus::Running).count();
    if out.json {
        let by_status: serde_json::Map<_, _> =
            TaskStatus::ALL.iter().map(|s| (s.as_str().to_string(), count(*s).into())).collect();
        out.json(&serde_json::json!({
            "server": client.api_url(),
            "health": health,
            "projectId": project,
            "tasks": by_status,
            "sessions": {"total": sessions.len(), "running": running},
        }));
        return Ok(());
    }
    let mut fields = vec![
        ("server", client.api_url().to_string()),
        ("health", out.status(&health.status)),
        ("seq", health.seq.to_string()),
        ("uptime", humantime::format_duration(std::time::Duration::from_secs(health.uptime_ms / 1000)).to_string()),
        ("project", project.unwrap_or_else(|| "(all)".into())),
    ];
    if let Some(e) = health.error {
        fields.push(("error", e));
    }
    for s in TaskStatus::ALL {
        fields.push((s.as_str(), count(s).to_string()));
    }
    fields.push(("sessions", format!("{} ({running} running)", sessions.len())));
    out.fields(&fields);
    Ok(())
}
