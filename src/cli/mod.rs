//! The command-line client: `maestro project|task|session|watch|status` over the typed
//! `client`, for people and for the agents inside sessions. Inside a session the
//! `MAESTRO_*` variables its terminal starts with are the defaults, so an agent writes
//! `maestro task get` or `maestro task update --status completed` with no ids.
//!
//! Exit codes (docs/SPEC.md §7): 0 ok, 1 refused by the server, 2 usage, 3 not found,
//! 4 unauthorised, 5 server unreachable.

pub mod output;
mod watch;

use crate::model::*;
use crate::rest_client::{Client, ClientError, SessionQuery, TaskQuery};
use output::Out;
use std::process::ExitCode;

/// Where the server is and how to print; global to every client subcommand.
#[derive(clap::Args, Clone, Debug)]
pub struct Conn {
    /// The server's API (a session's terminal sets it).
    #[arg(long, global = true, env = "MAESTRO_API_URL", default_value = "http://127.0.0.1:3000/api")]
    pub api_url: String,
    /// Print exactly the API's JSON (`watch`: one event per line).
    #[arg(long, global = true)]
    pub json: bool,
}

/// The client's subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum ClientCommand {
    /// Projects: list, create, show, rename, delete.
    #[command(subcommand)]
    Project(ProjectCmd),
    /// Tasks and their subtasks.
    #[command(subcommand)]
    Task(TaskCmd),
    /// Sessions (terminals where agents work) and their tasks.
    #[command(subcommand)]
    Session(SessionCmd),
    /// Print live events as they are committed, resuming after a drop.
    Watch(watch::WatchArgs),
    /// The server's health, its last `seq` and the active project's counts.
    Status {
        /// The project to count [default: $MAESTRO_PROJECT_ID, else every project].
        #[arg(long)]
        project: Option<String>,
    },
}

#[derive(clap::Subcommand, Debug)]
pub enum ProjectCmd {
    /// List every project.
    List,
    /// Create a project.
    Create {
        name: String,
        /// Absolute directory its terminals start in.
        #[arg(long)]
        base_path: Option<String>,
    },
    /// Show a project [default: this session's].
    Get { id: Option<String> },
    /// Rename a project or change its directory.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, conflicts_with = "no_base_path")]
        base_path: Option<String>,
        /// Clear the directory (terminals start in the home directory).
        #[arg(long)]
        no_base_path: bool,
    },
    /// Delete a project (refused while it has tasks or sessions).
    Delete { id: String },
}

#[derive(clap::Subcommand, Debug)]
pub enum TaskCmd {
    /// List a project's tasks, newest first.
    List {
        /// [default: $MAESTRO_PROJECT_ID, else every project]
        #[arg(long)]
        project: Option<String>,
        #[arg(long, value_parser = task_status)]
        status: Option<TaskStatus>,
    },
    /// Create a task.
    Create {
        title: String,
        /// [default: $MAESTRO_PROJECT_ID]
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// What an agent working on it is told.
        #[arg(long)]
        prompt: Option<String>,
        #[arg(long, value_parser = priority)]
        priority: Option<Priority>,
        #[arg(long, value_parser = task_status)]
        status: Option<TaskStatus>,
    },
    /// Show tasks with their prompts and subtasks [default: this session's tasks].
    Get { ids: Vec<String> },
    /// Change tasks [default: this session's tasks].
    Update {
        ids: Vec<String>,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        prompt: Option<String>,
        #[arg(long, value_parser = task_status)]
        status: Option<TaskStatus>,
        #[arg(long, value_parser = priority)]
        priority: Option<Priority>,
    },
    /// Delete a task (its sessions lose the link).
    Delete { id: String },
    /// A task's checklist.
    #[command(subcommand)]
    Subtask(SubtaskCmd),
}

#[derive(clap::Subcommand, Debug)]
pub enum SubtaskCmd {
    /// Add a subtask.
    Add {
        title: String,
        /// [default: this session's task, when it has one]
        #[arg(long)]
        task: Option<String>,
    },
    /// Tick a subtask off (`--undo`: not done after all).
    Done {
        id: String,
        #[arg(long)]
        task: Option<String>,
        #[arg(long)]
        undo: bool,
    },
    /// Delete a subtask.
    Delete {
        id: String,
        #[arg(long)]
        task: Option<String>,
    },
}

