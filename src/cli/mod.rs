//! The command-line client: `maestro project|task|session|workspace|watch|status` over
//! the typed `client` (and `attach`, a terminal over its socket), for people and for the agents inside sessions. Inside a session the
//! `MAESTRO_*` variables its terminal starts with are the defaults, so an agent writes
//! `maestro task get` or `maestro task update --status completed` with no ids.
//!
//! Here: the global flags (`Conn`), the subcommands and their dispatch. A file per noun
//! (`project`, `task`, `subtask`, `session`, `workspace`, `watch`, `status`), each its clap
//! enum and how it runs; `hook` what agents' hooks call; `defaults` the session's `MAESTRO_*` variables; `values` the status and priority
//! words; `exit` why a command failed and its exit code; `output` how results print.

mod attach;
mod defaults;
mod exit;
pub mod hook;
pub mod output;
mod project;
mod review;
mod session;
mod status;
mod subtask;
mod task;
mod values;
mod watch;
mod workspace;

pub use exit::Failure;
pub use project::ProjectCmd;
pub use review::ReviewArgs;
pub use session::SessionCmd;
pub use subtask::SubtaskCmd;
pub use task::TaskCmd;
pub use workspace::WorkspaceCmd;

use crate::rest_client::Client;
use defaults::Here;
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
    /// Tasks' git worktrees: list, show, diff, archive, restore.
    #[command(subcommand)]
    Workspace(WorkspaceCmd),
    /// A workspace's review comments [default: this session's]; `resolve ID`, `send`.
    Review(ReviewArgs),
    /// Print live events as they are committed, resuming after a drop.
    Watch(watch::WatchArgs),
    /// Called by an agent's hooks (Claude Code's: `maestro hook claude`, its JSON on
    /// stdin) to say what the agent is doing.
    #[command(subcommand)]
    Hook(hook::HookCmd),
    /// Attach this terminal to a session's, shared with the browser (Ctrl-] then d
    /// detaches; the session keeps running).
    Attach {
        /// The session [default: $MAESTRO_SESSION_ID].
        session: Option<String>,
    },
    /// The server's health, its last `seq` and the active project's counts.
    Status {
        /// The project to count [default: $MAESTRO_PROJECT_ID, else every project].
        #[arg(long)]
        project: Option<String>,
    },
}

/// Runs one client command; errors go to stderr and become the exit code.
pub async fn run(cmd: ClientCommand, conn: Conn) -> ExitCode {
    let token = crate::auth::token::for_client(&conn.api_url);
    let client = Client::new(&conn.api_url, token.clone());
    let out = Out::detect(conn.json);
    let here = Here::from_env();
    let done = match cmd {
        ClientCommand::Project(c) => project::run(&client, out, &here, c).await,
        ClientCommand::Task(c) => task::run(&client, out, &here, c).await,
        ClientCommand::Session(c) => session::run(&client, out, &here, c).await,
        ClientCommand::Workspace(c) => workspace::run(&client, out, &here, c).await,
        ClientCommand::Review(a) => review::run(&client, out, &here, a).await,
        ClientCommand::Watch(a) => watch::run(&client, out, a).await,
        ClientCommand::Hook(c) => return hook::run(&client, &here, c).await,
        ClientCommand::Attach { session } => match here.session(session) {
            Ok(id) => attach::run(&conn.api_url, token.as_deref(), &id).await,
            Err(f) => Err(f),
        },
        ClientCommand::Status { project } => status::run(&client, out, project.or(here.project)).await,
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
