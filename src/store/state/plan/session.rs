//! Sessions, and the links between sessions and tasks (both sides change at once).

use super::{new_id, session_env, set_task_status, touch_session, touch_task, Inputs, NewId, Plan};
use crate::model::limits::{NAME_MAX, SESSION_PROMPT_MAX, TIMELINE_MAX, TITLE_MAX};
use crate::model::{
    Deleted, EventData, Link, NewSession, Session, SessionLogLine, SessionPatch, SessionStateUpdate, SessionStatus,
    TaskStatus, TimelineLine, WorkspaceStatus, WORKSPACE_NEW, WORKSPACE_NONE,
};
use crate::store::state::validate::{agent_id, bounded, check_id, clean};
use crate::store::state::{State, PLAIN_TERMINAL_PREFIX, SESSION_TASKS_MAX, TASK_SESSIONS_MAX};
use crate::store::{Outcome, StoreError};
use std::collections::{BTreeMap, HashSet};

impl State {
    pub(super) fn update_session(
        &self,
        id: &str,
        patch: &SessionPatch,
        ctx: &mut Inputs<'_>,
    ) -> Result<Plan, StoreError> {
        let old = self.session(id)?;
        let mut s = old.clone();
        if let Some(name) = &patch.name {
            s.name = clean("name", name, NAME_MAX)?;
        }
        if let Some(agent) = &patch.agent_id {
            s.agent_id = agent_id(agent.as_deref())?;
        }
        if let Some(st) = patch.status {
            if st != s.status {
                s.status = st;
                s.completed_at = (st != SessionStatus::Running).then_some(ctx.now);
            }
        }
        if s == *old {
            return Ok(Plan::unchanged(Outcome::Session(s)));
        }
        touch_session(&mut s, ctx);
        Ok(Plan { events: vec![EventData::SessionUpdated(s.clone())], outcome: Outcome::Session(s) })
    }

    /// Its process ended: the exit code recorded, and the session completed (0) or failed,
    /// as SPEC §5 says of a process exiting on its own.
    pub(super) fn session_exited(&self, id: &str, code: u32, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let old = self.session(id)?;
        let mut s = old.clone();
        s.exit_code = Some(code);
        let status = if code == 0 { SessionStatus::Completed } else { SessionStatus::Failed };
        if s.status != status {
            s.status = status;
            s.completed_at = Some(ctx.now);
        }
        if s == *old {
            return Ok(Plan::unchanged(Outcome::Session(s)));
        }
        touch_session(&mut s, ctx);
        let mut events = vec![EventData::SessionUpdated(s.clone())];
        if code == 0 {
            self.left_for_review(old, ctx, &mut events);
        }
        Ok(Plan { events, outcome: Outcome::Session(s) })
    }

    /// SPEC §8 "Task status follows the work": an agent that ends well leaving unmerged
    /// changes in its workspace puts its tasks up for review. Only a task still
    /// `in_progress` moves, and only once no other session works on it: any other status
    /// was said by someone (the agent itself, or the person) and stays.
    fn left_for_review(&self, ended: &Session, ctx: &Inputs<'_>, events: &mut Vec<EventData>) {
        let Some(w) = ended.workspace_id.as_ref().and_then(|id| self.workspaces.get(id)) else { return };
        let c = &w.changes;
        if w.status != WorkspaceStatus::Active || (c.files == 0 && c.ahead == 0 && !c.dirty) {
            return;
        }
        for tid in &ended.task_ids {
            let Some(t) = self.tasks.get(tid) else { continue };
            let others_run = t.session_ids.iter().any(|sid| {
                sid != &ended.id && self.sessions.get(sid).is_some_and(|o| o.status == SessionStatus::Running)
            });
            if t.status == TaskStatus::InProgress && !others_run {
                let mut t = t.clone();
                set_task_status(&mut t, TaskStatus::InReview, ctx.now);
                touch_task(&mut t, ctx.now);
                events.push(EventData::TaskUpdated(t));
            }
        }
    }

    /// What its agent is doing: only while it runs; saying the same again changes nothing
    /// (no event, no write).
    pub(super) fn set_session_state(
        &self,
        id: &str,
        update: &SessionStateUpdate,
        ctx: &mut Inputs<'_>,
    ) -> Result<Plan, StoreError> {
        let old = self.session(id)?;
        if old.status != SessionStatus::Running {
            return Err(StoreError::Conflict(format!("session {id} has ended: it is doing nothing")));
        }
        let message = match update.message.as_deref().filter(|m| !m.trim().is_empty()) {
            Some(m) => Some(clean("message", m, TITLE_MAX)?),
            None => None,
        };
        if old.state == Some(update.state) && old.state_message == message {
            return Ok(Plan::unchanged(Outcome::Session(old.clone())));
        }
        let mut s = old.clone();
        s.state = Some(update.state);
        s.state_message = message;
        s.state_at = Some(ctx.now);
        touch_session(&mut s, ctx);
        Ok(Plan { events: vec![EventData::SessionUpdated(s.clone())], outcome: Outcome::Session(s) })
    }

