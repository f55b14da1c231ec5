//! The tab's state, shared by every component through context: the cache of server state
//! (patched by the event stream), the connection state, error toasts, and the sessions
//! open in this browser (kept in localStorage).

use super::browser::{listen, storage_get, storage_set};
use crate::api::functions::*;
use crate::sync::cache::ListKey;
use crate::sync::live::Live;
use crate::sync::ConnState;
use leptos::prelude::*;

/// A non-blocking error message.
#[derive(Clone, Debug, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub text: String,
    /// It offers Undo: what it tells has not been done yet (see [`Tab::with_undo`]).
    pub undo: bool,
}

/// How long a destructive action waits for an Undo before it is carried out.
pub const UNDO_WINDOW: std::time::Duration = std::time::Duration::from_secs(5);

/// What the toasts' Undo buttons hold: per toast, what to do if the person lets it be
/// (commit) and if they press Undo. Closures of the browser's one thread: a thread-local
/// (the server, which renders on many threads, never has any).
#[derive(Default)]
struct Undos {
    next: u64,
    pending: std::collections::HashMap<u64, (Action, Action)>,
}

type Action = Box<dyn FnOnce()>;

thread_local! {
    static UNDOS: std::cell::RefCell<Undos> = Default::default();
}

/// Changes [`UNDOS`]; `None` (never a panic) if it is in use.
fn undos<R>(f: impl FnOnce(&mut Undos) -> R) -> Option<R> {
    UNDOS.with(|u| u.try_borrow_mut().ok().map(|mut u| f(&mut u)))
}

/// This browser tab's state and its optimistic actions, shared by every component.
/// `Copy`: signals are handles.
#[derive(Clone, Copy)]
pub struct Tab {
    pub cache: Live,
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
    /// The agent "Work on task" last started ("" for a plain shell): offered first next time.
    pub last_agent: RwSignal<String>,
    /// The task panel shows the board (columns by status) instead of the list; kept per
    /// browser.
    pub board: RwSignal<bool>,
    /// Flagged ids (ended sessions, blocked tasks) the person has looked at: kept in
    /// localStorage, so every tab of the browser agrees (see `ui::attention`).
    pub seen: RwSignal<std::collections::BTreeSet<String>>,
    /// The side panes' widths in pixels, as the person dragged them (`None`: the default).
    pub panes: RwSignal<Panes>,
    /// Edits typed in a task's details and not saved (title, description, prompt), by
    /// task id: kept when the details close, shown again when they open.
    pub drafts: RwSignal<std::collections::HashMap<String, Draft>>,
}

/// A task's title, description and prompt as the person is editing them.
pub type Draft = (String, String, String);

/// The widths the person gave the resizable panes: the sessions pane, and the task panel
/// as a list and as a board (which wants more room).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Panes {
    pub left: Option<f64>,
    pub right: Option<f64>,
    pub board: Option<f64>,
}

const OPEN_KEY: &str = "maestro.openSessions";
const ACTIVE_KEY: &str = "maestro.activeSession";
pub const LAST_PROJECT_KEY: &str = "maestro.lastProject";
const BOARD_KEY: &str = "maestro.board";
const SEEN_KEY: &str = "maestro.seen";
const PANES_KEY: &str = "maestro.panes";
/// Tasks per page when the browser fetches a long list (~400 KB of typical tasks).
const TASK_PAGE: usize = 1000;

