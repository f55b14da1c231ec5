//! Archiving a workspace removes its worktree directory and keeps its branch; restoring
//! checks the branch out again in a new worktree. Nothing uncommitted is lost unless the
//! caller forces it; nothing committed is lost at all (the branch stays).

use super::git::{fields, path_text, Git};
use super::make::check_branch;
use super::Error;
use std::path::Path;

/// Removes the worktree at `worktree` (of the repository `repo` is in); its branch stays.
/// Refused while files are uncommitted (staged, unstaged or untracked) unless `force`. A
/// worktree whose directory is already gone is forgotten by git and counts as archived.
pub fn archive(repo: &Path, worktree: &Path, force: bool) -> Result<(), Error> {
    if !worktree.exists() {
        Git::new(repo).args(["worktree", "prune"]).run()?;
        return Ok(());
    }
    if !force {
        let dirty = uncommitted(worktree)?;
        if !dirty.is_empty() {
            return Err(Error::Conflict(format!(
                "{} uncommitted file(s) would be lost ({}): commit them, or archive with force",
                dirty.len(),
                some(&dirty)
            )));
        }
    }
    let mut remove = Git::new(repo).args(["worktree", "remove"]);
    if force {
        remove = remove.arg("--force");
    }
    remove.arg("--").arg(worktree).run()?;
    Ok(())
}

/// Undoes a worktree just made whose record could not be kept: removes it and deletes its
/// branch. Only for a branch made a moment ago, with nothing on it that base has not.
pub fn discard(repo: &Path, worktree: &Path, branch: &str) -> Result<(), Error> {
    check_branch(repo, branch)?;
    archive(repo, worktree, true)?;
    Git::new(repo).args(["branch", "-D", "--", branch]).run()?;
    Ok(())
}

/// The files not committed in `worktree`: staged, unstaged and untracked (not ignored).
pub(super) fn uncommitted(worktree: &Path) -> Result<Vec<String>, Error> {
    let status =
        Git::new(worktree).args(["status", "--porcelain=v2", "-z", "--untracked-files=all", "--no-renames"]).run()?;
    Ok(fields(&status.stdout).map(status_path).collect())
}

/// The first few of `files` for a message: "a, b, c, d, e and 3 more".
pub(super) fn some(files: &[String]) -> String {
    let shown: Vec<&str> = files.iter().take(5).map(String::as_str).collect();
    let more = if files.len() > 5 { format!(" and {} more", files.len() - 5) } else { String::new() };
    format!("{}{more}", shown.join(", "))
}

/// The path in a `status --porcelain=v2 --no-renames` record (after 8 fields for a change,
/// 10 for a conflict, 1 for an untracked or ignored file).
fn status_path(record: &[u8]) -> String {
    let fields = match record.first() {
        Some(b'1') => 9,
        Some(b'u') => 11,
        _ => 2,
    };
    path_text(record.splitn(fields, |b| *b == b' ').last().unwrap_or(record))
}

/// Checks `branch` out again in a new worktree at `path`.
pub fn restore(repo: &Path, path: &Path, branch: &str) -> Result<(), Error> {
    check_branch(repo, branch)?;
    if path.exists() {
        return Err(Error::Conflict(format!("{} already exists", path.display())));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent.display(), e))?;
    }
    // A worktree removed by hand is still registered until pruned, and blocks `add`.
    Git::new(repo).args(["worktree", "prune"]).run()?;
    Git::new(repo)
        .args(["worktree", "add", "--"])
        .arg(path)
        .arg(branch)
        .timeout(super::make::CHECKOUT_TIMEOUT)
        .run()?;
    super::make::settle_index(path);
    Ok(())
}

/// Bytes on disk under `path` (allocated blocks), walking without following links. Files
/// that vanish during the walk are skipped.
pub fn disk_usage(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let (mut total, mut stack) = (0u64, vec![path.to_path_buf()]);
    while let Some(at) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&at) else { continue };
        total += meta.blocks() * 512;
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&at) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    total
}
