//! The workspace service, on the server: making a task's worktree and recording it,
//! archiving and restoring it (its changed files and diffs: `inspect`).
//!
//! Each git step runs on a blocking thread (at most [`JOBS`] for requests at once), then one
//! store command records what was done on disk. A mutation runs to its end in a task of its
//! own even when its caller goes away, so that no worktree is made without its record (and
//! one whose record is refused is removed again). `follow` keeps the active workspaces'
//! changes current.
//!
//! A workspace is acted on only by the node whose disk holds it (a request for one on
//! another's is passed there: `relay`), and only under this server's worktrees directory
//! (a path in the database is not trusted to be one we made).

use super::passed::Passed;
use super::refusal::{conflict, internal};
use super::watch::Watcher;
use super::{archive, changes, discard, disk_usage, make, restore, Error, NewWorktree};
use crate::http::AppError;
use crate::model::limits::BRANCH_MAX;
use crate::model::{error_code, NewWorkspace, SessionStatus, Workspace, WorkspaceStatus};
use crate::store::state::check_id;
use crate::store::{Command, IdempotencyKey, Outcome, Store, StoreError, WorkspaceMade, WorkspacePatch};
use axum::http::StatusCode;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::Semaphore;

/// The workspaces followed, by id: `None` while its watcher starts (or when it could not).
pub(super) type Followed = Mutex<HashMap<String, Option<Watcher>>>;

/// Requests' git work running at once (each is a few git processes); the rest wait.
const JOBS: usize = 4;

/// The server's workspaces: a cheap, cloneable handle.
#[derive(Clone)]
pub struct Workspaces {
    pub(super) inner: Arc<Inner>,
    /// This node's proof when it passes a request to the node holding a workspace.
    pub(super) node_key: Option<crate::auth::node::NodeKey>,
    /// Serving a request another node relayed: it is not passed on again.
    pub(super) relayed: bool,
}

pub(super) struct Inner {
    pub(super) store: Store,
    root: Root,
    /// The workspaces followed, by id (see `follow`).
    pub(super) followed: Followed,
    /// Workspaces being changed (archived, restored, landed): one change at a time, and not
    /// started being followed meanwhile.
    busy: Mutex<HashSet<String>>,
    jobs: Semaphore,
    /// Per task, held while a session's workspace is found or made (see `session`).
    pub(super) making: Mutex<HashMap<String, std::sync::Weak<tokio::sync::Mutex<()>>>>,
}

/// Where worktrees are made: `DATA_DIR/worktrees`, or a temporary directory for a server
/// in memory; made (and made canonical) when first needed.
struct Root {
    given: Option<PathBuf>,
    made: OnceLock<Result<(PathBuf, Option<tempfile::TempDir>), String>>,
}

impl Root {
    fn get(&self) -> Result<&Path, String> {
        let made = self.made.get_or_init(|| match &self.given {
            Some(dir) => std::fs::create_dir_all(dir)
                .and_then(|()| dir.canonicalize())
                .map(|d| (d, None))
                .map_err(|e| format!("worktrees directory {}: {e}", dir.display())),
            None => tempfile::Builder::new()
                .prefix("maestro-worktrees-")
                .tempdir()
                .and_then(|t| Ok((t.path().canonicalize()?, Some(t))))
                .map_err(|e| format!("a temporary worktrees directory: {e}")),
        });
        made.as_ref().map(|(dir, _)| dir.as_path()).map_err(Clone::clone)
    }
}

/// Marks a workspace busy while it lives.
pub(super) struct Busy<'a> {
    set: &'a Mutex<HashSet<String>>,
    id: String,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.set.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
    }
}

impl Workspaces {
    /// Workspaces of `store`, made under `root` (`DATA_DIR/worktrees`; `None`: a temporary
    /// directory). Nothing is followed until [`Workspaces::start`].
    pub fn new(store: Store, root: Option<PathBuf>) -> Workspaces {
        Workspaces {
            inner: Arc::new(Inner {
                store,
                root: Root { given: root, made: OnceLock::new() },
                followed: Followed::default(),
                busy: Mutex::default(),
                jobs: Semaphore::new(JOBS),
                making: Mutex::default(),
            }),
            node_key: None,
            relayed: false,
        }
    }

