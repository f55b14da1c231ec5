//! "This workspace may have changed": file-system notifications (the `notify` crate) over a
//! worktree, debounced into one callback per burst, on a thread of their own. The caller
//! recomputes `changes` once per callback; nothing is rescanned per write.
//!
//! Watched: the worktree (recursively) and, of git's own files, only what moves the
//! changes: HEAD, the index and the refs (a commit, a checkout, `git add`). Reads (our own
//! `git status` opens files too), lock files, git's objects and logs, and paths the
//! worktree's top `.gitignore` or `info/exclude` ignore (a build's output) are dropped.
//! A nested `.gitignore` is not consulted: what it ignores costs a recompute, nothing more.
//!
//! One inotify watch per directory (Linux): a tree of many directories needs
//! `fs.inotify.max_user_watches` to match.

use super::git::Git;
use super::Error;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use notify::event::{AccessKind, AccessMode, EventKind, MetadataKind, ModifyKind};
use notify::{RecursiveMode, Watcher as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The usual debounce: a burst of writes within it is one callback.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// Watches while it lives. Dropped: the watch ends (a burst already seen may still call back
/// once).
pub struct Watcher {
    _watcher: notify::RecommendedWatcher,
}

/// Watches the worktree at `worktree` and calls `on_change` (on the watcher's thread) at the
/// end of each `debounce` window that saw a relevant change.
pub fn watch(worktree: &Path, debounce: Duration, on_change: impl FnMut() + Send + 'static) -> Result<Watcher, Error> {
    let root = worktree.canonicalize().map_err(|e| Error::io(worktree.display(), e))?;
    let git_dir = git_path(&root, "--absolute-git-dir")?;
    let common = git_path(&root, "--git-common-dir")?;
    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(tx).map_err(watch_error)?;
    watcher.watch(&root, RecursiveMode::Recursive).map_err(watch_error)?;
    // A linked worktree's HEAD and index live in the repository's `.git/worktrees/<name>`,
    // its branch in the shared refs: outside the tree.
    if !git_dir.starts_with(&root) {
        watcher.watch(&git_dir, RecursiveMode::NonRecursive).map_err(watch_error)?;
    }
    if !common.starts_with(&root) {
        watcher.watch(&common, RecursiveMode::NonRecursive).map_err(watch_error)?;
        watcher.watch(&common.join("refs"), RecursiveMode::Recursive).map_err(watch_error)?;
    }
    let filter = Filter { ignored: ignored(&root, &common), root, git_dirs: [git_dir, common] };
    std::thread::Builder::new()
        .name("workspace-watch".into())
        .spawn(move || debounced(rx, filter, debounce, on_change))
        .map_err(|e| Error::io("the watcher's thread", e))?;
    Ok(Watcher { _watcher: watcher })
}

fn watch_error(e: notify::Error) -> Error {
    Error::Io(format!("cannot watch the workspace: {e}"))
}

/// One of git's directories for the worktree, absolute and canonical.
fn git_path(root: &Path, which: &str) -> Result<PathBuf, Error> {
    let path = root.join(Git::new(root).args(["rev-parse", which]).text()?);
    path.canonicalize().map_err(|e| Error::io(path.display(), e))
}

/// The first relevant event opens a window; at its end, one callback. Changes seen while the
/// callback ran have waited already: their window counts from its start, and after a callback
/// slower than the window the next waits as long again (one at a time, at most half the time
/// spent in them, so a slow repository backs off; a long burst is one callback more, never
/// one per event). Ends when the watcher is dropped (its sender with it).
fn debounced(
    rx: mpsc::Receiver<notify::Result<notify::Event>>,
    mut filter: Filter,
    debounce: Duration,
    mut on_change: impl FnMut(),
) {
    let mut pending: Option<Instant> = None;
    loop {
        let end = match pending.take() {
            Some(end) => end,
            None => match rx.recv() {
                Ok(first) if filter.relevant(&first) => Instant::now() + debounce,
                Ok(_) => continue,
                Err(_) => return,
            },
        };
        loop {
            match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
                Ok(event) => {
                    filter.relevant(&event);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
        let started = Instant::now();
        on_change();
        let next = started + debounce.max(started.elapsed() * 2);
        loop {
            match rx.try_recv() {
                Ok(event) if filter.relevant(&event) => pending = Some(next),
                Ok(_) => {}
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => return,
            }
        }
    }
}

/// Which events matter.
struct Filter {
    root: PathBuf,
    /// The worktree's git directory and the repository's common one.
    git_dirs: [PathBuf; 2],
    ignored: Gitignore,
}

impl Filter {
    /// Whether `event` may change the workspace's changes (errors and overflows do: the
    /// caller looks again). Reloads the ignore rules when `.gitignore` changed.
    fn relevant(&mut self, event: &notify::Result<notify::Event>) -> bool {
        let Ok(event) = event else { return true };
        if event.need_rescan() {
            return true;
        }
        let counts = match event.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            EventKind::Access(_) => false,
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
            _ => true,
        };
        if !counts {
            return false;
        }
        let mut any = false;
        for path in &event.paths {
            if path == &self.root.join(".gitignore") {
                self.ignored = ignored(&self.root, &self.git_dirs[1]);
            }
            any |= self.path_counts(path);
        }
        any
    }

    fn path_counts(&self, path: &Path) -> bool {
        if path.extension().is_some_and(|e| e == "lock") {
            return false;
        }
        for dir in &self.git_dirs {
            if let Ok(rel) = path.strip_prefix(dir) {
                return rel == Path::new("HEAD")
                    || rel == Path::new("index")
                    || rel == Path::new("packed-refs")
                    || rel.starts_with("refs");
            }
        }
        let Ok(rel) = path.strip_prefix(&self.root) else { return false };
        if rel.starts_with(".git") || rel.as_os_str().is_empty() {
            return false;
        }
        !self.ignored.matched_path_or_any_parents(rel, path.is_dir()).is_ignore()
    }
}

/// The worktree's top `.gitignore` and the repository's `info/exclude`.
fn ignored(root: &Path, common: &Path) -> Gitignore {
    let mut builder = GitignoreBuilder::new(root);
    builder.add(root.join(".gitignore"));
    builder.add(common.join("info").join("exclude"));
    builder.build().unwrap_or_else(|_| Gitignore::empty())
}
