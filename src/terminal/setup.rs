//! Where a session's terminal starts, and a workspace's setup (SPEC §8): a session in a
//! workspace starts in its worktree, and on the workspace's first session the setup runs
//! before the agent, its output in the terminal. One `/bin/sh -c` script does both, so that
//! nothing of it runs on the server's threads: it runs the setup, and on failure says so and
//! exits with the setup's code (the session fails, the output stays on the screen); else it
//! marks the workspace set up (a file in the worktree's git directory, never in its files)
//! and `exec`s the agent or the shell.

use super::{OpenError, Terminals};
use crate::model::{Session, Workspace};
use crate::workspace::setup::trusted_setup;
use crate::workspace::setup_script;

/// The marker's name in the worktree's git directory (`git rev-parse --absolute-git-dir`).
const MARKER: &str = "maestro-setup-done";

/// Where a terminal starts.
pub(super) struct Start {
    /// The directory: a workspace's worktree or the project's `basePath`.
    pub dir: Option<String>,
    /// A command line to run first, once per workspace.
    pub setup: Option<String>,
    /// Why the session's workspace cannot be used: said, and nothing runs.
    pub refused: Option<String>,
}

impl Terminals {
    /// A session in a workspace starts in its worktree (checked to be one this node's
    /// workspaces made: a path in the database is not trusted alone); anything else in its
    /// project's directory: a session's project, or the one a plain terminal was opened for.
    pub(super) fn start(&self, session: Option<&Session>, project: Option<&str>) -> Start {
        let project = session.map(|s| s.project_id.as_str()).or(project);
        let base = project.and_then(|p| self.store.read(|st| st.projects.get(p).and_then(|p| p.base_path.clone())));
        let mut start = Start { dir: base, setup: None, refused: None };
        let Some(wid) = session.and_then(|s| s.workspace_id.as_deref()) else { return start };
        let workspace: Option<Workspace> = self.store.read(|st| st.workspaces.get(wid).cloned());
        let checked = match (&workspace, &self.workspaces) {
            (Some(w), Some(ws)) => ws.session_dir(w).map_err(|e| e.message),
            (None, _) => Err(format!("workspace {wid} is gone")),
            (_, None) => Err("this server does not keep workspaces".into()),
        };
        match checked {
            Ok(dir) => {
                // The project's own command when a server of ours signed it, else the repository's.
                let project =
                    workspace.as_ref().and_then(|w| self.store.read(|st| st.projects.get(&w.project_id).cloned()));
                let own = project.as_ref().and_then(|p| trusted_setup(self.store.setup_key(), p));
                start.setup = own.or_else(|| setup_script(&dir).map(|_| "/bin/sh .maestro/setup.sh".to_string()));
                start.dir = Some(dir.to_string_lossy().into_owned());
            }
            Err(why) => {
                start.dir = None;
                start.refused = Some(format!(
                    "\x1b[31mmaestro: the session's workspace cannot be used ({why}); nothing was started\x1b[0m\r\n"
                ));
            }
        }
        start
    }
}

/// The script a workspace's session runs: `setup` once, then `program` (a command line for
/// `/bin/sh -c`; `None`: the user's shell).
pub(super) fn with_setup(setup: &str, program: Option<&str>) -> Result<String, OpenError> {
    let quote = |s: &str| {
        shlex::try_quote(s).map(|q| q.into_owned()).map_err(|e| OpenError::Invalid(format!("cannot quote: {e}")))
    };
    let then = match program {
        Some(p) => format!("exec /bin/sh -c {}", quote(p)?),
        None => "exec \"${SHELL:-/bin/sh}\"".to_string(),
    };
    let setup = quote(setup)?;
    Ok(format!(
        r#"gitdir=$(git rev-parse --absolute-git-dir) || {{ printf '\033[31mmaestro: the workspace is not a git worktree; nothing was started\033[0m\n'; exit 1; }}
if [ ! -e "$gitdir/{MARKER}" ]; then
  printf '\033[36mmaestro: setting the workspace up: %s\033[0m\n' {setup}
  /bin/sh -c {setup}
  code=$?
  if [ "$code" -ne 0 ]; then
    printf '\033[31mmaestro: setup failed with exit code %s; the agent was not started\033[0m\n' "$code"
    exit "$code"
  fi
  : > "$gitdir/{MARKER}"
  printf '\033[36mmaestro: setup done\033[0m\n'
fi
{then}
"#
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn run(script: &str, dir: &std::path::Path) -> std::process::Output {
        Command::new("/bin/sh").arg("-c").arg(script).current_dir(dir).output().unwrap()
    }

    #[test]
    fn setup_runs_once_then_the_program_and_a_failure_stops_it() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Command::new("git").args(["init", "-q"]).current_dir(dir.path()).status().unwrap().success());
        let script = with_setup("echo 'it''s set up' >> log", Some("echo agent >> log")).unwrap();
        assert!(run(&script, dir.path()).status.success());
        assert!(run(&script, dir.path()).status.success());
        let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
        assert_eq!(log, "its set up\nagent\nagent\n");
        assert!(dir.path().join(".git").join(MARKER).exists(), "marked in the git directory");

        let failing = tempfile::tempdir().unwrap();
        assert!(Command::new("git").args(["init", "-q"]).current_dir(failing.path()).status().unwrap().success());
        let out = run(&with_setup("echo broken; exit 3", Some("touch ran")).unwrap(), failing.path());
        assert_eq!(out.status.code(), Some(3));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("broken") && text.contains("setup failed with exit code 3"), "{text}");
        assert!(!failing.path().join("ran").exists() && !failing.path().join(".git").join(MARKER).exists());
    }
}
