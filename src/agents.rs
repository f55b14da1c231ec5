//! The agents a person has configured (SPEC §5): a name and a command line, for the server
//! and optionally per project, and how a session's terminal starts one with its task's
//! prompt.
//!
//! Where they come from, later overriding earlier: `--agent NAME=COMMAND` flags, then the
//! file `agents.toml` in the data directory (re-read when it changes, so editing it needs
//! no restart):
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
//! file holding it, both shell-quoted; `MAESTRO_PROMPT_FILE` names that file in any case.

use crate::model::{Agent, SessionPatch, Task};
use crate::store::Store;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Name → command line.
type Table = BTreeMap<String, String>;

/// Longest agent name (it is an id: in `agentId`, URLs and file names).
const NAME_MAX: usize = 64;
/// Largest `agents.toml` read.
const FILE_MAX: u64 = 1 << 20;

/// The configured agents; cheap to clone (one shared, self-refreshing copy).
#[derive(Clone, Default)]
pub struct Agents {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    flags: Table,
    file: Option<PathBuf>,
    /// What the file said when last read, and its modification time then.
    read: Mutex<(Option<SystemTime>, Config)>,
}

/// What `agents.toml` holds.
#[derive(Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    agents: Table,
    #[serde(default)]
    projects: BTreeMap<String, ProjectConfig>,
}

#[derive(Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectConfig {
    #[serde(default)]
    agents: Table,
}

impl Agents {
    /// Agents from `flags` (`NAME=COMMAND` each) and the file `file`, which may not exist
    /// (yet). A malformed flag or file is refused here, at start, with what is wrong.
    pub fn load(flags: &[String], file: Option<PathBuf>) -> Result<Agents, String> {
        let mut table = Table::new();
        for f in flags {
            let (name, command) = f.split_once('=').ok_or_else(|| format!("--agent {f:?}: expected NAME=COMMAND"))?;
            check(name.trim(), command)?;
            table.insert(name.trim().to_string(), command.trim().to_string());
        }
        let read = match &file {
            Some(path) => read_file(path)?,
            None => (None, Config::default()),
        };
        Ok(Agents { inner: Arc::new(Inner { flags: table, file, read: Mutex::new(read) }) })
    }

    /// The agents offered in `project_id`, by name.
    pub fn list(&self, project_id: &str) -> Vec<Agent> {
        self.table(project_id).into_iter().map(|(id, command)| Agent { id, command }).collect()
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

    /// The file's agents, re-read when it changed (a broken edit keeps the last good copy
    /// and is logged).
    fn current(&self) -> Config {
        let mut read = self.inner.read.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(path) = &self.inner.file {
            let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
            if modified != read.0 {
                match read_file(path) {
                    Ok(r) => *read = r,
                    Err(e) => {
                        tracing::warn!(error = e, "agents file not reloaded");
                        read.0 = modified;
                    }
                }
            }
        }
        read.1.clone()
    }
}

fn read_file(path: &Path) -> Result<(Option<SystemTime>, Config), String> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((None, Config::default())),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if meta.len() > FILE_MAX {
        return Err(format!("{}: larger than {FILE_MAX} bytes", path.display()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let config: Config = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    for (name, command) in config.agents.iter().chain(config.projects.values().flat_map(|p| p.agents.iter())) {
        check(name, command).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok((meta.modified().ok(), config))
}

/// An agent's name is an id; its command is not blank.
fn check(name: &str, command: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= NAME_MAX
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        return Err(format!("agent name {name:?}: use 1–{NAME_MAX} letters, digits, '_' or '-'"));
    }
    if command.trim().is_empty() {
        return Err(format!("agent {name}: the command is empty"));
    }
    Ok(())
}

/// What an agent is told: the task's prompt (its title and description when it has none);
/// for several tasks, each under a heading.
pub fn prompt_text(tasks: &[Task]) -> String {
    let one = |t: &Task| {
        if t.prompt.trim().is_empty() {
            format!("{}\n\n{}", t.title, t.description).trim_end().to_string()
        } else {
            t.prompt.clone()
        }
    };
    match tasks {
        [t] => one(t),
        many => {
            many.iter().map(|t| format!("## {} ({})\n\n{}", t.title, t.id, one(t))).collect::<Vec<_>>().join("\n\n")
        }
    }
}

/// `command` with `{prompt}` and `{prompt_file}` replaced, shell-quoted.
pub fn substitute(command: &str, prompt: &str, prompt_file: &Path) -> Result<String, String> {
    let quote =
        |s: &str| shlex::try_quote(s).map(|q| q.into_owned()).map_err(|e| format!("cannot quote the prompt: {e}"));
    let mut out = command.to_string();
    if out.contains("{prompt_file}") {
        out = out.replace("{prompt_file}", &quote(&prompt_file.to_string_lossy())?);
    }
    if out.contains("{prompt}") {
        out = out.replace("{prompt}", &quote(prompt)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_quoted_where_the_command_asks() {
        let cmd =
            substitute("agent --say {prompt} --file {prompt_file}", "it's $HOME; `rm -rf`", Path::new("/t/p 1.md"))
                .unwrap();
        // Whatever the quoting, the shell hands the program the text as it was.
        let out = std::process::Command::new("/bin/sh").args(["-c", &cmd.replace("agent", "printf '%s|'")]).output();
        assert_eq!(String::from_utf8(out.unwrap().stdout).unwrap(), "--say|it's $HOME; `rm -rf`|--file|/t/p 1.md|");
    }

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
