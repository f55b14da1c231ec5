//! Terminals (SPEC §5): a real pseudo-terminal process per open session, streamed over
//! its own WebSocket by byte offset. Recent output is kept in memory (and a session's all
//! on disk) so that a reload or a second tab re-attaches with recent scrollback and a
//! socket resumes where it left off; any number of sockets may watch one terminal.
//!
//! A Maestro session's terminal starts in its workspace's worktree (after the workspace's
//! setup, on its first session) or its project's `basePath` (or the user's home), with the
//! session's `MAESTRO_*` environment; when the process exits on its own the
//! session becomes `completed` (exit 0) or `failed`; when the session is deleted (closed
//! in the UI, or by anyone) its process is ended. Plain terminals (ids `term_…`) are not
//! linked to Maestro; they start in the `basePath` of the project they were opened for.
//!
//! Nothing here blocks the server's async workers: each terminal has a thread that reads
//! its output and watches its process, and a thread that writes its input, fed through a
//! bounded queue. A socket whose input is not being taken stops being read (backpressure on
//! that one socket) while its output keeps flowing.
//!
//! Each terminal's PTY and process belong to a holder process (`holder`), so that they
//! outlive the server; `adopt` serves them again when it starts.
//!
//! Here: the running terminals (`Terminals`), closing them and why one cannot open.
//! `launch` starts one (its command, variables, holder and threads); `setup` where it starts
//! and a workspace's setup; `process` its output, input and ending; `socket` its WebSocket
//! and `DELETE`; `stream` its output by offset for the sockets (`wire` what they carry);
//! `relay` which node runs it and relaying to that node; `budget` the input
//! all sockets hold; `prompts` the prompt files; `output` every session's output kept on
//! disk; `activity` what the terminal says an agent is doing; `start` starting an agent's
//! terminal when its session is made; `hooks` the hooks Maestro wires for agents it knows;
//! `output_relay` reading kept output on the node that ran the terminal; `review` a
//! workspace's review comments typed to its agent.

mod activity;
mod adopt;
mod budget;
mod group;
pub mod holder;
mod hooks;
mod launch;
pub mod output;
mod output_relay;
mod process;
mod prompts;
mod relay;
mod review;
mod setup;
mod socket;
mod start;
mod stream;
mod wire;

pub use output::Outputs;
pub use socket::{terminal_delete, terminal_ws};
pub use wire::SizeQuery;

use crate::agents::Agents;
use crate::http::AppError;
use crate::model::EventData;
use crate::store::{state::check_id, Store};
use axum::http::StatusCode;
use budget::InputBudget;
use bytes::Bytes;
use group::signal_session;
use prompts::PromptDir;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, watch};

/// Default cap on concurrently running terminals (`MAESTRO_MAX_TERMINALS`).
pub const DEFAULT_MAX: usize = 32;
/// The CPU priority sessions' terminals run at (`MAESTRO_AGENT_NICE`, 0–19; 0 leaves it):
/// agents building or printing without end then leave the CPU first to the person typing,
/// to Maestro and the rest of the desktop, and still get all of it that nothing else wants.
pub const DEFAULT_AGENT_NICE: i32 = 10;
/// Input is handed to the writer thread in pieces of at most this many bytes...
const INPUT_CHUNK: usize = 16 * 1024;
/// ...of which at most this many wait for the program to read them.
const INPUT_QUEUE: usize = 16;
/// A socket holding this many bytes of input not yet queued is not read further.
const INPUT_PENDING_MAX: usize = 1 << 20;
/// ...and all sockets together hold at most this many (see [`InputBudget`]).
const INPUT_PENDING_TOTAL: usize = 16 << 20;
/// What a terminal socket reads from its client at a time: tungstenite zeroes that much
/// before each read, and a socket's loop tries one for each frame it sends (its default,
/// 128 KiB, made that zeroing cost a flood more than its bytes); input is keystrokes and
/// pastes, and a paste still arrives whole, in more reads.
const SOCKET_READ: usize = 4 * 1024;
/// How often a terminal socket is pinged; silent for three intervals, it is dropped.
pub const PING_INTERVAL: Duration = Duration::from_secs(15);
/// How long one send to a browser may take before it is considered gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Closing a terminal: SIGHUP, then SIGTERM and SIGKILL after this long each.
const GRACE: Duration = Duration::from_secs(2);

/// One running terminal.
struct Term {
    /// To the writer thread.
    input: mpsc::Sender<Bytes>,
    /// Its holder (resizes go there).
    link: Arc<holder::link::Link>,
    /// The process, leader of its own session and process group.
    pid: Option<i32>,
    /// Its recent output, by offset.
    recent: stream::Recent,
    /// Set once with the exit code.
    exited: watch::Sender<Option<u32>>,
    /// A browser has set its size (until then it has the size it started with).
    sized: std::sync::atomic::AtomicBool,
    /// Input was handed to the program since its output thread last looked.
    typed: std::sync::atomic::AtomicBool,
}

