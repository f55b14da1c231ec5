//! `maestro session`: sessions (terminals where agents work) and their tasks; the
//! session is this one when none is named.

use super::defaults::Here;
use super::exit::{Done, Failure};
use super::output::{self, Out};
use super::values;
use crate::model::{NewSession, SessionPatch, SessionState, SessionStateUpdate, SessionStatus};
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
    /// Start an agent on a task now, on the server, browser or not.
    Start {
        /// The task it works on.
        #[arg(long)]
        task: String,
        /// Which configured agent [default: the first the server offers].
        #[arg(long)]
        agent: Option<String>,
        /// Where it works: `new` (a workspace of its own), `none`, or a workspace's id
        /// [default: automatic].
        #[arg(long)]
        workspace: Option<String>,
    },
    /// Say what this session's agent is doing: `working`, `needs-input "Which database?"`
    /// (flags it for the person, with the question), `idle`.
    State {
        #[arg(value_parser = values::session_state)]
        state: SessionState,
        /// What it asks or says, in a line.
        message: Option<String>,
        /// The session [default: this one].
        #[arg(long)]
        session: Option<String>,
    },
    /// A session's timeline [default: this one]: `log "ran the tests"` adds a line, `log`
    /// alone shows it, `log [ID] --output` prints what its terminal printed, raw.
    Log {
        /// The line to add (with `--output`: the session's id).
        text: Option<String>,
        /// The session [default: this one].
        #[arg(long)]
        session: Option<String>,
        /// The terminal's output (what the agent printed), raw, as kept on the server.
        #[arg(long)]
        output: bool,
    },
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
        SessionCmd::State { state, message, session } => {
            let update = SessionStateUpdate { state, message };
            client.set_session_state(&here.session(session)?, &update).await?
        }
        SessionCmd::Start { task, agent, workspace } => start(client, task, agent, workspace).await?,
        SessionCmd::Log { text, session, output: true } => {
            // Before the timeline, `log ID --output` was all `log` did: the positional is the id.
            if text.is_some() && session.is_some() {
                return Err(Failure::Usage("with --output, name the session once (ID or --session ID)".into()));
            }
            return print_output(client, &here.session(text.or(session))?).await;
        }
        SessionCmd::Log { text: Some(text), session, output: false } => {
            client.log_session(&here.session(session)?, &text).await?
        }
        SessionCmd::Log { text: None, session, output: false } => {
            let s = client.session(&here.session(session)?).await?;
            match out.json {
                true => out.json(&s.timeline),
                false => output::print_safe(&timeline(&s)),
            }
            return Ok(());
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
        ("state", one.state.map(|s| s.label()).unwrap_or_default().to_string()),
        ("asks", one.state_message.clone().unwrap_or_default()),
        ("exit code", one.exit_code.map(|c| c.to_string()).unwrap_or_default()),
        ("started", output::when(one.started_at)),
        ("last activity", output::when(one.last_activity)),
    ]);
    if !one.timeline.is_empty() {
        out.block("timeline", &timeline(&one));
    }
    Ok(())
}

/// A session's timeline, a line each: when, and what was said.
fn timeline(s: &crate::model::Session) -> String {
    s.timeline.iter().map(|l| format!("{}  {}\n", output::when(l.at), l.text)).collect()
}

/// `session start`: a session of `agent` on `task`, in its project; the server starts it.
async fn start(
    client: &Client,
    task: String,
    agent: Option<String>,
    workspace: Option<String>,
) -> Result<crate::model::Session, Failure> {
    let project_id = client.task(&task).await?.project_id;
    let agent = match agent {
        Some(a) => a,
        None => client.agents().await?.into_iter().next().map(|a| a.id).ok_or_else(|| {
            Failure::Usage("the server offers no agents: configure one (agents.toml or --agent) or name it".into())
        })?,
    };
    let new = NewSession { project_id, task_ids: vec![task], agent_id: Some(agent), workspace, ..Default::default() };
    Ok(client.create_session(&new).await?)
}

/// `session log --output`: everything kept of the session's output, raw, to stdout; what
/// the byte budget dropped is said on stderr.
async fn print_output(client: &Client, id: &str) -> Done {
    use std::io::Write;
    let first = client.session_output(id, 0, PIECE).await?;
    if first.start > 0 {
        eprintln!("maestro: the first {} bytes of this output were dropped (over its byte budget)", first.start);
    }
    let end = first.end;
    let mut piece = first;
    let mut stdout = std::io::stdout().lock();
    loop {
        // A closed pipe (`| head`) ends the listing, as it would any command's.
        if stdout.write_all(&piece.bytes).is_err() {
            return Ok(());
        }
        let next = piece.offset + piece.bytes.len() as u64;
        if piece.bytes.is_empty() || next >= end {
            break;
        }
        piece = client.session_output(id, next, PIECE).await?;
    }
    let _ = stdout.flush();
    Ok(())
}

/// Bytes of output asked for at a time.
const PIECE: usize = 1 << 20;