    /// Makes a worktree for the task on a new branch from `base` (the branch checked out in
    /// the project's directory when `None`), copies in what `.worktreeinclude` lists, and
    /// records it. A retry with the same `Idempotency-Key` gets the first answer.
    pub async fn create(&self, new: NewWorkspace, key: Option<IdempotencyKey>) -> Result<Workspace, AppError> {
        if let Some(w) = self.replayed(key.as_ref()).await? {
            return Ok(w);
        }
        check_id(&new.task_id)?;
        if new.base.as_ref().is_some_and(|b| b.is_empty() || b.len() > BRANCH_MAX) {
            return Err(AppError::invalid(format!("base must be a branch name of 1–{BRANCH_MAX} bytes")));
        }
        let found = self
            .inner
            .store
            .read_fresh(|st| {
                let task = st.tasks.get(&new.task_id)?;
                Some((task.clone(), st.projects.get(&task.project_id)?.clone()))
            })
            .await;
        let (task, project) = found.ok_or_else(|| AppError::not_found(format!("task {} not found", new.task_id)))?;
        let repo = project.base_path.ok_or_else(|| {
            conflict(format!(
                "project {} has no directory (basePath): give it one inside a git repository to make workspaces",
                project.id
            ))
        })?;
        let me = self.clone();
        detached(async move {
            let root = me.root()?;
            let (repo, base) = (PathBuf::from(repo), new.base.or(project.base_branch));
            let (title, project_id) = (task.title, project.id);
            let (made, summary, disk) = me
                .blocking({
                    let repo = repo.clone();
                    move || {
                        let made = make(&NewWorktree {
                            repo: &repo,
                            root: &root,
                            project: &project_id,
                            title: &title,
                            base: base.as_deref(),
                            branch: None,
                        })?;
                        let summary = changes(&made.path, &made.base).map(|c| c.summary).unwrap_or_default();
                        let disk = disk_usage(&made.path);
                        Ok((made, summary, disk))
                    }
                })
                .await?;
            for (file, why) in &made.included.refused {
                tracing::info!(file = %file.display(), why, "a file .worktreeinclude lists was not copied");
            }
            let path = made.path.to_string_lossy().into_owned();
            let record = WorkspaceMade {
                task_id: task.id,
                branch: made.branch.clone(),
                base: made.base,
                base_commit: made.base_commit,
                path: path.clone(),
                node: me.inner.store.node_id().map(str::to_string),
                changes: summary,
                disk_bytes: Some(disk),
            };
            let recorded = me.inner.store.execute(Command::CreateWorkspace { workspace: Box::new(record) }, key).await;
            if let Ok(Outcome::Workspace(w)) = &recorded {
                if w.path == path {
                    return Ok(w.clone());
                }
            }
            // Not recorded, or a retry recorded another first: nothing is on the new branch.
            let (worktree, branch) = (made.path, made.branch);
            if let Err(e) = me.blocking(move || discard(&repo, &worktree, &branch)).await {
                tracing::warn!(path, error = %e.message, "cannot remove a worktree whose record failed");
            }
            workspace(recorded?)
        })
        .await
    }

