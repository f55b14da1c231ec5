//! The reads: lists in their order, filters for a page, and one record or `NotFound`.

use super::State;
use crate::model::{Project, ProjectContents, Session, SessionStatus, Task, TaskStatus, Workspace, WorkspaceStatus};
use crate::store::StoreError;

impl State {
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

    /// Workspaces matching the filters, in no order.
    pub fn workspaces_where<'a>(
        &'a self,
        project_id: Option<&'a str>,
        task_id: Option<&'a str>,
        status: Option<WorkspaceStatus>,
    ) -> impl Iterator<Item = &'a Workspace> + 'a {
        self.workspaces
            .values()
            .filter(move |w| project_id.is_none_or(|p| w.project_id == p))
            .filter(move |w| task_id.is_none_or(|t| w.task_id == t))
            .filter(move |w| status.is_none_or(|s| w.status == s))
    }

    /// Workspaces matching the filters, newest first.
    pub fn list_workspaces(
        &self,
        project_id: Option<&str>,
        task_id: Option<&str>,
        status: Option<WorkspaceStatus>,
    ) -> Vec<Workspace> {
        let mut v: Vec<Workspace> = self.workspaces_where(project_id, task_id, status).cloned().collect();
        v.sort_by(Workspace::newest_first);
        v
    }

    pub(super) fn project(&self, id: &str) -> Result<&Project, StoreError> {
        self.projects.get(id).ok_or_else(|| StoreError::NotFound(format!("project {id} not found")))
    }

    pub(super) fn task(&self, id: &str) -> Result<&Task, StoreError> {
        self.tasks.get(id).ok_or_else(|| StoreError::NotFound(format!("task {id} not found")))
    }

    pub(super) fn session(&self, id: &str) -> Result<&Session, StoreError> {
        self.sessions.get(id).ok_or_else(|| StoreError::NotFound(format!("session {id} not found")))
    }

    pub fn workspace(&self, id: &str) -> Result<&Workspace, StoreError> {
        self.workspaces.get(id).ok_or_else(|| StoreError::NotFound(format!("workspace {id} not found")))
    }

    /// What deleting the project with everything of it would take (`None`: no such project).
    pub fn project_contents(&self, id: &str) -> Option<ProjectContents> {
        self.projects.get(id)?;
        let sessions = self.sessions.values().filter(|s| s.project_id == id).count();
        let running: Vec<String> = self.running_sessions(id).into_iter().map(|s| s.name.clone()).collect();
        let workspaces = self.workspaces.values().filter(|w| w.project_id == id);
        Some(ProjectContents {
            tasks: self.tasks.values().filter(|t| t.project_id == id).count(),
            ended_sessions: sessions - running.len(),
            running,
            workspaces: workspaces.clone().count(),
            worktrees: workspaces.filter(|w| w.status != WorkspaceStatus::Archived).count(),
        })
    }

    /// A project's running sessions, oldest first.
    pub fn running_sessions(&self, project_id: &str) -> Vec<&Session> {
        let mut v: Vec<&Session> = self
            .sessions
            .values()
            .filter(|s| s.project_id == project_id && s.status == SessionStatus::Running)
            .collect();
        v.sort_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)));
        v
    }
}
