//! Projects: create, update, delete (refused while it has tasks or sessions), and delete
//! with everything of it (refused while a session runs or a worktree is on disk).

use super::{new_id, Inputs, NewId, Plan};
use crate::mac::setup_signature;
use crate::model::limits::NAME_MAX;
use crate::model::{Deleted, EventData, NewProject, Project, ProjectPatch, WorkspaceStatus};
use crate::store::state::validate::{base_path, branch, clean, setup_command};
use crate::store::state::State;
use crate::store::{Outcome, StoreError};

impl State {
    pub(super) fn create_project(&self, np: &NewProject, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let name = clean("name", &np.name, NAME_MAX)?;
        let base_path = base_path(np.base_path.as_deref())?;
        let isolation = np.isolation.unwrap_or(true);
        let base_branch = branch(np.base_branch.as_deref())?;
        let setup = setup_command(np.setup_command.as_deref())?;
        let same = |old: &Project| {
            (&old.name, &old.base_path, old.isolation, &old.base_branch, &old.setup_command)
                == (&name, &base_path, isolation, &base_branch, &setup)
        };
        let id = match new_id(np.id.as_deref(), &self.projects, ("project", "proj"), ctx, same)? {
            NewId::Fresh(id) => id,
            NewId::Retry(old) => return Ok(Plan::unchanged(Outcome::Project(old.clone()))),
        };
        let mut p = Project { id, name, base_path, isolation, base_branch, created_at: ctx.now, ..Project::default() };
        set_setup(&mut p, setup, ctx);
        p.updated_at = ctx.now;
        Ok(Plan { events: vec![EventData::ProjectCreated(p.clone())], outcome: Outcome::Project(p) })
    }

    pub(super) fn update_project(
        &self,
        id: &str,
        patch: &ProjectPatch,
        ctx: &mut Inputs<'_>,
    ) -> Result<Plan, StoreError> {
        let old = self.project(id)?;
        let mut p = old.clone();
        if let Some(name) = &patch.name {
            p.name = clean("name", name, NAME_MAX)?;
        }
        if let Some(bp) = &patch.base_path {
            p.base_path = base_path(bp.as_deref())?;
        }
        if let Some(isolation) = patch.isolation {
            p.isolation = isolation;
        }
        if let Some(m) = patch.merge_strategy {
            p.merge_strategy = m;
        }
        if let Some(b) = &patch.base_branch {
            p.base_branch = branch(b.as_deref())?;
        }
        // Signed only when this request sets it: an edit of another field must not make a
        // command written into the database trusted.
        if let Some(s) = &patch.setup_command {
            set_setup(&mut p, setup_command(s.as_deref())?, ctx);
        }
        if p == *old {
            return Ok(Plan::unchanged(Outcome::Project(p)));
        }
        p.updated_at = ctx.now;
        Ok(Plan { events: vec![EventData::ProjectUpdated(p.clone())], outcome: Outcome::Project(p) })
    }

    pub(super) fn delete_project(&self, id: &str) -> Result<Plan, StoreError> {
        self.project(id)?;
        let tasks = self.tasks.values().filter(|t| t.project_id == id).count();
        let sessions = self.sessions.values().filter(|s| s.project_id == id).count();
        if tasks + sessions > 0 {
            return Err(StoreError::Conflict(format!(
                "project {id} still has {tasks} task(s) and {sessions} session(s): delete them first, \
                 or delete the project with everything of it"
            )));
        }
        Ok(Plan { events: vec![EventData::ProjectDeleted(Deleted { id: id.to_string() })], outcome: Outcome::Deleted })
    }
}

impl State {
    /// The project with its tasks, sessions, workspaces and their review comments, in one
    /// commit. Refused while a session runs (its agent would be left working on nothing) or
    /// while a workspace's worktree is on disk: the workspace service removes those first,
    /// as the store never touches the disk. Workspaces' branches stay in the repository.
    pub(super) fn delete_project_with_contents(&self, id: &str) -> Result<Plan, StoreError> {
        self.project(id)?;
        self.check_none_running(id)?;
        let mut workspaces: Vec<_> = self.workspaces.values().filter(|w| w.project_id == id).collect();
        workspaces.sort_by(|a, b| a.id.cmp(&b.id));
        if let Some(w) = workspaces.iter().find(|w| w.status != WorkspaceStatus::Archived) {
            return Err(StoreError::Conflict(format!(
                "workspace {} (branch {}) of project {id} is on disk: archive it first",
                w.id, w.branch
            )));
        }
        let mut events = Vec::new();
        for w in workspaces {
            self.forget_comments(&w.id, &mut events);
            events.push(EventData::WorkspaceDeleted(Deleted { id: w.id.clone() }));
        }
        let mut sessions: Vec<&str> =
            self.sessions.values().filter(|s| s.project_id == id).map(|s| s.id.as_str()).collect();
        sessions.sort_unstable();
        events.extend(sessions.into_iter().map(|s| EventData::SessionDeleted(Deleted { id: s.to_string() })));
        let mut tasks: Vec<&str> = self.tasks.values().filter(|t| t.project_id == id).map(|t| t.id.as_str()).collect();
        tasks.sort_unstable();
        events.extend(tasks.into_iter().map(|t| EventData::TaskDeleted(Deleted { id: t.to_string() })));
        events.push(EventData::ProjectDeleted(Deleted { id: id.to_string() }));
        Ok(Plan { events, outcome: Outcome::Deleted })
    }

    /// Refuses while any of the project's sessions runs, naming them and the way out.
    pub fn check_none_running(&self, id: &str) -> Result<(), StoreError> {
        let running = self.running_sessions(id);
        if running.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = running.iter().take(5).map(|s| format!("“{}” ({})", s.name, s.id)).collect();
        let more = running.len() - names.len();
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        Err(StoreError::Conflict(format!(
            "{} session(s) of project {id} still running: {}{more}: end them first",
            running.len(),
            names.join(", ")
        )))
    }
}

/// Sets a project's setup command with this server's signature of it (SPEC §8).
fn set_setup(p: &mut Project, command: Option<String>, ctx: &Inputs<'_>) {
    p.setup_signature = command.as_deref().map(|c| setup_signature(ctx.setup_key, &p.id, c));
    p.setup_command = command;
}
