//! What views read: entities by id and the lists they show, as far as they are loaded.

use super::{Cache, ListKey};
use crate::model::{
    ChangeSummary, Project, ReviewComment, Session, SessionStatus, Task, TaskStatus, Workspace, WorkspaceStatus,
};

impl Cache {
    pub fn is_loaded(&self, key: &ListKey) -> bool {
        self.loaded.contains(key)
    }

    pub fn project(&self, id: &str) -> Option<&Project> {
        self.projects.get(id)
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.get(id)
    }

    pub fn session(&self, id: &str) -> Option<&Session> {
        self.sessions.get(id)
    }

    pub fn workspace(&self, id: &str) -> Option<&Workspace> {
        self.workspaces.get(id)
    }

    /// The workspaces of a task the cache holds, newest first.
    pub fn task_workspaces(&self, task_id: &str) -> Vec<Workspace> {
        let ids = self.task_workspaces.get(task_id).into_iter().flat_map(|s| s.iter().rev());
        ids.filter_map(|(_, id)| self.workspaces.get(id).cloned()).collect()
    }

    /// What a task's row and card total: its newest active workspace's changes, and how many
    /// active workspaces it has (`None` without one).
    pub fn task_changes(&self, task_id: &str) -> Option<(ChangeSummary, usize)> {
        let ids = self.task_workspaces.get(task_id)?.iter().rev();
        let mut active =
            ids.filter_map(|(_, id)| self.workspaces.get(id)).filter(|w| w.status == WorkspaceStatus::Active);
        let newest = active.next()?;
        Some((newest.changes, 1 + active.count()))
    }

    /// A project's active workspaces, newest first, if that list is loaded.
    pub fn project_workspaces(&self, project_id: &str) -> Option<Vec<Workspace>> {
        self.is_loaded(&ListKey::ProjectWorkspaces(project_id.to_string())).then(|| {
            let mut v: Vec<Workspace> = self
                .workspaces
                .values()
                .filter(|w| w.project_id == project_id && w.status == WorkspaceStatus::Active)
                .cloned()
                .collect();
            v.sort_by(Workspace::newest_first);
            v
        })
    }

    /// A workspace's review comments in list order, if that list is loaded.
    pub fn workspace_comments(&self, workspace_id: &str) -> Option<Vec<ReviewComment>> {
        self.is_loaded(&ListKey::WorkspaceComments(workspace_id.to_string())).then(|| {
            let mut v: Vec<ReviewComment> =
                self.comments.values().filter(|c| c.workspace_id == workspace_id).cloned().collect();
            v.sort_by(ReviewComment::in_order);
            v
        })
    }

    /// A session's workspace, as cached.
    pub fn session_workspace(&self, session_id: &str) -> Option<&Workspace> {
        self.workspaces.get(self.sessions.get(session_id)?.workspace_id.as_deref()?)
    }

    /// Whether a session the cache holds runs in workspace `id` (its terminal works there).
    pub fn workspace_in_use(&self, id: &str) -> bool {
        self.sessions.values().any(|s| s.status == SessionStatus::Running && s.workspace_id.as_deref() == Some(id))
    }

    /// Every project, oldest first, if the list is loaded.
    pub fn projects(&self) -> Option<Vec<Project>> {
        self.is_loaded(&ListKey::Projects).then(|| {
            let mut v: Vec<Project> = self.projects.values().cloned().collect();
            v.sort_by(Project::oldest_first);
            v
        })
    }

    /// A project's tasks, newest first, if loaded.
    pub fn project_tasks(&self, project_id: &str) -> Option<Vec<Task>> {
        if !self.is_loaded(&ListKey::ProjectTasks(project_id.to_string())) {
            return None;
        }
        let ids = self.project_window(project_id, None, 0, usize::MAX);
        Some(ids.iter().filter_map(|id| self.tasks.get(id).cloned()).collect())
    }

    /// A project's tasks newest first, as far as the cache holds them, without a copy: for
    /// a reader that stops early (the first few that match).
    pub fn project_tasks_iter<'a>(&'a self, project_id: &str) -> impl Iterator<Item = &'a Task> + 'a {
        let ix = self.index.get(project_id);
        ix.into_iter().flat_map(|ix| ix.all.iter().rev()).filter_map(|(_, id)| self.tasks.get(id))
    }

    /// Ids of a window of a project's task list (newest first, of one status or all):
    /// `len` of them from `start`. Until the list is loaded, of the tasks held so far (the
    /// pages fetched come in list order, so these are its start).
    pub fn project_window(
        &self,
        project_id: &str,
        status: Option<TaskStatus>,
        start: usize,
        len: usize,
    ) -> Vec<String> {
        let Some(ix) = self.index.get(project_id) else { return Vec::new() };
        ix.list(status).iter().rev().skip(start).take(len).map(|(_, id)| id.clone()).collect()
    }

    /// How many tasks a project has, in all and per status (in [`TaskStatus::ALL`]'s
    /// order), if its list is loaded.
    pub fn project_counts(&self, project_id: &str) -> Option<(usize, [usize; TaskStatus::COUNT])> {
        if !self.is_loaded(&ListKey::ProjectTasks(project_id.to_string())) {
            return None;
        }
        let Some(ix) = self.index.get(project_id) else { return Some((0, [0; TaskStatus::COUNT])) };
        Some((ix.all.len(), std::array::from_fn(|i| ix.by_status[i].len())))
    }

    /// Where a task is in its project's list (of one status or all), counting from 0.
    pub fn position(&self, project_id: &str, status: Option<TaskStatus>, id: &str) -> Option<usize> {
        let t = self.tasks.get(id)?;
        let list = self.index.get(project_id)?.list(status);
        list.contains(&(t.created_at, t.id.clone())).then(|| list.range((t.created_at, t.id.clone())..).count() - 1)
    }

    /// The sessions working on a task, newest first, if loaded.
    pub fn task_sessions(&self, task_id: &str) -> Option<Vec<Session>> {
        self.is_loaded(&ListKey::TaskSessions(task_id.to_string())).then(|| {
            let mut v: Vec<Session> =
                self.sessions.values().filter(|s| s.task_ids.iter().any(|t| t == task_id)).cloned().collect();
            v.sort_by(Session::newest_first);
            v
        })
    }

    /// The tasks a session works on, newest first, if loaded.
    pub fn session_tasks(&self, session_id: &str) -> Option<Vec<Task>> {
        self.is_loaded(&ListKey::SessionTasks(session_id.to_string())).then(|| {
            let mut v: Vec<Task> =
                self.tasks.values().filter(|t| t.session_ids.iter().any(|s| s == session_id)).cloned().collect();
            v.sort_by(Task::newest_first);
            v
        })
    }

    /// The ids of the tasks a session works on, newest first, if that list is loaded, as
    /// the session's own side says (what an optimistic link changes, and what a
    /// `SessionUpdated` event carries): the UI is woken by session changes for these and
    /// tracks each task for its contents.
    pub fn session_task_ids(&self, session_id: &str) -> Option<Vec<String>> {
        if !self.is_loaded(&ListKey::SessionTasks(session_id.to_string())) {
            return None;
        }
        let Some(s) = self.sessions.get(session_id) else { return Some(Vec::new()) };
        let mut v: Vec<&Task> = s.task_ids.iter().filter_map(|t| self.tasks.get(t)).collect();
        v.sort_by(|a, b| Task::newest_first(a, b));
        Some(v.into_iter().map(|t| t.id.clone()).collect())
    }
}
