//! One file's unified diff against the merge-base with base, the working tree included
//! (an untracked file is all added), cut at a byte cap: a binary or oversized file says so
//! instead of sending bytes. A path from a client is checked to stay inside the workspace.

use super::changes::merge_base;
use super::git::{fields, Git};
use super::Error;
use crate::model::FileDiff;
use std::path::{Component, Path, PathBuf};

/// `path` (relative, `/`-separated, from a client) as a path inside the worktree: no `..`,
/// not absolute, not in `.git`, and no directory on the way that is a symbolic link.
pub fn inside(worktree: &Path, path: &str) -> Result<PathBuf, Error> {
    let invalid = |why: &str| Error::Invalid(format!("{path:?} {why}"));
    if path.is_empty() || path.contains('\0') {
        return Err(invalid("is not a file path"));
    }
    let mut rel = PathBuf::new();
    for part in Path::new(path).components() {
        match part {
            Component::Normal(name) if name == ".git" => return Err(invalid("is inside .git")),
            Component::Normal(name) => rel.push(name),
            Component::CurDir => {}
            Component::ParentDir => return Err(invalid("leads out of the workspace")),
            Component::RootDir | Component::Prefix(_) => return Err(invalid("is absolute")),
        }
    }
    if rel.as_os_str().is_empty() {
        return Err(invalid("is not a file path"));
    }
    // git itself never reads through a linked directory; this keeps our own reads inside too.
    let mut at = worktree.to_path_buf();
    for part in rel.parent().into_iter().flat_map(Path::components) {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => return Err(invalid("leads out of the workspace")),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(rel)
}

/// The diff of `path` (renamed from `old_path`, when it was) in the worktree against the
/// merge-base with `base`, at most `cap` bytes.
pub fn file_diff(
    worktree: &Path,
    base: &str,
    path: &str,
    old_path: Option<&str>,
    cap: usize,
) -> Result<FileDiff, Error> {
    let rel = inside(worktree, path)?;
    let old = old_path.map(|old| inside(worktree, old)).transpose()?;
    let merge_base = merge_base(worktree, base)?;
    let tracked = Git::new(worktree)
        .args(["diff", "--no-color", "--no-ext-diff", "--no-textconv", "--no-relative", "-M"])
        .args(["--src-prefix=a/", "--dst-prefix=b/", merge_base.as_str(), "--"])
        .args(old.iter())
        .arg(&rel)
        .max_output(cap)
        .run()?;
    if tracked.truncated {
        return Ok(FileDiff::TooLarge { limit: cap });
    }
    if !tracked.stdout.is_empty() {
        return Ok(classify(tracked.stdout));
    }
    let status =
        Git::new(worktree).args(["status", "--porcelain=v2", "-z", "--untracked-files=all", "--"]).arg(&rel).run()?;
    if !fields(&status.stdout).any(|record| record.starts_with(b"? ")) {
        return Ok(FileDiff::Unchanged);
    }
    let meta = std::fs::symlink_metadata(worktree.join(&rel)).map_err(|e| Error::io(path, e))?;
    if meta.is_file() && meta.len() > cap as u64 {
        return Ok(FileDiff::TooLarge { limit: cap });
    }
    // Exit code 1 is "differences found".
    let added = Git::new(worktree)
        .args(["diff", "--no-index", "--no-color", "--no-ext-diff", "--no-textconv"])
        .args(["--src-prefix=a/", "--dst-prefix=b/", "--", "/dev/null"])
        .arg(&rel)
        .max_output(cap)
        .output()?;
    if added.truncated {
        return Ok(FileDiff::TooLarge { limit: cap });
    }
    if added.status.code() != Some(1) {
        return Err(Error::Conflict(format!("no diff for {path:?}: {}", added.stderr.trim())));
    }
    Ok(classify(added.stdout))
}

/// A diff without hunks that says "Binary files … differ" is a binary file's.
fn classify(out: Vec<u8>) -> FileDiff {
    let diff = String::from_utf8_lossy(&out).into_owned();
    let binary = diff.lines().any(|l| l.starts_with("Binary files ") && l.ends_with(" differ"));
    if binary && !diff.lines().any(|l| l.starts_with("@@")) {
        return FileDiff::Binary;
    }
    FileDiff::Text { diff }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_paths_stay_relative() {
        let root = Path::new("/nonexistent-root");
        assert_eq!(inside(root, "src/./a.rs").unwrap(), PathBuf::from("src/a.rs"));
        for bad in ["", "/etc/passwd", "../x", "a/../../x", ".git/config", "a/.git/HEAD", ".", "a\0b"] {
            assert!(matches!(inside(root, bad), Err(Error::Invalid(_))), "{bad:?}");
        }
    }
}
