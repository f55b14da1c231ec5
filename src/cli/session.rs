//! `maestro session`: sessions (terminals where agents work) and their tasks; the
//! session is this one when none is named.

use super::defaults::Here;
use super::exit::Done;
use super::output::{self, Out};
use super::values;
use crate::model::{SessionPatch, SessionStatus};
use crate::rest_client::{Client, SessionQuery};

#[derive(clap::Subcommand, Debug)]
pub enum SessionCmd {
    /// List sessions, newest first.
    List {
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        task: Option<String>,
        #[arg(long, value_parser = values::session_status)]
        status: Option<SessionStatus>,
    },
    /// Show a session [default: this one].
    Get { id: Option<String> },
    /// Link a task to a session [default: this one].
    AddTask {
        task: String,
        #[arg(long)]
        session: Option<String>,
    },
    /// Unlink a task from a session [default: this one].
    RemoveTask {
        task: String,
        #[arg(long)]
        session: Option<String>,
    },
    /// Mark a session completed [default: this one]; its terminal keeps running.
    Complete { id: Option<String> },
    /// Delete a session (its terminal ends, its tasks lose the link).
    Delete { id: String },
}

pub(super) async fn run(client: &Client, out: Out, here: &Here, cmd: SessionCmd) -> Done {
    let one = match cmd {
        SessionCmd::List { project, task, status } => {
            let list = client.sessions(&SessionQuery { task_id: task, project_id: project, status }).await?;
            if out.json {
                out.json(&list);
                return Ok(());
            }
            let rows = list.iter().map(|s| {
                vec![
                    s.id.clone(),
                    out.status(s.status.as_str()),
                    s.agent_id.clone().unwrap_or_else(|| "shell".into()),
                    s.task_ids.len().to_string(),
                    s.name.clone(),
                ]
            });
            out.table(&["ID", "STATUS", "AGENT", "TASKS", "NAME"], rows.collect());
            return Ok(());
        }
        SessionCmd::Get { id } => client.session(&here.session(id)?).await?,
        SessionCmd::AddTask { task, session } => client.link(&here.session(session)?, &task).await?,
        SessionCmd::RemoveTask { task, session } => client.unlink(&here.session(session)?, &task).await?,
        SessionCmd::Complete { id } => {
            let patch = SessionPatch { status: Some(SessionStatus::Completed), ..Default::default() };
            client.update_session(&here.session(id)?, &patch).await?
        }
        SessionCmd::Delete { id } => {
            client.delete_session(&id).await?;
            out.deleted("session", &id);
            return Ok(());
        }
    };
    if out.json {
        out.json(&one);
        return Ok(());
    }
    out.fields(&[
        ("id", one.id.clone()),
        ("name", one.name.clone()),
        ("status", out.status(one.status.as_str())),
        ("agent", one.agent_id.clone().unwrap_or_else(|| "shell".into())),
        ("project", one.project_id.clone()),
        ("tasks", one.task_ids.join(", ")),
        ("started", output::when(one.started_at)),
        ("last activity", output::when(one.last_activity)),
    ]);
    Ok(())
}
