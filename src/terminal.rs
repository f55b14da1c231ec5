//! Terminals (SPEC §5): a real pseudo-terminal process per open session, streamed over
//! its own WebSocket. Output is kept in a bounded ring so that a reload or a second tab
//! re-attaches with recent scrollback; any number of sockets may watch one terminal.
//!
//! A Maestro session's terminal starts in its project's `basePath` (or the user's home)
//! with the session's `MAESTRO_*` environment; when the process exits on its own the
//! session becomes `completed` (exit 0) or `failed`; when the session is deleted (closed
//! in the UI, or by anyone) its process is killed. Plain terminals (ids `term_…`) are not
//! linked to Maestro.

use crate::api::AppError;
use crate::model::{EventData, SessionPatch, SessionStatus};
use crate::server::AppState;
use crate::store::{Command, Store};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use portable_pty::{native_pty_system, ChildKiller, CommandBuilder, MasterPty, PtySize};
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, watch};

/// Bytes of recent output kept per terminal for re-attaching.
pub const SCROLLBACK: usize = 256 * 1024;
/// Default cap on concurrently running terminals (`MAESTRO_MAX_TERMINALS`).
pub const DEFAULT_MAX: usize = 32;

/// One running terminal.
struct Term {
    writer: Mutex<Box<dyn Write + Send>>,
    master: Mutex<Box<dyn MasterPty + Send>>,
    killer: Mutex<Box<dyn ChildKiller + Send + Sync>>,
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
}

impl Terminals {
    /// Starts watching the store: deleting a session kills its terminal.
    pub fn new(store: Store) -> Terminals {
        let max = std::env::var("MAESTRO_MAX_TERMINALS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_MAX);
        let command = std::env::var("MAESTRO_TERMINAL_COMMAND").ok().filter(|c| !c.trim().is_empty());
        let t = Terminals { terms: Arc::default(), store: store.clone(), max, command };
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

    fn get(&self, id: &str) -> Option<Arc<Term>> {
        self.terms.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }

    /// Kills a terminal's process (its reader then removes it).
    pub fn kill(&self, id: &str) {
        if let Some(t) = self.get(id) {
            let _ = t.killer.lock().unwrap_or_else(|e| e.into_inner()).kill();
        }
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
    pub async fn shutdown(&self, limit: std::time::Duration) {
        self.kill_all();
        let deadline = tokio::time::Instant::now() + limit;
        while self.running() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        if self.running() > 0 {
            tracing::warn!(left = self.running(), "terminals did not exit in time");
        }
    }

    pub fn running(&self) -> usize {
        self.terms.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// The running terminal `id`, started if needed.
    fn open(&self, id: &str, size: PtySize) -> Result<Arc<Term>, AppError> {
        if let Some(t) = self.get(id) {
            return Ok(t);
        }
        let session = self.store.read(|s| s.sessions.get(id).cloned());
        let linked = session.is_some();
        if !linked && !id.starts_with("term_") {
            return Err(AppError::not_found(format!("session {id} not found")));
        }
        if session.as_ref().is_some_and(|s| s.status != SessionStatus::Running) {
            return Err(AppError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("session {id} has ended; its terminal is not started again"),
            ));
        }
        let home = std::env::var("HOME").unwrap_or_else(|_| "/".into());
        let mut cwd = session
            .as_ref()
            .and_then(|s| self.store.read(|st| st.projects.get(&s.project_id).and_then(|p| p.base_path.clone())))
            .unwrap_or_else(|| home.clone());
        if !std::path::Path::new(&cwd).is_dir() {
            cwd = home;
        }
        let shell = std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into());
        let mut cmd = match &self.command {
            Some(c) => {
                let mut b = CommandBuilder::new("/bin/sh");
                b.args(["-c", c]);
                b
            }
            None => CommandBuilder::new(shell),
        };
        cmd.cwd(&cwd);
        cmd.env("TERM", "xterm-256color");
        if let Some(s) = &session {
            for (k, v) in &s.env {
                cmd.env(k, v);
            }
        }

        let mut terms = self.terms.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = terms.get(id) {
            return Ok(t.clone()); // another socket started it meanwhile
        }
        if terms.len() >= self.max {
            return Err(AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_terminals",
                format!("at most {} terminals may run at once; close one first", self.max),
            ));
        }
        let fail = |e: String| AppError::new(StatusCode::SERVICE_UNAVAILABLE, "terminal_failed", e);
        let pair = native_pty_system().openpty(size).map_err(|e| fail(format!("cannot open a terminal: {e}")))?;
        let mut child = pair.slave.spawn_command(cmd).map_err(|e| fail(format!("cannot start the shell: {e}")))?;
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().map_err(|e| fail(e.to_string()))?;
        let writer = pair.master.take_writer().map_err(|e| fail(e.to_string()))?;
        let term = Arc::new(Term {
            writer: Mutex::new(writer),
            master: Mutex::new(pair.master),
            killer: Mutex::new(child.clone_killer()),
            scrollback: Mutex::new(VecDeque::with_capacity(SCROLLBACK)),
            output: broadcast::channel(1024).0,
            exited: watch::channel(None).0,
        });
        terms.insert(id.to_string(), term.clone());
        drop(terms);
        tracing::info!(terminal = id, cwd, "terminal started");

        // A blocking reader thread per terminal: PTY reads are blocking.
        let (me, t, id, rt) = (self.clone(), term.clone(), id.to_string(), tokio::runtime::Handle::current());
        std::thread::Builder::new()
            .name(format!("pty-{id}"))
            .spawn(move || {
                let mut buf = [0u8; 8192];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let chunk = Bytes::copy_from_slice(&buf[..n]);
                            {
                                let mut sb = t.scrollback.lock().unwrap_or_else(|e| e.into_inner());
                                sb.extend(chunk.iter());
                                let excess = sb.len().saturating_sub(SCROLLBACK);
                                sb.drain(..excess);
                            }
                            let _ = t.output.send(chunk);
                        }
                    }
                }
                let code = child.wait().map(|s| s.exit_code()).unwrap_or(1);
                me.terms.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                t.exited.send_replace(Some(code));
                tracing::info!(terminal = id, code, "terminal exited");
                if linked {
                    // Exiting on its own ends the session's work; a deleted session is gone.
                    let status = if code == 0 { SessionStatus::Completed } else { SessionStatus::Failed };
                    let store = me.store.clone();
                    rt.spawn(async move {
                        let patch = SessionPatch { status: Some(status), ..Default::default() };
                        let _ = store.execute(Command::UpdateSession(id, patch), None).await;
                    });
                }
            })
            .map_err(|e| fail(e.to_string()))?;
        Ok(term)
    }
}

