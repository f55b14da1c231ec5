//! What a workspace changed: everything that differs from the merge-base with its base
//! branch — commits on the branch, staged, unstaged and untracked files (`.gitignore`
//! respected) — per file and in total, with how far the branch is ahead of and behind base.
//!
//! Four git calls, whatever the size of the tree: `merge-base`; `rev-list --left-right
//! --count`; `diff --raw --numstat -M <merge-base>` (the merge-base's tree against the working
//! tree: committed, staged and unstaged at once); `ls-files --others --exclude-standard`
//! (untracked files). Each of the last two reads the whole tree once (a `status` would read
//! it a third time), so whether anything is uncommitted is told from them where it can be; a
//! fifth call checks HEAD only when they cannot tell. Untracked files' lines are counted by
//! reading them, with a byte cap per file and per call.

use super::git::{fields, path_text, Git, GitError};
use super::make::check_rev;
use super::Error;
use crate::model::{ChangeSummary, FileChange, FileStatus, WorkspaceFiles};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Bytes of one untracked file read to count its lines.
const UNTRACKED_FILE_CAP: u64 = 8 << 20;
/// Bytes of untracked files read in one call; past it their lines count as 0.
const UNTRACKED_TOTAL_CAP: u64 = 64 << 20;
/// git's own test for a binary file: a NUL in its first 8000 bytes.
const BINARY_PROBE: usize = 8000;