    /// Removes the workspace's worktree and keeps its branch. Refused while a session runs
    /// in it or while files are uncommitted, unless `force`.
    pub async fn archive(&self, id: &str, force: bool, key: Option<IdempotencyKey>) -> Result<Workspace, AppError> {
        if let Some(w) = self.replayed(key.as_ref()).await? {
            return Ok(w);
        }
        let w = self.get(id).await?;
        if let Some(there) =
            self.elsewhere(&w, Passed::post("/archive", serde_json::json!({ "force": force }), key.as_ref())).await
        {
            return there;
        }
        self.here(&w)?;
        if !matches!(w.status, WorkspaceStatus::Active | WorkspaceStatus::Merged) {
            return Err(conflict(format!("workspace {id} is archived already")));
        }
        if !force {
            let running = self.inner.store.read(|st| {
                st.sessions
                    .values()
                    .find(|s| s.status == SessionStatus::Running && s.workspace_id.as_deref() == Some(id))
                    .map(|s| s.id.clone())
            });
            if let Some(session) = running {
                return Err(conflict(format!(
                    "session {session} is running in workspace {id}: end it first, or archive with force"
                )));
            }
        }
        let repo = self.repo(&w).await?;
        let me = self.clone();
        detached(async move {
            let busy = me.busy(&w.id)?;
            me.unfollow(&w.id);
            let (path, base) = (PathBuf::from(&w.path), w.base.clone());
            let done = me
                .blocking(move || {
                    let last = changes(&path, &base).ok().map(|c| c.summary);
                    archive(&repo, &path, force)?;
                    Ok(last)
                })
                .await;
            let patch = done.map(|last| WorkspacePatch {
                status: Some(WorkspaceStatus::Archived),
                changes: last,
                disk_bytes: Some(None),
            });
            let updated = match patch {
                Ok(patch) => me.update(&w.id, patch, key).await,
                Err(e) => Err(e),
            };
            drop(busy);
            me.refollow(&w.id);
            updated
        })
        .await
    }

    /// Checks the branch of an archived workspace out again, where it was.
    pub async fn restore(&self, id: &str, key: Option<IdempotencyKey>) -> Result<Workspace, AppError> {
        if let Some(w) = self.replayed(key.as_ref()).await? {
            return Ok(w);
        }
        let w = self.get(id).await?;
        if let Some(there) = self.elsewhere(&w, Passed::post("/restore", serde_json::Value::Null, key.as_ref())).await {
            return there;
        }
        self.here(&w)?;
        if w.status != WorkspaceStatus::Archived {
            return Err(conflict(format!("workspace {id} is {}: only an archived one is restored", w.status.as_str())));
        }
        let repo = self.repo(&w).await?;
        let me = self.clone();
        detached(async move {
            let busy = me.busy(&w.id)?;
            let (path, base, branch) = (PathBuf::from(&w.path), w.base.clone(), w.branch.clone());
            let done = me
                .blocking({
                    let (repo, path) = (repo.clone(), path.clone());
                    move || {
                        restore(&repo, &path, &branch)?;
                        let summary = changes(&path, &base).map(|c| c.summary).unwrap_or_default();
                        Ok((summary, disk_usage(&path)))
                    }
                })
                .await;
            let updated = match done {
                Ok((summary, disk)) => {
                    let patch = WorkspacePatch {
                        status: Some(WorkspaceStatus::Active),
                        changes: Some(summary),
                        disk_bytes: Some(Some(disk)),
                    };
                    let updated = me.update(&w.id, patch, key).await;
                    if updated.is_err() {
                        // Not recorded: the fresh checkout holds nothing the branch lacks.
                        let _ = me.blocking(move || archive(&repo, &path, true)).await;
                    }
                    updated
                }
                Err(e) => Err(e),
            };
            drop(busy);
            me.refollow(&w.id);
            updated
        })
        .await
    }

    /// A workspace by id, caught up with other nodes when this one does not have it.
    pub(super) async fn get(&self, id: &str) -> Result<Workspace, AppError> {
        let found = self.inner.store.read_fresh(|st| st.workspaces.get(id).cloned()).await;
        found.ok_or_else(|| AppError::not_found(format!("workspace {id} not found")))
    }

    /// `w`, when its worktree is on this node's disk (active or merged).
    pub(super) fn on_disk(&self, w: Workspace) -> Result<Workspace, AppError> {
        self.here(&w)?;
        if w.status == WorkspaceStatus::Archived {
            return Err(conflict(format!("workspace {} is archived: restore it to read its files", w.id)));
        }
        Ok(w)
    }

