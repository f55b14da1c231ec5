//! The domain: what the store holds and what each mutation does to it, with no I/O.
//!
//! A mutation is *planned* against the current state into the list of events it causes
//! (SPEC §3, in order). Applying those events is the only way state changes, so the event
//! log replayed from empty rebuilds the state exactly, and the persistence layer only has
//! to store what the events say.

use super::{Command, Outcome, StoreError};
use crate::model::*;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The ids of plain terminals (no session) start with this; no session's may.
pub const PLAIN_TERMINAL_PREFIX: &str = "term_";
/// Most subtasks one task may hold.
pub const SUBTASKS_MAX: usize = 1000;
/// Most tasks one session may be linked to: its `MAESTRO_TASK_IDS` stays a few KiB, far
/// below Linux's 128 KiB limit on one environment string.
pub const SESSION_TASKS_MAX: usize = 256;
/// Most sessions one task may be linked to.
pub const TASK_SESSIONS_MAX: usize = 256;

/// Everything the store holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    pub projects: HashMap<String, Project>,
    pub tasks: HashMap<String, Task>,
    pub sessions: HashMap<String, Session>,
}

/// What a mutation needs from outside the state: the clock, fresh ids, and the API URL
/// that sessions' terminals are told about.
pub struct Inputs<'a> {
    pub now: Millis,
    pub api_url: &'a str,
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
    fn unchanged(outcome: Outcome) -> Plan {
        Plan { events: Vec::new(), outcome }
    }
}

impl State {
    /// Applies one event. Link events carry nothing the entity updates around them do not.
    pub fn apply(&mut self, e: &EventData) {
        use EventData::*;
        match e {
            ProjectCreated(p) | ProjectUpdated(p) => {
                self.projects.insert(p.id.clone(), p.clone());
            }
            ProjectDeleted(d) => {
                self.projects.remove(&d.id);
            }
            TaskCreated(t) | TaskUpdated(t) => {
                self.tasks.insert(t.id.clone(), t.clone());
            }
            TaskDeleted(d) => {
                self.tasks.remove(&d.id);
            }
            SessionCreated(s) | SessionUpdated(s) => {
                self.sessions.insert(s.id.clone(), s.clone());
            }
            SessionDeleted(d) => {
                self.sessions.remove(&d.id);
            }
            SessionTaskAdded(_) | SessionTaskRemoved(_) | TaskSessionAdded(_) | TaskSessionRemoved(_) => {}
        }
    }

    /// What the state holds, by the measure of the store's byte budget: the sum of its
    /// entities' JSON sizes (see [`json_bytes`]). A full count, for start-up; the writer
    /// then keeps it current with [`State::growth`].
    pub fn bytes(&self) -> u64 {
        let p: u64 = self.projects.values().map(json_bytes).sum();
        let t: u64 = self.tasks.values().map(json_bytes).sum();
        let s: u64 = self.sessions.values().map(json_bytes).sum();
        p + t + s
    }

    /// How many bytes applying `events` in turn would add to [`State::bytes`] (negative:
    /// frees), without applying them. Costs the JSON size of each entity they touch.
    pub fn growth(&self, events: &[EventData]) -> i64 {
        use EventData::*;
        // An entity a list of events touches twice counts from its first new size.
        let mut sizes: HashMap<(u8, &str), u64> = HashMap::new();
        let mut total = 0i64;
        for e in events {
            let (key, new) = match e {
                ProjectCreated(p) | ProjectUpdated(p) => ((0, p.id.as_str()), json_bytes(p)),
                ProjectDeleted(d) => ((0, d.id.as_str()), 0),
                TaskCreated(t) | TaskUpdated(t) => ((1, t.id.as_str()), json_bytes(t)),
                TaskDeleted(d) => ((1, d.id.as_str()), 0),
                SessionCreated(s) | SessionUpdated(s) => ((2, s.id.as_str()), json_bytes(s)),
                SessionDeleted(d) => ((2, d.id.as_str()), 0),
                SessionTaskAdded(_) | SessionTaskRemoved(_) | TaskSessionAdded(_) | TaskSessionRemoved(_) => continue,
            };
            let old = match sizes.get(&key) {
                Some(n) => *n,
                None => match key.0 {
                    0 => self.projects.get(key.1).map_or(0, json_bytes),
                    1 => self.tasks.get(key.1).map_or(0, json_bytes),
                    _ => self.sessions.get(key.1).map_or(0, json_bytes),
                },
            };
            total += new as i64 - old as i64;
            sizes.insert(key, new);
        }
        total
    }

