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

use crate::model::{Agent, SessionPatch, Task};
use crate::store::Store;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

/// Name → command line.
type Table = BTreeMap<String, String>;

/// Longest agent name (it is an id: in `agentId`, URLs and file names).
const NAME_MAX: usize = 64;
/// Largest `agents.toml` read.
const FILE_MAX: u64 = 1 << 20;
/// How often `agents.toml` is looked at for changes.
const POLL: Duration = Duration::from_secs(1);
/// How long one read of `agents.toml` may take.
const READ_LIMIT: Duration = Duration::from_secs(5);
/// The placeholders a command may hold (the longer first: one is a prefix of the other).
const PLACEHOLDERS: [&str; 2] = ["{prompt_file}", "{prompt}"];

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
            check(name.trim(), command.trim())?;
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
                .spawn(move || watch(weak, path, stamp))
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

/// What tells that the file changed: its modification time, size and inode (`None`: it
/// is not there). `stat` does not open the file, so it cannot block on a FIFO.
type Stamp = Option<(i64, i64, u64, u64)>;

fn stamp(path: &Path) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.mtime(), m.mtime_nsec(), m.size(), m.ino()))
}

/// The watcher thread: re-reads the file when it changed, until the agents are dropped.
/// A broken edit keeps the last good copy and is logged.
fn watch(inner: Weak<Inner>, path: PathBuf, mut last: Stamp) {
    loop {
        std::thread::sleep(POLL);
        let Some(inner) = inner.upgrade() else { return };
        let now = stamp(&path);
        if now == last {
            continue;
        }
        last = now;
        match read_timed(&path) {
            Ok(config) => *inner.read.write().unwrap_or_else(|e| e.into_inner()) = config,
            Err(e) => tracing::warn!(error = e, "agents file not reloaded"),
        }
    }
}

/// [`read_file`] within [`READ_LIMIT`] (on a thread of its own, left behind if it hangs).
fn read_timed(path: &Path) -> Result<Config, String> {
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
    for (name, command) in config.agents.iter().chain(config.projects.values().flat_map(|p| p.agents.iter())) {
        check(name, command).map_err(|e| at(&e))?;
    }
    Ok(config)
}

/// An agent's name is an id; its command is not blank, and holds its placeholders only
/// where the shell takes them as words of their own (see [`placeholders`]).
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

/// A placeholder in a command: where, which, and why the shell would not take what
/// replaces it as one literal word (`None`: it would).
struct Spot {
    at: usize,
    name: &'static str,
    problem: Option<&'static str>,
}

/// Finds the placeholders in `command`, following the shell's quoting. A placeholder is
/// fine only as a whole word, outside any quotes, backquotes, `${…}`, comments, here-
/// documents and arithmetic, and not as the command to run: there the shell-quoted text
/// stays one literal word. Inside quotes, the prompt's own quotes would end them (that
/// is shell injection). After quoting this scan cannot follow (`$(` inside double quotes,
/// bash's `$'…'`), every placeholder is refused.
fn placeholders(command: &str) -> Vec<Spot> {
    let b = command.as_bytes();
    let blank = |c: u8| matches!(c, b' ' | b'\t' | b'\n');
    let mut spots = Vec::new();
    // Open quotes, innermost last: b'\'', b'"' or b'`' (backquotes may sit in double quotes).
    let mut quotes: Vec<u8> = Vec::new();
    let (mut escaped, mut comment, mut heredoc, mut arith, mut tangled) = (false, false, false, false, false);
    let mut braces = 0usize;
    // The last byte outside quotes that is not a space or tab (a newline counts).
    let mut last: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        if let Some(name) = PLACEHOLDERS.iter().find(|p| b[i..].starts_with(p.as_bytes())) {
            let end = i + name.len();
            let alone = (i == 0 || blank(b[i - 1]))
                && b.get(end).is_none_or(|&c| blank(c) || matches!(c, b';' | b'|' | b'&' | b')'));
            let problem = if comment {
                Some("is in a comment")
            } else if escaped {
                Some("follows a backslash")
            } else if quotes.last() == Some(&b'`') {
                Some("is inside backquotes")
            } else if !quotes.is_empty() {
                Some("is inside quotes")
            } else if tangled {
                Some("follows quoting Maestro cannot follow (`$(`, `${` inside double quotes, or `$'…'`)")
            } else if heredoc {
                Some("follows a here-document (<<), whose text the shell expands")
            } else if arith {
                Some("follows an arithmetic or [[ ]] expression")
            } else if braces > 0 {
                Some("is inside ${…}")
            } else if !alone {
                Some("is not a word of its own")
            } else if last.is_none_or(|c| matches!(c, b';' | b'&' | b'|' | b'(' | b'\n')) {
                Some("would be run as the command itself")
            } else {
                None
            };
            spots.push(Spot { at: i, name, problem });
            if quotes.is_empty() && !comment {
                last = Some(b'}');
            }
            escaped = false;
            i = end;
            continue;
        }
        let (c, prev, next) = (b[i], i.checked_sub(1).map(|p| b[p]), b.get(i + 1).copied());
        i += 1;
        if comment {
            if c == b'\n' {
                comment = false;
                last = Some(c);
            }
            continue;
        }
        if escaped {
            escaped = false;
            if quotes.is_empty() && c != b'\n' {
                last = Some(c);
            }
            continue;
        }
        match quotes.last() {
            Some(b'\'') => {
                if c == b'\'' {
                    quotes.pop();
                }
            }
            Some(&q) => match c {
                b'\\' => escaped = true,
                b'`' if q == b'"' => quotes.push(c),
                // What `$(`, `${` or `$[` open inside double quotes has quotes of its own.
                b'$' if q == b'"' && matches!(next, Some(b'(' | b'{' | b'[')) => tangled = true,
                _ if c == q => {
                    quotes.pop();
                }
                _ => {}
            },
            None => {
                match c {
                    b'\\' => escaped = true,
                    b'$' if next == Some(b'\'') => tangled = true,
                    b'\'' | b'"' | b'`' => quotes.push(c),
                    b'#' if prev.is_none_or(|p| blank(p) || b";&|()<>".contains(&p)) => comment = true,
                    b'<' if next == Some(b'<') => heredoc = true,
                    b'(' if next == Some(b'(') => arith = true,
                    b'[' if next == Some(b'[') || prev == Some(b'$') => arith = true,
                    b'$' if next == Some(b'{') => {
                        braces += 1;
                        i += 1;
                    }
                    b'}' if braces > 0 => braces -= 1,
                    _ => {}
                }
                if !matches!(c, b' ' | b'\t') && !comment {
                    last = Some(c);
                }
            }
        }
    }
    spots
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

