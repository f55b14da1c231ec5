//! "Open pull request" (SPEC §8) with GitHub's own `gh`, offered only where it is installed
//! and logged in: asked once (`gh auth status`) and remembered until the server restarts,
//! so a page load never waits on GitHub. `gh` runs as git does (`git.rs`): an argument
//! vector, a time limit, no prompts.

use super::git::Git;
use super::Error;
use std::ffi::OsString;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

/// Asking GitHub whether the login holds.
const AUTH_TIMEOUT: Duration = Duration::from_secs(15);
/// Making the pull request (after the branch is pushed).
const CREATE_TIMEOUT: Duration = Duration::from_secs(90);

/// The `gh` to run: `MAESTRO_GH` names another (tests, an unusual install), else `gh` on `PATH`.
fn program() -> OsString {
    std::env::var_os("MAESTRO_GH").filter(|p| !p.is_empty()).unwrap_or_else(|| "gh".into())
}

fn gh(dir: &Path) -> Git {
    Git::tool(dir, program()).env("GH_PROMPT_DISABLED", "1").env("GH_NO_UPDATE_NOTIFIER", "1").env("NO_COLOR", "1")
}

/// Whether pull requests can be opened here; else why not, in plain words. Blocks the first
/// time (call it on a blocking thread).
pub fn ready() -> Result<(), String> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    READY
        .get_or_init(|| match gh(Path::new("/")).args(["auth", "status"]).timeout(AUTH_TIMEOUT).output() {
            Ok(out) if out.status.success() => Ok(()),
            Ok(_) => Err("gh is not logged in to GitHub (run `gh auth login` where the server runs)".into()),
            Err(_) => Err("GitHub's gh is not installed where the server runs: pull requests cannot be opened".into()),
        })
        .clone()
}

/// Opens a pull request for `branch` (already pushed) from `worktree`, titled and described
/// from its commits; its address.
pub fn open(worktree: &Path, branch: &str) -> Result<String, Error> {
    ready().map_err(Error::Conflict)?;
    let out = gh(worktree).args(["pr", "create", "--fill", "--head", branch]).timeout(CREATE_TIMEOUT).run()?;
    // gh prints the pull request's address last.
    let text = out.text();
    Ok(text.lines().rev().find(|l| l.starts_with("http")).unwrap_or(text.trim()).to_string())
}