#[derive(Deserialize)]
pub struct SizeQuery {
    cols: Option<u16>,
    rows: Option<u16>,
}

/// What a browser sends on a terminal socket.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum ClientMsg {
    Input { data: String },
    Resize { cols: u16, rows: u16 },
}

fn size(cols: Option<u16>, rows: Option<u16>) -> PtySize {
    PtySize { cols: cols.unwrap_or(80).clamp(2, 1000), rows: rows.unwrap_or(24).clamp(2, 1000), ..Default::default() }
}

/// `GET /terminals/{id}/ws?cols=&rows=`: attach (starting the process if needed).
pub async fn terminal_ws(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Path(id): Path<String>,
    crate::api::rest::Query(q): crate::api::rest::Query<SizeQuery>,
) -> Response {
    let terminals = state.terminals.clone();
    let term = match terminals.open(&id, size(q.cols, q.rows)) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    ws.max_message_size(1 << 20).on_upgrade(move |socket| attach(socket, term))
}

/// `DELETE /terminals/{id}`: ends a terminal (plain ones; sessions end by being deleted).
pub async fn terminal_delete(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    if state.terminals.get(&id).is_none() {
        return AppError::not_found(format!("terminal {id} is not running")).into_response();
    }
    state.terminals.kill(&id);
    axum::Json(serde_json::json!({"success": true})).into_response()
}

async fn attach(socket: WebSocket, term: Arc<Term>) {
    let (mut sink, mut stream) = socket.split();
    // Subscribe before copying the scrollback so nothing falls between them (a few bytes
    // may repeat; a terminal redraws over them).
    let mut output = term.output.subscribe();
    let mut exited = term.exited.subscribe();
    let scrollback: Vec<u8> = term.scrollback.lock().unwrap_or_else(|e| e.into_inner()).iter().copied().collect();
    if !scrollback.is_empty() && sink.send(Message::Binary(scrollback.into())).await.is_err() {
        return;
    }
    while exited.borrow().is_none() {
        tokio::select! {
            out = output.recv() => match out {
                Ok(chunk) => if sink.send(Message::Binary(chunk)).await.is_err() { return },
                Err(broadcast::error::RecvError::Lagged(_)) => {} // the screen catches up
                Err(broadcast::error::RecvError::Closed) => break,
            },
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(t))) => match serde_json::from_str::<ClientMsg>(&t) {
                    Ok(ClientMsg::Input { data }) => {
                        let mut w = term.writer.lock().unwrap_or_else(|e| e.into_inner());
                        let _ = w.write_all(data.as_bytes()).and_then(|_| w.flush());
                    }
                    Ok(ClientMsg::Resize { cols, rows }) => {
                        let _ = term.master.lock().unwrap_or_else(|e| e.into_inner()).resize(size(Some(cols), Some(rows)));
                    }
                    Err(_) => {} // unknown messages are ignored
                },
                Some(Ok(Message::Binary(b))) => {
                    let mut w = term.writer.lock().unwrap_or_else(|e| e.into_inner());
                    let _ = w.write_all(&b).and_then(|_| w.flush());
                }
                Some(Ok(_)) => {}
                _ => return, // the browser went away; the terminal keeps running
            },
            Ok(()) = exited.changed() => {}
        }
    }
    // Flush what is left, then say how it ended.
    while let Ok(chunk) = output.try_recv() {
        let _ = sink.send(Message::Binary(chunk)).await;
    }
    let code = (*exited.borrow()).unwrap_or(1);
    let _ = sink.send(Message::Text(format!(r#"{{"type":"exit","code":{code}}}"#).into())).await;
    let _ = sink.send(Message::Close(None)).await;
}
