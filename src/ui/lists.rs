//! How lists come to the page: rendered with it and hydrated from it ([`page_resource`]),
//! merged into the browser's cache as they render ([`merge_list`]), refetched after a
//! resync, and a project's tasks a page at a time.

use super::browser::write_cache;
use super::state::{is_plain_terminal, Tab};
use crate::api::functions::*;
use crate::live::cache::{Cache, ListKey};
use crate::model::{FnError, Session, SessionStatus};
use leptos::prelude::*;

/// Tasks per page when the browser fetches a long list (docs/PERF.md).
const TASK_PAGE: usize = 1000;

/// How the page's resources travel from the server render to the hydrating wasm: JSON,
/// read from bytes like everything else the browser decodes ([`crate::model::from_json`]),
/// rather than Leptos' default codec, which reads from `&str`: one decoder per type.
pub struct PageCodec;

impl<T: serde::Serialize> leptos::server::codee::Encoder<T> for PageCodec {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: serde::de::DeserializeOwned> leptos::server::codee::Decoder<T> for PageCodec {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, serde_json::Error> {
        crate::model::from_json(text)
    }
}

/// A resource rendered with the page and hydrated from it, in [`PageCodec`].
pub fn page_resource<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, PageCodec>
where
    S: Send + Sync + Clone + PartialEq + 'static,
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

impl Tab {
    /// Refetches one list into the cache (after a resync).
    pub fn reload(self, key: ListKey) {
        leptos::task::spawn_local(async move {
            let cache = self.cache;
            let r = match key.clone() {
                ListKey::Projects => list_projects().await.map(|(v, at)| {
                    cache.update(|c| c.load_projects(&v, at));
                }),
                ListKey::ProjectTasks(p) => self.page_tasks(p, None, || true).await,
                ListKey::SessionTasks(s) => list_session_tasks(s).await.map(|(v, at)| {
                    cache.update(|c| c.load_tasks(key, &v, at));
                }),
                ListKey::TaskSessions(t) => list_task_sessions(t).await.map(|(v, at)| {
                    cache.update(|c| c.load_sessions(key, &v, at));
                }),
                ListKey::ProjectWorkspaces(p) => list_project_workspaces(p).await.map(|(v, at)| {
                    cache.update(|c| c.load_workspaces(key, &v, at));
                }),
                ListKey::WorkspaceComments(w) => list_workspace_comments(w.clone()).await.map(|(v, at)| {
                    cache.update(|c| c.load_comments(&w, &v, at));
                }),
                ListKey::PaneSessions(p) => self.fetch_pane_sessions(p).await,
                ListKey::Attention => list_attention().await.map(|a| {
                    cache.update(|c| c.load_attention(&a.tasks, &a.sessions, a.seq));
                    let ended = a.sessions.iter().filter(|s| s.status != SessionStatus::Running);
                    self.first_look(ended.map(|s| s.id.clone()).collect());
                    // The whole of it came: looks at what is no longer flagged are history.
                    if a.tasks.len() < ATTENTION_MAX && a.sessions.len() < ATTENTION_MAX {
                        let keep: std::collections::HashSet<&String> =
                            a.tasks.iter().map(|t| &t.id).chain(a.sessions.iter().map(|s| &s.id)).collect();
                        self.change_seen(|s| s.retain(|id| keep.contains(id)));
                    }
                }),
            };
            if let Err(e) = r {
                self.toast(format!("Could not refresh: {}", error_text(&e)));
            }
        });
    }

    /// Fetches a project's task list a page at a time from after `after` (the start when
    /// `None`), merging each page into the cache; the last makes the list loaded. A resync
    /// meanwhile forgets what came, so the fetch starts over. Stops once `wanted` says no.
    pub async fn page_tasks(
        self,
        project_id: String,
        mut after: Option<String>,
        wanted: impl Fn() -> bool,
    ) -> Result<(), FnError> {
        let mut resyncs = self.cache.with_untracked(|c| c.resyncs);
        while wanted() {
            let page = list_task_page(project_id.clone(), after.clone(), TASK_PAGE).await?;
            let now = self.cache.with_untracked(|c| c.resyncs);
            if now != resyncs {
                (resyncs, after) = (now, None);
                continue;
            }
            let last = page.next.is_none();
            self.cache.update(|c| c.load_task_page(&project_id, &page.tasks, last, page.seq));
            if last {
                break;
            }
            after = page.next;
        }
        Ok(())
    }

    /// Fetches what the Sessions pane lists for a project (see `ui::sessions`), and the
    /// workspaces its rows show.
    async fn fetch_pane_sessions(self, project_id: String) -> Result<(), FnError> {
        let asked = || {
            let to = self.cleared_to.with_untracked(|m| m.get(&project_id).cloned());
            (self.ended_shown.with_value(|m| m.get(&project_id).copied()), to)
        };
        let (ended, to) = asked();
        let p = list_pane_sessions(project_id.clone(), ended, to.clone()).await?;
        // "Older sessions" or "Clear finished" asked again meanwhile: that answer is the one
        // to show.
        if asked() != (ended, to) {
            return Ok(());
        }
        self.cache.update(|c| c.load_pane_sessions(&project_id, &p.running, &p.ended, p.more_ended, p.seq));
        self.first_look(p.ended.iter().map(|s| s.id.clone()).collect());
        self.load_session_workspaces(p.running.iter().chain(&p.ended)).await;
        Ok(())
    }

    /// Fetches the workspaces of these sessions, for the branch and totals each row shows
    /// and their Changes tabs.
    async fn load_session_workspaces(self, sessions: impl Iterator<Item = &Session>) {
        let mut spaces: Vec<String> = sessions.filter_map(|s| s.workspace_id.clone()).collect();
        spaces.sort_unstable();
        spaces.dedup();
        for some in spaces.chunks(crate::model::page::PAGE_ROWS_MAX) {
            if let Ok((ws, at)) = get_workspaces(some.to_vec()).await {
                self.cache.update(|c| c.load_workspace_entities(&ws, at));
            }
        }
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
                    self.load_session_workspaces(list.iter()).await;
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
}

/// A list that could not be loaded: what went wrong, and a way to try again.
#[component]
pub fn LoadError(what: &'static str, error: String, retry: Callback<()>) -> impl IntoView {
    view! {
        <p role="alert" class="error">
            {format!("Could not load {what}: {error} ")}
            <button on:click=move |_| retry.run(())>"Retry"</button>
        </p>
    }
}

/// Keeps a lazily loaded list in the cache: fetched when the component showing it is
/// created, merged into the browser's cache as it renders (so the hydrating client
/// renders what the server did; see [`write_cache`]), and kept current by events
/// afterwards. Returns the error to show, if the list could not be loaded.
pub fn merge_list<T: Clone + 'static>(
    ctx: Tab,
    key: ListKey,
    fetched: Option<Result<(Vec<T>, u64), FnError>>,
    load: fn(&mut Cache, ListKey, &[T], u64),
) -> Option<String> {
    match fetched {
        Some(Ok((list, at))) => {
            write_cache(ctx.cache, |c| load(c, key, &list, at));
            None
        }
        Some(Err(e)) if !ctx.cache.with_untracked(|c| c.is_loaded(&key)) => Some(error_text(&e)),
        _ => None,
    }
}
