//! Other nodes' events are data to check, not commands to trust (SPEC §6): anyone who can
//! write to the shared database can put a row in its log. Before a node applies an event
//! it did not write, the ids in it follow the id rule and its texts keep to the limits a
//! request must keep to; a session's `env` holds only the `MAESTRO_*` values the server
//! makes (terminals rebuild them anyway, see `terminal::launch`). A workspace's path is
//! checked again by the node that acts on it (it must be under that node's worktrees).

use crate::model::limits::*;
use crate::model::{EventData, ReviewComment, Session, Task, Workspace};

/// Why `event` cannot be applied, if it cannot.
pub fn check(event: &EventData) -> Result<(), String> {
    use EventData::*;
    match event {
        ProjectCreated(p) | ProjectUpdated(p) => {
            id(&p.id)?;
            text("a project's name", &p.name, NAME_MAX)?;
            p.base_path.as_deref().map_or(Ok(()), |b| text("a project's basePath", b, PATH_MAX))?;
            p.base_branch.as_deref().map_or(Ok(()), |b| text("a project's baseBranch", b, BRANCH_MAX))?;
            // A command is run only with this server's signature (`workspace::setup`).
            p.setup_command.as_deref().map_or(Ok(()), |c| text("a project's setupCommand", c, SETUP_MAX))
        }
        TaskCreated(t) | TaskUpdated(t) => task(t),
        SessionCreated(s) | SessionUpdated(s) => session(s),
        WorkspaceCreated(w) | WorkspaceUpdated(w) => workspace(w),
        CommentCreated(c) | CommentUpdated(c) => comment(c),
        ProjectDeleted(d) | TaskDeleted(d) | SessionDeleted(d) | WorkspaceDeleted(d) | CommentDeleted(d) => id(&d.id),
        SessionTaskAdded(l) | SessionTaskRemoved(l) | TaskSessionAdded(l) | TaskSessionRemoved(l) => {
            id(&l.session_id).and_then(|()| id(&l.task_id))
        }
    }
}

fn comment(c: &ReviewComment) -> Result<(), String> {
    id(&c.id)?;
    id(&c.workspace_id)?;
    text("a comment's path", &c.path, PATH_MAX)?;
    text("a comment's author", &c.author, NAME_MAX)?;
    text("a comment's body", &c.body, COMMENT_MAX)
}

fn task(t: &Task) -> Result<(), String> {
    id(&t.id)?;
    id(&t.project_id)?;
    t.session_ids.iter().try_for_each(|s| id(s))?;
    text("a task's title", &t.title, TITLE_MAX)?;
    text("a task's description", &t.description, TEXT_MAX)?;
    text("a task's prompt", &t.prompt, TEXT_MAX)?;
    for s in &t.subtasks {
        id(&s.id)?;
        text("a subtask's title", &s.title, TITLE_MAX)?;
    }
    Ok(())
}

fn session(s: &Session) -> Result<(), String> {
    id(&s.id)?;
    id(&s.project_id)?;
    s.task_ids.iter().try_for_each(|t| id(t))?;
    s.node.as_deref().map_or(Ok(()), id)?;
    s.workspace_id.as_deref().map_or(Ok(()), id)?;
    text("a session's name", &s.name, NAME_MAX.max(TITLE_MAX) + 64)?;
    s.agent_id.as_deref().map_or(Ok(()), |a| text("a session's agentId", a, AGENT_ID_MAX))?;
    const MADE: [&str; 4] = ["MAESTRO_API_URL", "MAESTRO_PROJECT_ID", "MAESTRO_SESSION_ID", "MAESTRO_TASK_IDS"];
    match s.env.keys().find(|k| !MADE.contains(&k.as_str())) {
        Some(k) => Err(format!("session {} has an env variable {k:?} no server makes", s.id)),
        None => Ok(()),
    }
}

fn workspace(w: &Workspace) -> Result<(), String> {
    id(&w.id)?;
    id(&w.project_id)?;
    id(&w.task_id)?;
    w.node.as_deref().map_or(Ok(()), id)?;
    text("a workspace's branch", &w.branch, BRANCH_MAX)?;
    text("a workspace's base", &w.base, BRANCH_MAX)?;
    text("a workspace's base commit", &w.base_commit, BRANCH_MAX)?;
    text("a workspace's path", &w.path, PATH_MAX)
}

fn id(id: &str) -> Result<(), String> {
    super::state::check_id(id).map_err(|e| e.to_string())
}

fn text(what: &str, s: &str, max: usize) -> Result<(), String> {
    match s.chars().count() <= max && !s.contains('\0') {
        true => Ok(()),
        false => Err(format!("{what} is longer than {max} characters or holds a NUL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_env_the_server_did_not_make_and_a_bad_id_are_refused() {
        let mut s = Session { id: "sess_1".into(), project_id: "proj_1".into(), ..Default::default() };
        s.env.insert("MAESTRO_SESSION_ID".into(), "sess_1".into());
        assert!(check(&EventData::SessionCreated(s.clone())).is_ok());
        s.env.insert("HOME".into(), "/tmp/evil".into());
        assert!(check(&EventData::SessionCreated(s.clone())).unwrap_err().contains("HOME"));
        s.env.remove("HOME");
        s.task_ids.push("../etc".into());
        assert!(check(&EventData::SessionUpdated(s)).is_err());
    }

    #[test]
    fn a_workspace_with_a_bad_id_or_an_unbounded_path_is_refused() {
        let w = Workspace { id: "ws_1".into(), project_id: "p".into(), task_id: "t".into(), ..Default::default() };
        assert!(check(&EventData::WorkspaceCreated(w.clone())).is_ok());
        let long = Workspace { path: "/".repeat(PATH_MAX + 1), ..w.clone() };
        assert!(check(&EventData::WorkspaceUpdated(long)).is_err());
        let bad = Workspace { task_id: "../x".into(), ..w };
        assert!(check(&EventData::WorkspaceCreated(bad)).is_err());
    }
}
