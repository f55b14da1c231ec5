//! The agents a person has configured (SPEC §5): a name and a command line, for the server
//! and optionally per project, and how a session's terminal starts one with its task's
//! prompt.
//!
//! Where they come from, later overriding earlier: `--agent NAME=COMMAND` flags, then the
//! file `agents.toml` in the data directory (re-read when it changes, so editing it needs
//! no restart; by a thread of its own, so that no request waits on the file):
//!
//! ```toml
//! [agents]
//! claude = "claude {prompt}"
//! aider = "aider --message-file {prompt_file}"
//!
//! [projects.proj_123.agents]   # only in that project (and overriding a name above)
//! claude = "claude --model opus {prompt}"
//! ```
//!
//! In a command, `{prompt}` becomes the prompt itself and `{prompt_file}` the path of the
//! file holding it, both shell-quoted, so each must stand bare as a word of its own (in
//! quotes, the prompt's own quotes would end them); `MAESTRO_PROMPT_FILE` names that file
//! in any case.
//!
//! Here: the agents (`Agents`, the flags under the file, per project); `config` what the
//! file holds, reading and checking it; `watch` the thread that re-reads it; `placeholders`
//! where a command may take the prompt; `prompt` what the agent is told and the command
//! that hands it over.

mod config;
mod placeholders;
mod prompt;
mod watch;

pub use prompt::{session_prompt, substitute};

use crate::model::{Agent, SessionPatch};
use crate::store::Store;
use config::{read_timed, Config, Table};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use watch::stamp;

/// The configured agents; cheap to clone (one shared, self-refreshing copy).
#[derive(Clone, Default)]
pub struct Agents {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    flags: Table,
    /// What the file said when last read. A thread of its own keeps it current, so that no
    /// request ever waits on the file (a FIFO or a slow disk would freeze the server).
    read: RwLock<Config>,
}

impl Agents {
    /// Agents from `flags` (`NAME=COMMAND` each) and the file `file`, which may not exist
    /// (yet). A malformed flag or file is refused here, at start, with what is wrong.
    pub fn load(flags: &[String], file: Option<PathBuf>) -> Result<Agents, String> {
        let mut table = Table::new();
        for f in flags {
            let (name, command) = f.split_once('=').ok_or_else(|| format!("--agent {f:?}: expected NAME=COMMAND"))?;
            config::check(name.trim(), command.trim())?;
            table.insert(name.trim().to_string(), command.trim().to_string());
        }
        let (config, stamp) = match &file {
            Some(path) => {
                let stamp = stamp(path);
                (read_timed(path)?, stamp)
            }
            None => (Config::default(), None),
        };
        let inner = Arc::new(Inner { flags: table, read: RwLock::new(config) });
        if let Some(path) = file {
            let weak = Arc::downgrade(&inner);
            std::thread::Builder::new()
                .name("agents-file".into())
                .spawn(move || watch::run(weak, path, stamp))
                .map_err(|e| format!("cannot start a thread: {e}"))?;
        }
        Ok(Agents { inner })
    }

    /// The agents offered in `project_id`, by name (never their commands: those may hold
    /// secrets, and choosing needs only the name).
    pub fn list(&self, project_id: &str) -> Vec<Agent> {
        self.table(project_id).into_keys().map(|id| Agent { id }).collect()
    }
    /// Every agent name configured anywhere (for any project).
    pub fn names(&self) -> Vec<String> {
        let config = self.current();
        let mut all: std::collections::BTreeSet<String> = self.inner.flags.keys().cloned().collect();
        all.extend(config.agents.into_keys());
        all.extend(config.projects.into_values().flat_map(|p| p.agents.into_keys()));
        all.into_iter().collect()
    }

    /// The command line of agent `id` in `project_id`.
    pub fn command(&self, project_id: &str, id: &str) -> Option<String> {
        self.table(project_id).remove(id)
    }

    /// Refuses an `agentId` that names no agent of the project (before a session records
    /// it, so that its terminal is sure to start what was chosen).
    pub fn check(&self, project_id: &str, id: Option<&str>) -> Result<(), String> {
        let Some(id) = id else { return Ok(()) };
        let table = self.table(project_id);
        if table.contains_key(id) {
            return Ok(());
        }
        let known: Vec<&str> = table.keys().map(String::as_str).collect();
        Err(match known.is_empty() {
            true => format!("no agent {id:?}: no agents are configured (see the README, \"Agents\")"),
            false => format!("no agent {id:?} in this project; configured: {}", known.join(", ")),
        })
    }

    /// The same for a change of a session's agent.
    pub fn check_patch(&self, store: &Store, session_id: &str, patch: &SessionPatch) -> Result<(), String> {
        let Some(Some(agent)) = &patch.agent_id else { return Ok(()) };
        match store.read(|st| st.sessions.get(session_id).map(|s| s.project_id.clone())) {
            Some(project) => self.check(&project, Some(agent)),
            None => Ok(()), // the store says "not found"
        }
    }

    fn table(&self, project_id: &str) -> Table {
        let config = self.current();
        let mut t = self.inner.flags.clone();
        t.extend(config.agents);
        if let Some(p) = config.projects.get(project_id) {
            t.extend(p.agents.clone());
        }
        t
    }

    /// The file's agents as last read (never the file itself: see [`watch`]).
    fn current(&self) -> Config {
        self.inner.read.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_file_and_project_layer_and_bad_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("agents.toml");
        std::fs::write(&file, "[agents]\nb = \"file-b\"\n[projects.p1.agents]\na = \"p1-a\"\n").unwrap();
        let agents = Agents::load(&["a=flag-a".into(), "b=flag-b".into()], Some(file.clone())).unwrap();
        assert_eq!(agents.command("p0", "a").as_deref(), Some("flag-a"));
        assert_eq!(agents.command("p0", "b").as_deref(), Some("file-b"));
        assert_eq!(agents.command("p1", "a").as_deref(), Some("p1-a"));
        assert!(agents.check("p0", Some("zz")).unwrap_err().contains("configured: a, b"));
        assert!(Agents::load(&["no equals".into()], None).is_err());
        assert!(Agents::load(&["bad name=x".into()], None).is_err());
        std::fs::write(dir.path().join("bad.toml"), "[agents]\nx = 1\n").unwrap();
        assert!(Agents::load(&[], Some(dir.path().join("bad.toml"))).is_err());
    }
}