    /// A line for its timeline, running or ended (an agent may sum up after it stopped);
    /// the oldest go past [`TIMELINE_MAX`].
    pub(super) fn log_session(
        &self,
        id: &str,
        line: &SessionLogLine,
        ctx: &mut Inputs<'_>,
    ) -> Result<Plan, StoreError> {
        let old = self.session(id)?;
        let text = clean("text", &line.text, TITLE_MAX)?;
        let mut s = old.clone();
        let over = (s.timeline.len() + 1).saturating_sub(TIMELINE_MAX);
        s.timeline.drain(..over);
        s.timeline.push(TimelineLine { at: ctx.now, text });
        touch_session(&mut s, ctx);
        Ok(Plan { events: vec![EventData::SessionUpdated(s.clone())], outcome: Outcome::Session(s) })
    }

    pub(super) fn create_session(&self, ns: &NewSession, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        if let Some(id) = &ns.id {
            check_id(id)?;
            // Sessions and plain terminals share the terminals' namespace: a session named
            // like a plain terminal would be taken for one (and its terminal for the session's).
            if id.starts_with(PLAIN_TERMINAL_PREFIX) {
                return Err(StoreError::Invalid(format!(
                    "session id {id:?} must not start with {PLAIN_TERMINAL_PREFIX:?}: that prefix names plain terminals"
                )));
            }
        }
        let project = self.project(&ns.project_id)?;
        if ns.task_ids.len() > SESSION_TASKS_MAX {
            return Err(StoreError::Invalid(format!("a session can start with at most {SESSION_TASKS_MAX} tasks")));
        }
        let mut seen = HashSet::new();
        let mut tasks = Vec::with_capacity(ns.task_ids.len());
        for tid in &ns.task_ids {
            if !seen.insert(tid.as_str()) {
                return Err(StoreError::Invalid(format!("taskIds lists {tid} twice")));
            }
            let t = self.task(tid)?;
            if t.project_id != project.id {
                return Err(other_project(tid, &t.project_id, &project.id));
            }
            if t.session_ids.len() >= TASK_SESSIONS_MAX
                && !ns.id.as_ref().is_some_and(|id| self.sessions.contains_key(id))
            {
                return Err(task_full(tid));
            }
            tasks.push(t);
        }
        let name = match &ns.name {
            Some(n) => clean("name", n, NAME_MAX)?,
            None => {
                tasks.first().map(|t| t.title.chars().take(NAME_MAX).collect()).unwrap_or_else(|| "Session".to_string())
            }
        };
        let agent = agent_id(ns.agent_id.as_deref())?;
        let workspace = ns.workspace.as_deref().filter(|w| *w != WORKSPACE_NONE).map(str::to_string);
        let prompt = session_prompt(ns.prompt.as_deref())?;
        let same = |old: &Session| {
            let old_tasks: HashSet<&str> = old.task_ids.iter().map(String::as_str).collect();
            old.project_id == ns.project_id
                && old_tasks == seen
                && (ns.name.is_none() || old.name == name)
                && old.agent_id == agent
                && old.workspace_id == workspace
                && old.prompt == prompt
        };
        let id = match new_id(ns.id.as_deref(), &self.sessions, ("session", "sess"), ctx, same)? {
            NewId::Fresh(id) => id,
            NewId::Retry(old) => return Ok(Plan::unchanged(Outcome::Session(old.clone()))),
        };
        self.check_session_workspace(workspace.as_deref(), &ns.project_id)?;
        let mut s = Session {
            id: id.clone(),
            project_id: ns.project_id.clone(),
            task_ids: ns.task_ids.clone(),
            name,
            agent_id: agent,
            env: BTreeMap::new(),
            status: SessionStatus::Running,
            started_at: ctx.now,
            last_activity: ctx.now,
            completed_at: None,
            version: 1,
            node: None,
            workspace_id: workspace,
            exit_code: None,
            state: None,
            state_message: None,
            state_at: None,
            timeline: Vec::new(),
            prompt,
        };
        s.env = session_env(&s, ctx.api_url);
        let mut events = vec![EventData::SessionCreated(s.clone())];
        for t in tasks {
            let mut t = t.clone();
            t.session_ids.push(id.clone());
            // SPEC §8: work has started on it; any other status was said by someone and stays.
            if t.status == TaskStatus::Pending {
                set_task_status(&mut t, TaskStatus::InProgress, ctx.now);
            }
            touch_task(&mut t, ctx.now);
            let link = Link { session_id: id.clone(), task_id: t.id.clone() };
            events.push(EventData::TaskUpdated(t));
            events.push(EventData::SessionTaskAdded(link.clone()));
            events.push(EventData::TaskSessionAdded(link));
        }
        Ok(Plan { events, outcome: Outcome::Session(s) })
    }

