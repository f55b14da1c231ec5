//! The tab's state, shared by every component through context: the cache of server state
//! (patched by the event stream), the connection state, and what this browser keeps in
//! localStorage (the sessions open in it, those cleared, the view, the widths, what was seen). Its
//! toasts are in `toasts.rs`, its lists' loading in `lists.rs`, its actions in `actions.rs`.

use super::browser::{listen, storage_get, storage_set};
use crate::api::functions::ClearedTo;
use crate::live::cache::ListKey;
use crate::live::ConnState;
use crate::live::Live;
use leptos::prelude::*;

/// A non-blocking error message.
#[derive(Clone, Debug, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub text: String,
    /// It offers Undo: what it tells has not been done yet (see `Tab::with_undo`).
    pub undo: bool,
}

/// This browser tab's state and its optimistic actions, shared by every component.
/// `Copy`: signals are handles.
#[derive(Clone, Copy)]
pub struct Tab {
    pub cache: Live,
    pub conn: RwSignal<ConnState>,
    pub toasts: RwSignal<Vec<Toast>>,
    /// Plain terminals and sessions opened in this browser, in the order they were opened
    /// (the Sessions pane lists these besides the server's list of the project's sessions).
    pub open_sessions: RwSignal<Vec<String>>,
    /// Ended sessions "Clear finished" took off the Sessions pane, oldest first: kept in
    /// localStorage, so a reload and every tab of the browser agree (see `ui::sessions`).
    pub cleared: RwSignal<Vec<String>>,
    /// Per project, where "Clear finished" cleared its pane to: what ended up to then is not
    /// listed again, nor offered by "Older sessions" (kept in localStorage as `cleared`).
    pub cleared_to: RwSignal<std::collections::HashMap<String, ClearedTo>>,
    /// This browser had not opened Maestro before this page: what had ended by then is
    /// history, not news (see [`Tab::first_look`]).
    pub fresh: StoredValue<bool>,
    /// Ids flagged by events since this page opened: news, whatever a list says later.
    pub news: StoredValue<std::collections::HashSet<String>>,
    pub active_session: RwSignal<Option<String>>,
    /// The open sessions in the Sessions pane's order, as it shows them (`j` / `k`).
    pub session_order: StoredValue<Vec<String>>,
    /// Whether localStorage has been read (it does not exist during server rendering).
    pub restored: RwSignal<bool>,
    pub show_help: RwSignal<bool>,
    /// Expanded task rows: kept here so a row keeps its state through filtering.
    pub expanded: RwSignal<std::collections::HashSet<String>>,
    /// The agent "Work on task" last started ("" for a plain shell): offered first next time.
    pub last_agent: RwSignal<String>,
    /// The board (columns by status) is shown, in the room of the terminal and the list;
    /// kept per browser. Showing a session shows the terminal again (`Tab::open_session`).
    pub board: RwSignal<bool>,
    /// The pane a narrow screen (a phone) shows, the others a switch away.
    pub pane: RwSignal<Pane>,
    /// Flagged ids (ended sessions, blocked tasks) the person has looked at: kept in
    /// localStorage, so every tab of the browser agrees (see `ui::attention`).
    pub seen: RwSignal<std::collections::BTreeSet<String>>,
    /// The side panes' widths in pixels, as the person dragged them (`None`: the default).
    pub panes: RwSignal<Panes>,
    /// Edits typed in a task's details and not saved (title, description, prompt), by
    /// task id, with the task's text they were typed over: kept when the details close,
    /// shown again when they open (the fields not changed then follow the task).
    pub drafts: RwSignal<std::collections::HashMap<String, (Draft, Draft)>>,
    /// The project each plain terminal opened here was opened in: it starts in that
    /// project's directory.
    pub terminal_projects: StoredValue<std::collections::HashMap<String, String>>,
    /// Text typed in a workspace's Changes tab and not yet used (a review comment being
    /// written, a commit message), by `kind:workspace`: kept when the view is rebuilt (another
    /// session shown, another file, a wider range of lines picked).
    pub typed: StoredValue<std::collections::HashMap<String, String>>,
    /// How many ended sessions the Sessions pane asks for, by project, once "Older
    /// sessions" asked for more than the server's default.
    pub ended_shown: StoredValue<std::collections::HashMap<String, usize>>,
}

