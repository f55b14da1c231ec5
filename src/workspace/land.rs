//! Landing a workspace (SPEC §8 "Landing"): commit everything, merge into the base branch
//! (a merge commit or one squashed commit), rebase onto the base, push to the remote.
//!
//! A refusal or a conflict changes nothing. A merge is computed without any checkout
//! (`merge-tree --write-tree`, then `commit-tree`) and moves the base branch by an update
//! checked against its old value; the person's own checkout is touched only when it has the
//! base branch checked out and is clean, and then only by a fast-forward. Uncommitted work
//! in the workspace refuses a merge or rebase ("commit first") rather than being committed
//! behind the person's back: an agent may be writing those files just now.

use super::archive::{some, uncommitted};
use super::git::{fields, path_text, Git};
use super::make::check_branch;
use super::Error;
use crate::model::MergeStrategy;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A push's time limit: the network, and the remote's hooks.
pub const PUSH_TIMEOUT: Duration = Duration::from_secs(90);
/// Who commits when the repository's configuration names no one.
const FALLBACK_NAME: &str = "user.name=Maestro";
const FALLBACK_EMAIL: &str = "user.email=maestro@localhost";

/// Commits everything in `worktree` (staged, unstaged, untracked; `.gitignore` respected)
/// as the repository's configured author. Returns the new commit.
pub fn commit(worktree: &Path, message: &str) -> Result<String, Error> {
    settled(worktree, "commit")?;
    Git::new(worktree).args(["add", "-A"]).run()?;
    let staged = Git::new(worktree).args(["diff", "--cached", "--quiet"]).output()?;
    match staged.status.code() {
        Some(0) => {
            return Err(Error::Conflict("nothing to commit: the workspace has no changes since its last commit".into()))
        }
        Some(1) => {}
        _ => return Err(staged.failure("diff --cached").into()),
    }
    Git::new(worktree).args(identity(worktree)).args(["commit", "-q", "-m", message]).run()?;
    Ok(Git::new(worktree).args(["rev-parse", "HEAD"]).text()?)
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The base branch's new tip.
    pub commit: String,
    /// The checkout of the base branch brought along (fast-forwarded), if there was one.
    pub checkout: Option<PathBuf>,
}

/// Merges `branch` into `base` (both branches of the repository `repo` is in), from the
/// workspace at `worktree`. Refused with uncommitted work in the workspace, with nothing to
/// merge, when base's checkout has uncommitted changes, and when it would conflict
/// ([`Error::Conflicts`], listing the files); each refusal changes nothing.
pub fn merge(
    repo: &Path,
    worktree: &Path,
    base: &str,
    branch: &str,
    strategy: MergeStrategy,
    message: &str,
) -> Result<Merged, Error> {
    check_branch(repo, base)?;
    check_branch(repo, branch)?;
    settled(worktree, "merge")?;
    commit_first(worktree, "merging")?;
    let base_ref = format!("refs/heads/{base}");
    let old =
        tip(repo, &base_ref).ok_or_else(|| Error::Conflict(format!("the base branch {base} no longer exists")))?;
    let theirs = tip(repo, &format!("refs/heads/{branch}"))
        .ok_or_else(|| Error::Conflict(format!("the workspace's branch {branch} no longer exists")))?;
    let up_to_date = Git::new(repo).args(["merge-base", "--is-ancestor", &theirs, &old]).output()?;
    if up_to_date.status.success() {
        return Err(Error::Conflict(format!("nothing to merge: {base} already has every commit of {branch}")));
    }
    let checkout = checkout_of(repo, &base_ref)?;
    if let Some(dir) = &checkout {
        let status = Git::new(dir).args(["status", "--porcelain=v1", "-z", "--untracked-files=no"]).run()?;
        let dirty: Vec<String> = fields(&status.stdout).map(|f| path_text(f.get(3..).unwrap_or(f))).collect();
        if !dirty.is_empty() {
            return Err(Error::Conflict(format!(
                "{base} is checked out at {} with uncommitted changes ({}): commit or stash them there, then merge again",
                dir.display(),
                some(&dirty)
            )));
        }
    }
    let tree = merged_tree(repo, &old, &theirs, base, branch)?;
    let mut new = Git::new(repo).args(identity(repo)).args(["commit-tree", &tree, "-p", &old]);
    if strategy == MergeStrategy::Merge {
        new = new.args(["-p", &theirs]);
    }
    let new = new.args(["-m", message]).text()?;
    match &checkout {
        // A fast-forward: the person's files follow, and git refuses rather than overwrite
        // an untracked file of theirs.
        Some(dir) => Git::new(dir).args(["merge", "--ff-only", "-q", &new]).run()?,
        None => {
            let why = format!("maestro: merge {branch}");
            Git::new(repo).args(["update-ref", "-m", &why, &base_ref, &new, &old]).run()?
        }
    };
    Ok(Merged { commit: new, checkout })
}

