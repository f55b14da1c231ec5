//! Making a workspace: the repository a project's directory is in, the branch's name (as git
//! checks it), `git worktree add -b <branch> <path> <base>` under the data directory, the
//! files `.worktreeinclude` lists copied in (see `include`), and where the setup script is.

use super::git::Git;
use super::include::{copy_included, Included};
use super::Error;
use crate::model::limits::BRANCH_MAX;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Making a worktree checks out every file: a large repository takes a while.
pub(crate) const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(300);
/// Longest slug taken from a task's title.
const SLUG_MAX: usize = 40;

/// The git repository a directory is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    /// The top of its working tree (for a linked worktree, the worktree's own top).
    pub root: PathBuf,
    /// The branch checked out there; `None` when HEAD is detached.
    pub branch: Option<String>,
    /// HEAD's commit; `None` before the first commit.
    pub head: Option<String>,
}

/// Which repository `dir` is in, its branch and HEAD; `Conflict` when it is in none.
pub fn repo_of(dir: &Path) -> Result<Repo, Error> {
    if !dir.is_dir() {
        return Err(Error::Invalid(format!("{} is not a directory", dir.display())));
    }
    let root = Git::new(dir)
        .args(["rev-parse", "--show-toplevel"])
        .text()
        .map_err(|e| Error::Conflict(format!("{} is not inside a git working tree ({e})", dir.display())))?;
    let branch = Git::new(dir).args(["symbolic-ref", "-q", "--short", "HEAD"]).output()?;
    let head = Git::new(dir).args(["rev-parse", "-q", "--verify", "HEAD^{commit}"]).output()?;
    Ok(Repo {
        root: PathBuf::from(root),
        branch: branch.status.success().then(|| branch.text()),
        head: head.status.success().then(|| head.text()),
    })
}

/// `maestro/<slug>-<4 random chars>`, the slug from a task's title.
pub fn branch_name(title: &str) -> String {
    format!("maestro/{}-{}", slug(title), suffix())
}

/// ASCII lowercase letters and digits joined by `-`, at most `SLUG_MAX` long; `task` when
/// the title has none.
pub fn slug(title: &str) -> String {
    let mut slug = String::new();
    for word in title.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        if slug.len() + 1 + word.len() > SLUG_MAX {
            if slug.is_empty() {
                slug.push_str(&word[..SLUG_MAX].to_ascii_lowercase());
            }
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    if slug.is_empty() {
        slug.push_str("task");
    }
    slug
}

/// Four random characters from `[0-9a-z]`.
fn suffix() -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    uuid::Uuid::new_v4().as_bytes()[..4].iter().map(|b| DIGITS[*b as usize % DIGITS.len()] as char).collect()
}

/// Checks a branch name as git does (`git check-ref-format --branch`), run in `dir`.
pub fn check_branch(dir: &Path, name: &str) -> Result<(), Error> {
    let invalid = |why: &str| Error::Invalid(format!("{name:?} is not a valid branch name: {why}"));
    // What check-ref-format would read as an option or expand (`@{-1}`), or takes as a name
    // git itself refuses to create.
    if name.is_empty() || name.starts_with('-') || name.contains("@{") || name == "HEAD" {
        return Err(invalid("git refuses it"));
    }
    if name.len() > BRANCH_MAX {
        return Err(invalid(&format!("longer than {BRANCH_MAX} bytes")));
    }
    let out = Git::new(dir).args(["check-ref-format", "--branch", name]).output()?;
    if !out.status.success() || out.text() != name {
        return Err(invalid("git refuses it"));
    }
    Ok(())
}

/// A revision a client named (a base branch): never read as an option, never a range.
pub(crate) fn check_rev(rev: &str) -> Result<(), Error> {
    if rev.is_empty() || rev.starts_with('-') || rev.contains("..") || rev.chars().any(|c| c.is_control()) {
        return Err(Error::Invalid(format!("{rev:?} is not a branch or commit")));
    }
    Ok(())
}

/// The commit `rev` names in the repository at `dir`.
pub(crate) fn commit_of(dir: &Path, rev: &str) -> Result<String, Error> {
    check_rev(rev)?;
    let out = Git::new(dir)
        .args(["rev-parse", "-q", "--verify", "--end-of-options", &format!("{rev}^{{commit}}")])
        .output()?;
    if !out.status.success() {
        return Err(Error::Conflict(format!("{rev:?} is not a commit in {} (no commits yet?)", dir.display())));
    }
    Ok(out.text())
}

/// Whether `refs/heads/<branch>` exists.
fn branch_exists(dir: &Path, branch: &str) -> Result<bool, Error> {
    let out = Git::new(dir).args(["show-ref", "--verify", "--quiet", &format!("refs/heads/{branch}")]).output()?;
    Ok(out.status.success())
}

/// What to make: a worktree of the repository `repo` is in, under `<root>/<project>/`.
#[derive(Debug, Clone)]
pub struct NewWorktree<'a> {
    /// The project's directory (`basePath`): inside the repository, the person's checkout.
    pub repo: &'a Path,
    /// Where worktrees live (`DATA_DIR/worktrees`).
    pub root: &'a Path,
    /// The project's id: a directory name under `root`.
    pub project: &'a str,
    /// The task's title, for the branch's name.
    pub title: &'a str,
    /// The branch to start from; the one checked out in `repo` when `None`.
    pub base: Option<&'a str>,
    /// The branch to make; `maestro/<slug>-<4 chars>` when `None`.
    pub branch: Option<&'a str>,
}

/// A worktree made.
#[derive(Debug, Clone)]
pub struct Made {
    pub path: PathBuf,
    pub branch: String,
    pub base: String,
    pub base_commit: String,
    /// The files `.worktreeinclude` listed, copied or refused (with why).
    pub included: Included,
    /// The setup script to run in the terminal before the agent, when the repository has one.
    pub setup: Option<PathBuf>,
}