/// The panes, as a narrow screen switches between them (one at a time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    Tasks,
    Sessions,
    Terminal,
}

impl Pane {
    pub const ALL: [Pane; 3] = [Pane::Tasks, Pane::Sessions, Pane::Terminal];

    pub fn label(self) -> &'static str {
        match self {
            Pane::Tasks => "Tasks",
            Pane::Sessions => "Sessions",
            Pane::Terminal => "Terminal",
        }
    }

    /// The `.panes` class that shows it on a narrow screen (`style/main.css`).
    pub fn class(self) -> &'static str {
        match self {
            Pane::Tasks => "show-tasks",
            Pane::Sessions => "show-sessions",
            Pane::Terminal => "show-terminal",
        }
    }
}

/// A task's title, description and prompt as the person is editing them.
pub type Draft = (String, String, String);

/// The widths the person gave the resizable panes: the sessions pane and the task panel
/// (the board takes the terminal's room and the panel's together).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Panes {
    pub left: Option<f64>,
    pub right: Option<f64>,
}

const OPEN_KEY: &str = "maestro.openSessions";
const ACTIVE_KEY: &str = "maestro.activeSession";
pub const LAST_PROJECT_KEY: &str = "maestro.lastProject";
const BOARD_KEY: &str = "maestro.board";
const SEEN_KEY: &str = "maestro.seen";
const CLEARED_KEY: &str = "maestro.cleared";
const CLEARED_TO_KEY: &str = "maestro.clearedTo";
/// Most cleared ids kept (~40 bytes each in localStorage): older ones ended before any the
/// pane is sent (`ENDED_SHOWN`, or up to `ENDED_MAX` of a project after "Older sessions").
const CLEARED_MAX: usize = 5 * crate::api::functions::ENDED_MAX;
const PANES_KEY: &str = "maestro.panes";

pub fn use_tab() -> Tab {
    expect_context::<Tab>()
}

