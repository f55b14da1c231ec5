//! Running `git`: an argument vector (never a shell string), a time limit on every call, the
//! server's own `GIT_*` environment removed, outputs read with a byte cap.
//!
//! Why the `git` command (Debian's package) and not a crate: worktrees are fully supported
//! (`worktree add|remove|prune`, per-worktree index and HEAD) and behave exactly as the
//! person's own git does (their config, hooks, attributes, ignore rules); nothing is built
//! from C. `gix` still lacks `worktree add`/`remove` and a complete status; `git2` (libgit2)
//! is a C build with its own, partial worktree and ignore semantics. A process per call costs
//! about a millisecond, small beside what a diff or a status does anyway.
//!
//! Every call blocks its thread (for at most its time limit): callers run these functions on
//! `tokio::task::spawn_blocking` or a thread of their own, never on the async workers.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The time limit of a call unless the caller sets one.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// What is kept of standard output unless the caller sets a cap.
pub const MAX_OUTPUT: usize = 64 << 20;
/// What is kept of standard error: enough for git's reason.
const MAX_STDERR: usize = 64 << 10;

/// Why a git call failed. `Failed` carries git's own reason, in plain words, for a 409.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitError {
    /// git is not installed, or could not be started.
    #[error("git could not be started: {0}")]
    Spawn(String),
    /// The call ran past its time limit and was killed.
    #[error("git {command} did not finish within {} s and was stopped", .after.as_secs_f32())]
    Timeout { command: String, after: Duration },
    /// git exited with an error; `reason` is what it said, without `fatal:`/`error:`/hints.
    #[error("{reason}")]
    Failed { command: String, code: Option<i32>, reason: String },
}

/// What a finished call printed.
#[derive(Debug, Clone)]
pub struct Output {
    pub status: ExitStatus,
    /// Standard output, at most the call's cap.
    pub stdout: Vec<u8>,
    /// True when standard output went past the cap: git was stopped and `stdout` is its start.
    pub truncated: bool,
    pub stderr: String,
}

impl Output {
    /// The call as failed, with git's reason (for a caller that read its exit code first).
    pub fn failure(&self, command: impl Into<String>) -> GitError {
        let command = command.into();
        GitError::Failed {
            reason: reason(&self.stderr, &command, self.status.code()),
            command,
            code: self.status.code(),
        }
    }

    /// Standard output as text (lossy), without the trailing newline.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).trim_end_matches('\n').to_string()
    }
}

/// A git call being prepared: `Git::new(dir).args([..]).run()`.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
    args: Vec<OsString>,
    timeout: Duration,
    max_output: usize,
    /// Set for this call only (after the server's `GIT_*` are removed).
    envs: Vec<(OsString, OsString)>,
    /// Another git tool run the same way (GitHub's `gh`), without git's own options.
    program: Option<OsString>,
}

impl Git {
    /// git run in `dir` (`-C` is not used: the process starts there).
    pub fn new(dir: impl AsRef<Path>) -> Git {
        Git {
            dir: dir.as_ref().to_path_buf(),
            args: Vec::new(),
            timeout: TIMEOUT,
            max_output: MAX_OUTPUT,
            envs: Vec::new(),
            program: None,
        }
    }