    /// The workspace a new session runs in: one of its project's, active. The server
    /// resolves `"new"` and the automatic choice into an id before the command is planned.
    fn check_session_workspace(&self, workspace: Option<&str>, project: &str) -> Result<(), StoreError> {
        let Some(id) = workspace else { return Ok(()) };
        if id == WORKSPACE_NEW {
            return Err(StoreError::Invalid("workspace \"new\" is made by the server before the session".into()));
        }
        check_id(id)?;
        let w = self.workspace(id)?;
        if w.project_id != project {
            return Err(StoreError::Invalid(format!(
                "workspace {id} belongs to project {}, not to the session's project {project}",
                w.project_id
            )));
        }
        if w.status != WorkspaceStatus::Active {
            return Err(StoreError::Conflict(format!(
                "workspace {id} is {}: a session runs only in an active one",
                w.status.as_str()
            )));
        }
        Ok(())
    }

    pub(super) fn delete_session(&self, id: &str, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let s = self.session(id)?;
        let mut events = vec![EventData::SessionDeleted(Deleted { id: id.to_string() })];
        for tid in &s.task_ids {
            let Some(t) = self.tasks.get(tid) else { continue };
            let mut t = t.clone();
            t.session_ids.retain(|x| x != id);
            touch_task(&mut t, ctx.now);
            let link = Link { session_id: id.to_string(), task_id: tid.clone() };
            events.push(EventData::TaskUpdated(t));
            events.push(EventData::SessionTaskRemoved(link.clone()));
            events.push(EventData::TaskSessionRemoved(link));
        }
        Ok(Plan { events, outcome: Outcome::Deleted })
    }

    /// Links (`add`) or unlinks a task and a session, changing both sides at once.
    pub(super) fn link(&self, sid: &str, tid: &str, add: bool, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let mut s = self.session(sid)?.clone();
        let mut t = self.task(tid)?.clone();
        let linked = s.task_ids.iter().any(|x| x == tid);
        if add {
            if linked {
                return Err(StoreError::Conflict(format!("task {tid} is already linked to session {sid}")));
            }
            if t.project_id != s.project_id {
                return Err(other_project(tid, &t.project_id, &s.project_id));
            }
            if s.task_ids.len() >= SESSION_TASKS_MAX {
                return Err(StoreError::Conflict(format!(
                    "session {sid} already works on {SESSION_TASKS_MAX} tasks, the most one session may have"
                )));
            }
            if t.session_ids.len() >= TASK_SESSIONS_MAX {
                return Err(task_full(tid));
            }
            s.task_ids.push(tid.to_string());
            t.session_ids.push(sid.to_string());
        } else {
            if !linked {
                return Err(StoreError::NotFound(format!("task {tid} is not linked to session {sid}")));
            }
            s.task_ids.retain(|x| x != tid);
            t.session_ids.retain(|x| x != sid);
        }
        touch_session(&mut s, ctx);
        touch_task(&mut t, ctx.now);
        let link = Link { session_id: sid.to_string(), task_id: tid.to_string() };
        let (a, b) = if add {
            (EventData::SessionTaskAdded(link.clone()), EventData::TaskSessionAdded(link))
        } else {
            (EventData::SessionTaskRemoved(link.clone()), EventData::TaskSessionRemoved(link))
        };
        Ok(Plan {
            events: vec![EventData::SessionUpdated(s.clone()), EventData::TaskUpdated(t), a, b],
            outcome: Outcome::Session(s),
        })
    }
}

/// A new session's extra prompt: free text within its bytes; blank is none.
fn session_prompt(prompt: Option<&str>) -> Result<Option<String>, StoreError> {
    let Some(p) = prompt.filter(|p| !p.trim().is_empty()) else { return Ok(None) };
    if p.len() > SESSION_PROMPT_MAX {
        return Err(StoreError::Invalid(format!("prompt is longer than {SESSION_PROMPT_MAX} bytes")));
    }
    bounded("prompt", p, SESSION_PROMPT_MAX).map(Some)
}

fn task_full(tid: &str) -> StoreError {
    StoreError::Conflict(format!("task {tid} already has {TASK_SESSIONS_MAX} sessions, the most one task may have"))
}

/// A conflict with what is (409), not a malformed request: the same ids may link once the
/// task is in the session's project.
fn other_project(tid: &str, task_project: &str, project: &str) -> StoreError {
    StoreError::Conflict(format!(
        "task {tid} belongs to project {task_project}, not to the session's project {project}"
    ))
}
