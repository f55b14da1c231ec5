//! How a terminal starts: the command it runs and the variables it gets (a session's
//! agent, prompt and `MAESTRO_*` environment), then its holder (which makes the PTY and
//! the process) and the threads serving it.

use super::group::signal_session;
use super::holder::link::{connect, spawn, Held};
use super::holder::Spec;
use super::process::{read_output, write_input};
use super::setup::with_setup;
use super::{valid, OpenError, Term, Terminals, INPUT_QUEUE};
use crate::agents;
use crate::model::{Session, SessionStatus, Task};
use crate::store::{Command, StoreError};
use portable_pty::{CommandBuilder, PtySize};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// The most one argument of a process may hold, its final NUL included (Linux's
/// MAX_ARG_STRLEN): an agent's whole `sh -c` command line must be shorter.
const ARG_MAX: usize = 128 * 1024;

/// How a terminal starts: what it runs and with which variables.
struct Launch {
    /// A command line for `/bin/sh -c`; `None`: the user's shell.
    program: Option<String>,
    env: Vec<(String, String)>,
    prompt_file: Option<std::path::PathBuf>,
    /// The session's own directory of files handed to its agent (its hooks' settings).
    private_dir: Option<std::path::PathBuf>,
    /// Said in the terminal before anything runs.
    notice: Option<String>,
}

impl Launch {
    /// What goes when its terminal ends.
    fn files(&self) -> Vec<std::path::PathBuf> {
        self.prompt_file.iter().chain(&self.private_dir).cloned().collect()
    }
}

impl Terminals {
    /// The running terminal `id`, started if needed. It is registered only once every
    /// step that can fail has succeeded; a failure after the process started ends it.
    /// A plain terminal starts in `project`'s directory (a session's in its own).
    pub(super) fn open(&self, id: &str, size: PtySize, project: Option<&str>) -> Result<Arc<Term>, OpenError> {
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
        if let Some(p) = project.filter(|_| !linked) {
            valid(p)?;
            if !self.store.read(|st| st.projects.contains_key(p)) {
                return Err(OpenError::NotFound(format!("project {p} not found")));
            }
        }
        let start = self.start(session.as_ref(), project);
        let mut launch = self.launch(session.as_ref(), start.setup.as_deref())?;
        if let Some(why) = start.refused {
            launch.notice = Some(why);
            launch.program = Some("exit 1".into());
        }
        let (cmd, cwd, notice) = command(launch.program.as_deref(), start.dir, &launch.env);
        let notice = [launch.notice.take(), notice].into_iter().flatten().reduce(|a, b| a + &b);

        // Held until the terminal is registered, so that a process exiting at once cannot
        // be unregistered before it is registered.
        let mut terms = self.terms.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = terms.get(id) {
            return Ok(t.clone()); // another socket started it meanwhile
        }
        if terms.len() >= self.max {
            return Err(OpenError::Full(self.max));
        }
        let dir = self.holders.path().map_err(OpenError::System)?.to_path_buf();
        let spec = Spec {
            id: id.to_string(),
            dir,
            argv: cmd.get_argv().iter().map(|a| a.to_string_lossy().into_owned()).collect(),
            cwd: Some(cwd.clone()),
            env: cmd.iter_full_env_as_str().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            cols: size.cols,
            rows: size.rows,
            keep: self.outputs.session_max() as usize,
            notice,
            outlive: self.holders.outlive(),
            base: if linked { self.outputs.kept(id).end } else { 0 },
            nice: if linked { self.agent_nice } else { 0 },
        };
        let pid = spawn(&self.holder_bin, &spec).map_err(OpenError::System)?;
        let held = match connect(&spec.dir, id, 0, pid) {
            Ok(h) => h,
            Err(e) => {
                signal_session(pid, nix::sys::signal::SIGKILL);
                return Err(OpenError::System(format!("cannot reach the terminal's holder: {e}")));
            }
        };
        // A fast process may print more than its holder keeps before this connects (on a busy
        // machine): its output then starts that much later, at the right offsets.
        let at = self.held_from(id, linked, spec.base, 0, held.at);
        let readopted = (held.at > 0).then_some(at);
        let term = self.serve(&mut terms, id, linked, held, launch.files(), readopted)?;
        drop(terms);
        tracing::info!(terminal = id, cwd, "terminal started");
        Ok(term)
    }

