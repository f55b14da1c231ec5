//! A project deleted with everything of it (SPEC §2): its workspaces' worktrees removed
//! first — only when none holds uncommitted work, else nothing is done and the refusal
//! names them — then one store command takes the project, its tasks, sessions and
//! workspaces. The project's own directory is never touched; the branches stay in it.

use super::archive::{some, uncommitted};
use super::refusal::conflict;
use super::Workspaces;
use crate::http::AppError;
use crate::model::{Workspace, WorkspaceStatus};
use crate::store::{Command, IdempotencyKey};
use std::path::Path;

impl Workspaces {
    /// Deletes project `id` with everything of it. Refused (409) while any of its sessions
    /// runs, or while a worktree of it holds uncommitted work.
    pub async fn delete_project(&self, id: &str, key: Option<IdempotencyKey>) -> Result<(), AppError> {
        if let Some(key) = &key {
            if self.inner.store.recorded(key).await?.is_some() {
                return Ok(());
            }
        }
        let store = &self.inner.store;
        let found = store
            .read_fresh(|st| {
                st.projects.get(id)?;
                let mut on_disk: Vec<Workspace> = st
                    .workspaces
                    .values()
                    .filter(|w| w.project_id == id && w.status != WorkspaceStatus::Archived)
                    .cloned()
                    .collect();
                on_disk.sort_by(|a, b| a.id.cmp(&b.id));
                Some((st.check_none_running(id), on_disk))
            })
            .await;
        let (running, on_disk) = found.ok_or_else(|| AppError::not_found(format!("project {id} not found")))?;
        running?;
        // Every worktree on this node's disk is looked at before any is removed, so that a
        // refusal leaves everything as it was (one on another node's disk is asked of that
        // node by `archive`, which refuses uncommitted work the same way).
        let here: Vec<Workspace> = on_disk.iter().filter(|w| w.node.as_deref() == store.node_id()).cloned().collect();
        for w in &here {
            self.here(w)?;
        }
        let dirty = self
            .blocking(move || {
                let mut dirty = Vec::new();
                for w in here.iter().filter(|w| Path::new(&w.path).exists()) {
                    let files = uncommitted(Path::new(&w.path))?;
                    if !files.is_empty() {
                        dirty.push(format!("{} (branch {}: {})", w.id, w.branch, some(&files)));
                    }
                }
                Ok(dirty)
            })
            .await?;
        if !dirty.is_empty() {
            return Err(conflict(format!(
                "{} workspace(s) of project {id} hold uncommitted work that deleting would lose: {}: \
                 commit it, or archive those workspaces (with force to discard it), then delete again",
                dirty.len(),
                dirty.join("; ")
            )));
        }
        for w in &on_disk {
            self.archive(&w.id, false, None).await?;
        }
        store.execute(Command::DeleteProjectWithContents { id: id.to_string() }, key).await?;
        Ok(())
    }
}
