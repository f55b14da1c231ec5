//! Where a new session runs (SPEC §8): the task's workspace, a new one, a named one, or the
//! project's directory. Resolved before the session's command, so that the store records
//! the session with the workspace it runs in; and the directory its terminal starts in.

use super::refusal::conflict;
use super::service::{present, Workspaces};
use super::{repo_of, Error};
use crate::http::AppError;
use crate::model::{NewSession, NewWorkspace, Workspace, WorkspaceStatus, WORKSPACE_NEW, WORKSPACE_NONE};
use crate::store::state::check_id;
use crate::store::{IdempotencyKey, Outcome};
use std::path::PathBuf;
use std::sync::Arc;

impl Workspaces {
    /// The workspace the session `ns` runs in, made when it needs one that does not exist
    /// yet; `None`: the project's directory. A retry (the same session id, or the same
    /// `Idempotency-Key`) gets the first request's workspace, never a second one.
    pub async fn for_session(
        &self,
        ns: &NewSession,
        key: Option<&IdempotencyKey>,
    ) -> Result<Option<Workspace>, AppError> {
        if let Some(earlier) = self.earlier(ns, key).await? {
            return Ok(earlier);
        }
        let choice = ns.workspace.as_deref();
        if choice == Some(WORKSPACE_NONE) {
            return Ok(None);
        }
        if let Some(id) = choice.filter(|c| *c != WORKSPACE_NEW) {
            return self.named(id, &ns.project_id).await.map(Some);
        }
        let Some(task_id) = ns.task_ids.first() else {
            if choice == Some(WORKSPACE_NEW) {
                return Err(AppError::invalid("a new workspace is made for a task: give the session one in taskIds"));
            }
            return Ok(None);
        };
        // Nothing is made for a request the store would refuse for its task.
        let task_project = self.inner.store.read_fresh(|st| st.tasks.get(task_id).map(|t| t.project_id.clone())).await;
        match task_project {
            None => return Err(AppError::not_found(format!("task {task_id} not found"))),
            Some(p) if p != ns.project_id => {
                // As the store says it: a conflict with what is (409).
                return Err(AppError::new(
                    axum::http::StatusCode::CONFLICT,
                    crate::model::error_code::CONFLICT,
                    format!("task {task_id} belongs to project {p}, not to the session's project {}", ns.project_id),
                ));
            }
            Some(_) => {}
        }
        if choice == Some(WORKSPACE_NEW) {
            let key = workspace_key(ns, key);
            let new = NewWorkspace { task_id: task_id.clone(), base: None };
            return self.create(new, key).await.map(Some);
        }
        self.automatic(&ns.project_id, task_id).await
    }

    /// The task's newest active workspace, made on its first session, when its project's
    /// directory is in a git repository; else none.
    async fn automatic(&self, project_id: &str, task_id: &str) -> Result<Option<Workspace>, AppError> {
        let project = self.inner.store.read_fresh(|st| st.projects.get(project_id).cloned()).await;
        // Isolation off: the project's sessions run in its directory, as before workspaces.
        let Some(base) = project.filter(|p| p.isolation).and_then(|p| p.base_path) else { return Ok(None) };
        let dir = PathBuf::from(base);
        match self.blocking(move || Ok(repo_of(&dir))).await? {
            Ok(_) => {}
            Err(Error::Git(e)) => return Err(Error::Git(e).into()),
            Err(_) => return Ok(None), // not a git repository: sessions run in the directory
        }
        // One at a time per task, so that two first sessions do not make two workspaces.
        let lock = self.task_lock(task_id);
        let _making = lock.lock().await;
        let newest = self.inner.store.read(|st| {
            let mut active: Vec<&Workspace> =
                st.workspaces_where(Some(project_id), Some(task_id), Some(WorkspaceStatus::Active)).collect();
            active.sort_by(|a, b| Workspace::newest_first(a, b));
            active.first().map(|w| (*w).clone())
        });
        if let Some(w) = newest {
            self.here(&w)?;
            return Ok(Some(w));
        }
        self.create(NewWorkspace { task_id: task_id.to_string(), base: None }, None).await.map(Some)
    }

    /// Where a session in `w` starts: its worktree, when it is active, on this node's disk
    /// under this server's worktrees directory (a path from the database alone is not
    /// trusted), and there.
    pub fn session_dir(&self, w: &Workspace) -> Result<PathBuf, AppError> {
        self.here(w)?;
        if w.status != WorkspaceStatus::Active {
            return Err(conflict(format!("workspace {} is {}", w.id, w.status.as_str())));
        }
        let dir = PathBuf::from(&w.path);
        present(&dir)?;
        Ok(dir)
    }

    /// The task's lock for finding or making its workspace (shared while anyone holds it).
    fn task_lock(&self, task_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.inner.making.lock().unwrap_or_else(|e| e.into_inner());
        locks.retain(|_, l| l.strong_count() > 0);
        if let Some(lock) = locks.get(task_id).and_then(|l| l.upgrade()) {
            return lock;
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(task_id.to_string(), Arc::downgrade(&lock));
        lock
    }

    /// A workspace a client named: active, of the session's project, on this node.
    async fn named(&self, id: &str, project_id: &str) -> Result<Workspace, AppError> {
        check_id(id)?;
        let w = self.get(id).await?;
        if w.project_id != project_id {
            return Err(AppError::invalid(format!(
                "workspace {id} belongs to project {}, not to the session's project {project_id}",
                w.project_id
            )));
        }
        if w.status != WorkspaceStatus::Active {
            return Err(conflict(format!(
                "workspace {id} is {}: a session runs only in an active one",
                w.status.as_str()
            )));
        }
        self.here(&w)?;
        Ok(w)
    }

    /// The workspace of the session an earlier try of this request made, if one did.
    async fn earlier(
        &self,
        ns: &NewSession,
        key: Option<&IdempotencyKey>,
    ) -> Result<Option<Option<Workspace>>, AppError> {
        let mut made = match key {
            Some(key) => match self.inner.store.recorded(key).await? {
                Some(Outcome::Session(s)) => Some(s),
                _ => None,
            },
            None => None,
        };
        if made.is_none() {
            if let Some(id) = &ns.id {
                made = self.inner.store.read_fresh(|st| st.sessions.get(id).cloned()).await;
            }
        }
        let Some(session) = made else { return Ok(None) };
        let workspace = session.workspace_id.and_then(|w| self.inner.store.read(|st| st.workspaces.get(&w).cloned()));
        Ok(Some(workspace))
    }
}

/// The key a new workspace is recorded under, so that a retry of the session's request
/// (by its `Idempotency-Key`, or by the session id it names) replays the workspace the
/// first try made.
fn workspace_key(ns: &NewSession, key: Option<&IdempotencyKey>) -> Option<IdempotencyKey> {
    use sha2::{Digest, Sha256};
    if let Some(k) = key {
        return Some(IdempotencyKey { key: format!("{}/workspace", k.key), fingerprint: k.fingerprint.clone() });
    }
    let id = ns.id.as_ref()?;
    let body = serde_json::to_vec(ns).ok()?;
    Some(IdempotencyKey { key: format!("session/{id}/workspace"), fingerprint: format!("{:x}", Sha256::digest(&body)) })
}
