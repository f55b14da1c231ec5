//! What `agents.toml` holds, and reading it: a plain file of bounded size, opened without
//! blocking and within a time limit, every agent in it checked.

use super::placeholders::{placeholders, PLACEHOLDERS};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Name → the agent.
pub(super) type Table = BTreeMap<String, Configured>;

/// One configured agent: `name = "command"`, or `name = { command = "…", hooks = "claude" }`
/// for an agent whose hooks Maestro wires when it launches it (SPEC §9).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(try_from = "toml::Value")]
pub struct Configured {
    pub command: String,
    pub hooks: Option<Hooks>,
}

/// Which agent's hooks Maestro wires (see `terminal::hooks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hooks {
    /// Claude Code: a settings file passed with `--settings`, whose hooks call `maestro hook claude`.
    Claude,
}

impl TryFrom<toml::Value> for Configured {
    type Error = String;
    fn try_from(v: toml::Value) -> Result<Configured, String> {
        let table = match v {
            toml::Value::String(command) => return Ok(Configured { command, hooks: None }),
            toml::Value::Table(t) => t,
            _ => return Err("an agent is a command line, or a table { command = \"…\", hooks = \"claude\" }".into()),
        };
        let mut agent = Configured { command: String::new(), hooks: None };
        for (key, value) in table {
            match (key.as_str(), value) {
                ("command", toml::Value::String(c)) => agent.command = c,
                ("hooks", toml::Value::String(h)) if h == "claude" => agent.hooks = Some(Hooks::Claude),
                ("hooks", h) => {
                    return Err(format!("hooks = {h}: the agents whose hooks Maestro wires are: \"claude\""))
                }
                (k, _) => return Err(format!("{k}: an agent's table has `command` (a string) and `hooks`")),
            }
        }
        match agent.command.is_empty() {
            true => Err("the agent's table has no `command`".into()),
            false => Ok(agent),
        }
    }
}

/// Longest agent name (it is an id: in `agentId`, URLs and file names).
const NAME_MAX: usize = 64;
/// Largest `agents.toml` read.
const FILE_MAX: u64 = 1 << 20;
/// How long one read of `agents.toml` may take.
const READ_LIMIT: Duration = Duration::from_secs(5);

/// What `agents.toml` holds.
#[derive(Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Config {
    #[serde(default)]
    pub(super) agents: Table,
    #[serde(default)]
    pub(super) projects: BTreeMap<String, ProjectConfig>,
}

#[derive(Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProjectConfig {
    #[serde(default)]
    pub(super) agents: Table,
}

/// [`read_file`] within [`READ_LIMIT`] (on a thread of its own, left behind if it hangs).
pub(super) fn read_timed(path: &Path) -> Result<Config, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let p = path.to_path_buf();
    std::thread::Builder::new()
        .name("agents-read".into())
        .spawn(move || {
            let _ = tx.send(read_file(&p));
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    rx.recv_timeout(READ_LIMIT)
        .unwrap_or_else(|_| Err(format!("{}: not read within {} s", path.display(), READ_LIMIT.as_secs())))
}

/// Reads and checks the file: a regular file of at most [`FILE_MAX`] bytes (opened
/// without blocking, so that a FIFO or a device is refused, not waited on).
fn read_file(path: &Path) -> Result<Config, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let regular = |m: &std::fs::Metadata| match m.file_type().is_file() {
        true => Ok(()),
        false => Err(at(&"not a regular file (a FIFO, device or directory); make it a plain text file")),
    };
    // Looked at before opening too: opening some devices does something.
    match std::fs::metadata(path) {
        Ok(m) => regular(&m)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(e) => return Err(at(&e)),
    }
    let flags = nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY;
    let file = match std::fs::OpenOptions::new().read(true).custom_flags(flags).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(e) => return Err(at(&e)),
    };
    let meta = file.metadata().map_err(|e| at(&e))?;
    regular(&meta)?;
    let mut text = String::new();
    file.take(FILE_MAX + 1).read_to_string(&mut text).map_err(|e| at(&e))?;
    if text.len() as u64 > FILE_MAX {
        return Err(at(&format!("larger than {FILE_MAX} bytes")));
    }
    let config: Config = toml::from_str(&text).map_err(|e| at(&e))?;
    for (name, agent) in config.agents.iter().chain(config.projects.values().flat_map(|p| p.agents.iter())) {
        check(name, &agent.command).map_err(|e| at(&e))?;
    }
    Ok(config)
}

/// An agent's name is an id; its command is not blank, and holds its placeholders only
/// where the shell takes them as words of their own (see [`placeholders`]).
pub(super) fn check(name: &str, command: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= NAME_MAX
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        return Err(format!("agent name {name:?}: use 1–{NAME_MAX} letters, digits, '_' or '-'"));
    }
    if command.trim().is_empty() {
        return Err(format!("agent {name}: the command is empty"));
    }
    let Some(bad) = placeholders(command).into_iter().find(|p| p.problem.is_some()) else { return Ok(()) };
    let (what, problem) = (bad.name, bad.problem.unwrap_or_default());
    // The usual mistake, quoting it oneself, has a fix to show.
    let fixed = PLACEHOLDERS
        .iter()
        .fold(command.to_string(), |c, p| c.replace(&format!("'{p}'"), p).replace(&format!("\"{p}\""), p));
    let fix = match placeholders(&fixed).iter().all(|p| p.problem.is_none()) && fixed != command {
        true => format!(": {fixed}"),
        false => String::new(),
    };
    Err(format!(
        "agent {name}: {what} {problem} in its command; write it bare, as a word of its own outside any quotes \
         (Maestro quotes it){fix}"
    ))
}

#[cfg(test)]
mod tests {
    use crate::agents::Agents;

    #[test]
    fn a_placeholder_in_quotes_is_refused_at_load_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("agents.toml");
        std::fs::write(&file, "[agents]\nsq = \"printf '[%s]\\n' '{prompt}'\"\n").unwrap();
        let err = Agents::load(&[], Some(file)).err().unwrap();
        assert!(err.contains("agent sq: {prompt} is inside quotes"), "{err}");
        assert!(err.ends_with(": printf '[%s]\n' {prompt}"), "{err}");
        let err = Agents::load(&["sq=printf '[%s]' \"{prompt_file}\"".into()], None).err().unwrap();
        assert!(err.contains("agent sq: {prompt_file} is inside quotes"), "{err}");
        assert!(err.ends_with(": printf '[%s]' {prompt_file}"), "{err}");
    }

    #[test]
    fn an_agent_may_be_a_table_with_the_hooks_maestro_wires() {
        use super::{Configured, Hooks};
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("agents.toml");
        let text = "[agents]\nplain = \"p {prompt}\"\nclaude = { command = \"claude {prompt}\", hooks = \"claude\" }\n";
        std::fs::write(&file, text).unwrap();
        let agents = Agents::load(&[], Some(file.clone())).unwrap();
        let claude = Configured { command: "claude {prompt}".into(), hooks: Some(Hooks::Claude) };
        assert_eq!(agents.agent("p", "claude"), Some(claude));
        assert_eq!(agents.agent("p", "plain").unwrap().hooks, None);
        std::fs::write(&file, "[agents.x]\ncommand = \"x\"\nhooks = \"aider\"\n").unwrap();
        let err = Agents::load(&[], Some(file.clone())).err().unwrap();
        assert!(err.contains("\"claude\""), "{err}");
        std::fs::write(&file, "[agents.x]\nhooks = \"claude\"\n").unwrap();
        assert!(Agents::load(&[], Some(file)).err().unwrap().contains("no `command`"));
    }
}
