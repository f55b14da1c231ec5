//! The service's reads of a workspace for review: its changed files (recorded when they
//! differ from what the store has) and one file's diff, each on the node whose disk holds
//! the workspace.

use super::passed::Passed;
use super::service::{present, Workspaces};
use super::{changes, file_diff};
use crate::http::AppError;
use crate::model::limits::PATH_MAX;
use crate::model::{FileDiff, WorkspaceFiles, WorkspaceStatus};
use crate::store::WorkspacePatch;
use std::path::PathBuf;

/// The most bytes of one file's diff sent; past it the answer says `tooLarge`.
pub const DIFF_MAX_BYTES: usize = 8 << 20;

impl Workspaces {
    /// The workspace's changed files against the merge-base with its base, computed now
    /// (and recorded, when the summary differs from the one the store has).
    pub async fn files(&self, id: &str) -> Result<WorkspaceFiles, AppError> {
        let w = self.get(id).await?;
        if let Some(there) = self.elsewhere(&w, Passed::get("/files", &[])).await {
            return there;
        }
        let w = self.on_disk(w)?;
        let (path, base) = (PathBuf::from(&w.path), w.base.clone());
        let files = self
            .blocking(move || {
                present(&path)?;
                changes(&path, &base)
            })
            .await?;
        if w.status == WorkspaceStatus::Active && files.summary != w.changes {
            let patch = WorkspacePatch { changes: Some(files.summary), ..Default::default() };
            if let Err(e) = self.update(&w.id, patch, None).await {
                tracing::debug!(workspace = %w.id, error = %e.message, "changes read but not recorded");
            }
        }
        Ok(files)
    }

    /// One file's diff (`old_path`: where a renamed file was), at most [`DIFF_MAX_BYTES`].
    pub async fn diff(&self, id: &str, file: &str, old_path: Option<&str>) -> Result<FileDiff, AppError> {
        if file.len() > PATH_MAX || old_path.is_some_and(|p| p.len() > PATH_MAX) {
            return Err(AppError::invalid(format!("a path is at most {PATH_MAX} bytes")));
        }
        let w = self.get(id).await?;
        let query: Vec<_> =
            [("path", Some(file)), ("oldPath", old_path)].into_iter().filter_map(|(k, v)| Some((k, v?))).collect();
        if let Some(there) = self.elsewhere(&w, Passed::get("/diff", &query)).await {
            return there;
        }
        let w = self.on_disk(w)?;
        let (path, base) = (PathBuf::from(&w.path), w.base);
        let (file, old) = (file.to_string(), old_path.map(str::to_string));
        self.blocking(move || {
            present(&path)?;
            file_diff(&path, &base, &file, old.as_deref(), DIFF_MAX_BYTES)
        })
        .await
    }
}