pub fn use_tab() -> Tab {
    expect_context::<Tab>()
}

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
    pub fn new() -> Self {
        Tab {
            cache: Live::new(),
            conn: RwSignal::new(ConnState::Connecting),
            toasts: RwSignal::new(Vec::new()),
            open_sessions: RwSignal::new(Vec::new()),
            active_session: RwSignal::new(None),
            restored: RwSignal::new(false),
            show_help: RwSignal::new(false),
            expanded: RwSignal::new(Default::default()),
            last_agent: RwSignal::new(String::new()),
            board: RwSignal::new(false),
            seen: RwSignal::new(Default::default()),
            panes: RwSignal::new(Panes::default()),
            drafts: RwSignal::new(Default::default()),
        }
    }

    /// Client only (an effect): restores the open sessions, persists their changes, and
    /// starts the event stream.
    pub fn start(self) {
        let open: Vec<String> = storage_get(OPEN_KEY).unwrap_or_default();
        let active: Option<String> = storage_get(ACTIVE_KEY).unwrap_or(None);
        self.open_sessions.set(open);
        self.active_session.set(active);
        self.board.set(storage_get(BOARD_KEY).unwrap_or(false));
        self.seen.set(storage_get(SEEN_KEY).unwrap_or_default());
        self.panes.set(storage_get(PANES_KEY).unwrap_or_default());
        self.restored.set(true);
        Effect::new(move |_| storage_set(OPEN_KEY, &self.open_sessions.get()));
        Effect::new(move |_| storage_set(ACTIVE_KEY, &self.active_session.get()));
        Effect::new(move |_| storage_set(BOARD_KEY, &self.board.get()));
        Effect::new(move |_| storage_set(PANES_KEY, &self.panes.get()));
        // Another tab of this browser looked at something: so has this one.
        let seen = window_event_listener(leptos::ev::storage, move |ev| {
            if ev.key().as_deref() == Some(SEEN_KEY) {
                self.seen.set(storage_get(SEEN_KEY).unwrap_or_default());
            }
        });
        on_cleanup(move || seen.remove());
        self.reload(ListKey::Attention);
        listen(self.cache, self.conn, move |keys| {
            for key in keys {
                self.reload(key);
            }
            self.load_open_sessions();
        });
    }

    /// Shows an error for a few seconds.
    pub fn toast(self, text: impl Into<String>) {
        let id = self.toast_id();
        self.toasts.update(|t| t.push(Toast { id, text: text.into(), undo: false }));
        let gone = move || {
            self.toasts.try_update(|t| t.retain(|x| x.id != id));
        };
        set_timeout(gone, std::time::Duration::from_secs(6));
    }

    /// A fresh toast id (never one a pending timer still knows).
    fn toast_id(self) -> u64 {
        undos(|u| {
            u.next += 1;
            u.next
        })
        .unwrap_or_default()
    }

    /// A destructive action the person can take back: `text` says what was done, with
    /// Undo, for [`UNDO_WINDOW`]; then (or when the toast is dismissed) `commit` runs. Undo
    /// runs `undo` instead. The caller has already made it look done.
    pub fn with_undo(self, text: impl Into<String>, commit: impl FnOnce() + 'static, undo: impl FnOnce() + 'static) {
        let id = self.toast_id();
        undos(|u| u.pending.insert(id, (Box::new(commit), Box::new(undo))));
        self.toasts.update(|t| t.push(Toast { id, text: text.into(), undo: true }));
        set_timeout(move || self.end_toast(id, false), UNDO_WINDOW);
    }

    /// Ends toast `id`: an action waiting on it is undone (`undo`) or carried out.
    pub fn end_toast(self, id: u64, undo: bool) {
        self.toasts.try_update(|t| t.retain(|x| x.id != id));
        // Taken out before it runs: what it runs may start another.
        if let Some((commit, revert)) = undos(|u| u.pending.remove(&id)).flatten() {
            if undo {
                revert()
            } else {
                commit()
            }
        }
    }

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
                ListKey::Attention => list_attention().await.map(|a| {
                    cache.update(|c| c.load_attention(&a.tasks, &a.sessions, a.seq));
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
}

impl Tab {
    /// The person looked at these (sessions, tasks): their flags go, in every tab of the
    /// browser. Only what is flagged now counts (a look before a flag does not hide it).
    /// Read, changed and written at once, so two tabs' looks both count.
    pub fn mark_seen(self, ids: impl IntoIterator<Item = String>) {
        let flagged: Vec<String> =
            self.cache.with_untracked(|c| ids.into_iter().filter(|id| c.is_flagged(id)).collect());
        if !flagged.is_empty() {
            self.change_seen(|s| s.extend(flagged));
        }
    }

    /// Forgets that these were seen (no longer flagged: a later flag raises them again).
    pub fn unmark_seen(self, ids: &[String]) {
        self.change_seen(|s| s.retain(|id| !ids.contains(id)));
    }

    fn change_seen(self, f: impl FnOnce(&mut std::collections::BTreeSet<String>)) {
        let mut set: std::collections::BTreeSet<String> = storage_get(SEEN_KEY).unwrap_or_default();
        let before = set.clone();
        f(&mut set);
        if set != before || set != self.seen.get_untracked() {
            storage_set(SEEN_KEY, &set);
            self.seen.set(set);
        }
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
