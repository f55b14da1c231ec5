//! Leptos server functions: the UI's way in. Each is a thin caller of one store operation,
//! exactly like the REST handlers. They live under `/sfn` so they never shadow `/api`, and
//! take JSON so that nested and optional fields mean what they mean in the REST API.
//!
//! List reads return the `seq` the store was at, so the client cache can merge them with
//! the event stream (see `live::cache`).

pub mod comments;
pub mod sessions;
pub mod workspaces;

pub use comments::{create_comment, delete_comment, list_workspace_comments, send_comments, update_comment};
pub use sessions::{list_pane_sessions, ClearedTo, PaneSessions, ENDED_MAX, ENDED_SHOWN};
pub use workspaces::{
    archive_workspace, commit_workspace, get_workspaces, list_project_workspaces, list_task_workspaces,
    list_workspaces_page, merge_workspace, open_pull_request, pull_requests_offered, push_workspace, rebase_workspace,
    restore_workspace, workspace_diff, workspace_files, TASK_WORKSPACES_LISTED,
};

use crate::model::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// A fetched list and the `seq` it is current to.
pub type AtSeq<T> = (Vec<T>, u64);

/// One page of a list the UI takes whole, as the REST API pages lists without `limit`
/// (SPEC §2: no answer bigger than a page): at most 1000 rows and 1 MiB, where the next
/// page starts, and the `seq` it is current to.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ListPage<T> {
    pub rows: Vec<T>,
    pub next: Option<String>,
    pub seq: u64,
}

/// A whole list, fetched a page at a time with `page`, as of the first page's `seq`: the
/// events after it patch what later pages already show (versions tell which is newer).
async fn whole<T, Fut>(page: impl Fn(Option<String>) -> Fut) -> Result<AtSeq<T>, FnError>
where
    Fut: std::future::Future<Output = Result<ListPage<T>, FnError>>,
{
    let first = page(None).await?;
    let (mut rows, seq, mut next) = (first.rows, first.seq, first.next);
    while let Some(cursor) = next {
        let p = page(Some(cursor)).await?;
        rows.extend(p.rows);
        next = p.next;
    }
    Ok((rows, seq))
}

/// A page of a project's task list and the counts of all of it. The first is what the
/// page renders (and embeds for hydration); the browser fetches the rest a page at a time.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaskPage {
    /// Newest first, at most the `limit` asked for (and at most 1 MiB of them).
    pub tasks: Vec<Task>,
    pub total: usize,
    /// Per status, in [`TaskStatus::ALL`]'s order.
    pub per_status: [usize; TaskStatus::COUNT],
    /// Where the next page starts, when rows remain.
    pub next: Option<String>,
    pub seq: u64,
}

/// Blocked tasks and ended sessions of every project, as of `seq` (see [`list_attention`]).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Attention {
    pub tasks: Vec<Task>,
    pub sessions: Vec<Session>,
    pub seq: u64,
}

/// The most blocked tasks, and ended sessions, [`list_attention`] sends.
pub const ATTENTION_MAX: usize = 500;

#[cfg(feature = "ssr")]
mod ssr {
    use super::{ListPage, Project, Session, Task};
    use crate::model::{error_code, page, FnError};
    use crate::store::{Command, Outcome, Store};
    use leptos::prelude::use_context;

    pub fn store() -> Result<Store, FnError> {
        use_context::<Store>().ok_or_else(|| FnError::internal("server state missing"))
    }

    pub fn agents() -> Result<crate::agents::Agents, FnError> {
        use_context::<crate::agents::Agents>().ok_or_else(|| FnError::internal("server state missing"))
    }

    pub fn workspaces() -> Result<crate::workspace::Workspaces, FnError> {
        use_context::<crate::workspace::Workspaces>().ok_or_else(|| FnError::internal("server state missing"))
    }

    pub fn invalid(message: String) -> FnError {
        FnError::new(400, error_code::INVALID, message)
    }

    /// A cursor from the page before, as the REST API takes it.
    pub fn cursor(cursor: Option<String>) -> Result<Option<page::Cursor>, FnError> {
        cursor.as_deref().map(str::parse).transpose().map_err(invalid)
    }

