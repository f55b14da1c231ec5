//! Workspaces over real git repositories in temporary directories (SPEC §8): the git layer
//! (`library`, `land`), the server's service over a store (`service`), the REST API and the
//! `maestro workspace` commands of a real server process (`api`, `land_api`, `cli`), the
//! server functions the browser's Changes tab calls (`functions`), sessions run in
//! workspaces (`sessions`), and one asked of another node of a cluster on PostgreSQL
//! (`cluster`). Each repository has its own `user.name`/`user.email`; no global
//! configuration is written.

mod api;
mod cli;
mod cluster;
mod functions;
mod land;
mod land_api;
mod library;
mod project_delete;
mod review;
mod service;
mod sessions;
mod status;

use maestro::workspace::git::Git;
use maestro::workspace::{make, Made, NewWorktree};
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// A repository on `main` with a few committed files, and a directory for worktrees.
pub(crate) struct Fixture {
    _dir: TempDir,
    pub(crate) repo: PathBuf,
    worktrees: PathBuf,
}

fn git(dir: &Path, args: &[&str]) -> String {
    Git::new(dir).args(args).text().unwrap_or_else(|e| panic!("git {args:?}: {e}"))
}

pub(crate) fn write(path: impl AsRef<Path>, text: impl AsRef<[u8]>) {
    let path = path.as_ref();
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

pub(crate) fn fixture() -> Fixture {
    let dir = TempDir::new().unwrap();
    let repo = dir.path().join("repo");
    fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Maestro Test"]);
    git(&repo, &["config", "user.email", "test@example.com"]);
    git(&repo, &["config", "commit.gpgsign", "false"]);
    write(repo.join("README.md"), "one\ntwo\nthree\n");
    write(repo.join("src/lib.rs"), "fn main() {}\n");
    write(repo.join("gone.txt"), "bye\n");
    write(repo.join("move-me.txt"), "alpha\nbeta\ngamma\ndelta\n");
    write(repo.join("logo.bin"), [0u8, 1, 2, 3, 0, 255]);
    write(repo.join(".gitignore"), ".env\nbuild/\nconfig/local/\nnode_modules/\nsecrets/\nsecret-link\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    let worktrees = dir.path().join("data/worktrees");
    Fixture { _dir: dir, repo, worktrees }
}

impl Fixture {
    fn make(&self, title: &str) -> Made {
        make(&self.request(title)).unwrap()
    }

    fn request<'a>(&'a self, title: &'a str) -> NewWorktree<'a> {
        NewWorktree { repo: &self.repo, root: &self.worktrees, project: "proj_1", title, base: None, branch: None }
    }

    fn outside(&self) -> PathBuf {
        let outside = self._dir.path().join("outside");
        fs::create_dir_all(&outside).unwrap();
        outside
    }
}