#[derive(clap::Subcommand, Debug)]
pub enum SessionCmd {
    /// List sessions, newest first.
    List {
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        task: Option<String>,
        #[arg(long, value_parser = session_status)]
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

fn task_status(s: &str) -> Result<TaskStatus, String> {
    TaskStatus::parse(s).ok_or_else(|| one_of(TaskStatus::ALL.map(|v| v.as_str())))
}

fn session_status(s: &str) -> Result<SessionStatus, String> {
    SessionStatus::parse(s).ok_or_else(|| one_of(SessionStatus::ALL.map(|v| v.as_str())))
}

fn priority(s: &str) -> Result<Priority, String> {
    Priority::parse(s).ok_or_else(|| one_of(Priority::ALL.map(|v| v.as_str())))
}

fn one_of<const N: usize>(words: [&str; N]) -> String {
    format!("expected one of: {}", words.join(", "))
}

/// Why a command failed, and so its exit code.
#[derive(Debug)]
pub enum Failure {
    /// The server answered, or could not be reached.
    Client(ClientError),
    /// The command line lacks something (no id given and none in the environment).
    Usage(String),
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        Failure::Client(e)
    }
}

impl Failure {
    /// The exit code of docs/SPEC.md §7.
    pub fn code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Client(ClientError::Unreachable { .. }) => 5,
            Failure::Client(ClientError::Api { status: 401 | 403, .. }) => 4,
            Failure::Client(ClientError::Api { status: 404, .. }) => 3,
            Failure::Client(_) => 1,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Usage(m) => write!(f, "{m}"),
            Failure::Client(ClientError::Api { status: 401, .. }) => {
                write!(f, "not authorised: set MAESTRO_TOKEN to the server's access token (a server on this machine keeps it in DATA_DIR/token)")
            }
            Failure::Client(e) => write!(f, "{e}"),
        }
    }
}

type Done = Result<(), Failure>;

/// Runs one client command; errors go to stderr and become the exit code.
pub async fn run(cmd: ClientCommand, conn: Conn) -> ExitCode {
    let token = crate::auth::token::for_client(&conn.api_url);
    let client = Client::new(&conn.api_url, token);
    let out = Out::detect(conn.json);
    let here = Here::from_env();
    let done = match cmd {
        ClientCommand::Project(c) => project(&client, out, &here, c).await,
        ClientCommand::Task(c) => task(&client, out, &here, c).await,
        ClientCommand::Session(c) => session(&client, out, &here, c).await,
        ClientCommand::Watch(a) => watch::run(&client, out, a).await,
        ClientCommand::Status { project } => status(&client, out, project.or(here.project)).await,
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let prefix = if Out::stderr_color() { "\x1b[31mmaestro:\x1b[0m" } else { "maestro:" };
            eprintln!("{prefix} {f}");
            ExitCode::from(f.code())
        }
    }
}

/// The session this process runs in, from the variables its terminal started with.
#[derive(Default)]
struct Here {
    project: Option<String>,
    session: Option<String>,
    tasks: Vec<String>,
}

impl Here {
    fn from_env() -> Here {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Here {
            project: var("MAESTRO_PROJECT_ID"),
            session: var("MAESTRO_SESSION_ID"),
            tasks: var("MAESTRO_TASK_IDS")
                .map(|v| v.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect())
                .unwrap_or_default(),
        }
    }

    fn session(&self, given: Option<String>) -> Result<String, Failure> {
        given.or_else(|| self.session.clone()).ok_or_else(|| {
            Failure::Usage("no session given, and MAESTRO_SESSION_ID is not set (run it inside a session)".into())
        })
    }

    fn project(&self, given: Option<String>) -> Result<String, Failure> {
        given
            .or_else(|| self.project.clone())
            .ok_or_else(|| Failure::Usage("no --project given, and MAESTRO_PROJECT_ID is not set".into()))
    }

