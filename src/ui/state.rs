//! The tab's state, shared by every component through context: the cache of server state
//! (patched by the event stream), the connection state, error toasts, and the sessions
//! open in this browser (kept in localStorage).

use crate::api::functions::*;
use crate::model::*;
use crate::sync::cache::{Cache, Entity, ListKey};
use crate::sync::ConnState;
use leptos::prelude::*;
use leptos::server_fn::ServerFnError;
use std::future::Future;

/// A non-blocking error message.
#[derive(Clone, Debug, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub text: String,
}

/// This browser tab's state and its optimistic actions, shared by every component.
/// `Copy`: signals are handles.
#[derive(Clone, Copy)]
pub struct Tab {
    pub cache: RwSignal<Cache>,
    pub conn: RwSignal<ConnState>,
    pub toasts: RwSignal<Vec<Toast>>,
    /// Maestro session ids open in this browser, in the order they were opened.
    pub open_sessions: RwSignal<Vec<String>>,
    pub active_session: RwSignal<Option<String>>,
    /// Whether localStorage has been read (it does not exist during server rendering).
    pub restored: RwSignal<bool>,
    pub show_help: RwSignal<bool>,
    /// Expanded task rows: kept here so a row keeps its state through filtering.
    pub expanded: RwSignal<std::collections::HashSet<String>>,
}

#[cfg(feature = "hydrate")]
const OPEN_KEY: &str = "maestro.openSessions";
#[cfg(feature = "hydrate")]
const ACTIVE_KEY: &str = "maestro.activeSession";
pub const LAST_PROJECT_KEY: &str = "maestro.lastProject";

pub fn use_tab() -> Tab {
    expect_context::<Tab>()
}

/// A fresh id for a record the browser creates (SPEC §1 lets clients choose ids, which
/// makes optimistic creation and safe retries simple).
pub fn client_id(prefix: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        let r = || (js_sys::Math::random() * (1u64 << 52) as f64) as u64;
        format!("{prefix}_{:013x}{:013x}", r(), r())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        format!("{prefix}_server")
    }
}

#[cfg(feature = "hydrate")]
pub fn storage_get<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    use gloo_storage::Storage;
    gloo_storage::LocalStorage::get(key).ok()
}

#[cfg(feature = "hydrate")]
pub fn storage_set<T: serde::Serialize>(key: &str, value: &T) {
    use gloo_storage::Storage;
    let _ = gloo_storage::LocalStorage::set(key, value);
}

impl Tab {
    /// Creates a project under an id of the browser's own (so a retry cannot make two)
    /// and caches it. The one way the UI creates projects.
    pub async fn create_project(self, name: String) -> Result<Project, ServerFnError> {
        let p = create_project(NewProject { id: Some(client_id("proj")), name, base_path: None }).await?;
        self.cache.update(|c| c.confirm(&p));
        Ok(p)
    }

    pub fn new() -> Self {
        Tab {
            cache: RwSignal::new(Cache::default()),
            conn: RwSignal::new(ConnState::Connecting),
            toasts: RwSignal::new(Vec::new()),
            open_sessions: RwSignal::new(Vec::new()),
            active_session: RwSignal::new(None),
            restored: RwSignal::new(false),
            show_help: RwSignal::new(false),
            expanded: RwSignal::new(Default::default()),
        }
    }

    /// Client only: restores the open sessions, persists their changes, and starts the
    /// event stream.
    #[cfg(feature = "hydrate")]
    pub fn start(self) {
        let open: Vec<String> = storage_get(OPEN_KEY).unwrap_or_default();
        let active: Option<String> = storage_get(ACTIVE_KEY).unwrap_or(None);
        self.open_sessions.set(open);
        self.active_session.set(active);
        self.restored.set(true);
        Effect::new(move |_| storage_set(OPEN_KEY, &self.open_sessions.get()));
        Effect::new(move |_| storage_set(ACTIVE_KEY, &self.active_session.get()));
        crate::sync::client::start(self.cache, self.conn, move |keys| {
            for key in keys {
                self.reload(key);
            }
            self.load_open_sessions();
        });
    }

    /// Shows an error for a few seconds.
    pub fn toast(self, text: impl Into<String>) {
        let id = self.toasts.with_untracked(|t| t.last().map_or(1, |t| t.id + 1));
        self.toasts.update(|t| t.push(Toast { id, text: text.into() }));
        set_timeout(move || self.toasts.update(|t| t.retain(|x| x.id != id)), std::time::Duration::from_secs(6));
    }

