//! The service's landing (SPEC §8 "Landing"): commit, merge, rebase and push a workspace,
//! as archive and restore are done: passed to the node holding it, one change at a time,
//! the git work on a blocking thread, then one store command (that records a retry's
//! answer under its `Idempotency-Key` too). A merged workspace becomes `merged`. A pull
//! request (`github.rs`) is opened only on the node holding the workspace.

use super::passed::Passed;
use super::refusal::conflict;
use super::service::{detached, present, Workspaces};
use super::{changes, commit, github, merge, push, rebase, remote, Error};
use crate::http::AppError;
use crate::model::limits::TEXT_MAX;
use crate::model::{
    CommitWorkspace, MergeStrategy, MergeWorkspace, PullRequest, PullRequests, Workspace, WorkspaceStatus,
};
use crate::store::{IdempotencyKey, WorkspacePatch};
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

/// How long the node holding a workspace is given to say whether it can open a pull
/// request (the browser asks as the Changes tab opens).
const PR_ASK_TIMEOUT: Duration = Duration::from_secs(10);

/// Only an active workspace is proposed in a pull request; else why not.
fn proposable(w: &Workspace) -> Result<(), String> {
    match w.status {
        WorkspaceStatus::Active => Ok(()),
        other => Err(format!("workspace {} is {}: only an active one is proposed", w.id, other.as_str())),
    }
}

/// What a landing step works on.
struct Target {
    repo: PathBuf,
    worktree: PathBuf,
    branch: String,
    base: String,
    /// The task's title: the default message.
    title: String,
}

impl Workspaces {
    /// Commits everything in the workspace, with `message` (the task's title by default).
    pub async fn commit(
        &self,
        id: &str,
        message: Option<String>,
        key: Option<IdempotencyKey>,
    ) -> Result<Workspace, AppError> {
        let message = checked(message)?;
        // As the REST body says it (a message left out is not sent as null).
        let body = json!(CommitWorkspace { message: message.clone() });
        self.land(id, Passed::post("/commit", body, key.as_ref()), false, key.clone(), move |t| {
            commit(&t.worktree, message.as_deref().unwrap_or(&t.title))?;
            Ok(WorkspacePatch { changes: Some(changes(&t.worktree, &t.base)?.summary), ..Default::default() })
        })
        .await
    }

    /// Merges the workspace's branch into its base (see [`merge`]); it becomes `merged`.
    pub async fn merge(
        &self,
        id: &str,
        strategy: MergeStrategy,
        message: Option<String>,
        key: Option<IdempotencyKey>,
    ) -> Result<Workspace, AppError> {
        let message = checked(message)?;
        let body = json!(MergeWorkspace { strategy: Some(strategy), message: message.clone() });
        self.land(id, Passed::post("/merge", body, key.as_ref()), false, key.clone(), move |t| {
            let message = message.unwrap_or_else(|| match strategy {
                MergeStrategy::Merge => format!("Merge branch '{}' into {}\n\n{}", t.branch, t.base, t.title),
                MergeStrategy::Squash => t.title.clone(),
            });
            merge(&t.repo, &t.worktree, &t.base, &t.branch, strategy, &message)?;
            let summary = changes(&t.worktree, &t.base)?.summary;
            Ok(WorkspacePatch { status: Some(WorkspaceStatus::Merged), changes: Some(summary), ..Default::default() })
        })
        .await
    }

    /// How workspace `id` merges when the request does not say: its project's setting.
    pub fn merge_strategy(&self, id: &str) -> MergeStrategy {
        self.inner.store.read(|st| {
            let project = st.workspaces.get(id).and_then(|w| st.projects.get(&w.project_id));
            project.map(|p| p.merge_strategy).unwrap_or_default()
        })
    }

    /// Rebases the workspace's branch onto its base's current tip (see [`rebase`]).
    pub async fn rebase(&self, id: &str, key: Option<IdempotencyKey>) -> Result<Workspace, AppError> {
        self.land(id, Passed::post("/rebase", serde_json::Value::Null, key.as_ref()), false, key.clone(), |t| {
            rebase(&t.worktree, &t.base)?;
            Ok(WorkspacePatch { changes: Some(changes(&t.worktree, &t.base)?.summary), ..Default::default() })
        })
        .await
    }

    /// Pushes the workspace's branch to the repository's remote (see [`push`]); a merged
    /// workspace's too.
    pub async fn push(&self, id: &str, key: Option<IdempotencyKey>) -> Result<Workspace, AppError> {
        self.land(id, Passed::post("/push", serde_json::Value::Null, key.as_ref()), true, key.clone(), |t| {
            push(&t.worktree, &t.branch)?;
            // Nothing of the record changes; the command keeps the retry's answer.
            Ok(WorkspacePatch::default())
        })
        .await
    }

    /// Whether "Open pull request" is offered: `gh` installed and logged in (asked once).
    pub async fn pull_requests(&self) -> Result<(), String> {
        tokio::task::spawn_blocking(github::ready).await.unwrap_or_else(|e| Err(e.to_string()))
    }

