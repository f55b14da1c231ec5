//! Fetched lists merged with what events said since.

use super::{Cache, Entity, ListKey};
use crate::model::{Project, ReviewComment, Session, Task, Workspace};

impl Cache {
    /// Merges the project list, fetched when the store was at `at`.
    pub fn load_projects(&mut self, list: &[Project], at: u64) {
        for p in list {
            self.put(p, at);
        }
        self.baseline(ListKey::Projects, at);
    }

    /// Merges a fetched task list (`ProjectTasks` or `SessionTasks`).
    pub fn load_tasks(&mut self, key: ListKey, list: &[Task], at: u64) {
        for t in list {
            self.put(t, at);
        }
        self.baseline(key, at);
    }

    /// Merges a fetched `TaskSessions` list.
    pub fn load_sessions(&mut self, key: ListKey, list: &[Session], at: u64) {
        for s in list {
            self.put(s, at);
        }
        self.baseline(key, at);
    }

    /// Merges one page of a project's task list, fetched when the store was at `at`; the
    /// last page makes the list loaded. Pages cut by key (`model::page`) may each be at
    /// their own `at`: what changed between them comes by events, like after any fetch.
    pub fn load_task_page(&mut self, project_id: &str, tasks: &[Task], last: bool, at: u64) {
        if last {
            self.load_tasks(ListKey::ProjectTasks(project_id.to_string()), tasks, at);
        } else {
            self.load_task_entities(tasks, at);
        }
    }

    /// Merges tasks fetched as the first part of a list (not yet the list itself).
    pub fn load_task_entities(&mut self, list: &[Task], at: u64) {
        self.load_entities(list, at);
    }

    /// Merges sessions fetched by id (not a list any view keeps).
    pub fn load_session_entities(&mut self, list: &[Session], at: u64) {
        self.load_entities(list, at);
    }

    /// Merges a fetched `ProjectWorkspaces` list.
    pub fn load_workspaces(&mut self, key: ListKey, list: &[Workspace], at: u64) {
        for w in list {
            self.put(w, at);
        }
        self.baseline(key, at);
    }

    /// Merges workspaces fetched (a task's, or one by id): not a list any view keeps yet.
    pub fn load_workspace_entities(&mut self, list: &[Workspace], at: u64) {
        self.load_entities(list, at);
    }

    /// Merges a fetched `WorkspaceComments` list.
    pub fn load_comments(&mut self, workspace_id: &str, list: &[ReviewComment], at: u64) {
        for c in list {
            self.put(c, at);
        }
        self.baseline(ListKey::WorkspaceComments(workspace_id.to_string()), at);
    }

    /// Merges entities fetched as of `at`; the first fetch sets where the stream resumes.
    fn load_entities<E: Entity>(&mut self, list: &[E], at: u64) {
        for e in list {
            self.put(e, at);
        }
        if self.seq == 0 {
            self.seq = at;
        }
    }
}
