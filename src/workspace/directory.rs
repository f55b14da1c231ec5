//! Looking at a directory a person gives a project: is it there, which git repository is it
//! in, on which branch, which branches could workspaces start from, has it a setup script.

use super::git::Git;
use super::make::{repo_of, setup_script};
use super::service::Workspaces;
use super::Error;
use crate::http::AppError;
use crate::model::limits::PATH_MAX;
use crate::model::DirectoryInfo;
use std::path::Path;
use std::time::Duration;

/// Branches listed for choosing a base.
const BRANCHES_MAX: usize = 50;
/// Looking is answered while the person types: a git that takes longer is stopped.
const TIMEOUT: Duration = Duration::from_secs(5);

/// What `path` is (trimmed; a relative one is said to be so, and not looked at). Blocks.
pub fn inspect(path: &str) -> Result<DirectoryInfo, Error> {
    // As the API's document states it: a quarter of PATH_MAX in characters is within its bytes.
    const MAX: usize = PATH_MAX / 4;
    let trimmed = path.trim();
    if trimmed.is_empty() || path.chars().count() > MAX || trimmed.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "path must be a directory's path: not blank, at most {MAX} characters, no control characters; got {:?}",
            path.chars().take(100).collect::<String>()
        )));
    }
    let path = trimmed;
    let mut info = DirectoryInfo { path: path.to_string(), absolute: path.starts_with('/'), ..Default::default() };
    let dir = Path::new(path);
    if !info.absolute {
        return Ok(info);
    }
    info.exists = dir.exists();
    info.directory = dir.is_dir();
    if !info.directory {
        return Ok(info);
    }
    let repo = match repo_of(dir) {
        Ok(repo) => repo,
        // Not in a working tree (or a bare repository, or `.git` itself).
        Err(Error::Conflict(_)) => return Ok(info),
        Err(e) => return Err(e),
    };
    let listed = Git::new(&repo.root)
        .args(["for-each-ref", "--sort=-committerdate", "--format=%(refname:lstrip=2)"])
        .arg(format!("--count={BRANCHES_MAX}"))
        .arg("refs/heads/")
        .timeout(TIMEOUT)
        .text()?;
    // The checked-out branch first (before its first commit it has no ref yet).
    info.branches = repo.branch.iter().cloned().collect();
    info.branches.extend(listed.lines().filter(|b| repo.branch.as_deref() != Some(*b)).map(str::to_string));
    info.branches.truncate(BRANCHES_MAX);
    info.setup_script = setup_script(&repo.root).is_some();
    info.repository = Some(repo.root.to_string_lossy().into_owned());
    info.branch = repo.branch;
    Ok(info)
}

impl Workspaces {
    /// [`inspect`] on a blocking thread.
    pub async fn inspect(&self, path: String) -> Result<DirectoryInfo, AppError> {
        self.blocking(move || inspect(&path)).await
    }
}