    /// Whether this node may act on `w`: its disk holds it, under this server's worktrees.
    pub(super) fn here(&self, w: &Workspace) -> Result<(), AppError> {
        if w.node.as_deref() != self.inner.store.node_id() {
            let there = w.node.as_deref().unwrap_or("a server without a shared database");
            return Err(conflict(format!("workspace {} is on the disk of {there}: ask that server", w.id)));
        }
        if !Path::new(&w.path).starts_with(self.root()?) {
            return Err(conflict(format!("workspace {}'s directory is not under this server's worktrees", w.id)));
        }
        Ok(())
    }

    /// The repository a workspace belongs to: its project's directory.
    pub(super) async fn repo(&self, w: &Workspace) -> Result<PathBuf, AppError> {
        let base = self.inner.store.read(|st| st.projects.get(&w.project_id).and_then(|p| p.base_path.clone()));
        base.map(PathBuf::from).ok_or_else(|| {
            conflict(format!("project {} has no directory (basePath) any more: give it its repository's", w.project_id))
        })
    }

    fn root(&self) -> Result<PathBuf, AppError> {
        self.inner.root.get().map(Path::to_path_buf).map_err(|e| {
            AppError::new(StatusCode::INTERNAL_SERVER_ERROR, error_code::INTERNAL, "no worktrees directory").because(e)
        })
    }

    pub(super) fn is_busy(&self, id: &str) -> bool {
        self.inner.busy.lock().unwrap_or_else(|e| e.into_inner()).contains(id)
    }

    pub(super) fn busy(&self, id: &str) -> Result<Busy<'_>, AppError> {
        if !self.inner.busy.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_string()) {
            return Err(conflict(format!(
                "workspace {id} is being changed just now (archived, restored, committed, merged, rebased or pushed)"
            )));
        }
        Ok(Busy { set: &self.inner.busy, id: id.to_string() })
    }

    pub(super) async fn update(
        &self,
        id: &str,
        patch: WorkspacePatch,
        key: Option<IdempotencyKey>,
    ) -> Result<Workspace, AppError> {
        workspace(self.inner.store.execute(Command::UpdateWorkspace { id: id.to_string(), patch }, key).await?)
    }

    /// What an earlier request with this key got.
    pub(super) async fn replayed(&self, key: Option<&IdempotencyKey>) -> Result<Option<Workspace>, AppError> {
        let Some(key) = key else { return Ok(None) };
        match self.inner.store.recorded(key).await? {
            None => Ok(None),
            Some(outcome) => workspace(outcome).map(Some),
        }
    }

    /// Runs git work on a blocking thread, when one of the [`JOBS`] is free.
    pub(super) async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, Error> + Send + 'static,
    ) -> Result<T, AppError> {
        let _job = self.inner.jobs.acquire().await.map_err(|e| internal("the workspace jobs are closed", e))?;
        match tokio::task::spawn_blocking(work).await {
            Ok(done) => done.map_err(AppError::from),
            Err(e) => Err(internal("a workspace job failed", e)),
        }
    }
}

/// A worktree removed by hand is the workspace's state, not git's failure.
pub(super) fn present(worktree: &Path) -> Result<(), Error> {
    if worktree.is_dir() {
        return Ok(());
    }
    Err(Error::Conflict(format!(
        "the workspace's directory {} is missing: archive the workspace, then restore it",
        worktree.display()
    )))
}

/// Runs a mutation to its end in a task of its own, whether or not its caller still waits.
pub(super) async fn detached<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, AppError>> + Send + 'static,
) -> Result<T, AppError> {
    tokio::spawn(work).await.unwrap_or_else(|e| Err(internal("a workspace change failed", e)))
}

fn workspace(outcome: Outcome) -> Result<Workspace, AppError> {
    match outcome {
        Outcome::Workspace(w) => Ok(w),
        other => Err(AppError::from(StoreError::KeyReused(format!(
            "the Idempotency-Key was used for another kind of request ({other:?})"
        )))),
    }
}