/// Rebases the workspace's branch onto `base`'s current tip. A conflict aborts the rebase
/// ([`Error::Conflicts`], listing the files): the branch and the files are as they were.
pub fn rebase(worktree: &Path, base: &str) -> Result<(), Error> {
    check_branch(worktree, base)?;
    settled(worktree, "rebase")?;
    commit_first(worktree, "rebasing")?;
    let onto = format!("refs/heads/{base}");
    if tip(worktree, &onto).is_none() {
        return Err(Error::Conflict(format!("the base branch {base} no longer exists")));
    }
    let out = Git::new(worktree).args(identity(worktree)).args(["rebase", "-q", "--no-autostash", &onto]).output()?;
    if out.status.success() {
        return Ok(());
    }
    let files = unmerged(worktree).unwrap_or_default();
    // Whatever stopped it, the branch goes back to where it was.
    let aborted = Git::new(worktree).args(["rebase", "--abort"]).run();
    if files.is_empty() {
        // Not a conflict: git's own reason (a refused start left nothing to abort).
        return Err(out.failure("rebase").into());
    }
    aborted?;
    Err(Error::Conflicts {
        message: format!(
            "rebasing onto {base} would conflict in {} file(s) ({}); nothing was changed: resolve them in the workspace",
            files.len(),
            some(&files)
        ),
        files,
    })
}

/// The remote a push from `worktree` goes to: `origin`, or the repository's only one;
/// refused (with what to do) when there is none or none is the one.
pub fn remote(worktree: &Path) -> Result<String, Error> {
    let remotes = Git::new(worktree).arg("remote").text()?;
    let remotes: Vec<&str> = remotes.lines().filter(|r| !r.is_empty()).collect();
    let remote = match remotes[..] {
        [] => {
            return Err(Error::Conflict(
                "no remote: the repository has no remote to push to (git remote add origin URL)".into(),
            ))
        }
        _ if remotes.contains(&"origin") => "origin",
        [only] => only,
        _ => {
            return Err(Error::Conflict(format!(
                "the repository has several remotes ({}) and none is called origin",
                remotes.join(", ")
            )))
        }
    };
    Ok(remote.to_string())
}

/// Pushes `branch` to the repository's remote (see [`remote`]), never asking for
/// credentials. Returns the remote's name.
pub fn push(worktree: &Path, branch: &str) -> Result<String, Error> {
    check_branch(worktree, branch)?;
    let remote = remote(worktree)?;
    let mut git = Git::new(worktree);
    // ssh must fail rather than ask for a passphrase; a command of the person's is kept.
    if config(worktree, "core.sshCommand").is_none() {
        git = git.args(["-c", "core.sshCommand=ssh -o BatchMode=yes"]);
    }
    let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
    git.args(["push", "-q", "--", &remote, &refspec])
        .env("GIT_ASKPASS", "")
        .env("SSH_ASKPASS_REQUIRE", "never")
        .timeout(PUSH_TIMEOUT)
        .run()?;
    Ok(remote)
}