    /// Projects, oldest first (the order people created them in).
    pub fn list_projects(&self) -> Vec<Project> {
        let mut v: Vec<Project> = self.projects.values().cloned().collect();
        v.sort_by(Project::oldest_first);
        v
    }

    /// Tasks matching the filters, newest first.
    pub fn list_tasks(&self, project_id: Option<&str>, status: Option<TaskStatus>) -> Vec<Task> {
        let mut v: Vec<Task> = self.tasks_where(project_id, status).cloned().collect();
        v.sort_by(Task::newest_first);
        v
    }

    /// Tasks matching the filters, in no order (for a page of them, see `model::page`).
    pub fn tasks_where<'a>(
        &'a self,
        project_id: Option<&'a str>,
        status: Option<TaskStatus>,
    ) -> impl Iterator<Item = &'a Task> + 'a {
        self.tasks
            .values()
            .filter(move |t| project_id.is_none_or(|p| t.project_id == p))
            .filter(move |t| status.is_none_or(|s| t.status == s))
    }

    /// The tasks a session works on, newest first.
    pub fn list_session_tasks(&self, session_id: &str) -> Vec<Task> {
        let mut v: Vec<Task> =
            self.tasks.values().filter(|t| t.session_ids.iter().any(|s| s == session_id)).cloned().collect();
        v.sort_by(Task::newest_first);
        v
    }

    /// Sessions matching the filters, newest first.
    pub fn list_sessions(
        &self,
        task_id: Option<&str>,
        project_id: Option<&str>,
        status: Option<SessionStatus>,
    ) -> Vec<Session> {
        let mut v: Vec<Session> = self.sessions_where(task_id, project_id, status).cloned().collect();
        v.sort_by(Session::newest_first);
        v
    }

    /// Sessions matching the filters, in no order.
    pub fn sessions_where<'a>(
        &'a self,
        task_id: Option<&'a str>,
        project_id: Option<&'a str>,
        status: Option<SessionStatus>,
    ) -> impl Iterator<Item = &'a Session> + 'a {
        self.sessions
            .values()
            .filter(move |s| task_id.is_none_or(|t| s.task_ids.iter().any(|x| x == t)))
            .filter(move |s| project_id.is_none_or(|p| s.project_id == p))
            .filter(move |s| status.is_none_or(|st| s.status == st))
    }

    /// SPEC §1's invariant: links are symmetric, point at records that exist, stay inside
    /// one project, and counts match. Returns the first violation found.
    pub fn check_invariant(&self) -> Result<(), String> {
        for t in self.tasks.values() {
            if !self.projects.contains_key(&t.project_id) {
                return Err(format!("task {} in missing project {}", t.id, t.project_id));
            }
            if t.session_count != t.session_ids.len() {
                return Err(format!("task {} sessionCount mismatch", t.id));
            }
            if t.session_ids.iter().collect::<HashSet<_>>().len() != t.session_ids.len() {
                return Err(format!("task {} lists a session twice", t.id));
            }
            for sid in &t.session_ids {
                let Some(s) = self.sessions.get(sid) else {
                    return Err(format!("task {} links missing session {sid}", t.id));
                };
                if !s.task_ids.contains(&t.id) {
                    return Err(format!("task {} ↔ session {sid} is one-sided", t.id));
                }
            }
        }
        for s in self.sessions.values() {
            if !self.projects.contains_key(&s.project_id) {
                return Err(format!("session {} in missing project {}", s.id, s.project_id));
            }
            if s.task_ids.iter().collect::<HashSet<_>>().len() != s.task_ids.len() {
                return Err(format!("session {} lists a task twice", s.id));
            }
            for tid in &s.task_ids {
                let Some(t) = self.tasks.get(tid) else {
                    return Err(format!("session {} links missing task {tid}", s.id));
                };
                if !t.session_ids.contains(&s.id) {
                    return Err(format!("session {} ↔ task {tid} is one-sided", s.id));
                }
                if t.project_id != s.project_id {
                    return Err(format!("session {} linked to task {tid} of another project", s.id));
                }
            }
        }
        Ok(())
    }

    /// Works out what `cmd` does: its events in SPEC §3 order and its result. Refuses
    /// (with no effect) anything invalid, missing or conflicting.
    pub fn plan(&self, cmd: &Command, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        match cmd {
            Command::CreateProject(np) => self.create_project(np, ctx),
            Command::UpdateProject(id, patch) => self.update_project(id, patch, ctx),
            Command::DeleteProject(id) => self.delete_project(id),
            Command::CreateTask(nt) => self.create_task(nt, ctx),
            Command::UpdateTask(id, patch) => self.update_task(id, patch, ctx),
            Command::DeleteTask(id) => self.delete_task(id, ctx),
            Command::AddSubtask(tid, ns) => self.add_subtask(tid, ns, ctx),
            Command::UpdateSubtask(tid, sid, patch) => self.update_subtask(tid, sid, patch, ctx),
            Command::DeleteSubtask(tid, sid) => self.delete_subtask(tid, sid, ctx),
            Command::CreateSession(ns) => self.create_session(ns, ctx),
            Command::UpdateSession(id, patch) => self.update_session(id, patch, ctx),
            Command::DeleteSession(id) => self.delete_session(id, ctx),
            Command::LinkTask { session_id, task_id } => self.link(session_id, task_id, true, ctx),
            Command::UnlinkTask { session_id, task_id } => self.link(session_id, task_id, false, ctx),
            Command::ClaimTerminal { session_id, node } => self.claim_terminal(session_id, node, ctx),
            Command::FailNode(node) => Ok(self.fail_node(node, ctx)),
        }
    }

    /// The node that will run a session's terminal: the first to ask. Asking again is
    /// fine; another node asking is told which one has it (`Conflict`).
    fn claim_terminal(&self, id: &str, node: &str, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let old = self.session(id)?;
        match &old.node {
            Some(n) if n == node => Ok(Plan::unchanged(Outcome::Session(old.clone()))),
            Some(n) => Err(StoreError::Conflict(format!("session {id}'s terminal runs on node {n}"))),
            None => {
                let mut s = old.clone();
                s.node = Some(node.to_string());
                touch_session(&mut s, ctx);
                Ok(Plan { events: vec![EventData::SessionUpdated(s.clone())], outcome: Outcome::Session(s) })
            }
        }
    }

    /// A node has died: the sessions whose terminals it ran, and that had not ended, failed.
    fn fail_node(&self, node: &str, ctx: &mut Inputs<'_>) -> Plan {
        let mut gone: Vec<&Session> = self
            .sessions
            .values()
            .filter(|s| s.status == SessionStatus::Running && s.node.as_deref() == Some(node))
            .collect();
        gone.sort_by(|a, b| a.id.cmp(&b.id));
        let events = gone
            .into_iter()
            .map(|s| {
                let mut s = s.clone();
                s.status = SessionStatus::Failed;
                s.completed_at = Some(ctx.now);
                touch_session(&mut s, ctx);
                EventData::SessionUpdated(s)
            })
            .collect();
        Plan { events, outcome: Outcome::Deleted }
    }

    /// Whether any session still running has its terminal on `node`.
    pub fn runs_on(&self, node: &str) -> bool {
        self.sessions.values().any(|s| s.status == SessionStatus::Running && s.node.as_deref() == Some(node))
    }

    fn project(&self, id: &str) -> Result<&Project, StoreError> {
        self.projects.get(id).ok_or_else(|| StoreError::NotFound(format!("project {id} not found")))
    }

    fn task(&self, id: &str) -> Result<&Task, StoreError> {
        self.tasks.get(id).ok_or_else(|| StoreError::NotFound(format!("task {id} not found")))
    }

    fn session(&self, id: &str) -> Result<&Session, StoreError> {
        self.sessions.get(id).ok_or_else(|| StoreError::NotFound(format!("session {id} not found")))
    }

    fn create_project(&self, np: &NewProject, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let name = clean("name", &np.name, NAME_MAX)?;
        let base_path = base_path(np.base_path.as_deref())?;
        let same = |old: &Project| old.name == name && old.base_path == base_path;
        let id = match new_id(np.id.as_deref(), &self.projects, ("project", "proj"), ctx, same)? {
            NewId::Fresh(id) => id,
            NewId::Retry(old) => return Ok(Plan::unchanged(Outcome::Project(old.clone()))),
        };
        let p = Project { id, name, base_path, created_at: ctx.now, updated_at: ctx.now };
        Ok(Plan { events: vec![EventData::ProjectCreated(p.clone())], outcome: Outcome::Project(p) })
    }

    fn update_project(&self, id: &str, patch: &ProjectPatch, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let old = self.project(id)?;
        let mut p = old.clone();
        if let Some(name) = &patch.name {
            p.name = clean("name", name, NAME_MAX)?;
        }
        if let Some(bp) = &patch.base_path {
            p.base_path = base_path(bp.as_deref())?;
        }
        if p == *old {
            return Ok(Plan::unchanged(Outcome::Project(p)));
        }
        p.updated_at = ctx.now;
        Ok(Plan { events: vec![EventData::ProjectUpdated(p.clone())], outcome: Outcome::Project(p) })
    }

    fn delete_project(&self, id: &str) -> Result<Plan, StoreError> {
        self.project(id)?;
        let tasks = self.tasks.values().filter(|t| t.project_id == id).count();
        let sessions = self.sessions.values().filter(|s| s.project_id == id).count();
        if tasks + sessions > 0 {
            return Err(StoreError::Conflict(format!(
                "project {id} still has {tasks} task(s) and {sessions} session(s); delete them first"
            )));
        }
        Ok(Plan { events: vec![EventData::ProjectDeleted(Deleted { id: id.to_string() })], outcome: Outcome::Deleted })
    }

    fn create_task(&self, nt: &NewTask, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
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

    fn update_task(&self, id: &str, patch: &TaskPatch, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
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
        Ok(task_changed(old, t, ctx.now))
    }

    fn add_subtask(&self, tid: &str, ns: &NewSubtask, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
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

    fn update_subtask(
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

    fn delete_subtask(&self, tid: &str, sid: &str, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let old = self.task(tid)?;
        let mut t = old.clone();
        let before = t.subtasks.len();
        t.subtasks.retain(|s| s.id != sid);
        if t.subtasks.len() == before {
            return Err(StoreError::NotFound(format!("subtask {sid} not found in task {tid}")));
        }
        Ok(task_changed(old, t, ctx.now))
    }

    fn update_session(&self, id: &str, patch: &SessionPatch, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
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

    fn delete_task(&self, id: &str, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let t = self.task(id)?;
        let mut events = vec![EventData::TaskDeleted(Deleted { id: id.to_string() })];
        for sid in &t.session_ids {
            // A link to a missing session (a database written by an older build) goes with it.
            let Some(s) = self.sessions.get(sid) else { continue };
            let mut s = s.clone();
            s.task_ids.retain(|x| x != id);
            touch_session(&mut s, ctx);
            let link = Link { session_id: sid.clone(), task_id: id.to_string() };
            events.push(EventData::SessionUpdated(s));
            events.push(EventData::SessionTaskRemoved(link.clone()));
            events.push(EventData::TaskSessionRemoved(link));
        }
        Ok(Plan { events, outcome: Outcome::Deleted })
    }

    fn create_session(&self, ns: &NewSession, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
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
        let same = |old: &Session| {
            let old_tasks: HashSet<&str> = old.task_ids.iter().map(String::as_str).collect();
            old.project_id == ns.project_id
                && old_tasks == seen
                && (ns.name.is_none() || old.name == name)
                && old.agent_id == agent
        };
        let id = match new_id(ns.id.as_deref(), &self.sessions, ("session", "sess"), ctx, same)? {
            NewId::Fresh(id) => id,
            NewId::Retry(old) => return Ok(Plan::unchanged(Outcome::Session(old.clone()))),
        };
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
        };
        s.env = session_env(&s, ctx.api_url);
        let mut events = vec![EventData::SessionCreated(s.clone())];
        for t in tasks {
            let mut t = t.clone();
            t.session_ids.push(id.clone());
            touch_task(&mut t, ctx.now);
            let link = Link { session_id: id.clone(), task_id: t.id.clone() };
            events.push(EventData::TaskUpdated(t));
            events.push(EventData::SessionTaskAdded(link.clone()));
            events.push(EventData::TaskSessionAdded(link));
        }
        Ok(Plan { events, outcome: Outcome::Session(s) })
    }

    fn delete_session(&self, id: &str, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
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
    fn link(&self, sid: &str, tid: &str, add: bool, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
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

/// What one entity counts for against the store's byte budget: the length of its JSON,
/// the same however the state was reached (live, replayed, loaded from either backend).
pub fn json_bytes<T: serde::Serialize>(v: &T) -> u64 {
    crate::model::page::json_len(v) as u64
}

/// The plan for a task edit: nothing when nothing changed, else one `task:updated`.
fn task_changed(old: &Task, mut t: Task, now: Millis) -> Plan {
    if t == *old {
        return Plan::unchanged(Outcome::Task(t));
    }
    touch_task(&mut t, now);
    Plan { events: vec![EventData::TaskUpdated(t.clone())], outcome: Outcome::Task(t) }
}

/// Stamps a task change: count, version and time.
fn touch_task(t: &mut Task, now: Millis) {
    t.session_count = t.session_ids.len();
    t.version += 1;
    t.updated_at = now;
}

/// Stamps a session change: env, version and activity time.
fn touch_session(s: &mut Session, ctx: &Inputs<'_>) {
    s.env = session_env(s, ctx.api_url);
    s.version += 1;
    s.last_activity = ctx.now;
}

fn set_task_status(t: &mut Task, s: TaskStatus, now: Millis) {
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

pub use crate::model::limits::*;

/// Client-supplied ids: `[A-Za-z0-9_-]{1,128}`.
pub fn check_id(id: &str) -> Result<(), StoreError> {
    let ok =
        (1..=ID_MAX).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "id {:?} must be 1–128 characters of A–Z, a–z, 0–9, _ or -",
            id.chars().take(140).collect::<String>()
        )))
    }
}

/// A required one-line text: trimmed, then 1..=max chars, no control characters (an
/// escape sequence in a name would drive the terminal of whoever lists it).
fn clean(field: &str, s: &str, max: usize) -> Result<String, StoreError> {
    // The length as sent (not as trimmed): what the API's document can state.
    length(field, s, max)?;
    let t = s.trim();
    if t.is_empty() {
        return Err(StoreError::Invalid(format!("{field} must not be empty")));
    }
    if t.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!("{field} must not contain control characters")));
    }
    length(field, t, max)
}