impl Tab {
    pub fn new() -> Self {
        Tab {
            cache: Live::new(),
            conn: RwSignal::new(ConnState::Connecting),
            toasts: RwSignal::new(Vec::new()),
            open_sessions: RwSignal::new(Vec::new()),
            cleared: RwSignal::new(Vec::new()),
            cleared_to: RwSignal::new(Default::default()),
            fresh: StoredValue::new(false),
            news: StoredValue::new(Default::default()),
            active_session: RwSignal::new(None),
            session_order: StoredValue::new(Vec::new()),
            restored: RwSignal::new(false),
            show_help: RwSignal::new(false),
            expanded: RwSignal::new(Default::default()),
            last_agent: RwSignal::new(String::new()),
            board: RwSignal::new(false),
            pane: RwSignal::new(Pane::Tasks),
            seen: RwSignal::new(Default::default()),
            panes: RwSignal::new(Panes::default()),
            drafts: RwSignal::new(Default::default()),
            terminal_projects: StoredValue::new(Default::default()),
            ended_shown: StoredValue::new(Default::default()),
            typed: StoredValue::new(Default::default()),
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
        let seen: Option<std::collections::BTreeSet<String>> = storage_get(SEEN_KEY);
        self.fresh.set_value(seen.is_none());
        self.seen.set(seen.unwrap_or_default());
        self.cleared.set(storage_get(CLEARED_KEY).unwrap_or_default());
        self.cleared_to.set(storage_get(CLEARED_TO_KEY).unwrap_or_default());
        self.panes.set(storage_get(PANES_KEY).unwrap_or_default());
        self.restored.set(true);
        Effect::new(move |_| storage_set(OPEN_KEY, &self.open_sessions.get()));
        Effect::new(move |_| storage_set(ACTIVE_KEY, &self.active_session.get()));
        Effect::new(move |_| storage_set(BOARD_KEY, &self.board.get()));
        Effect::new(move |_| storage_set(PANES_KEY, &self.panes.get()));
        // Another tab of this browser looked at something: so has this one.
        let seen = window_event_listener(leptos::ev::storage, move |ev| match ev.key().as_deref() {
            Some(SEEN_KEY) => self.seen.set(storage_get(SEEN_KEY).unwrap_or_default()),
            Some(CLEARED_KEY) => self.cleared.set(storage_get(CLEARED_KEY).unwrap_or_default()),
            Some(CLEARED_TO_KEY) => self.cleared_to.set(storage_get(CLEARED_TO_KEY).unwrap_or_default()),
            _ => {}
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

    /// The first time this browser opens Maestro (nothing seen kept yet), sessions that
    /// ended before (`ended`, from any list fetched before a resync: the ⚑ list's and the
    /// Sessions pane's) are history, not news: they count as seen, so a fresh browser
    /// does not start with old flags. Blocked tasks and agents waiting for an answer still
    /// need the person, and stay flagged.
    pub fn first_look(self, ended: Vec<String>) {
        if self.fresh.get_value() && self.cache.with_untracked(|c| c.resyncs) == 0 {
            let old: Vec<String> = self.news.with_value(|n| ended.into_iter().filter(|id| !n.contains(id)).collect());
            self.change_seen(|s| s.extend(old));
            storage_set(SEEN_KEY, &self.seen.get_untracked());
        }
    }

    /// Takes ended sessions off the Sessions pane (`true`) or puts them back, in every tab
    /// of the browser; read, changed and written at once, as [`Tab::change_seen`].
    pub fn set_cleared(self, ids: &[String], cleared: bool) {
        let mut list: Vec<String> = storage_get(CLEARED_KEY).unwrap_or_default();
        list.retain(|id| !ids.contains(id));
        if cleared {
            list.extend(ids.iter().cloned());
        }
        let over = list.len().saturating_sub(CLEARED_MAX);
        list.drain(..over);
        storage_set(CLEARED_KEY, &list);
        self.cleared.set(list);
    }

    /// Sets where project `project`'s pane is cleared to (`None`: not cleared), in every tab
    /// of the browser; read, changed and written at once, as [`Tab::set_cleared`].
    pub fn set_cleared_to(self, project: &str, to: Option<ClearedTo>) {
        let mut map: std::collections::HashMap<String, ClearedTo> = storage_get(CLEARED_TO_KEY).unwrap_or_default();
        match to {
            Some(to) => map.insert(project.to_string(), to),
            None => map.remove(project),
        };
        storage_set(CLEARED_TO_KEY, &map);
        self.cleared_to.set(map);
    }

    /// Text kept under `key` (see [`Tab::typed`]).
    pub fn typed(self, key: &str) -> Option<String> {
        self.typed.with_value(|t| t.get(key).cloned())
    }

    /// Keeps `text` under `key`; empty or `None`: forgets it.
    pub fn keep_typed(self, key: String, text: Option<String>) {
        self.typed.update_value(|t| match text.filter(|x| !x.is_empty()) {
            Some(x) => {
                t.insert(key, x);
            }
            None => {
                t.remove(&key);
            }
        });
    }

    /// Forgets that these were seen (no longer flagged: a later flag raises them again).
    pub fn unmark_seen(self, ids: &[String]) {
        self.change_seen(|s| s.retain(|id| !ids.contains(id)));
    }

    pub(super) fn change_seen(self, f: impl FnOnce(&mut std::collections::BTreeSet<String>)) {
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