    /// Whether one can be opened for workspace `id`, as [`Workspaces::pull_request`] would
    /// answer, and where a push would go: an active workspace, whose node's repository has
    /// the remote and whose `gh` is installed and logged in (that node is asked, for at most
    /// [`PR_ASK_TIMEOUT`]).
    pub async fn pull_requests_for(&self, id: &str) -> Result<PullRequests, AppError> {
        let w = self.get(id).await?;
        let not = |why: String| Ok(PullRequests { reason: Some(why), ..Default::default() });
        if let Err(why) = proposable(&w) {
            return not(why);
        }
        match tokio::time::timeout(PR_ASK_TIMEOUT, self.elsewhere(&w, Passed::get("/pr", &[]))).await {
            Ok(Some(there)) => return there,
            Ok(None) => {}
            Err(_) => return not(format!("the server holding workspace {id} did not answer in time")),
        }
        if let Err(e) = self.here(&w) {
            return not(e.message);
        }
        let remote = match self.remote_of(&w).await {
            Ok(remote) => remote,
            Err(e) => {
                return Ok(PullRequests {
                    reason: Some(e.message.clone()),
                    push_refused: Some(e.message),
                    ..Default::default()
                })
            }
        };
        let ready = self.pull_requests().await;
        Ok(PullRequests { available: ready.is_ok(), reason: ready.err(), remote: Some(remote), push_refused: None })
    }

    /// The remote a push from workspace `w` (on this disk) goes to (see [`remote`]).
    async fn remote_of(&self, w: &Workspace) -> Result<String, AppError> {
        let worktree = PathBuf::from(&w.path);
        self.blocking(move || present(&worktree).and_then(|()| remote(&worktree))).await
    }

    /// Pushes workspace `id`'s branch and opens a pull request for it with `gh` (SPEC §8);
    /// its address. Refused (409) where `gh` is missing or logged out on the node whose disk
    /// holds the workspace (asked of that node, as the other landing steps are).
    pub async fn pull_request(&self, id: &str) -> Result<PullRequest, AppError> {
        let w = self.get(id).await?;
        if let Some(there) = self.elsewhere(&w, Passed::post("/pr", serde_json::Value::Null, None)).await {
            return there;
        }
        self.here(&w)?;
        proposable(&w).map_err(conflict)?;
        // As asked before (no remote is said before no `gh`).
        self.remote_of(&w).await?;
        self.pull_requests().await.map_err(conflict)?;
        let (worktree, branch) = (PathBuf::from(&w.path), w.branch);
        let me = self.clone();
        let id = w.id;
        detached(async move {
            let _busy = me.busy(&id)?;
            let url = me
                .blocking(move || {
                    present(&worktree)?;
                    push(&worktree, &branch)?;
                    github::open(&worktree, &branch)
                })
                .await?;
            Ok(PullRequest { url })
        })
        .await
    }

    /// One landing step on workspace `id` (`merged_too`: also once merged), recorded by
    /// the patch it returns.
    async fn land(
        &self,
        id: &str,
        passed: Passed<'_>,
        merged_too: bool,
        key: Option<IdempotencyKey>,
        work: impl FnOnce(&Target) -> Result<WorkspacePatch, Error> + Send + 'static,
    ) -> Result<Workspace, AppError> {
        if let Some(w) = self.replayed(key.as_ref()).await? {
            return Ok(w);
        }
        let w = self.get(id).await?;
        if let Some(there) = self.elsewhere(&w, passed).await {
            return there;
        }
        self.here(&w)?;
        let allowed = w.status == WorkspaceStatus::Active || (merged_too && w.status == WorkspaceStatus::Merged);
        if !allowed {
            return Err(conflict(format!(
                "workspace {id} is {}: only an active workspace is committed, merged or rebased{}",
                w.status.as_str(),
                if w.status == WorkspaceStatus::Archived { " (restore it first)" } else { "" }
            )));
        }
        let repo = self.repo(&w).await?;
        let title = self.inner.store.read(|st| st.tasks.get(&w.task_id).map(|t| t.title.clone()));
        let target = Target {
            repo,
            worktree: PathBuf::from(&w.path),
            title: title.unwrap_or_else(|| w.branch.clone()),
            branch: w.branch,
            base: w.base,
        };
        let me = self.clone();
        let id = w.id;
        detached(async move {
            let busy = me.busy(&id)?;
            let done = me
                .blocking(move || {
                    present(&target.worktree)?;
                    work(&target)
                })
                .await;
            let updated = match done {
                Ok(patch) => me.update(&id, patch, key).await,
                Err(e) => Err(e),
            };
            drop(busy);
            me.refollow(&id);
            updated
        })
        .await
    }
}

/// A message given: not blank, free text without control characters but line breaks and
/// tabs (git would take them into the history as they are), at most `TEXT_MAX` bytes.
fn checked(message: Option<String>) -> Result<Option<String>, AppError> {
    let Some(message) = message else { return Ok(None) };
    if message.trim().is_empty() {
        return Err(AppError::invalid("message must not be blank (leave it out for the default)"));
    }
    if message.len() > TEXT_MAX {
        return Err(AppError::invalid(format!("message is at most {TEXT_MAX} bytes")));
    }
    if message.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')) {
        return Err(AppError::invalid("message may hold line breaks and tabs but no other control characters"));
    }
    Ok(Some(message))
}
