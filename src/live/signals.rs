//! The tab's live copy of server state: the [`Cache`] in a signal, with fine-grained
//! notification. A change to one task wakes only what shows that task (its row, a session's
//! list that holds it); a change to a project's list wakes the list's window and counts;
//! anything else (projects, sessions) wakes readers of the whole cache as before. So an
//! event costs the same with 10 or 10,000 tasks on the page.

use super::cache::Cache;
use crate::model::Task;
use leptos::prelude::*;
use std::collections::HashMap;

/// `Copy`: all handles.
#[derive(Clone, Copy)]
pub struct Live {
    cache: RwSignal<Cache>,
    /// One trigger per task something shows (made on first use; a few bytes each).
    tasks: StoredValue<HashMap<String, ArcTrigger>>,
    /// Fired when a project's task list changes its members, order or counts.
    lists: Trigger,
    /// Fired when any task changes (for a reader of every task: the search).
    any_task: Trigger,
    /// Flags raised and lowered since their reader last took them (see [`Live::take_flag_news`]).
    flag_news: RwSignal<(Vec<String>, Vec<String>)>,
    /// A change could not be applied: what the page shows may be behind (see [`Live::stale`]).
    stale: RwSignal<bool>,
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

impl Live {
    pub fn new() -> Live {
        Live {
            cache: RwSignal::new(Cache::default()),
            tasks: StoredValue::new(HashMap::new()),
            lists: Trigger::new(),
            any_task: Trigger::new(),
            flag_news: RwSignal::new(Default::default()),
            stale: RwSignal::new(false),
        }
    }

    /// Changes the cache and wakes what shows what changed. `None` (and an error in the
    /// console) when it cannot be written now: a read of it is under way further up the
    /// stack. Never a panic: in the release wasm one would end the whole app.
    pub fn update<R>(&self, f: impl FnOnce(&mut Cache) -> R) -> Option<R> {
        let Some((r, changes)) = self.cache.try_update_untracked(|c| {
            let r = f(c);
            (r, c.take_changes())
        }) else {
            self.busy();
            return None;
        };
        if changes.other {
            self.cache.notify();
        }
        self.tasks.with_value(|m| {
            if changes.all_tasks {
                m.values().for_each(ArcTrigger::notify);
            } else {
                changes.tasks.iter().filter_map(|id| m.get(id)).for_each(ArcTrigger::notify);
            }
            changes.workspace_tasks.iter().filter_map(|id| m.get(id)).for_each(ArcTrigger::notify);
        });
        if changes.lists {
            self.lists.notify();
        }
        if changes.all_tasks || !changes.tasks.is_empty() {
            self.any_task.notify();
        }
        if !changes.raised.is_empty() || !changes.lowered.is_empty() {
            self.flag_news.update(|(up, down)| {
                up.extend(changes.raised);
                down.extend(changes.lowered);
            });
        }
        Some(r)
    }

    /// The ids flagged by events and the ids unflagged since the last call, waking the
    /// caller when there are more (one reader: the tab's attention).
    pub fn take_flag_news(&self) -> (Vec<String>, Vec<String>) {
        self.flag_news.track();
        self.flag_news.try_update_untracked(std::mem::take).unwrap_or_default()
    }

    /// [`Live::update`], as `RwSignal::try_update` says it.
    pub fn try_update<R>(&self, f: impl FnOnce(&mut Cache) -> R) -> Option<R> {
        self.update(f)
    }

    /// Changes the cache telling no one (while rendering: what renders reads it anyway);
    /// `None` as [`Live::update`].
    pub fn update_untracked<R>(&self, f: impl FnOnce(&mut Cache) -> R) -> Option<R> {
        let r = self.cache.try_update_untracked(|c| {
            let r = f(c);
            c.take_changes();
            r
        });
        if r.is_none() {
            self.busy();
        }
        r
    }

    /// Whether a change to the cache was lost: the page says so where it shows the cache,
    /// and offers a reload, rather than showing what may be out of date as current.
    pub fn stale(&self) -> bool {
        self.stale.get()
    }

    /// A write the cache refused: said in the console (the end-to-end tests fail on it) and
    /// on the page.
    fn busy(&self) {
        leptos::logging::error!("maestro: the cache was busy; a change to it was not applied");
        self.stale.try_set(true);
    }

    /// Reads the cache, woken by changes to projects, sessions and loaded lists (not by
    /// task changes: use [`Live::task`] and [`Live::track_lists`] for those).
    pub fn with<R>(&self, f: impl FnOnce(&Cache) -> R) -> R {
        self.cache.with(f)
    }

    pub fn with_untracked<R>(&self, f: impl FnOnce(&Cache) -> R) -> R {
        self.cache.with_untracked(f)
    }

    /// Wakes the caller when task `id` changes.
    pub fn track_task(&self, id: &str) {
        let known = self.tasks.with_value(|m| m.get(id).cloned());
        let trigger = known.unwrap_or_else(|| {
            let t = ArcTrigger::new();
            self.tasks.update_value(|m| {
                m.insert(id.to_string(), t.clone());
            });
            t
        });
        trigger.track();
    }

    /// Task `id` as cached, waking the caller when it changes.
    pub fn task(&self, id: &str) -> Option<Task> {
        self.track_task(id);
        self.cache.with_untracked(|c| c.task(id).cloned())
    }

    /// Wakes the caller when any project's task list changes members, order or counts.
    pub fn track_lists(&self) {
        self.lists.track();
    }

    /// Wakes the caller when any task changes: only for what reads every task anyway.
    pub fn track_any_task(&self) {
        self.any_task.track();
    }
}
