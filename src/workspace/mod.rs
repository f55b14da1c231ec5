//! Workspaces (SPEC §8): a git worktree per task on a branch of its own, its changes against
//! the base branch, one file's diff, archive and restore, and a watcher that says when to
//! look again. A library over the `git` command; the store, REST and UI build on it.
//!
//! - `git`: running git (argument vectors, time limits, no `GIT_*` from the server).
//! - `make`: the repository a directory is in, branch names, making and reusing a worktree,
//!   the setup script.
//! - `include`: copying the files `.worktreeinclude` lists into a new worktree.
//! - `changes`: what a workspace changed against the merge-base with its base branch.
//! - `diff`: one file's unified diff, with a byte cap; paths kept inside the workspace.
//! - `archive`: removing a worktree (keeping its branch), restoring it, its disk use.
//! - `land`: commit everything, merge into base (merge commit or squash) without touching
//!   the person's checkout unless it is base's and clean, rebase onto base, push.
//! - `watch`: file-system notifications, debounced into "may have changed" callbacks.
//! - `directory`: what a directory given to a project is (exists, repository, branches).
//! - `setup`: whether a project's setup command may run (its signature).
//! - `service`: the server's [`Workspaces`]: make and record, archive and restore, each git
//!   step on a blocking thread, then one store command.
//! - `inspect`: the service's changed files and one file's diff, for review.
//! - `landing`: the service's commit, merge, rebase and push, as archive's.
//! - `follow`: a watcher per active workspace, recording its changes when they change.
//! - `relay`: passing a request for a workspace on another node's disk to that node
//!   (`passed`: the request as it is passed).
//! - `refusal`: how the service's and git's refusals are answered (409 with git's reason).
//! - `session`: where a new session runs — the task's workspace, a new one, or none.
//! - `project`: a project deleted with everything of it, its clean worktrees removed first.
//!
//! The library functions block their thread: call them from `spawn_blocking` or a thread of
//! their own, never from the async workers or the store's writer (the service does so).

pub mod archive;
pub mod changes;
pub mod diff;
pub mod directory;
mod follow;
pub mod git;
pub mod github;
pub mod include;
mod inspect;
pub mod land;
mod landing;
pub mod make;
mod passed;
mod project;
mod refusal;
mod relay;
pub mod service;
mod session;
pub mod setup;
pub mod watch;

pub use crate::model::{ChangeSummary, FileChange, FileDiff, FileStatus, WorkspaceFiles};
pub use archive::{archive, discard, disk_usage, restore};
pub use changes::changes;
pub use diff::{file_diff, inside};
pub use git::GitError;
pub use include::{copy_included, Included};
pub use inspect::DIFF_MAX_BYTES;
pub use land::{commit, merge, push, rebase, remote, Merged};
pub use make::{branch_name, check_branch, make, repo_of, reuse, setup_script, Made, NewWorktree, Repo};
pub use service::Workspaces;
pub use setup::trusted_setup;
pub use watch::{watch, Watcher};

/// Why a workspace operation was refused or failed. The API maps each to a status code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Bad input: a branch name git refuses, a path outside the workspace (400).
    #[error("{0}")]
    Invalid(String),
    /// The state forbids it: not a git repository, uncommitted work, a missing worktree (409).
    #[error("{0}")]
    Conflict(String),
    /// A merge or rebase would conflict in `files`; nothing was changed (409, with the files).
    #[error("{message}")]
    Conflicts { message: String, files: Vec<String> },
    /// git refused, in its own words (409), or could not run (500).
    #[error(transparent)]
    Git(#[from] GitError),
    /// The file system failed (500).
    #[error("{0}")]
    Io(String),
}

impl Error {
    fn io(what: impl std::fmt::Display, e: std::io::Error) -> Error {
        Error::Io(format!("{what}: {e}"))
    }
}