    /// The page of `rows` after `after`, as big as a page may be, copied.
    pub fn rows_page<'a, T: page::Listed + Clone + 'a>(
        rows: impl Iterator<Item = &'a T>,
        after: Option<&page::Cursor>,
    ) -> (Vec<T>, Option<String>) {
        let p = page::page(rows, after, page::PAGE_ROWS_MAX);
        (p.rows.into_iter().cloned().collect(), p.next.map(|c| c.to_string()))
    }

    pub fn list_page<T>(((rows, next), seq): ((Vec<T>, Option<String>), u64)) -> ListPage<T> {
        ListPage { rows, next, seq }
    }

    /// Runs a command; a refusal answers with the same 4xx status the REST API uses.
    pub async fn run(cmd: Command) -> Result<Outcome, FnError> {
        store()?.execute(cmd, None).await.map_err(FnError::from)
    }

    /// Server functions get the REST API's body limit: over 1 MiB is 413. (A failure's
    /// status is set where the `FnError` is made.) Other paths pass through untouched.
    pub async fn limits(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
        use crate::http::AppError;
        use axum::http::StatusCode;
        use axum::response::IntoResponse;
        if !req.uri().path().starts_with("/sfn/") {
            return next.run(req).await;
        }
        let too_large = || {
            AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "request body is larger than 1 MiB")
                .into_response()
        };
        let (parts, body) = req.into_parts();
        let declared =
            parts.headers.get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > crate::http::BODY_LIMIT as u64) {
            return too_large();
        }
        let Ok(bytes) = axum::body::to_bytes(body, crate::http::BODY_LIMIT).await else {
            return too_large();
        };
        next.run(axum::extract::Request::from_parts(parts, bytes.into())).await
    }

    pub async fn project(cmd: Command) -> Result<Project, FnError> {
        match run(cmd).await? {
            Outcome::Project(p) => Ok(p),
            other => Err(FnError::internal(&format!("unexpected outcome {other:?}"))),
        }
    }

    pub async fn task(cmd: Command) -> Result<Task, FnError> {
        match run(cmd).await? {
            Outcome::Task(t) => Ok(t),
            other => Err(FnError::internal(&format!("unexpected outcome {other:?}"))),
        }
    }

    pub async fn session(cmd: Command) -> Result<Session, FnError> {
        match run(cmd).await? {
            Outcome::Session(s) => Ok(s),
            other => Err(FnError::internal(&format!("unexpected outcome {other:?}"))),
        }
    }
}

#[cfg(feature = "ssr")]
use crate::store::Command;
#[cfg(feature = "ssr")]
pub use ssr::limits;
#[cfg(feature = "ssr")]
use ssr::{run, store};

/// The text of a server function error, without the framework's prefix.
pub fn error_text(e: &FnError) -> String {
    e.message.clone()
}

