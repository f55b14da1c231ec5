//! Tasks and their subtasks; deleting a task unlinks its sessions and forgets its
//! workspaces (refused while one is active).

use super::{new_id, set_task_status, task_changed, touch_session, Inputs, NewId, Plan};
use crate::model::limits::{NAME_MAX, TEXT_MAX, TITLE_MAX};
use crate::model::{
    Deleted, EventData, Link, NewSubtask, NewTask, Session, Subtask, SubtaskPatch, SubtaskStatus, Task, TaskPatch,
    TaskStatus,
};
use crate::store::state::validate::{bounded, check_id, clean};
use crate::store::state::{State, SUBTASKS_MAX};
use crate::store::{Outcome, StoreError};
use std::collections::BTreeSet;

impl State {
    pub(super) fn create_task(&self, nt: &NewTask, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let title = clean("title", &nt.title, TITLE_MAX)?;
        let description = bounded("description", nt.description.as_deref().unwrap_or(""), TEXT_MAX)?;
        let prompt = bounded("prompt", nt.prompt.as_deref().unwrap_or(""), TEXT_MAX)?;
        let priority = nt.priority.unwrap_or_default();
        let status = nt.status.unwrap_or_default();
        if let Some(id) = &nt.id {
            check_id(id)?;
        }
        self.project(&nt.project_id)?;
        let same = |old: &Task| {
            old.project_id == nt.project_id
                && old.title == title
                && old.description == description
                && old.prompt == prompt
                && old.priority == priority
                && old.status == status
        };
        let id = match new_id(nt.id.as_deref(), &self.tasks, ("task", "task"), ctx, same)? {
            NewId::Fresh(id) => id,
            NewId::Retry(old) => return Ok(Plan::unchanged(Outcome::Task(old.clone()))),
        };
        let t = Task {
            id,
            project_id: nt.project_id.clone(),
            title,
            description,
            prompt,
            status,
            priority,
            session_ids: Vec::new(),
            session_count: 0,
            subtasks: Vec::new(),
            created_at: ctx.now,
            updated_at: ctx.now,
            completed_at: (status == TaskStatus::Completed).then_some(ctx.now),
            version: 1,
        };
        Ok(Plan { events: vec![EventData::TaskCreated(t.clone())], outcome: Outcome::Task(t) })
    }

    pub(super) fn update_task(&self, id: &str, patch: &TaskPatch, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let old = self.task(id)?;
        let mut t = old.clone();
        if let Some(title) = &patch.title {
            t.title = clean("title", title, TITLE_MAX)?;
        }
        if let Some(d) = &patch.description {
            t.description = bounded("description", d, TEXT_MAX)?;
        }
        if let Some(p) = &patch.prompt {
            t.prompt = bounded("prompt", p, TEXT_MAX)?;
        }
        if let Some(p) = patch.priority {
            t.priority = p;
        }
        if let Some(s) = patch.status {
            set_task_status(&mut t, s, ctx.now);
        }
        let renamed = self.sessions_named_after(old, &t.title, ctx);
        let mut plan = task_changed(old, t, ctx.now);
        plan.events.extend(renamed.into_iter().map(EventData::SessionUpdated));
        Ok(plan)
    }

    /// A task renamed: the sessions named after it (its title when they started, as "Work
    /// on task" and a session made without a name are) take the new title, so that the
    /// person finds the agent working on it under the name they gave it, in the browser,
    /// the CLI and notifications alike. A session named otherwise keeps its name.
    fn sessions_named_after(&self, old: &Task, title: &str, ctx: &Inputs<'_>) -> Vec<Session> {
        let name = |t: &str| t.chars().take(NAME_MAX).collect::<String>();
        let (before, after) = (name(&old.title), name(title));
        if before == after {
            return Vec::new();
        }
        old.session_ids
            .iter()
            .filter_map(|id| self.sessions.get(id))
            .filter(|s| s.name == before)
            .map(|s| {
                let mut s = s.clone();
                s.name = after.clone();
                touch_session(&mut s, ctx);
                s
            })
            .collect()
    }

    pub(super) fn add_subtask(&self, tid: &str, ns: &NewSubtask, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let old = self.task(tid)?;
        let title = clean("title", &ns.title, TITLE_MAX)?;
        if old.subtasks.len() >= SUBTASKS_MAX {
            return Err(StoreError::Invalid(format!("task {tid} already has {SUBTASKS_MAX} subtasks")));
        }
        let mut t = old.clone();
        t.subtasks.push(Subtask {
            id: (ctx.new_id)("sub"),
            task_id: tid.to_string(),
            title,
            status: SubtaskStatus::Pending,
            created_at: ctx.now,
            completed_at: None,
        });
        Ok(task_changed(old, t, ctx.now))
    }

    pub(super) fn update_subtask(
        &self,
        tid: &str,
        sid: &str,
        patch: &SubtaskPatch,
        ctx: &mut Inputs<'_>,
    ) -> Result<Plan, StoreError> {
        let old = self.task(tid)?;
        let mut t = old.clone();
        let sub = t
            .subtasks
            .iter_mut()
            .find(|s| s.id == sid)
            .ok_or_else(|| StoreError::NotFound(format!("subtask {sid} not found in task {tid}")))?;
        if let Some(title) = &patch.title {
            sub.title = clean("title", title, TITLE_MAX)?;
        }
        if let Some(st) = patch.status {
            if st != sub.status {
                sub.status = st;
                sub.completed_at = (st == SubtaskStatus::Completed).then_some(ctx.now);
            }
        }
        Ok(task_changed(old, t, ctx.now))
    }

    pub(super) fn delete_subtask(&self, tid: &str, sid: &str, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let old = self.task(tid)?;
        let mut t = old.clone();
        let before = t.subtasks.len();
        t.subtasks.retain(|s| s.id != sid);
        if t.subtasks.len() == before {
            return Err(StoreError::NotFound(format!("subtask {sid} not found in task {tid}")));
        }
        Ok(task_changed(old, t, ctx.now))
    }

    pub(super) fn delete_task(&self, id: &str, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let t = self.task(id)?;
        let going = self.task_workspaces_going(id)?;
        let mut events = vec![EventData::TaskDeleted(Deleted { id: id.to_string() })];
        let mut updated = BTreeSet::new();
        for sid in &t.session_ids {
            // A link to a missing session (a database written by an older build) goes with it.
            let Some(s) = self.sessions.get(sid) else { continue };
            let mut s = s.clone();
            s.task_ids.retain(|x| x != id);
            if s.workspace_id.as_deref().is_some_and(|w| going.contains(w)) {
                s.workspace_id = None;
            }
            touch_session(&mut s, ctx);
            updated.insert(sid.as_str());
            let link = Link { session_id: sid.clone(), task_id: id.to_string() };
            events.push(EventData::SessionUpdated(s));
            events.push(EventData::SessionTaskRemoved(link.clone()));
            events.push(EventData::TaskSessionRemoved(link));
        }
        self.forget_workspaces(&going, &updated, &mut events, ctx);
        Ok(Plan { events, outcome: Outcome::Deleted })
    }
}