    /// `program` (a tool beside git, such as `gh`) run in `dir` with the same limits.
    pub fn tool(dir: impl AsRef<Path>, program: impl AsRef<OsStr>) -> Git {
        Git { program: Some(program.as_ref().to_os_string()), ..Git::new(dir) }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Git {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Git
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Git {
        self.envs.push((key.as_ref().to_os_string(), value.as_ref().to_os_string()));
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Git {
        self.timeout = timeout;
        self
    }

    /// Keep at most `bytes` of standard output; past it git is stopped (`Output::truncated`).
    pub fn max_output(mut self, bytes: usize) -> Git {
        self.max_output = bytes;
        self
    }

    /// The subcommand and its arguments, for messages.
    fn describe(&self) -> String {
        let words: Vec<_> = self.args.iter().take(4).map(|a| a.to_string_lossy().into_owned()).collect();
        words.join(" ")
    }

    /// Runs git and returns whatever it printed, whatever its exit code (some commands use 1
    /// for "differences found"). Only a failure to start or the time limit are errors.
    pub fn output(self) -> Result<Output, GitError> {
        let command = self.describe();
        let mut cmd = Command::new(self.program.as_deref().unwrap_or(OsStr::new("git")));
        // Paths are printed raw (no C quoting); pathspecs are paths, not globs; no prompt
        // for credentials; no optional locks, so reading a status never takes index.lock
        // from under an agent's own git.
        if self.program.is_none() {
            cmd.args(["-c", "core.quotepath=off", "--literal-pathspecs", "--no-pager"]);
        }
        cmd.args(&self.args).current_dir(&self.dir).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("GIT_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("GIT_TERMINAL_PROMPT", "0").env("GIT_OPTIONAL_LOCKS", "0").env("LC_ALL", "C");
        cmd.envs(self.envs.iter().map(|(k, v)| (k, v)));
        // A group of its own: a timeout kills git and whatever it started (hooks, helpers).
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);

        let started = Instant::now();
        let mut child = cmd.spawn().map_err(|e| GitError::Spawn(e.to_string()))?;
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let (done_tx, done_rx) = mpsc::channel();
        let max_output = self.max_output;
        let out_reader = std::thread::spawn(move || {
            let read = stdout.map(|s| read_capped(s, max_output)).unwrap_or_default();
            let _ = done_tx.send(());
            read
        });
        let err_reader = std::thread::spawn(move || stderr.map(|s| read_capped(s, MAX_STDERR)).unwrap_or_default());

        // git closes its output when it exits (or the reader stopped at the cap): wait for that
        // first, then for the exit itself, both within the time limit.
        let deadline = started + self.timeout;
        let mut timed_out = done_rx.recv_timeout(self.timeout) == Err(mpsc::RecvTimeoutError::Timeout);
        let mut pause = Duration::from_micros(200);
        let status = loop {
            if !timed_out {
                match child.try_wait() {
                    Ok(Some(status)) => break status,
                    Ok(None) => {}
                    Err(e) => return Err(GitError::Spawn(e.to_string())),
                }
                if Instant::now() >= deadline {
                    timed_out = true;
                }
            }
            if timed_out {
                // Not yet reaped, so the group id is still this child's.
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(child.id() as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
                let _ = child.wait();
                return Err(GitError::Timeout { command, after: self.timeout });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        };
        let (stdout, truncated) = out_reader.join().unwrap_or_default();
        let (stderr, _) = err_reader.join().unwrap_or_default();
        Ok(Output { status, stdout, truncated, stderr: String::from_utf8_lossy(&stderr).into_owned() })
    }

    /// Runs git and fails with git's reason unless it exited 0 (or stopped at the output cap).
    pub fn run(self) -> Result<Output, GitError> {
        let command = self.describe();
        let out = self.output()?;
        if out.status.success() || out.truncated {
            return Ok(out);
        }
        Err(out.failure(command))
    }

    /// `run`, standard output as trimmed text.
    pub fn text(self) -> Result<String, GitError> {
        self.run().map(|out| out.text())
    }
}

/// Reads up to `cap` bytes; past it stops reading (git then gets EPIPE and exits).
fn read_capped(mut from: impl Read, cap: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut buf = [0u8; 64 << 10];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return (kept, false),
            Ok(n) if kept.len() + n > cap => {
                kept.extend_from_slice(&buf[..cap - kept.len()]);
                return (kept, true);
            }
            Ok(n) => kept.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return (kept, false),
        }
    }
}

/// git's reason in plain words: its `fatal:`/`error:` lines without the prefix, hints dropped.
fn reason(stderr: &str, command: &str, code: Option<i32>) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
        .map(|l| ["fatal: ", "error: ", "warning: "].iter().fold(l, |l, p| l.strip_prefix(p).unwrap_or(l)))
        .collect();
    if lines.is_empty() {
        return match code {
            Some(code) => format!("git {command} failed (exit code {code})"),
            None => format!("git {command} was stopped by a signal"),
        };
    }
    lines.join("; ")
}

/// Splits `-z` output into its NUL-terminated fields (the last may lack its NUL when cut).
pub fn fields(out: &[u8]) -> impl Iterator<Item = &[u8]> {
    out.strip_suffix(b"\0").unwrap_or(out).split(|b| *b == 0).filter(|f| !f.is_empty())
}

/// A path git printed (bytes), as the `String` the API speaks (lossy where not UTF-8).
pub fn path_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_drops_prefixes_and_hints() {
        let stderr = "hint: try this\nfatal: 'x' is not a valid branch name\n";
        assert_eq!(reason(stderr, "branch", Some(128)), "'x' is not a valid branch name");
        assert_eq!(reason("", "status", Some(1)), "git status failed (exit code 1)");
    }

    #[test]
    fn fields_split_nul_terminated_output() {
        let got: Vec<_> = fields(b"a\0b c\0").collect();
        assert_eq!(got, [&b"a"[..], &b"b c"[..]]);
        assert_eq!(fields(b"").count(), 0);
    }

    #[test]
    fn capped_read_says_when_it_stopped() {
        assert_eq!(read_capped(&b"hello"[..], 10), (b"hello".to_vec(), false));
        assert_eq!(read_capped(&b"hello"[..], 3), (b"hel".to_vec(), true));
    }
}