/// Makes a worktree on a new branch from the base's current commit and copies the files
/// `.worktreeinclude` lists from the person's checkout into it.
pub fn make(new: &NewWorktree) -> Result<Made, Error> {
    check_dir_name(new.project)?;
    let repo = repo_of(new.repo)?;
    let base = match (new.base, &repo.branch) {
        (Some(base), _) => base.to_string(),
        (None, Some(branch)) => branch.clone(),
        (None, None) => {
            return Err(Error::Conflict(format!(
                "{} has no branch checked out: name a base branch",
                repo.root.display()
            )))
        }
    };
    let base_commit = commit_of(&repo.root, &base)?;
    let parent = new.root.join(new.project);
    let (branch, path) = match new.branch {
        Some(branch) => {
            check_branch(&repo.root, branch)?;
            if branch_exists(&repo.root, branch)? {
                return Err(Error::Conflict(format!("a branch named {branch:?} already exists")));
            }
            let dir = branch.strip_prefix("maestro/").unwrap_or(branch).replace('/', "-");
            (branch.to_string(), parent.join(dir))
        }
        None => free_name(&repo.root, &parent, new.title)?,
    };
    if path.exists() {
        return Err(Error::Conflict(format!("{} already exists", path.display())));
    }
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(parent.display(), e))?;
    Git::new(&repo.root)
        .args(["worktree", "add", "-b", &branch, "--"])
        .arg(&path)
        .arg(&base_commit)
        .timeout(CHECKOUT_TIMEOUT)
        .run()?;
    settle_index(&path);
    // The worktree exists now: a failed copy is reported with it, not as a failure.
    let included = copy_included(&repo.root, &path).unwrap_or_else(|e| Included {
        refused: vec![(".worktreeinclude".into(), e.to_string())],
        ..Included::default()
    });
    let setup = setup_script(&path);
    Ok(Made { path, branch, base, base_commit, included, setup })
}

/// Writes the index of a worktree just checked out once more, before anyone else uses it. git
/// wrote it within moments of the files, so most are "racily clean" (no older than the index):
/// every later diff or status would read them whole, as the server's git calls never write
/// the index back (docs/PERF.md, workspaces at size). Only now is taking the index's lock
/// safe; a failure leaves those reads to later calls.
pub(crate) fn settle_index(worktree: &Path) {
    let refresh = Git::new(worktree).args(["update-index", "-q", "--refresh"]).timeout(CHECKOUT_TIMEOUT).output();
    if let Err(e) = refresh {
        tracing::debug!(worktree = %worktree.display(), error = %e, "cannot refresh a new worktree's index");
    }
}

/// A branch name and directory both unused (random suffixes rarely meet; try a few).
fn free_name(repo: &Path, parent: &Path, title: &str) -> Result<(String, PathBuf), Error> {
    for _ in 0..8 {
        let branch = branch_name(title);
        let path = parent.join(branch.trim_start_matches("maestro/"));
        if !path.exists() && !branch_exists(repo, &branch)? {
            return Ok((branch, path));
        }
    }
    Err(Error::Conflict("no free branch name found for this task".into()))
}

/// A single directory name: no separators, no `.`/`..`, nothing hidden.
fn check_dir_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!("{name:?} cannot name a directory")))
    }
}

/// An existing workspace, for a later session: its directory is a worktree on `branch`.
pub fn reuse(path: &Path, branch: &str) -> Result<Repo, Error> {
    if !path.is_dir() {
        return Err(Error::Conflict(format!("the workspace's directory {} is missing: restore it", path.display())));
    }
    let repo = repo_of(path)?;
    let same = |a: &Path, b: &Path| a.canonicalize().ok().is_some_and(|a| b.canonicalize().ok() == Some(a));
    if !same(&repo.root, path) {
        return Err(Error::Conflict(format!("{} is not the top of a worktree", path.display())));
    }
    if repo.branch.as_deref() != Some(branch) {
        let now = repo.branch.as_deref().unwrap_or("a detached HEAD");
        return Err(Error::Conflict(format!("the workspace is on {now}, not on {branch}")));
    }
    Ok(repo)
}

/// `.maestro/setup.sh` in the worktree, when it is a file there (not a link leading out).
pub fn setup_script(worktree: &Path) -> Option<PathBuf> {
    let script = worktree.join(".maestro").join("setup.sh");
    let real = script.canonicalize().ok()?;
    (real.starts_with(worktree.canonicalize().ok()?) && real.is_file()).then_some(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_short_lowercase_ascii() {
        assert_eq!(slug("Fix the Login bug!"), "fix-the-login-bug");
        assert_eq!(slug("  ünïcode ✓ "), "n-code");
        assert_eq!(slug("✓✓"), "task");
        assert_eq!(slug(&"a".repeat(100)).len(), SLUG_MAX);
        assert!(slug(&"word ".repeat(30)).len() <= SLUG_MAX);
        let name = branch_name("Add dark mode");
        assert!(
            name.starts_with("maestro/add-dark-mode-") && name.len() == "maestro/add-dark-mode-".len() + 4,
            "{name}"
        );
    }

    #[test]
    fn revisions_from_clients_are_never_options() {
        assert!(check_rev("main").is_ok());
        for bad in ["", "-x", "--output=/tmp/x", "a..b", "a\nb"] {
            assert!(matches!(check_rev(bad), Err(Error::Invalid(_))), "{bad:?}");
        }
        assert!(check_dir_name("proj_1").is_ok());
        for bad in ["", "..", ".", "a/b", ".hidden"] {
            assert!(check_dir_name(bad).is_err(), "{bad:?}");
        }
    }
}