/// All running terminals.
#[derive(Clone)]
pub struct Terminals {
    terms: Arc<Mutex<HashMap<String, Arc<Term>>>>,
    store: Store,
    max: usize,
    /// The command to run, when not the user's shell (`MAESTRO_TERMINAL_COMMAND`).
    command: Option<String>,
    agents: Agents,
    /// Handed to sessions' terminals, so that the `maestro` CLI in them is let in.
    token: Option<String>,
    /// On a shared database: this node's proof when it relays to another.
    node_key: Option<crate::auth::node::NodeKey>,
    /// Where sessions' `maestro` CLI reaches this server (`MAESTRO_API_URL`).
    api_url: Option<String>,
    /// Where sessions' prompt files are written (private to this user).
    prompts: Arc<PromptDir>,
    /// Input read from every terminal socket and not yet taken by its program.
    input_budget: InputBudget,
    /// Whose worktrees sessions in a workspace start in (checked there).
    workspaces: Option<crate::workspace::Workspaces>,
    /// What sessions' terminals printed, kept on disk.
    outputs: Outputs,
    /// Where terminals' holders listen, and whether they outlive the server.
    holders: Arc<holder::Dir>,
    /// The `maestro` binary that runs them (`maestro __hold`).
    holder_bin: Arc<std::path::PathBuf>,
    /// Sessions' terminals run at this nice value (plain ones at the server's).
    agent_nice: i32,
    /// Becomes true when the server stops: terminal sockets close (browsers reconnect).
    closing: watch::Receiver<bool>,
}

/// Why a terminal could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// Not a valid id, or no such session.
    Invalid(String),
    NotFound(String),
    /// The session has ended.
    Ended(String),
    /// Too many terminals run already.
    Full(usize),
    /// The system refused (no PTY, no process, no thread).
    System(String),
    /// It runs on another node, which cannot be reached (see `auth::relay`).
    Relay(crate::auth::relay::RelayError),
}

impl From<OpenError> for AppError {
    fn from(e: OpenError) -> AppError {
        match e {
            OpenError::Invalid(m) => AppError::invalid(m),
            OpenError::NotFound(m) => AppError::not_found(m),
            OpenError::Ended(id) => AppError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("session {id} has ended; its terminal is not started again"),
            ),
            OpenError::Full(max) => AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_terminals",
                format!("at most {max} terminals may run at once; close one first"),
            ),
            OpenError::System(m) => AppError::new(StatusCode::SERVICE_UNAVAILABLE, "terminal_failed", m),
            OpenError::Relay(e) => e.refusal("this terminal", "terminal_unreachable"),
        }
    }
}

