//! Planning: what a command does to the state, as the events it causes in SPEC §3 order
//! and the value its caller gets back. A file per entity; the stamps every change shares
//! and a create's id here.

mod comment;
mod project;
mod session;
mod task;
mod workspace;

use super::validate::check_id;
use super::State;
use crate::mac::Secret;
use crate::model::{EventData, Millis, Session, SessionStateUpdate, Task, TaskStatus};
use crate::store::{Command, Outcome, StoreError};
use std::collections::{BTreeMap, HashMap};

/// What a mutation needs from outside the state: the clock, fresh ids, the API URL
/// that sessions' terminals are told about, and the key setup commands are signed with.
pub struct Inputs<'a> {
    pub now: Millis,
    pub api_url: &'a str,
    pub setup_key: &'a Secret,
    /// Makes a fresh id with the given prefix (`proj`, `task`, `sess`, `sub`).
    pub new_id: &'a mut dyn FnMut(&str) -> String,
}

/// The events a mutation causes and the value its caller gets back.
#[derive(Debug)]
pub struct Plan {
    pub events: Vec<EventData>,
    pub outcome: Outcome,
}

impl Plan {
    /// A retry or a patch that changes nothing: no events, the current value back.
    pub(super) fn unchanged(outcome: Outcome) -> Plan {
        Plan { events: Vec::new(), outcome }
    }
}

impl State {
    /// Works out what `cmd` does: its events in SPEC §3 order and its result. Refuses
    /// (with no effect) anything invalid, missing or conflicting.
    pub fn plan(&self, cmd: &Command, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        match cmd {
            Command::CreateProject { project } => self.create_project(project, ctx),
            Command::UpdateProject { id, patch } => self.update_project(id, patch, ctx),
            Command::DeleteProject { id } => self.delete_project(id),
            Command::DeleteProjectWithContents { id } => self.delete_project_with_contents(id),
            Command::CreateTask { task } => self.create_task(task, ctx),
            Command::UpdateTask { id, patch } => self.update_task(id, patch, ctx),
            Command::DeleteTask { id } => self.delete_task(id, ctx),
            Command::AddSubtask { task_id, subtask } => self.add_subtask(task_id, subtask, ctx),
            Command::UpdateSubtask { task_id, subtask_id, patch } => {
                self.update_subtask(task_id, subtask_id, patch, ctx)
            }
            Command::DeleteSubtask { task_id, subtask_id } => self.delete_subtask(task_id, subtask_id, ctx),
            Command::CreateSession { session } => self.create_session(session, ctx),
            Command::UpdateSession { id, patch } => self.update_session(id, patch, ctx),
            Command::DeleteSession { id } => self.delete_session(id, ctx),
            Command::LinkTask { session_id, task_id } => self.link(session_id, task_id, true, ctx),
            Command::UnlinkTask { session_id, task_id } => self.link(session_id, task_id, false, ctx),
            Command::ClaimTerminal { session_id, node } => self.claim_terminal(session_id, node, ctx),
            Command::FailNode { node } => Ok(self.fail_node(node, ctx)),
            Command::SessionExited { id, code } => self.session_exited(id, *code, ctx),
            Command::SetSessionState { id, update } => self.set_session_state(id, update, ctx),
            Command::GuessSessionState { id, state, seen, message } => match self.session(id)? {
                s if s.state != *seen => Ok(Plan::unchanged(Outcome::Session(s.clone()))),
                _ => self.set_session_state(id, &SessionStateUpdate { state: *state, message: message.clone() }, ctx),
            },
            Command::LogSession { id, line } => self.log_session(id, line, ctx),
            Command::CreateWorkspace { workspace } => self.create_workspace(workspace, ctx),
            Command::UpdateWorkspace { id, patch } => self.update_workspace(id, patch, ctx),
            Command::DeleteWorkspace { id } => self.delete_workspace(id, ctx),
            Command::CreateComment { workspace_id, comment } => self.create_comment(workspace_id, comment, ctx),
            Command::UpdateComment { id, patch } => self.update_comment(id, patch, ctx),
            Command::DeleteComment { id } => self.delete_comment(id),
            Command::SendComments { workspace_id, ids } => self.send_comments(workspace_id, ids, ctx),
        }
    }
}

/// The plan for a task edit: nothing when nothing changed, else one `task:updated`.
pub(super) fn task_changed(old: &Task, mut t: Task, now: Millis) -> Plan {
    if t == *old {
        return Plan::unchanged(Outcome::Task(t));
    }
    touch_task(&mut t, now);
    Plan { events: vec![EventData::TaskUpdated(t.clone())], outcome: Outcome::Task(t) }
}

/// Stamps a task change: count, version and time.
pub(super) fn touch_task(t: &mut Task, now: Millis) {
    t.session_count = t.session_ids.len();
    t.version += 1;
    t.updated_at = now;
}

/// Stamps a session change: env, version and activity time.
pub(super) fn touch_session(s: &mut Session, ctx: &Inputs<'_>) {
    s.env = session_env(s, ctx.api_url);
    s.version += 1;
    s.last_activity = ctx.now;
}

pub(super) fn set_task_status(t: &mut Task, s: TaskStatus, now: Millis) {
    if t.status != s {
        t.status = s;
        t.completed_at = (s == TaskStatus::Completed).then_some(now);
    }
}

/// The `MAESTRO_*` variables an agent in this session reads (SPEC §1).
pub fn session_env(s: &Session, api_url: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("MAESTRO_PROJECT_ID".to_string(), s.project_id.clone()),
        ("MAESTRO_SESSION_ID".to_string(), s.id.clone()),
        ("MAESTRO_TASK_IDS".to_string(), s.task_ids.join(",")),
        ("MAESTRO_API_URL".to_string(), api_url.to_string()),
    ])
}

/// The id of a record being created.
pub(super) enum NewId<'a, T> {
    /// Fresh, or the client's own that nothing has yet.
    Fresh(String),
    /// The client's id names this record, made by the same request: a safe retry.
    Retry(&'a T),
}

/// A create's id (SPEC §1): a fresh `prefix_…` one, or the client's, checked against the
/// id rule and against what already has it (`same` tells a retry from a clash, 409).
pub(super) fn new_id<'a, T>(
    given: Option<&str>,
    existing: &'a HashMap<String, T>,
    (kind, prefix): (&str, &str),
    ctx: &mut Inputs<'_>,
    same: impl FnOnce(&T) -> bool,
) -> Result<NewId<'a, T>, StoreError> {
    let Some(id) = given else { return Ok(NewId::Fresh((ctx.new_id)(prefix))) };
    check_id(id)?;
    match existing.get(id) {
        None => Ok(NewId::Fresh(id.to_string())),
        Some(old) if same(old) => Ok(NewId::Retry(old)),
        Some(_) => Err(StoreError::Conflict(format!("a {kind} with id {id} already exists with different values"))),
    }
}