/// Refuses while a rebase, merge, cherry-pick or revert stopped half way in `worktree` (run
/// there by the person or an agent), or files are left unmerged: a commit would take their
/// conflict markers, a merge or rebase the branch as it was before.
fn settled(worktree: &Path, doing: &str) -> Result<(), Error> {
    let under_way = [
        ("rebase-merge", "a rebase", "git rebase --continue"),
        ("rebase-apply", "a rebase", "git rebase --continue"),
        ("MERGE_HEAD", "a merge", "git commit"),
        ("CHERRY_PICK_HEAD", "a cherry-pick", "git cherry-pick --continue"),
        ("REVERT_HEAD", "a revert", "git revert --continue"),
    ];
    for (state, what, finish) in under_way {
        let at = Git::new(worktree).args(["rev-parse", "--path-format=absolute", "--git-path", state]).text()?;
        if Path::new(&at).exists() {
            return Err(Error::Conflict(format!(
                "{what} is under way in the workspace: finish it there ({finish}) or abort it, then {doing} again"
            )));
        }
    }
    let files = unmerged(worktree)?;
    if !files.is_empty() {
        return Err(Error::Conflict(format!(
            "{} file(s) in the workspace have unresolved conflicts ({}): resolve them there, then {doing} again",
            files.len(),
            some(&files)
        )));
    }
    Ok(())
}

/// The files left unmerged in `worktree` (a conflict git stopped on).
fn unmerged(worktree: &Path) -> Result<Vec<String>, Error> {
    let out = Git::new(worktree).args(["diff", "--name-only", "-z", "--diff-filter=U"]).run()?;
    Ok(fields(&out.stdout).map(path_text).collect())
}

/// Refuses while `worktree` has uncommitted work.
fn commit_first(worktree: &Path, doing: &str) -> Result<(), Error> {
    let dirty = uncommitted(worktree)?;
    if dirty.is_empty() {
        return Ok(());
    }
    Err(Error::Conflict(format!(
        "{} uncommitted file(s) in the workspace ({}): commit first, then try {doing} again",
        dirty.len(),
        some(&dirty)
    )))
}

/// The tree of `ours` and `theirs` merged, without touching any checkout; a conflict is
/// [`Error::Conflicts`] with the files.
fn merged_tree(repo: &Path, ours: &str, theirs: &str, base: &str, branch: &str) -> Result<String, Error> {
    let out = Git::new(repo)
        .args(["merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", ours, theirs])
        .output()?;
    let mut parts = fields(&out.stdout).map(path_text);
    let tree = parts.next().unwrap_or_default();
    match out.status.code() {
        Some(0) => Ok(tree),
        Some(1) => {
            let mut files: Vec<String> = parts.collect();
            files.dedup();
            Err(Error::Conflicts {
                message: format!(
                    "merging {branch} into {base} would conflict in {} file(s) ({}); nothing was changed: \
                     rebase onto {base}, or resolve them in the workspace",
                    files.len(),
                    some(&files)
                ),
                files,
            })
        }
        _ => Err(out.failure("merge-tree").into()),
    }
}

/// The commit `reference` points at, if it exists.
fn tip(dir: &Path, reference: &str) -> Option<String> {
    Git::new(dir).args(["rev-parse", "--verify", "-q", &format!("{reference}^{{commit}}")]).text().ok()
}

/// The worktree (the person's checkout, or another) that has `branch_ref` checked out.
fn checkout_of(repo: &Path, branch_ref: &str) -> Result<Option<PathBuf>, Error> {
    let list = Git::new(repo).args(["worktree", "list", "--porcelain", "-z"]).run()?;
    let mut at = None;
    for field in fields(&list.stdout).map(path_text) {
        if let Some(path) = field.strip_prefix("worktree ") {
            at = Some(PathBuf::from(path));
        } else if field.strip_prefix("branch ") == Some(branch_ref) {
            // A worktree whose directory is gone holds nothing to bring along.
            return Ok(at.filter(|p| p.is_dir()));
        }
    }
    Ok(None)
}

/// A configuration value of the repository, if set.
fn config(dir: &Path, key: &str) -> Option<String> {
    Git::new(dir).args(["config", "--get", key]).text().ok().filter(|v| !v.is_empty())
}

/// `-c` options naming a committer where the repository's configuration names none.
fn identity(dir: &Path) -> Vec<&'static str> {
    let mut args = Vec::new();
    for (key, fallback) in [("user.name", FALLBACK_NAME), ("user.email", FALLBACK_EMAIL)] {
        if config(dir, key).is_none() {
            args.extend(["-c", fallback]);
        }
    }
    args
}
