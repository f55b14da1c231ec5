//! What the tab does when the person acts: every optimistic mutation (shown at once,
//! rolled back with a message if the server refuses), and opening and closing sessions.

use super::browser::client_id;
use super::state::{is_plain_terminal, Tab};
use crate::api::functions::*;
use crate::live::cache::Entity;
use crate::model::error_code::NOT_FOUND;
use crate::model::*;
use leptos::prelude::*;
use std::future::Future;

impl Tab {
    /// Creates a project under an id of the browser's own (so a retry cannot make two)
    /// and caches it. The one way the UI creates projects.
    pub async fn create_project(self, name: String, base_path: Option<String>) -> Result<Project, FnError> {
        let p =
            create_project(NewProject { id: Some(client_id("proj")), name, base_path, ..Default::default() }).await?;
        self.cache.update(|c| c.confirm(&p));
        Ok(p)
    }

    /// Optimistic mutation of a task or a session: `local` edits the cached copy at once
    /// and stays applied over every copy the server sends until `call`'s answer (see
    /// `Cache::edit`), so it must be idempotent. Success keeps the server's copy; refusal
    /// takes this edit back and says why.
    pub fn mutate<E, F>(self, id: String, local: impl Fn(&mut E) + Send + Sync + 'static, call: F)
    where
        E: Entity,
        F: Future<Output = Result<E, FnError>> + 'static,
    {
        let token = self.cache.try_update(|c| c.edit(&id, local)).flatten();
        self.settle(id, token, Box::pin(call));
    }

    /// What follows a mutation's answer (`token`: the edit shown meanwhile, if the entity
    /// was held). The call is boxed so that this code exists once per entity type in the
    /// wasm, not once per place that mutates (docs/PERF.md).
    fn settle<E: Entity>(
        self,
        id: String,
        token: Option<u64>,
        call: std::pin::Pin<Box<dyn Future<Output = Result<E, FnError>>>>,
    ) {
        leptos::task::spawn_local(async move {
            let answer = call.await;
            match (&answer, token) {
                // Deleted elsewhere: nothing to roll back to.
                (Err(err), _) if err.code == NOT_FOUND => self.cache.update(|c| c.forget::<E>(&id)),
                (answer, Some(token)) => self.cache.update(|c| c.settle(&id, token, answer.as_ref().ok())),
                (Ok(e), None) => self.cache.update(|c| c.confirm(e)),
                (Err(_), None) => None,
            };
            if let Err(err) = answer {
                self.toast(error_text(&err));
            }
        });
    }

    /// Moves a task to another status (the list's select, the board's drag and keys). The
    /// person blocking it has seen it blocked (`mark_seen` keeps only what is flagged).
    pub fn set_task_status(self, id: String, status: TaskStatus) {
        let patch = TaskPatch { status: Some(status), ..Default::default() };
        self.mutate(id.clone(), move |t: &mut Task| t.status = status, update_task(id.clone(), patch));
        self.mark_seen([id]);
    }

    /// Opens a session in this browser (if it is not open) and makes it active; one
    /// "Clear finished" took off the Sessions pane comes back to it.
    pub fn open_session(self, id: String) {
        if self.cleared.with_untracked(|c| c.contains(&id)) {
            self.set_cleared(std::slice::from_ref(&id), false);
        }
        self.open_sessions.update(|o| {
            if !o.contains(&id) {
                o.push(id.clone())
            }
        });
        self.show_terminal(id);
    }

    /// Makes `id` the terminal shown; the board, which has the terminal's room, gives it
    /// back (the person asked to see it), and a narrow screen switches to it.
    pub fn show_terminal(self, id: String) {
        self.active_session.set(Some(id));
        self.board.set(false);
        self.pane.set(super::state::Pane::Terminal);
    }

    /// [`Tab::open_session`], counting the session as seen: the person is looking at it.
    pub fn show_session(self, id: String) {
        self.open_session(id.clone());
        self.mark_seen([id]);
    }

    /// Optimistic creation of a task the browser names. If it is not stored (refused, or
    /// the server cannot be reached), the task goes and `refused` gets the reason, to put
    /// the person's text back where they typed it.
    pub fn create_task(self, task: NewTask, refused: impl FnOnce(&FnError) + 'static) {
        let now = crate::model::now_millis();
        let id = task.id.clone().unwrap_or_default();
        let local = Task {
            id: id.clone(),
            project_id: task.project_id.clone(),
            title: task.title.trim().to_string(),
            description: String::new(),
            prompt: String::new(),
            status: TaskStatus::Pending,
            priority: task.priority.unwrap_or_default(),
            session_ids: Vec::new(),
            session_count: 0,
            subtasks: Vec::new(),
            created_at: now,
            updated_at: now,
            completed_at: None,
            version: 0, // any server copy is newer
        };
        self.cache.update(|c| {
            c.optimistic(local);
        });
        leptos::task::spawn_local(async move {
            match create_task(task).await {
                Ok(t) => {
                    self.cache.update(|c| c.confirm(&t));
                }
                Err(e) => {
                    self.cache.update(|c| c.rollback::<Task>(&id, None));
                    refused(&e);
                }
            }
        });
    }

    /// Optimistic delete, with Undo for a few seconds before the server is asked.
    pub fn delete_task(self, id: String) {
        // The server refuses a task with an active workspace: said now, not after the Undo.
        let active = self.cache.with_untracked(|c| {
            c.task_workspaces(&id).into_iter().find(|w| w.status == WorkspaceStatus::Active).map(|w| w.branch)
        });
        if let Some(branch) = active {
            return self.toast(format!(
                "This task has an active workspace ({branch}): merge or archive it first (under Workspaces in its details)"
            ));
        }
        let previous = self.cache.try_update(|c| c.optimistic_remove::<Task>(&id)).flatten();
        let title = previous.as_ref().map(|t| t.title.clone()).unwrap_or_default();
        let (id_undo, kept) = (id.clone(), previous.clone());
        let commit = move || {
            leptos::task::spawn_local(async move {
                match delete_task(id.clone()).await {
                    // Deleted already (another tab, the CLI): what the person asked for.
                    Ok(_) => {}
                    Err(e) if e.code == NOT_FOUND => {
                        self.cache.update(|c| c.forget::<Task>(&id));
                    }
                    Err(e) => {
                        self.cache.update(|c| c.rollback(&id, previous));
                        self.toast(error_text(&e));
                    }
                }
            })
        };
        let undo = move || {
            if kept.is_some() {
                self.cache.update(|c| c.rollback(&id_undo, kept));
            }
        };
        self.with_undo(format!("Task “{title}” deleted"), commit, undo);
    }

    /// "Work on task": a new Maestro session linked to the task, running `agent` (a plain
    /// shell without one), in `workspace` (see [`NewSession::workspace`]), opened and made
    /// active.
    pub fn work_on(self, task: &Task, agent: Option<String>, workspace: Option<String>) {
        let id = client_id("sess");
        let new = NewSession {
            id: Some(id.clone()),
            project_id: task.project_id.clone(),
            task_ids: vec![task.id.clone()],
            name: Some(task.title.chars().take(200).collect()),
            agent_id: agent,
            workspace,
            prompt: None,
        };
        self.open_sessions.update(|o| o.push(id.clone()));
        self.show_terminal(id.clone());
        // The task stays in sight beside its terminal: its row opens in the list.
        self.expanded.update(|e| {
            e.insert(task.id.clone());
        });
        leptos::task::spawn_local(async move {
            match create_session(new).await {
                Ok(s) => {
                    self.cache.update(|c| c.confirm(&s));
                }
                Err(e) => {
                    self.open_sessions.update(|o| o.retain(|x| *x != id));
                    if self.active_session.get_untracked().as_deref() == Some(&id) {
                        self.active_session.set(None);
                    }
                    self.toast(error_text(&e));
                }
            }
        });
    }

    /// Opens a plain terminal (not linked to Maestro), in `project`'s directory, and makes
    /// it active.
    pub fn open_terminal(self, project: Option<String>) {
        let id = client_id("term");
        if let Some(p) = project {
            self.terminal_projects.update_value(|m| {
                m.insert(id.clone(), p);
            });
        }
        self.open_sessions.update(|o| o.push(id.clone()));
        self.show_terminal(id);
    }

    /// Closes whatever an open entry is: a plain terminal ends; a session completes and
    /// is deleted, which ends its terminal on the server.
    pub fn close_entry(self, id: String) {
        if !is_plain_terminal(&id) {
            return self.close_session(id);
        }
        self.open_sessions.update(|o| o.retain(|x| *x != id));
        if self.active_session.get_untracked().as_deref() == Some(&id) {
            self.active_session.set(self.open_sessions.get_untracked().last().cloned());
        }
        leptos::task::spawn_local(async move {
            if let Err(e) = close_terminal(id).await {
                self.toast(error_text(&e));
            }
        });
    }

    /// Closes a session: completed, then deleted (SPEC §5), which ends its agent;
    /// optimistically, with Undo for a few seconds before the server is asked.
    pub fn close_session(self, id: String) {
        let previous = self.cache.try_update(|c| c.optimistic_remove::<Session>(&id)).flatten();
        let name = previous.as_ref().map(|s| s.name.clone()).unwrap_or_default();
        let was_open = self.open_sessions.get_untracked();
        let was_active = self.active_session.get_untracked();
        self.open_sessions.update(|o| o.retain(|x| *x != id));
        if was_active.as_deref() == Some(&id) {
            self.active_session.set(self.open_sessions.get_untracked().last().cloned());
        }
        let (id_undo, kept, open_undo) = (id.clone(), previous.clone(), was_open.clone());
        let commit = move || {
            leptos::task::spawn_local(async move {
                if let Err(e) = close_session(id.clone()).await {
                    self.cache.update(|c| c.rollback(&id, previous));
                    self.open_sessions.set(was_open);
                    self.toast(error_text(&e));
                }
            })
        };
        let undo = move || {
            if kept.is_some() {
                self.cache.update(|c| c.rollback(&id_undo, kept));
            }
            self.open_sessions.set(open_undo);
            self.active_session.set(was_active);
        };
        self.with_undo(format!("Session “{name}” closed"), commit, undo);
    }

    /// Removes a task from a session, both sides at once, optimistically.
    pub fn unlink(self, session_id: String, task_id: String) {
        let previous = self.cache.try_update(|c| {
            let s = c.session(&session_id).cloned().map(|mut s| {
                s.task_ids.retain(|t| *t != task_id);
                s
            });
            let t = c.task(&task_id).cloned().map(|mut t| {
                t.session_ids.retain(|x| *x != session_id);
                t.session_count = t.session_ids.len();
                t
            });
            // What each side was, for a rollback (`None`: not cached, nothing to restore).
            (s.map(|s| c.optimistic(s)), t.map(|t| c.optimistic(t)))
        });
        leptos::task::spawn_local(async move {
            match unlink_task(session_id.clone(), task_id.clone()).await {
                Ok(s) => {
                    self.cache.update(|c| c.confirm(&s));
                }
                Err(e) => {
                    if let Some((s, t)) = previous {
                        self.cache.update(|c| {
                            if let Some(s) = s {
                                c.rollback::<Session>(&session_id, s);
                            }
                            if let Some(t) = t {
                                c.rollback::<Task>(&task_id, t);
                            }
                        });
                    }
                    self.toast(error_text(&e));
                }
            }
        });
    }
}