/// An optional free text: at most `max` chars, kept as given; line breaks and tabs are
/// fine, other control characters (escape sequences) are not.
fn bounded(field: &str, s: &str, max: usize) -> Result<String, StoreError> {
    if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(StoreError::Invalid(format!(
            "{field} must not contain control characters other than line breaks and tabs"
        )));
    }
    length(field, s, max)
}

fn length(field: &str, s: &str, max: usize) -> Result<String, StoreError> {
    if s.chars().count() > max {
        return Err(StoreError::Invalid(format!("{field} is longer than {max} characters")));
    }
    Ok(s.to_string())
}

fn base_path(p: Option<&str>) -> Result<Option<String>, StoreError> {
    let Some(p) = p else { return Ok(None) };
    let p = p.trim();
    if p.is_empty() {
        return Ok(None);
    }
    if !p.starts_with('/') || p.chars().any(char::is_control) || p.len() > PATH_MAX {
        return Err(StoreError::Invalid(format!(
            "basePath must be an absolute directory path (starting with /), got {:?}",
            p.chars().take(100).collect::<String>()
        )));
    }
    Ok(Some(p.to_string()))
}

fn agent_id(a: Option<&str>) -> Result<Option<String>, StoreError> {
    a.map(|a| clean("agentId", a, AGENT_ID_MAX)).transpose()
}

/// The id of a record being created.
enum NewId<'a, T> {
    /// Fresh, or the client's own that nothing has yet.
    Fresh(String),
    /// The client's id names this record, made by the same request: a safe retry.
    Retry(&'a T),
}

/// A create's id (SPEC §1): a fresh `prefix_…` one, or the client's, checked against the
/// id rule and against what already has it (`same` tells a retry from a clash, 409).
fn new_id<'a, T>(
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

fn task_full(tid: &str) -> StoreError {
    StoreError::Conflict(format!("task {tid} already has {TASK_SESSIONS_MAX} sessions, the most one task may have"))
}

fn other_project(tid: &str, task_project: &str, project: &str) -> StoreError {
    StoreError::Invalid(format!("task {tid} belongs to project {task_project}, not to the session's project {project}"))
}
