//! Terminals (SPEC §5): a real pseudo-terminal process per open session, streamed over
//! its own WebSocket. Output is kept in a bounded ring so that a reload or a second tab
//! re-attaches with recent scrollback; any number of sockets may watch one terminal.
//!
//! A Maestro session's terminal starts in its project's `basePath` (or the user's home)
//! with the session's `MAESTRO_*` environment; when the process exits on its own the
//! session becomes `completed` (exit 0) or `failed`; when the session is deleted (closed
//! in the UI, or by anyone) its process is ended. Plain terminals (ids `term_…`) are not
//! linked to Maestro.
//!
//! Nothing here blocks the server's async workers: each terminal has a thread that reads
//! its output and watches its process, and a thread that writes its input, fed through a
//! bounded queue. A socket whose input is not being taken stops being read (backpressure on
//! that one socket) while its output keeps flowing.

use crate::agents::{self, Agents};
use crate::http::{ApiQuery, AppError};
use crate::model::{EventData, Session, SessionPatch, SessionStatus, Task};
use crate::store::{state::check_id, Command, Store};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use budget::InputBudget;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, watch};

/// Bytes of recent output kept per terminal for re-attaching.
pub const SCROLLBACK: usize = 256 * 1024;
/// Default cap on concurrently running terminals (`MAESTRO_MAX_TERMINALS`).
pub const DEFAULT_MAX: usize = 32;
/// Input is handed to the writer thread in pieces of at most this many bytes...
const INPUT_CHUNK: usize = 16 * 1024;
/// ...of which at most this many wait for the program to read them.
const INPUT_QUEUE: usize = 16;
/// A socket holding this many bytes of input not yet queued is not read further.
const INPUT_PENDING_MAX: usize = 1 << 20;
/// ...and all sockets together hold at most this many (see [`InputBudget`]).
const INPUT_PENDING_TOTAL: usize = 16 << 20;
/// How often a terminal socket is pinged; silent for three intervals, it is dropped.
pub const PING_INTERVAL: Duration = Duration::from_secs(15);
/// How long one send to a browser may take before it is considered gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Closing a terminal: SIGHUP, then SIGTERM and SIGKILL after this long each.
const GRACE: Duration = Duration::from_secs(2);
/// The most one argument of a process may hold, its final NUL included (Linux's
/// MAX_ARG_STRLEN): an agent's whole `sh -c` command line must be shorter.
const ARG_MAX: usize = 128 * 1024;
/// After the process exits, output still arriving (from what it left behind) is passed on
/// for this long.
const DRAIN: Duration = Duration::from_millis(200);

/// One running terminal.
struct Term {
    /// To the writer thread.
    input: mpsc::Sender<Bytes>,
    master: Mutex<Box<dyn MasterPty + Send>>,
    /// The process, leader of its own session and process group.
    pid: Option<i32>,
    scrollback: Mutex<VecDeque<u8>>,
    output: broadcast::Sender<Bytes>,
    /// Set once with the exit code.
    exited: watch::Sender<Option<u32>>,
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
    /// It runs on another node, which is not beating (it died, or cannot reach the database).
    Away(String),
    /// It ran on a node whose address this server now has (restarted under a new id).
    Replaced(String),
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
            OpenError::Away(node) => AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "terminal_unreachable",
                format!("this terminal runs on server node {node}, which is not answering"),
            ),
            OpenError::Replaced(node) => AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "terminal_unreachable",
                format!("this terminal ran on server node {node}, whose address is now this server's: it is gone"),
            ),
        }
    }
}

