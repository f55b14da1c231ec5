//! The defaults a command takes from the session it runs in: the `MAESTRO_*` variables
//! its terminal started with, so that an agent names no ids.

use super::exit::Failure;
use crate::rest_client::Client;

/// The session this process runs in, from the variables its terminal started with.
#[derive(Default)]
pub(super) struct Here {
    pub(super) project: Option<String>,
    session: Option<String>,
    tasks: Vec<String>,
}

impl Here {
    pub(super) fn from_env() -> Here {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Here {
            project: var("MAESTRO_PROJECT_ID"),
            session: var("MAESTRO_SESSION_ID"),
            tasks: var("MAESTRO_TASK_IDS")
                .map(|v| v.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect())
                .unwrap_or_default(),
        }
    }

    pub(super) fn session(&self, given: Option<String>) -> Result<String, Failure> {
        given.or_else(|| self.session.clone()).ok_or_else(|| {
            Failure::Usage("no session given, and MAESTRO_SESSION_ID is not set (run it inside a session)".into())
        })
    }

    pub(super) fn project(&self, given: Option<String>) -> Result<String, Failure> {
        given
            .or_else(|| self.project.clone())
            .ok_or_else(|| Failure::Usage("no --project given, and MAESTRO_PROJECT_ID is not set".into()))
    }

    /// The workspace named, else the one this session runs in (asked of the server).
    pub(super) async fn workspace(&self, client: &Client, given: Option<String>) -> Result<String, Failure> {
        if let Some(id) = given {
            return Ok(id);
        }
        let Some(s) = &self.session else {
            return Err(Failure::Usage(
                "no workspace given, and MAESTRO_SESSION_ID is not set (run it inside a session)".into(),
            ));
        };
        client.session(s).await?.workspace_id.ok_or_else(|| {
            Failure::Usage(format!("session {s} runs in no workspace: name one (maestro workspace list)"))
        })
    }

    /// Whether this process runs inside a session.
    pub(super) fn in_session(&self) -> bool {
        self.session.is_some()
    }

    /// The tasks named, else this session's (its current links, not the ones it started
    /// with: asked of the server when the session is known).
    pub(super) async fn tasks(&self, client: &Client, given: Vec<String>) -> Result<Vec<String>, Failure> {
        if !given.is_empty() {
            return Ok(given);
        }
        if let Some(s) = &self.session {
            return Ok(client.session(s).await?.task_ids);
        }
        if !self.tasks.is_empty() {
            return Ok(self.tasks.clone());
        }
        Err(Failure::Usage("no task given, and this is not a Maestro session (MAESTRO_TASK_IDS is not set)".into()))
    }

    /// The one task a subtask command is about.
    pub(super) async fn task(&self, client: &Client, given: Option<String>) -> Result<String, Failure> {
        let ids = self.tasks(client, given.into_iter().collect()).await?;
        match <[String; 1]>::try_from(ids) {
            Ok([id]) => Ok(id),
            Err(ids) => Err(Failure::Usage(format!("this session has {} tasks: say which with --task", ids.len()))),
        }
    }
}