    /// Where a holder's output continues in the session's stream: `base` plus the holder's
    /// offset `held_at`. When the holder no longer held every byte from `from` (it keeps the
    /// newest only), the kept output continues after the gap, said exactly.
    pub(super) fn held_from(&self, id: &str, linked: bool, base: u64, from: u64, held_at: u64) -> u64 {
        let at = base + held_at;
        if linked && held_at > from {
            tracing::warn!(session = id, missed = held_at - from, "output printed before the server read it was lost");
            self.outputs.skip_to(id, at);
        }
        at
    }

    /// Serves a held terminal: registers it, with a thread reading its output (and, when it
    /// exits, ending the session and removing its `files`: its prompt file, its private
    /// directory) and one writing its input; `readopted`: an earlier run's, whose holder's
    /// output continues at that offset. A thread that cannot start ends the process.
    pub(super) fn serve(
        &self,
        terms: &mut HashMap<String, Arc<Term>>,
        id: &str,
        linked: bool,
        held: Held,
        files: Vec<std::path::PathBuf>,
        readopted: Option<u64>,
    ) -> Result<Arc<Term>, OpenError> {
        let sys = |what: &str, e: &dyn std::fmt::Display| OpenError::System(format!("{what}: {e}"));
        let Held { link, output, child, pid, .. } = held;
        let (input, queued) = mpsc::channel(INPUT_QUEUE);
        let (kept, recent) = self.keep_output(linked, id, readopted);
        let term = Arc::new(Term {
            input,
            link: link.clone(),
            pid: Some(pid),
            recent,
            exited: watch::channel(None).0,
            sized: Default::default(),
            typed: Default::default(),
        });
        let writer = link.clone();
        let started =
            std::thread::Builder::new().name(format!("pty-in-{id}")).spawn(move || write_input(writer, queued));
        if let Err(e) = started {
            signal_session(pid, nix::sys::signal::SIGKILL);
            return Err(sys("cannot start a thread", &e));
        }
        let rt = tokio::runtime::Handle::current();
        let (me, t, tid) = (self.clone(), term.clone(), id.to_string());
        let activity = linked.then(|| super::activity::Activity::new(self.store.clone(), rt.clone(), id));
        let spawned = std::thread::Builder::new().name(format!("pty-out-{id}")).spawn(move || {
            let code = read_output(&t, output, child, kept, activity);
            me.terms.lock().unwrap_or_else(|e| e.into_inner()).remove(&tid);
            for f in &files {
                let _ = if f.is_dir() { std::fs::remove_dir_all(f) } else { std::fs::remove_file(f) };
            }
            t.exited.send_replace(Some(code));
            tracing::info!(terminal = tid, code, "terminal exited");
            let (store, workspaces) = (me.store.clone(), me.workspaces.clone());
            rt.spawn(async move {
                // Exiting on its own ends the session's work; a deleted session is gone. Its
                // workspace's last writes first: whether its task goes up for review depends
                // on them (SPEC §8). Once the exit is recorded the holder may go (else the
                // next server learns it again).
                if linked && code == 0 {
                    let ws = store.read(|st| st.sessions.get(&tid).and_then(|s| s.workspace_id.clone()));
                    if let (Some(workspaces), Some(ws)) = (&workspaces, ws) {
                        workspaces.record_changes(&ws).await;
                    }
                }
                let done = !linked
                    || !matches!(
                        store.execute(Command::SessionExited { id: tid, code }, None).await,
                        Err(StoreError::Failed(_) | StoreError::Storage(_))
                    );
                if done {
                    // Off the async workers: the socket may be held by input being written.
                    let _ = tokio::task::spawn_blocking(move || link.bye()).await;
                }
            });
        });
        if let Err(e) = spawned {
            signal_session(pid, nix::sys::signal::SIGKILL);
            return Err(sys("cannot start a thread", &e));
        }
        terms.insert(id.to_string(), term.clone());
        Ok(term)
    }