/// Every project, oldest first.
pub async fn list_projects() -> Result<AtSeq<Project>, FnError> {
    whole(list_projects_page).await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn list_projects_page(cursor: Option<String>) -> Result<ListPage<Project>, FnError> {
    let after = ssr::cursor(cursor)?;
    Ok(ssr::list_page(store()?.read_at(|s| ssr::rows_page(s.projects.values(), after.as_ref()))))
}

#[server(prefix = "/sfn", input = Json)]
pub async fn create_project(project: NewProject) -> Result<Project, FnError> {
    ssr::project(Command::CreateProject { project }).await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn update_project(id: String, patch: ProjectPatch) -> Result<Project, FnError> {
    ssr::project(Command::UpdateProject { id, patch }).await
}

/// Deletes the project with everything of it, as `DELETE /api/projects/:id?cascade=true`:
/// the browser asks first, naming what goes ([`project_contents`]).
#[server(prefix = "/sfn", input = Json)]
pub async fn delete_project(id: String) -> Result<(), FnError> {
    Ok(ssr::workspaces()?.delete_project(&id, None).await?)
}

/// What deleting the project would take with it, for the question asked first.
// Named so its struct does not shadow the model's `ProjectContents`.
#[server(prefix = "/sfn", input = Json, name = GetProjectContents)]
pub async fn project_contents(id: String) -> Result<ProjectContents, FnError> {
    let contents = store()?.read_fresh(|s| s.project_contents(&id)).await;
    contents.ok_or_else(|| crate::http::AppError::not_found(format!("project {id} not found")).into())
}

/// What a directory typed for a project is, as `GET /api/directories/inspect` says.
#[server(prefix = "/sfn", input = Json)]
pub async fn inspect_directory(path: String) -> Result<DirectoryInfo, FnError> {
    let workspaces =
        use_context::<crate::workspace::Workspaces>().ok_or_else(|| FnError::internal("server state missing"))?;
    Ok(workspaces.inspect(path).await?)
}

/// A page of a project's tasks (newest first, `limit` of them, after `cursor` if given)
/// and its counts.
#[server(prefix = "/sfn", input = Json)]
pub async fn list_task_page(project_id: String, cursor: Option<String>, limit: usize) -> Result<TaskPage, FnError> {
    let after = ssr::cursor(cursor)?;
    let ((tasks, total, per_status, next), seq) = store()?.read_at(|s| {
        // One pass counts every task and picks the page; only the rows sent are sorted and
        // copied (the first page is rendered on every load).
        let mut per = [0; TaskStatus::COUNT];
        let all = s.tasks_where(Some(&project_id), None).inspect(|t| per[t.status.slot()] += 1);
        let p = page::page(all, after.as_ref(), limit);
        let rows = p.rows.into_iter().cloned().collect();
        (rows, per.iter().sum(), per, p.next.map(|c| c.to_string()))
    });
    Ok(TaskPage { tasks, total, per_status, next, seq })
}

/// The tasks a session works on, newest first.
pub async fn list_session_tasks(session_id: String) -> Result<AtSeq<Task>, FnError> {
    whole(|cursor| list_session_tasks_page(session_id.clone(), cursor)).await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn list_session_tasks_page(session_id: String, cursor: Option<String>) -> Result<ListPage<Task>, FnError> {
    let after = ssr::cursor(cursor)?;
    Ok(ssr::list_page(store()?.read_at(|s| {
        let linked = s.tasks.values().filter(|t| t.session_ids.contains(&session_id));
        ssr::rows_page(linked, after.as_ref())
    })))
}

#[server(prefix = "/sfn", input = Json)]
pub async fn create_task(task: NewTask) -> Result<Task, FnError> {
    ssr::task(Command::CreateTask { task }).await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn update_task(id: String, patch: TaskPatch) -> Result<Task, FnError> {
    ssr::task(Command::UpdateTask { id, patch }).await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn delete_task(id: String) -> Result<(), FnError> {
    run(Command::DeleteTask { id }).await.map(|_| ())
}

#[server(prefix = "/sfn", input = Json)]
pub async fn add_subtask(task_id: String, title: String) -> Result<Task, FnError> {
    ssr::task(Command::AddSubtask { task_id, subtask: NewSubtask { title } }).await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn update_subtask(task_id: String, subtask_id: String, patch: SubtaskPatch) -> Result<Task, FnError> {
    ssr::task(Command::UpdateSubtask { task_id, subtask_id, patch }).await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn delete_subtask(task_id: String, subtask_id: String) -> Result<Task, FnError> {
    ssr::task(Command::DeleteSubtask { task_id, subtask_id }).await
}

/// The sessions working on a task, newest first.
pub async fn list_task_sessions(task_id: String) -> Result<AtSeq<Session>, FnError> {
    whole(|cursor| list_task_sessions_page(task_id.clone(), cursor)).await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn list_task_sessions_page(task_id: String, cursor: Option<String>) -> Result<ListPage<Session>, FnError> {
    let after = ssr::cursor(cursor)?;
    Ok(ssr::list_page(
        store()?.read_at(|s| ssr::rows_page(s.sessions_where(Some(&task_id), None, None), after.as_ref())),
    ))
}

/// What may need the person, in every project: the newest blocked tasks and ended
/// sessions (at most [`ATTENTION_MAX`] of each, and a page's bytes), so the top bar can
/// count per project and a browser notices what happened while it was away.
#[server(prefix = "/sfn", input = Json)]
pub async fn list_attention() -> Result<Attention, FnError> {
    let ((tasks, sessions), seq) = store()?.read_at(|s| {
        let tasks = page::page(s.tasks_where(None, Some(TaskStatus::Blocked)), None, ATTENTION_MAX);
        let ended = s.sessions.values().filter(|x| crate::model::session_flagged(x));
        let sessions = page::page(ended, None, ATTENTION_MAX);
        (tasks.rows.into_iter().cloned().collect(), sessions.rows.into_iter().cloned().collect())
    });
    Ok(Attention { tasks, sessions, seq })
}

/// The sessions with these ids that still exist (the browser's open sessions).
#[server(prefix = "/sfn", input = Json)]
pub async fn get_sessions(ids: Vec<String>) -> Result<AtSeq<Session>, FnError> {
    if ids.len() > 1000 {
        return Err(crate::http::AppError::invalid("at most 1000 sessions at once").into());
    }
    Ok(store()?.read_at(|s| ids.iter().filter_map(|id| s.sessions.get(id).cloned()).collect()))
}

#[server(prefix = "/sfn", input = Json)]
pub async fn create_session(session: NewSession) -> Result<Session, FnError> {
    let mut session = session;
    ssr::agents()?.check(&session.project_id, session.agent_id.as_deref()).map_err(ssr::invalid)?;
    let workspaces = ssr::workspaces()?;
    session.workspace = workspaces.for_session(&session, None).await.map_err(FnError::from)?.map(|w| w.id);
    let terminals = leptos::prelude::use_context::<crate::terminal::Terminals>();
    let s = ssr::session(Command::CreateSession { session }).await?;
    // SPEC §9: its agent starts now, whether or not this browser opens it.
    if let Some(t) = terminals {
        t.start_agent(&s).await;
    }
    Ok(s)
}

#[server(prefix = "/sfn", input = Json)]
pub async fn update_session(id: String, patch: SessionPatch) -> Result<Session, FnError> {
    ssr::agents()?.check_patch(&ssr::store()?, &id, &patch).map_err(ssr::invalid)?;
    ssr::session(Command::UpdateSession { id, patch }).await
}

/// The agents "Work on task" offers in a project.
#[server(prefix = "/sfn", input = Json)]
pub async fn list_agents(project_id: String) -> Result<Vec<Agent>, FnError> {
    Ok(ssr::agents()?.list(&project_id))
}

#[server(prefix = "/sfn", input = Json)]
pub async fn link_task(session_id: String, task_id: String) -> Result<Session, FnError> {
    ssr::session(Command::LinkTask { session_id, task_id }).await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn unlink_task(session_id: String, task_id: String) -> Result<Session, FnError> {
    ssr::session(Command::UnlinkTask { session_id, task_id }).await
}

/// What a session's agent is doing (SPEC §9).
#[server(prefix = "/sfn", input = Json)]
pub async fn set_session_state(id: String, update: SessionStateUpdate) -> Result<Session, FnError> {
    ssr::session(Command::SetSessionState { id, update }).await
}

/// Closing a session (SPEC §5): mark it completed, then delete it (and its links).
#[server(prefix = "/sfn", input = Json)]
pub async fn close_session(id: String) -> Result<(), FnError> {
    let patch = SessionPatch { status: Some(SessionStatus::Completed), ..Default::default() };
    match store()?.execute(Command::UpdateSession { id: id.clone(), patch }, None).await {
        Ok(_) => {}
        // Already gone (closed in another tab): closing again is not an error.
        Err(crate::store::StoreError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    run(Command::DeleteSession { id }).await.map(|_| ())
}

/// Ends a plain terminal (one not linked to a Maestro session), as `DELETE
/// /terminals/{id}` does; one that already ended is closed already, not an error (the UI
/// closes what the person sees, whatever the process did meanwhile).
#[server(prefix = "/sfn", input = Json)]
pub async fn close_terminal(id: String) -> Result<(), FnError> {
    let terminals =
        use_context::<crate::terminal::Terminals>().ok_or_else(|| FnError::internal("server state missing"))?;
    match terminals.close(&id) {
        Ok(_) => Ok(()),
        Err(e) => Err(crate::http::AppError::from(e).into()),
    }
}