impl Terminals {
    /// Starts watching the store: deleting a session ends its terminal.
    pub fn new(store: Store) -> Terminals {
        let max = std::env::var("MAESTRO_MAX_TERMINALS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_MAX);
        let command = std::env::var("MAESTRO_TERMINAL_COMMAND").ok().filter(|c| !c.trim().is_empty());
        let agent_nice = std::env::var("MAESTRO_AGENT_NICE").ok().and_then(|v| v.trim().parse::<i32>().ok());
        let agent_nice = agent_nice.unwrap_or(DEFAULT_AGENT_NICE).clamp(0, 19);
        let t = Terminals {
            terms: Arc::default(),
            store: store.clone(),
            max,
            command,
            agents: Agents::default(),
            token: None,
            node_key: None,
            api_url: None,
            prompts: Arc::new(PromptDir::temporary()),
            input_budget: InputBudget::new(INPUT_PENDING_TOTAL),
            workspaces: None,
            outputs: Outputs::temporary(),
            holders: Arc::new(holder::Dir::temporary()),
            holder_bin: Arc::new(std::env::current_exe().unwrap_or_else(|_| "maestro".into())),
            agent_nice,
            closing: watch::channel(false).1,
        };
        let mut events = store.subscribe();
        let me = t.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(e) => {
                        if let EventData::SessionDeleted(d) = &e.event.data {
                            me.kill(&d.id);
                            let (outputs, id) = (me.outputs.clone(), d.id.clone());
                            tokio::task::spawn_blocking(move || outputs.remove(&id));
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        t
    }

    /// The same terminals starting sessions in these workspaces' worktrees.
    pub fn with_workspaces(mut self, workspaces: crate::workspace::Workspaces) -> Terminals {
        self.workspaces = Some(workspaces);
        self
    }

    /// The same terminals with another cap (tests).
    pub fn with_max(mut self, max: usize) -> Terminals {
        self.max = max;
        self
    }

    /// The same terminals starting these agents.
    pub fn with_agents(mut self, agents: Agents) -> Terminals {
        self.agents = agents;
        self
    }

    /// The same terminals handing the server's access token to sessions.
    pub fn with_token(mut self, token: Option<String>) -> Terminals {
        self.token = token;
        self
    }

    /// The same terminals telling sessions this server's API address.
    pub fn with_api_url(mut self, url: String) -> Terminals {
        self.api_url = Some(url);
        self
    }

    /// The same terminals relaying to other nodes with this node's key.
    pub fn with_node_key(mut self, key: Option<crate::auth::node::NodeKey>) -> Terminals {
        self.node_key = key;
        self
    }

    /// The same terminals writing prompt files into `dir` (made private, and emptied of
    /// what an earlier run left but the files of sessions `keep` names), not into a
    /// temporary directory.
    pub fn with_prompt_dir(mut self, dir: &std::path::Path, keep: impl Fn(&str) -> bool) -> Result<Terminals, String> {
        self.prompts = Arc::new(PromptDir::at(dir, keep)?);
        Ok(self)
    }

    /// The same terminals keeping sessions' output in `dir`, with what an earlier run kept
    /// there (but that of sessions `exists` no longer knows).
    pub fn with_output_dir(
        mut self,
        dir: &std::path::Path,
        exists: impl Fn(&str) -> bool,
    ) -> Result<Terminals, String> {
        self.outputs = self.outputs.at(dir)?;
        self.outputs.retain(exists);
        Ok(self)
    }

    /// The same terminals held by holders in `dir` (private; they outlive the server,
    /// which re-adopts them with [`Terminals::adopt`]).
    pub fn with_holder_dir(mut self, dir: &std::path::Path) -> Result<Terminals, String> {
        self.holders = Arc::new(holder::Dir::at(dir)?);
        Ok(self)
    }

    /// The same terminals started by holders of this `maestro` binary (a test's server
    /// runs in the test's own binary).
    pub fn with_holder_bin(mut self, bin: impl Into<std::path::PathBuf>) -> Terminals {
        self.holder_bin = Arc::new(bin.into());
        self
    }

    /// The same terminals closing their sockets when `closing` becomes true.
    pub fn with_closing(mut self, closing: watch::Receiver<bool>) -> Terminals {
        self.closing = closing;
        self
    }

    /// What sessions' terminals printed.
    pub fn outputs(&self) -> &Outputs {
        &self.outputs
    }

    /// The configured agents.
    pub fn agents(&self) -> &Agents {
        &self.agents
    }

    fn get(&self, id: &str) -> Option<Arc<Term>> {
        self.terms.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }

    /// Ends a terminal: SIGHUP to everything in its session, then SIGTERM, then SIGKILL,
    /// each after a grace period, until its process is gone (its reader then removes it).
    pub fn kill(&self, id: &str) {
        let Some(t) = self.get(id) else { return };
        let Some(pid) = t.pid else { return };
        let mut exited = t.exited.subscribe();
        let spawned = std::thread::Builder::new().name("pty-kill".into()).spawn(move || {
            for sig in [nix::sys::signal::SIGHUP, nix::sys::signal::SIGTERM, nix::sys::signal::SIGKILL] {
                if exited.borrow_and_update().is_some() {
                    return;
                }
                signal_session(pid, sig);
                let deadline = Instant::now() + GRACE;
                while exited.borrow().is_none() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        });
        if spawned.is_err() {
            signal_session(pid, nix::sys::signal::SIGKILL);
        }
    }

    /// Closes terminal `id` (the REST API and the UI both come here): `Ok(false)` when
    /// it is not running, which each caller words its own way.
    pub fn close(&self, id: &str) -> Result<bool, OpenError> {
        valid(id)?;
        let running = self.get(id).is_some();
        self.kill(id);
        Ok(running)
    }

    /// Whether terminals outlive this server (it has a directory to find them again in).
    pub fn outlive(&self) -> bool {
        self.holders.outlive()
    }

    /// Ends every terminal.
    pub fn kill_all(&self) {
        let ids: Vec<String> = self.terms.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        for id in ids {
            self.kill(&id);
        }
    }

    /// Server shutdown: terminals whose holders outlive the server are left running (the
    /// next start re-adopts them); otherwise each is ended, waiting (up to `limit`) until
    /// its process has gone, so none outlives the server.
    pub async fn shutdown(&self, limit: Duration) {
        if self.outlive() {
            return;
        }
        self.kill_all();
        let deadline = tokio::time::Instant::now() + limit;
        while self.running() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if self.running() > 0 {
            tracing::warn!(left = self.running(), "terminals did not exit in time");
        }
    }

    pub fn running(&self) -> usize {
        self.terms.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// A terminal id follows the id rule (a NUL or a path in one must not reach a thread name
/// or a process).
fn valid(id: &str) -> Result<(), OpenError> {
    check_id(id).map_err(|e| OpenError::Invalid(e.to_string()))
}