    /// A session's terminal gets the session's `MAESTRO_*` variables, the token, the
    /// prompt of its tasks in `MAESTRO_PROMPT_FILE`, this binary on its `PATH` (so the
    /// agent can run `maestro`), and runs the session's agent when it has one (after
    /// `setup`, in a workspace not set up yet).
    fn launch(&self, session: Option<&Session>, setup: Option<&str>) -> Result<Launch, OpenError> {
        let mut launch = self.agent(session)?;
        if let Some(setup) = setup {
            let script = with_setup(setup, launch.program.as_deref())?;
            launch.program = Some(if script.len() < ARG_MAX {
                script
            } else {
                launch.notice =
                    Some("\x1b[31mmaestro: the agent's command line is too long to start\x1b[0m\r\n".into());
                "exit 1".into()
            });
        }
        Ok(launch)
    }

    /// What a session's terminal runs and with which variables, without the setup.
    fn agent(&self, session: Option<&Session>) -> Result<Launch, OpenError> {
        let mut env: Vec<(String, String)> = Vec::new();
        if let Some(dir) = std::env::current_exe().ok().and_then(|p| p.parent().map(|d| d.to_path_buf())) {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let joined = std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(&path)));
            if let Ok(p) = joined {
                env.push(("PATH".into(), p.to_string_lossy().into_owned()));
            }
        }
        let mut launch =
            Launch { program: self.command.clone(), env, prompt_file: None, private_dir: None, notice: None };
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
        let text = agents::session_prompt(&tasks, s.prompt.as_deref());
        let file = self.prompts.write(&s.id, &text).map_err(OpenError::System)?;
        launch.env.push(("MAESTRO_PROMPT_FILE".into(), file.to_string_lossy().into_owned()));
        launch.prompt_file = Some(file.clone());
        let Some(agent) = &s.agent_id else { return Ok(launch) };
        match self.agents.agent(&s.project_id, agent) {
            Some(a) => {
                let mut program = agents::substitute(&a.command, &text, &file).map_err(OpenError::Invalid)?;
                if let Some(hooks) = a.hooks {
                    let (wired, dir) =
                        super::hooks::wire(&self.prompts, &s.id, hooks, &program).map_err(OpenError::System)?;
                    (program, launch.private_dir) = (wired, Some(dir));
                }
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

/// What a terminal runs: the configured command or the user's shell, in the project's
/// directory (the home directory, with a `notice` to show, when that is gone), with the
/// session's variables and none of the server's own settings (its token above all).
fn command(
    configured: Option<&str>,
    base: Option<String>,
    env: &[(String, String)],
) -> (CommandBuilder, String, Option<String>) {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/".into());
    let mut notice = None;
    let cwd = match base {
        Some(dir) if std::path::Path::new(&dir).is_dir() => dir,
        Some(dir) => {
            // Said in the terminal itself, where the person looks.
            notice = Some(format!(
                "\x1b[33mmaestro: the project's directory {dir} does not exist; starting in {home}\x1b[0m\r\n"
            ));
            home
        }
        None => home,
    };
    let mut cmd = match configured {
        Some(c) => {
            let mut b = CommandBuilder::new("/bin/sh");
            b.args(["-c", c]);
            b
        }
        None => CommandBuilder::new(std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into())),
    };
    cmd.cwd(&cwd);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("MAESTRO_") || k.starts_with("LEPTOS_") {
            cmd.env_remove(&*k);
        }
    }
    cmd.env("TERM", "xterm-256color");
    for (k, v) in env {
        cmd.env(k, v);
    }
    (cmd, cwd, notice)
}
