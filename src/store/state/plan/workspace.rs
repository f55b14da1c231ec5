//! Workspaces (SPEC §8): recording a worktree the workspace service made, its changes and
//! status as the service finds them, and forgetting one that is no longer active. The store
//! never runs git: what it records was done on disk first.
//!
//! A session's `workspaceId` names a workspace of its project; a workspace that goes
//! (deleted, or with its task) is cleared from the sessions that named it.

use super::{set_task_status, touch_session, touch_task, Inputs, Plan};
use crate::model::limits::{BRANCH_MAX, PATH_MAX};
use crate::model::{Deleted, EventData, TaskStatus, Workspace, WorkspaceStatus};
use crate::store::state::validate::check_id;
use crate::store::state::{State, TASK_WORKSPACES_MAX};
use crate::store::{Outcome, StoreError, WorkspaceMade, WorkspacePatch};
use std::collections::BTreeSet;

impl State {
    pub(super) fn create_workspace(&self, made: &WorkspaceMade, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let task = self.task(&made.task_id)?;
        ref_name("branch", &made.branch)?;
        ref_name("base", &made.base)?;
        let commit = &made.base_commit;
        if !(4..=64).contains(&commit.len()) || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::Invalid(format!("baseCommit {commit:?} is not a commit id")));
        }
        if !made.path.starts_with('/') || made.path.len() > PATH_MAX || made.path.chars().any(char::is_control) {
            return Err(StoreError::Invalid("a workspace's path must be an absolute path".into()));
        }
        if let Some(node) = &made.node {
            check_id(node)?;
        }
        self.room_for_active(&made.task_id, &made.path, None)?;
        let w = Workspace {
            id: (ctx.new_id)("ws"),
            project_id: task.project_id.clone(),
            task_id: task.id.clone(),
            branch: made.branch.clone(),
            base: made.base.clone(),
            base_commit: made.base_commit.clone(),
            path: made.path.clone(),
            node: made.node.clone(),
            status: WorkspaceStatus::Active,
            changes: made.changes,
            disk_bytes: made.disk_bytes,
            created_at: ctx.now,
            updated_at: ctx.now,
            version: 1,
        };
        Ok(Plan { events: vec![EventData::WorkspaceCreated(w.clone())], outcome: Outcome::Workspace(w) })
    }

    pub(super) fn update_workspace(
        &self,
        id: &str,
        patch: &WorkspacePatch,
        ctx: &mut Inputs<'_>,
    ) -> Result<Plan, StoreError> {
        let old = self.workspace(id)?;
        let mut w = old.clone();
        if let Some(to) = patch.status {
            if to != old.status {
                if !moves(old.status, to) {
                    return Err(StoreError::Conflict(format!(
                        "workspace {id} is {}: it cannot become {}",
                        old.status.as_str(),
                        to.as_str()
                    )));
                }
                if to == WorkspaceStatus::Active {
                    self.room_for_active(&old.task_id, &old.path, Some(id))?;
                }
                w.status = to;
            }
        }
        if let Some(changes) = patch.changes {
            if patch.status.is_none() && old.status != WorkspaceStatus::Active {
                return Err(StoreError::Conflict(format!(
                    "workspace {id} is {}: its changes are no longer followed",
                    old.status.as_str()
                )));
            }
            w.changes = changes;
        }
        if let Some(disk) = patch.disk_bytes {
            w.disk_bytes = disk;
        }
        if w == *old {
            return Ok(Plan::unchanged(Outcome::Workspace(w)));
        }
        w.version += 1;
        w.updated_at = ctx.now;
        let mut events = vec![EventData::WorkspaceUpdated(w.clone())];
        // SPEC §8: merging lands the task's work, which completes it.
        if w.status == WorkspaceStatus::Merged && old.status == WorkspaceStatus::Active {
            if let Some(t) = self.tasks.get(&w.task_id).filter(|t| t.status != TaskStatus::Completed) {
                let mut t = t.clone();
                set_task_status(&mut t, TaskStatus::Completed, ctx.now);
                touch_task(&mut t, ctx.now);
                events.push(EventData::TaskUpdated(t));
            }
        }
        Ok(Plan { events, outcome: Outcome::Workspace(w) })
    }

    /// Refused while the workspace is active (its worktree is on disk: archive it first).
    pub(super) fn delete_workspace(&self, id: &str, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let w = self.workspace(id)?;
        if w.status == WorkspaceStatus::Active {
            return Err(StoreError::Conflict(format!("workspace {id} is active: archive it first")));
        }
        let mut events = Vec::new();
        self.forget_workspaces(&BTreeSet::from([id]), &BTreeSet::new(), &mut events, ctx);
        Ok(Plan { events, outcome: Outcome::Deleted })
    }

    /// A task's workspaces that go with it; refused while any is active (a worktree on disk,
    /// maybe with an agent in it, would be left behind).
    pub(super) fn task_workspaces_going(&self, task_id: &str) -> Result<BTreeSet<&str>, StoreError> {
        let mut going = BTreeSet::new();
        for w in self.workspaces.values().filter(|w| w.task_id == task_id) {
            if w.status == WorkspaceStatus::Active {
                return Err(StoreError::Conflict(format!(
                    "task {task_id} has an active workspace ({}, branch {}): archive it first",
                    w.id, w.branch
                )));
            }
            going.insert(w.id.as_str());
        }
        Ok(going)
    }

    /// The events that forget `going`: each `workspace:deleted`, then `session:updated` for
    /// the sessions that named it (but those in `updated`, whose update already cleared it).
    pub(super) fn forget_workspaces(
        &self,
        going: &BTreeSet<&str>,
        updated: &BTreeSet<&str>,
        events: &mut Vec<EventData>,
        ctx: &mut Inputs<'_>,
    ) {
        for id in going {
            self.forget_comments(id, events);
            events.push(EventData::WorkspaceDeleted(Deleted { id: id.to_string() }));
            let mut named: Vec<_> = self
                .sessions
                .values()
                .filter(|s| s.workspace_id.as_deref() == Some(*id) && !updated.contains(s.id.as_str()))
                .collect();
            named.sort_by(|a, b| a.id.cmp(&b.id));
            for s in named {
                let mut s = s.clone();
                s.workspace_id = None;
                touch_session(&mut s, ctx);
                events.push(EventData::SessionUpdated(s));
            }
        }
    }

    /// One more active workspace of `task_id` at `path` fits (`except`: the one becoming it).
    fn room_for_active(&self, task_id: &str, path: &str, except: Option<&str>) -> Result<(), StoreError> {
        let active = || {
            self.workspaces
                .values()
                .filter(move |w| w.status == WorkspaceStatus::Active && Some(w.id.as_str()) != except)
        };
        if let Some(other) = active().find(|w| w.path == path) {
            return Err(StoreError::Conflict(format!("workspace {} is active at {path}", other.id)));
        }
        if active().filter(|w| w.task_id == task_id).count() >= TASK_WORKSPACES_MAX {
            return Err(StoreError::Conflict(format!(
                "task {task_id} already has {TASK_WORKSPACES_MAX} active workspaces, the most one task may have"
            )));
        }
        Ok(())
    }
}

/// Which status changes a workspace makes: archived or merged from active, archived once
/// merged, and active again when restored.
fn moves(from: WorkspaceStatus, to: WorkspaceStatus) -> bool {
    use WorkspaceStatus::*;
    matches!((from, to), (Active, Archived) | (Active, Merged) | (Merged, Archived) | (Archived, Active))
}

/// A branch name as recorded: git checked it when it made the branch; this keeps what is
/// stored printable and bounded.
fn ref_name(field: &str, name: &str) -> Result<(), StoreError> {
    if name.is_empty() || name.len() > BRANCH_MAX || name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(StoreError::Invalid(format!("{field} must be a branch name of 1–{BRANCH_MAX} bytes")));
    }
    Ok(())
}