/// The changes of the worktree at `worktree` against `base` (a branch or commit).
pub fn changes(worktree: &Path, base: &str) -> Result<WorkspaceFiles, Error> {
    let merge_base = merge_base(worktree, base)?;
    let diff = Git::new(worktree)
        .args(["diff", "--raw", "--numstat", "-z", "-M", "--no-relative", "--no-ext-diff", "--no-textconv"])
        .args([merge_base.as_str(), "--"])
        .run()?;
    let mut files = parse_diff(&diff.stdout);
    let counts = Git::new(worktree)
        .args(["rev-list", "--left-right", "--count", "--end-of-options", &format!("{base}...HEAD")])
        .text()?;
    let mut counts = counts.split_whitespace().map(|n| n.parse::<u64>().unwrap_or(0));
    let (behind, ahead) = (counts.next().unwrap_or(0), counts.next().unwrap_or(0));
    let untracked = Git::new(worktree).args(["ls-files", "-z", "--others", "--exclude-standard"]).run()?;
    let dirty = fields(&untracked.stdout).next().is_some() || uncommitted(worktree, ahead == 0, !files.is_empty())?;
    let mut budget = UNTRACKED_TOTAL_CAP;
    let at: HashMap<String, usize> = files.iter().enumerate().map(|(i, f)| (f.path.clone(), i)).collect();
    for path in fields(&untracked.stdout) {
        let path = path_text(path);
        let (lines, binary) = count_lines(&worktree.join(&path), &mut budget);
        let added = FileChange {
            status: if binary { FileStatus::Binary } else { FileStatus::Added },
            additions: lines,
            deletions: 0,
            old_path: None,
            path,
        };
        // `git rm --cached` leaves a file deleted in the index and untracked on disk.
        match at.get(&added.path).map(|&i| &mut files[i]) {
            Some(known) => {
                known.status = if binary { FileStatus::Binary } else { FileStatus::Modified };
                known.additions = lines;
            }
            None => files.push(added),
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let summary = ChangeSummary {
        files: files.len() as u64,
        additions: files.iter().map(|f| f.additions).sum(),
        deletions: files.iter().map(|f| f.deletions).sum(),
        ahead,
        behind,
        dirty,
    };
    Ok(WorkspaceFiles { merge_base, files, summary })
}

/// The merge-base of `base` and HEAD; a clean refusal when base is gone or unrelated.
pub(crate) fn merge_base(worktree: &Path, base: &str) -> Result<String, Error> {
    check_rev(base)?;
    Git::new(worktree)
        .args(["merge-base", "--end-of-options", base, "HEAD"])
        .text()
        .map_err(|e| Error::Conflict(format!("no common commit with {base:?}: {e}")))
}

/// Whether the index or a tracked file differs from HEAD. With no commits on the branch the
/// merge-base is HEAD, so the diff against it (`changed`: not empty) already told the files.
fn uncommitted(worktree: &Path, head_is_merge_base: bool, changed: bool) -> Result<bool, Error> {
    if head_is_merge_base && changed {
        return Ok(true);
    }
    let index: &[&str] = &["diff-index", "--quiet", "--cached", "HEAD", "--"];
    let files: &[&str] = &["diff-index", "--quiet", "HEAD", "--"];
    let checks = if head_is_merge_base { &[index][..] } else { &[index, files][..] };
    for check in checks {
        match Git::new(worktree).args(*check).run() {
            Ok(_) => {}
            // Exit code 1: they differ.
            Err(GitError::Failed { code: Some(1), .. }) => return Ok(true),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}

/// Parses `git diff --raw --numstat -z -M`: first every raw record (`:modes shas STATUS`,
/// then one path, or two for a rename), then every numstat record (`added\tdeleted\tpath`,
/// or `added\tdeleted\t` and the two paths of a rename); `-` counts mark a binary file.
fn parse_diff(out: &[u8]) -> Vec<FileChange> {
    let mut files: Vec<FileChange> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut it = fields(out);
    while let Some(record) = it.next() {
        if let Some(raw) = record.strip_prefix(b":") {
            let letter = raw.rsplit(|b| *b == b' ').next().and_then(|s| s.first().copied()).unwrap_or(b'M');
            let (old_path, path) = match letter {
                b'R' | b'C' => (it.next().map(path_text), it.next().map(path_text)),
                _ => (None, it.next().map(path_text)),
            };
            let Some(path) = path else { break };
            let status = match letter {
                b'A' => FileStatus::Added,
                b'D' => FileStatus::Deleted,
                b'R' => FileStatus::Renamed,
                b'C' => FileStatus::Added,
                _ => FileStatus::Modified,
            };
            let old_path = old_path.filter(|_| letter == b'R');
            at.insert(path.clone(), files.len());
            files.push(FileChange { path, old_path, status, additions: 0, deletions: 0 });
            continue;
        }
        let mut parts = record.splitn(3, |b| *b == b'\t');
        let (added, deleted, path) = (parts.next(), parts.next(), parts.next().unwrap_or_default());
        let path = if path.is_empty() {
            it.next();
            it.next().map(path_text)
        } else {
            Some(path_text(path))
        };
        let Some(index) = path.and_then(|p| at.get(&p).copied()) else { continue };
        let count = |n: Option<&[u8]>| std::str::from_utf8(n.unwrap_or_default()).ok().and_then(|n| n.parse().ok());
        match (count(added), count(deleted)) {
            (Some(a), Some(d)) => (files[index].additions, files[index].deletions) = (a, d),
            _ => files[index].status = FileStatus::Binary,
        }
    }
    files
}

/// Lines of an untracked file (never following a link: a link is one line, as git counts
/// it), and whether it is binary. Reads at most the per-file cap and what is left of `budget`.
fn count_lines(path: &Path, budget: &mut u64) -> (u64, bool) {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return (0, false) };
    if meta.file_type().is_symlink() {
        return (1, false);
    }
    if !meta.is_file() || meta.len() == 0 {
        return (0, false);
    }
    let cap = UNTRACKED_FILE_CAP.min(*budget);
    let Ok(file) = std::fs::File::open(path) else { return (0, false) };
    let mut bytes = Vec::new();
    let _ = file.take(cap).read_to_end(&mut bytes);
    *budget -= bytes.len() as u64;
    if bytes[..bytes.len().min(BINARY_PROBE)].contains(&0) {
        return (0, true);
    }
    let newlines = bytes.iter().filter(|b| **b == b'\n').count() as u64;
    let unfinished = bytes.last().is_some_and(|b| *b != b'\n');
    (newlines + unfinished as u64, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_numstat_records_join_by_path() {
        let records = [
            ":100644 100644 aaa bbb M",
            "src/a.rs",
            ":000000 100644 000 ccc A",
            "new.txt",
            ":100644 100644 ddd eee R090",
            "old name",
            "new name",
            ":100644 100644 fff 111 M",
            "logo.png",
            "3\t1\tsrc/a.rs",
            "2\t0\tnew.txt",
            "1\t1\t",
            "old name",
            "new name",
            "-\t-\tlogo.png",
        ];
        let out = records.join("\0") + "\0";
        let files = parse_diff(out.as_bytes());
        let find = |p: &str| files.iter().find(|f| f.path == p).unwrap().clone();
        assert_eq!(
            (find("src/a.rs").status, find("src/a.rs").additions, find("src/a.rs").deletions),
            (FileStatus::Modified, 3, 1)
        );
        assert_eq!((find("new.txt").status, find("new.txt").additions), (FileStatus::Added, 2));
        let renamed = find("new name");
        assert_eq!(
            (renamed.status, renamed.old_path.as_deref(), renamed.additions),
            (FileStatus::Renamed, Some("old name"), 1)
        );
        assert_eq!(find("logo.png").status, FileStatus::Binary);
        assert!(parse_diff(b":100644 100644 a b M\0").is_empty(), "a cut record is dropped");
    }
}