    /// The tasks named, else this session's (its current links, not the ones it started
    /// with: asked of the server when the session is known).
    async fn tasks(&self, client: &Client, given: Vec<String>) -> Result<Vec<String>, Failure> {
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
    async fn task(&self, client: &Client, given: Option<String>) -> Result<String, Failure> {
        let ids = self.tasks(client, given.into_iter().collect()).await?;
        match <[String; 1]>::try_from(ids) {
            Ok([id]) => Ok(id),
            Err(ids) => Err(Failure::Usage(format!("this session has {} tasks: say which with --task", ids.len()))),
        }
    }
}

async fn project(client: &Client, out: Out, here: &Here, cmd: ProjectCmd) -> Done {
    match cmd {
        ProjectCmd::List => {
            let list = client.projects().await?;
            if out.json {
                out.json(&list);
                return Ok(());
            }
            let rows = list.iter().map(|p| vec![p.id.clone(), p.name.clone(), p.base_path.clone().unwrap_or_default()]);
            out.table(&["ID", "NAME", "BASE PATH"], rows.collect());
        }
        ProjectCmd::Create { name, base_path } => {
            let p = client.create_project(&NewProject { id: None, name, base_path }).await?;
            show_project(out, &p);
        }
        ProjectCmd::Get { id } => show_project(out, &client.project(&here.project(id)?).await?),
        ProjectCmd::Update { id, name, base_path, no_base_path } => {
            let base_path = if no_base_path { Some(None) } else { base_path.map(Some) };
            show_project(out, &client.update_project(&id, &ProjectPatch { name, base_path }).await?);
        }
        ProjectCmd::Delete { id } => {
            client.delete_project(&id).await?;
            deleted(out, "project", &id);
        }
    }
    Ok(())
}

fn show_project(out: Out, p: &Project) {
    if out.json {
        return out.json(p);
    }
    out.fields(&[
        ("id", p.id.clone()),
        ("name", p.name.clone()),
        ("base path", p.base_path.clone().unwrap_or_default()),
        ("created", output::when(p.created_at)),
        ("updated", output::when(p.updated_at)),
    ]);
}

fn deleted(out: Out, what: &str, id: &str) {
    if out.json {
        out.json(&serde_json::json!({"success": true}));
    } else if out.tty {
        output::println_safe(&format!("Deleted {what} {id}"));
    }
}

async fn task(client: &Client, out: Out, here: &Here, cmd: TaskCmd) -> Done {
    match cmd {
        TaskCmd::List { project, status } => {
            let q = TaskQuery { project_id: project.or_else(|| here.project.clone()), status };
            let list = client.tasks(&q).await?;
            if out.json {
                out.json(&list);
                return Ok(());
            }
            let rows = list.iter().map(|t| {
                vec![
                    t.id.clone(),
                    out.status(t.status.as_str()),
                    out.status(t.priority.as_str()),
                    t.session_count.to_string(),
                    t.title.clone(),
                ]
            });
            out.table(&["ID", "STATUS", "PRIORITY", "SESSIONS", "TITLE"], rows.collect());
        }
        TaskCmd::Create { title, project, description, prompt, priority, status } => {
            let project_id = here.project(project)?;
            let new = NewTask { id: None, project_id, title, description, prompt, priority, status };
            show_task(out, &client.create_task(&new).await?, false);
        }
        TaskCmd::Get { ids } => {
            let one = ids.len() == 1;
            let ids = here.tasks(client, ids).await?;
            let mut tasks = Vec::with_capacity(ids.len());
            for id in &ids {
                tasks.push(client.task(id).await?);
            }
            if out.json {
                // One id named: the API's object; a session's tasks (any number): an array.
                match one {
                    true => out.json(&tasks[0]),
                    false => out.json(&tasks),
                }
                return Ok(());
            }
            for (i, t) in tasks.iter().enumerate() {
                if i > 0 {
                    output::println_safe("");
                }
                show_task(out, t, true);
            }
        }
        TaskCmd::Update { ids, title, description, prompt, status, priority } => {
            let patch = TaskPatch { title, description, prompt, status, priority };
            if patch == TaskPatch::default() {
                return Err(Failure::Usage(
                    "nothing to change: give --status, --title, --description, --prompt or --priority".into(),
                ));
            }
            let one = ids.len() == 1;
            let ids = here.tasks(client, ids).await?;
            let mut done = Vec::new();
            for id in &ids {
                done.push(client.update_task(id, &patch).await?);
            }
            if out.json {
                match one {
                    true => out.json(&done[0]),
                    false => out.json(&done),
                }
                return Ok(());
            }
            let rows = done.iter().map(|t| vec![t.id.clone(), out.status(t.status.as_str()), t.title.clone()]);
            out.table(&["ID", "STATUS", "TITLE"], rows.collect());
        }
        TaskCmd::Delete { id } => {
            client.delete_task(&id).await?;
            deleted(out, "task", &id);
        }
        TaskCmd::Subtask(c) => {
            let t = match c {
                SubtaskCmd::Add { title, task } => {
                    client.add_subtask(&here.task(client, task).await?, &NewSubtask { title }).await?
                }
                SubtaskCmd::Done { id, task, undo } => {
                    let status = Some(if undo { SubtaskStatus::Pending } else { SubtaskStatus::Completed });
                    let patch = SubtaskPatch { title: None, status };
                    client.update_subtask(&here.task(client, task).await?, &id, &patch).await?
                }
                SubtaskCmd::Delete { id, task } => client.delete_subtask(&here.task(client, task).await?, &id).await?,
            };
            show_task(out, &t, true);
        }
    }
    Ok(())
}

fn show_task(out: Out, t: &Task, with_prompt: bool) {
    if out.json {
        return out.json(t);
    }
    let done = t.subtasks.iter().filter(|s| s.status == SubtaskStatus::Completed).count();
    out.fields(&[
        ("id", t.id.clone()),
        ("title", t.title.clone()),
        ("status", out.status(t.status.as_str())),
        ("priority", out.status(t.priority.as_str())),
        ("project", t.project_id.clone()),
        ("sessions", t.session_ids.join(", ")),
        ("subtasks", format!("{done}/{} done", t.subtasks.len())),
        ("updated", output::when(t.updated_at)),
    ]);
    if !with_prompt || !out.tty {
        return;
    }
    if !t.description.trim().is_empty() {
        out.block("Description", &t.description);
    }
    if !t.prompt.trim().is_empty() {
        out.block("Prompt", &t.prompt);
    }
    if !t.subtasks.is_empty() {
        let rows = t.subtasks.iter().map(|s| {
            let mark = if s.status == SubtaskStatus::Completed { "[x]" } else { "[ ]" };
            vec![mark.to_string(), s.id.clone(), s.title.clone()]
        });
        out.table(&["", "SUBTASK", "TITLE"], rows.collect());
    }
}

async fn session(client: &Client, out: Out, here: &Here, cmd: SessionCmd) -> Done {
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
            deleted(out, "session", &id);
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

/// `maestro status`: is the server up, where is its log, what is there to do.
async fn status(client: &Client, out: Out, project: Option<String>) -> Done {
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