impl Terminals {
    /// Starts watching the store: deleting a session ends its terminal.
    pub fn new(store: Store) -> Terminals {
        let max = std::env::var("MAESTRO_MAX_TERMINALS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_MAX);
        let command = std::env::var("MAESTRO_TERMINAL_COMMAND").ok().filter(|c| !c.trim().is_empty());
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
        };
        let mut events = store.subscribe();
        let me = t.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(e) => {
                        if let EventData::SessionDeleted(d) = &e.event.data {
                            me.kill(&d.id);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        t
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
    /// what an earlier run left), not into a temporary directory.
    pub fn with_prompt_dir(mut self, dir: &std::path::Path) -> Result<Terminals, String> {
        self.prompts = Arc::new(PromptDir::at(dir)?);
        Ok(self)
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

    /// Ends every terminal (server shutdown).
    pub fn kill_all(&self) {
        let ids: Vec<String> = self.terms.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        for id in ids {
            self.kill(&id);
        }
    }

    /// Ends every terminal and waits (up to `limit`) until each process has been reaped,
    /// so none outlives the server.
    pub async fn shutdown(&self, limit: Duration) {
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

    /// The running terminal `id`, started if needed. It is registered only once every
    /// step that can fail has succeeded; a failure after the process started ends it.
    fn open(&self, id: &str, size: PtySize) -> Result<Arc<Term>, OpenError> {
        valid(id)?;
        if let Some(t) = self.get(id) {
            return Ok(t);
        }
        let session = self.store.read(|s| s.sessions.get(id).cloned());
        let linked = session.is_some();
        if !linked && !id.starts_with("term_") {
            return Err(OpenError::NotFound(format!("session {id} not found")));
        }
        if session.as_ref().is_some_and(|s| s.status != SessionStatus::Running) {
            return Err(OpenError::Ended(id.to_string()));
        }
        let base = session
            .as_ref()
            .and_then(|s| self.store.read(|st| st.projects.get(&s.project_id).and_then(|p| p.base_path.clone())));
        let launch = self.launch(session.as_ref())?;
        let (cmd, cwd, notice) = command(launch.program.as_deref(), base, &launch.env);
        let notice = [launch.notice, notice].into_iter().flatten().reduce(|a, b| a + &b);

        // Held until the terminal is registered, so that a process exiting at once cannot
        // be unregistered before it is registered.
        let mut terms = self.terms.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = terms.get(id) {
            return Ok(t.clone()); // another socket started it meanwhile
        }
        if terms.len() >= self.max {
            return Err(OpenError::Full(self.max));
        }
        let sys = |what: &str, e: &dyn std::fmt::Display| OpenError::System(format!("{what}: {e}"));
        let pair = native_pty_system().openpty(size).map_err(|e| sys("cannot open a terminal", &e))?;
        let mut child = pair.slave.spawn_command(cmd).map_err(|e| sys("cannot start the shell", &e))?;
        drop(pair.slave);
        let pid = child.process_id().map(|p| p as i32);
        let started = (|| {
            let reader = pair.master.try_clone_reader().map_err(|e| sys("cannot read the terminal", &e))?;
            let writer = pair.master.take_writer().map_err(|e| sys("cannot write to the terminal", &e))?;
            let fd = pair.master.as_raw_fd();
            let (input, queued) = mpsc::channel(INPUT_QUEUE);
            let term = Arc::new(Term {
                input,
                master: Mutex::new(pair.master),
                pid,
                scrollback: Mutex::new(notice.map(|n| n.into_bytes().into()).unwrap_or_default()),
                output: broadcast::channel(1024).0,
                exited: watch::channel(None).0,
            });
            std::thread::Builder::new()
                .name(format!("pty-in-{id}"))
                .spawn(move || write_input(writer, queued))
                .map_err(|e| sys("cannot start a thread", &e))?;
            Ok::<_, OpenError>((term, reader, fd))
        })();
        let (term, reader, fd) = match started {
            Ok(t) => t,
            Err(e) => {
                end_now(&mut child, pid);
                return Err(e);
            }
        };
        let rt = tokio::runtime::Handle::current();
        let (me, t, tid) = (self.clone(), term.clone(), id.to_string());
        // Where a thread that cannot start leaves the child, to be ended here.
        let child_slot = Arc::new(Mutex::new(Some(child)));
        let slot = child_slot.clone();
        let spawned = std::thread::Builder::new().name(format!("pty-out-{id}")).spawn(move || {
            let Some(child) = slot.lock().unwrap_or_else(|e| e.into_inner()).take() else { return };
            let code = read_output(&t, reader, fd, child);
            me.terms.lock().unwrap_or_else(|e| e.into_inner()).remove(&tid);
            if let Some(f) = &launch.prompt_file {
                let _ = std::fs::remove_file(f);
            }
            t.exited.send_replace(Some(code));
            tracing::info!(terminal = tid, code, "terminal exited");
            if linked {
                // Exiting on its own ends the session's work; a deleted session is gone.
                let status = if code == 0 { SessionStatus::Completed } else { SessionStatus::Failed };
                let store = me.store.clone();
                rt.spawn(async move {
                    let patch = SessionPatch { status: Some(status), ..Default::default() };
                    let _ = store.execute(Command::UpdateSession { id: tid, patch }, None).await;
                });
            }
        });
        if let Err(e) = spawned {
            if let Some(mut child) = child_slot.lock().unwrap_or_else(|e| e.into_inner()).take() {
                end_now(&mut child, pid);
            }
            return Err(sys("cannot start a thread", &e));
        }
        terms.insert(id.to_string(), term.clone());
        drop(terms);
        tracing::info!(terminal = id, cwd, "terminal started");
        Ok(term)
    }
}

/// How a terminal starts: what it runs and with which variables.
struct Launch {
    /// A command line for `/bin/sh -c`; `None`: the user's shell.
    program: Option<String>,
    env: Vec<(String, String)>,
    prompt_file: Option<std::path::PathBuf>,
    /// Said in the terminal before anything runs.
    notice: Option<String>,
}

impl Terminals {
    /// A session's terminal gets the session's `MAESTRO_*` variables, the token, the
    /// prompt of its tasks in `MAESTRO_PROMPT_FILE`, this binary on its `PATH` (so the
    /// agent can run `maestro`), and runs the session's agent when it has one.
    fn launch(&self, session: Option<&Session>) -> Result<Launch, OpenError> {
        let mut env: Vec<(String, String)> = Vec::new();
        if let Some(dir) = std::env::current_exe().ok().and_then(|p| p.parent().map(|d| d.to_path_buf())) {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let joined = std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(&path)));
            if let Ok(p) = joined {
                env.push(("PATH".into(), p.to_string_lossy().into_owned()));
            }
        }
        let mut launch = Launch { program: self.command.clone(), env, prompt_file: None, notice: None };
        let Some(s) = session else { return Ok(launch) };
        // Built here from the server's own rules, never read from the stored session: a row
        // anyone wrote into a shared database (`HOME`, `PATH`, `LD_PRELOAD`…) is data.
        let api_url = self.api_url.as_deref().unwrap_or("http://127.0.0.1:3000/api");
        launch.env.extend(crate::store::state::session_env(s, api_url));
        if let Some(t) = &self.token {
            launch.env.push(("MAESTRO_TOKEN".into(), t.clone()));
        }
        let tasks: Vec<Task> =
            self.store.read(|st| s.task_ids.iter().filter_map(|t| st.tasks.get(t).cloned()).collect());
        let text = agents::prompt_text(&tasks);
        let file = self.prompts.write(&s.id, &text).map_err(OpenError::System)?;
        launch.env.push(("MAESTRO_PROMPT_FILE".into(), file.to_string_lossy().into_owned()));
        launch.prompt_file = Some(file.clone());
        let Some(agent) = &s.agent_id else { return Ok(launch) };
        match self.agents.command(&s.project_id, agent) {
            Some(c) => {
                let program = agents::substitute(&c, &text, &file).map_err(OpenError::Invalid)?;
                if program.len() >= ARG_MAX {
                    // The system would refuse to start it, with a message that helps nobody.
                    launch.notice = Some(format!(
                        "\x1b[31mmaestro: the prompt ({} KiB) is too long to hand to agent {agent} on its command \
                         line (one argument holds at most {} KiB), so it was not started. Use {{prompt_file}} in its \
                         command instead of {{prompt}}, or have it read the file named by MAESTRO_PROMPT_FILE.\x1b[0m\r\n",
                        text.len().div_ceil(1024),
                        ARG_MAX / 1024,
                    ));
                    launch.program = Some("exit 1".into());
                    return Ok(launch);
                }
                launch.program = Some(program);
                launch.env.push(("MAESTRO_AGENT".into(), agent.clone()));
            }
            None => {
                launch.notice = Some(format!(
                    "\x1b[33mmaestro: agent {agent:?} is not configured (any more); starting a shell\x1b[0m\r\n"
                ))
            }
        }
        Ok(launch)
    }
}

/// A terminal id follows the id rule (a NUL or a path in one must not reach a thread name
/// or a process).
fn valid(id: &str) -> Result<(), OpenError> {
    check_id(id).map_err(|e| OpenError::Invalid(e.to_string()))
}

mod budget;
mod process;
mod prompts;
mod relay;
mod socket;

use process::*;
use prompts::PromptDir;
pub use socket::{terminal_delete, terminal_ws, SizeQuery};