/// `command` with `{prompt}` and `{prompt_file}` replaced, each by one shell-quoted word
/// that the shell hands over literally (a placeholder anywhere else is refused, as when the
/// command was loaded).
pub fn substitute(command: &str, prompt: &str, prompt_file: &Path) -> Result<String, String> {
    let quote =
        |s: &str| shlex::try_quote(s).map(|q| q.into_owned()).map_err(|e| format!("cannot quote the prompt: {e}"));
    let mut out = String::with_capacity(command.len() + prompt.len());
    let mut from = 0;
    for spot in placeholders(command) {
        if let Some(problem) = spot.problem {
            return Err(format!("{} {problem} in the agent's command", spot.name));
        }
        out.push_str(&command[from..spot.at]);
        match spot.name {
            "{prompt}" => out.push_str(&quote(prompt)?),
            _ => out.push_str(&quote(&prompt_file.to_string_lossy())?),
        }
        from = spot.at + spot.name.len();
    }
    out.push_str(&command[from..]);
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

    /// The command `sh -c` gets for `command` and `prompt`, run: what it printed.
    fn run(command: &str, prompt: &str) -> String {
        let cmd = substitute(command, prompt, Path::new("/t/p 1.md")).unwrap();
        let out = std::process::Command::new("/bin/sh").args(["-c", &cmd]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

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
    fn a_placeholder_is_taken_only_as_a_whole_literal_word() {
        for bad in [
            "a '{prompt}'",
            "a \"{prompt}\"",
            "a \"x {prompt} y\"",
            "a x{prompt}",
            "a {prompt}x",
            "a {prompt}>f",
            "a \\{prompt}",
            "a $'{prompt}'",
            "a $'\\' {prompt} '",
            "a `echo {prompt}`",
            "a \"$(echo \" {prompt} \")\"",
            "a \"$(printf %s {prompt})\"",
            "a \"${x:-\" {prompt} \"}\"",
            "a ${x:- {prompt} }",
            "a $(( {prompt} ))",
            "[[ {prompt} -eq 1 ]]",
            "cat <<EOF\n{prompt}\nEOF",
            "a # {prompt}",
            "{prompt}",
            "a; {prompt}",
            "a | {prompt_file}",
        ] {
            assert!(check("x", bad).is_err(), "{bad:?} was let through");
        }
        // Where it is a word of its own, whatever the prompt holds comes out as it was.
        let hostile = ["'; id; echo '", "$(id)", "`id`", "\"; id; \"", "a\nid\n", "\\'", "", "-n"];
        for good in [
            "printf '[%s]\\n' {prompt}",
            "printf '[%s]\\n' {prompt}; true",
            "printf '[%s]\\n' {prompt}|cat",
            "x=$(printf %s {prompt}); printf '[%s]\\n' \"$x\"",
            "echo '{x}' >/dev/null; printf '[%s]\\n' {prompt} # a comment",
        ] {
            check("x", good).unwrap();
            for p in hostile {
                let expected = if good.contains("$(") { p.trim_end_matches('\n') } else { p };
                assert_eq!(run(good, p), format!("[{expected}]\n"), "{good:?} with {p:?}");
            }
        }
    }

    #[test]
    fn the_file_is_reread_off_the_callers_and_a_fifo_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("agents.toml");
        std::fs::write(&file, "[agents]\na = \"one {prompt}\"\n").unwrap();
        let agents = Agents::load(&[], Some(file.clone())).unwrap();
        assert_eq!(agents.command("p", "a").as_deref(), Some("one {prompt}"));
        std::fs::write(&file, "[agents]\na = \"two {prompt}\"\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while agents.command("p", "a").as_deref() != Some("two {prompt}") {
            assert!(std::time::Instant::now() < deadline, "the edit was not picked up");
            std::thread::sleep(Duration::from_millis(20));
        }
        // A FIFO would block whoever opens it: refused, at start and on reload alike.
        std::fs::remove_file(&file).unwrap();
        assert!(std::process::Command::new("mkfifo").arg(&file).status().unwrap().success());
        let err = Agents::load(&[], Some(file.clone())).err().unwrap();
        assert!(err.contains("not a regular file"), "{err}");
        let err = read_timed(&file).err().unwrap();
        assert!(err.contains("not a regular file"), "{err}");
        assert!(Agents::load(&[], Some(dir.path().to_path_buf())).err().unwrap().contains("not a regular file"));
        // Meanwhile the last good copy is what is offered.
        assert_eq!(agents.command("p", "a").as_deref(), Some("two {prompt}"));
    }
}