    /// Refetches one list into the cache (after a resync).
    pub fn reload(self, key: ListKey) {
        leptos::task::spawn_local(async move {
            let cache = self.cache;
            let r = match key.clone() {
                ListKey::Projects => list_projects().await.map(|(v, at)| cache.update(|c| c.load_projects(&v, at))),
                ListKey::ProjectTasks(p) => {
                    list_tasks(p).await.map(|(v, at)| cache.update(|c| c.load_tasks(key, &v, at)))
                }
                ListKey::SessionTasks(s) => {
                    list_session_tasks(s).await.map(|(v, at)| cache.update(|c| c.load_tasks(key, &v, at)))
                }
                ListKey::TaskSessions(t) => {
                    list_task_sessions(t).await.map(|(v, at)| cache.update(|c| c.load_sessions(key, &v, at)))
                }
            };
            if let Err(e) = r {
                self.toast(format!("Could not refresh: {}", error_text(&e)));
            }
        });
    }

    /// Fetches the entities of the sessions open in this browser.
    pub fn load_open_sessions(self) {
        let ids = self.open_sessions.get_untracked();
        if ids.is_empty() {
            return;
        }
        leptos::task::spawn_local(async move {
            match get_sessions(ids.clone()).await {
                Ok((list, at)) => {
                    self.cache.update(|c| c.load_session_entities(&list, at));
                    // Sessions deleted elsewhere while this browser was away: forget them
                    // (plain terminals are not sessions).
                    let live: Vec<String> = list.iter().map(|s| s.id.clone()).collect();
                    self.open_sessions.update(|open| {
                        open.retain(|id| is_plain_terminal(id) || live.contains(id) || !ids.contains(id))
                    });
                }
                Err(e) => self.toast(format!("Could not load sessions: {}", error_text(&e))),
            }
        });
    }

    /// Optimistic mutation of a task or a session: `local` edits the cached copy at once;
    /// `call` asks the server. Success keeps the server's copy; refusal restores the old
    /// one and says why.
    pub fn mutate<E, F>(self, id: String, local: impl FnOnce(&mut E), call: F)
    where
        E: Entity + 'static,
        F: Future<Output = Result<E, ServerFnError>> + 'static,
    {
        let previous = self.cache.try_update(|c| {
            let mut e = E::all(c).get(&id)?.clone();
            local(&mut e);
            Some(c.optimistic(e))
        });
        leptos::task::spawn_local(async move {
            match call.await {
                Ok(e) => self.cache.update(|c| c.confirm(&e)),
                Err(err) => {
                    if let Some(Some(prev)) = previous {
                        self.cache.update(|c| c.rollback(&id, prev));
                    }
                    self.toast(error_text(&err));
                }
            }
        });
    }

    /// Optimistic creation of a task the browser names.
    pub fn create_task(self, task: NewTask) {
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
                Ok(t) => self.cache.update(|c| c.confirm(&t)),
                Err(e) => {
                    self.cache.update(|c| c.rollback::<Task>(&id, None));
                    self.toast(error_text(&e));
                }
            }
        });
    }

    /// Optimistic delete.
    pub fn delete_task(self, id: String) {
        let previous = self.cache.try_update(|c| c.optimistic_remove::<Task>(&id)).flatten();
        leptos::task::spawn_local(async move {
            if let Err(e) = delete_task(id.clone()).await {
                self.cache.update(|c| c.rollback(&id, previous));
                self.toast(error_text(&e));
            }
        });
    }

    /// "Work on task": a new Maestro session linked to the task, opened and made active.
    pub fn work_on(self, task: &Task) {
        let id = client_id("sess");
        let new = NewSession {
            id: Some(id.clone()),
            project_id: task.project_id.clone(),
            task_ids: vec![task.id.clone()],
            name: Some(task.title.chars().take(200).collect()),
            agent_id: None,
        };
        self.open_sessions.update(|o| o.push(id.clone()));
        self.active_session.set(Some(id.clone()));
        leptos::task::spawn_local(async move {
            match create_session(new).await {
                Ok(s) => self.cache.update(|c| c.confirm(&s)),
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

    /// Opens a plain terminal (not linked to Maestro) and makes it active.
    pub fn open_terminal(self) {
        let id = client_id("term");
        self.open_sessions.update(|o| o.push(id.clone()));
        self.active_session.set(Some(id));
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

    /// Closes a session: completed, then deleted (SPEC §5), optimistically.
    pub fn close_session(self, id: String) {
        let previous = self.cache.try_update(|c| c.optimistic_remove::<Session>(&id)).flatten();
        let was_open = self.open_sessions.get_untracked();
        self.open_sessions.update(|o| o.retain(|x| *x != id));
        if self.active_session.get_untracked().as_deref() == Some(&id) {
            self.active_session.set(self.open_sessions.get_untracked().last().cloned());
        }
        leptos::task::spawn_local(async move {
            if let Err(e) = close_session(id.clone()).await {
                self.cache.update(|c| c.rollback(&id, previous));
                self.open_sessions.set(was_open);
                self.toast(error_text(&e));
            }
        });
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
                Ok(s) => self.cache.update(|c| c.confirm(&s)),
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

impl Default for Tab {
    fn default() -> Self {
        Self::new()
    }
}

/// Plain terminals have `term_` ids; everything else open is a Maestro session.
pub fn is_plain_terminal(id: &str) -> bool {
    id.starts_with("term_")
}
