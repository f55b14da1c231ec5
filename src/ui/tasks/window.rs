//! Which rows of a project's task list exist now: only those on screen (and a few beyond),
//! between spacers that keep the scroll height of the whole list.

use crate::api::functions::TaskPage;
use crate::live::cache::ListKey;
use crate::model::*;
use crate::ui::browser::on_resize;
use crate::ui::state::Tab;
use leptos::html::Li;
use leptos::prelude::*;

/// Height of a collapsed task row, its margin included (`style/main.css` fixes it): the
/// window's arithmetic counts in these.
pub const ROW_PX: f64 = 42.0;
/// Rows rendered beyond each edge of what is visible.
const OVERSCAN: usize = 10;
/// The visible height assumed before the browser has measured it (the server renders this
/// much: the first screen).
const FIRST_SCREEN_PX: f64 = 30.0 * ROW_PX;

/// What a row tells the list about itself: how much taller than [`ROW_PX`] it is while
/// expanded, by task id.
#[derive(Clone, Copy)]
pub struct Extra(pub RwSignal<std::collections::HashMap<String, f64>>);

/// Where row `i` starts: rows above it at [`ROW_PX`], plus what expanded ones (`tall`:
/// index and extra height, by index) add.
fn offset(tall: &[(usize, f64)], i: usize) -> f64 {
    i as f64 * ROW_PX + tall.iter().take_while(|t| t.0 < i).map(|t| t.1).sum::<f64>()
}

/// The first index in `0..n` for which `pred` is false (`pred` true then false).
fn first_false(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The part of the list's scroller on screen: where it starts and how tall it is.
#[derive(Clone, Copy)]
pub struct Viewport {
    pub top: RwSignal<f64>,
    pub height: RwSignal<f64>,
}

impl Default for Viewport {
    /// At the top, one first screen tall (until the browser measures it).
    fn default() -> Viewport {
        Viewport { top: RwSignal::new(0.0f64), height: RwSignal::new(FIRST_SCREEN_PX) }
    }
}

/// A project's task counts: all, and per status in [`TaskStatus::ALL`]'s order (so a
/// status added there gets its count, and its board column, by itself).
pub type Counts = Memo<(usize, [usize; TaskStatus::ALL.len()])>;

/// What a project's list shows now: from the cache once it holds the list, and from the
/// first page (`seed`: its first rows and the counts) until then.
#[derive(Clone, Copy)]
pub struct ListWindow {
    /// The rows that exist: id, and the task itself while the cache does not hold the list.
    pub rows: Memo<Vec<(String, Option<Task>)>>,
    /// The spacers' heights, above the first row rendered and below the last.
    pub spacers: Memo<(f64, f64)>,
    /// The counts: all, and per status.
    pub counts: Counts,
    /// While searching, the matching ids in list order (`None` otherwise).
    pub found: Memo<Option<Vec<String>>>,
}

/// The [`ListWindow`] of project `pid`'s tasks with status `filter` matching `needle`,
/// for the rows `view` shows (expanded ones as tall as `extra` says).
pub fn list_window(
    ctx: Tab,
    pid: String,
    filter: RwSignal<Option<TaskStatus>>,
    needle: Memo<String>,
    extra: Extra,
    view: Viewport,
    seed: std::sync::Arc<TaskPage>,
) -> ListWindow {
    let (p, first) = (pid.clone(), seed.clone());
    let counts = Memo::new(move |_| {
        ctx.cache.track_lists();
        ctx.cache.with_untracked(|c| c.project_counts(&p)).unwrap_or((first.total, first.per_status))
    });
    // While searching: the matching ids in list order, from every task held (so woken by
    // any task's change); the server, which holds none, reads the seed.
    let (p, first) = (pid.clone(), seed.clone());
    let found = Memo::new(move |_| {
        let q = needle.get();
        if q.is_empty() {
            return None;
        }
        let f = filter.get();
        ctx.cache.track_lists();
        ctx.cache.track_any_task();
        let keep = |t: &Task| f.is_none_or(|s| t.status == s) && crate::ui::search::matches(t, &q);
        let (ids, loaded) = ctx.cache.with_untracked(|c| {
            let ids: Vec<String> = c.project_tasks_iter(&p).filter(|t| keep(t)).map(|t| t.id.clone()).collect();
            (ids, c.is_loaded(&ListKey::ProjectTasks(p.clone())))
        });
        if ids.is_empty() && !loaded {
            return Some(first.tasks.iter().filter(|t| keep(t)).map(|t| t.id.clone()).collect());
        }
        Some(ids)
    });
    // The list's length and its expanded rows (index, extra height), in order.
    let p = pid.clone();
    let layout = Memo::new(move |_| {
        let f = filter.get();
        let (all, per) = counts.get();
        let shown = found.get();
        let n = shown.as_ref().map_or_else(|| f.map_or(all, |s| per[s.slot()]), Vec::len);
        // Read before the cache: no other signal is read while its guard is held.
        let heights = extra.0.try_get().unwrap_or_default();
        let mut tall: Vec<(usize, f64)> = ctx.cache.with_untracked(|c| {
            heights
                .iter()
                .filter_map(|(id, h)| match &shown {
                    Some(ids) => ids.iter().position(|x| x == id).map(|i| (i, *h)),
                    None => c.position(&p, f, id).map(|i| (i, *h)),
                })
                .collect()
        });
        tall.sort_by_key(|t| t.0);
        (n, tall)
    });
    let window = Memo::new(move |_| {
        let (n, tall) = layout.get();
        let (top, height) = (view.top.get(), view.height.get());
        let first = first_false(n, |i| offset(&tall, i + 1) <= top);
        let last = first_false(n, |i| offset(&tall, i) < top + height);
        let start = first.saturating_sub(OVERSCAN);
        (start, (last + OVERSCAN).min(n), offset(&tall, start))
    });
    let rows = Memo::new(move |_| {
        let (start, end, _) = window.get();
        if let Some(ids) = found.get() {
            let pick = |id: &String| seed.tasks.iter().find(|t| t.id == *id).cloned();
            return ids.iter().skip(start).take(end.saturating_sub(start)).map(|id| (id.clone(), pick(id))).collect();
        }
        ctx.cache.track_lists();
        let f = filter.get();
        // What the cache holds (the list's start while pages arrive); the server, which
        // has no cache, renders the seed.
        let ids = ctx.cache.with_untracked(|c| c.project_window(&pid, f, start, end.saturating_sub(start)));
        if ids.is_empty() && !ctx.cache.with_untracked(|c| c.is_loaded(&ListKey::ProjectTasks(pid.clone()))) {
            let shown = seed.tasks.iter().filter(|t| f.is_none_or(|s| t.status == s));
            return shown
                .skip(start)
                .take(end.saturating_sub(start))
                .map(|t| (t.id.clone(), Some(t.clone())))
                .collect();
        }
        ids.into_iter().map(|id| (id, None)).collect()
    });
    // The spacers: above the first row, and below the last one rendered (fewer than the
    // window while the whole list is on its way), so the list keeps its full height and
    // the scroll position stays where the person put it.
    let spacers = Memo::new(move |_| {
        let (n, tall) = layout.get();
        let (start, _, top) = window.get();
        let rendered = rows.with(Vec::len);
        (top, offset(&tall, n) - offset(&tall, start + rendered))
    });
    ListWindow { rows, spacers, counts, found }
}

/// Keeps the list told how much taller than [`ROW_PX`] the row `row` (task `id`) is while
/// it is expanded: measured as it expands and again on every change of its size (its
/// details load); forgotten when it collapses or goes.
pub fn report_height(row: NodeRef<Li>, id: StoredValue<String>, expanded: Memo<bool>) {
    let extra = use_context::<Extra>();
    Effect::new(move |_| {
        let (Some(li), Some(Extra(extra))) = (row.get(), extra) else { return };
        if !expanded.get() {
            extra.update(|m| {
                {
                    let id = &id.get_value();
                    m.remove(id)
                };
            });
            return;
        }
        let id = id.get_value();
        let observe = move || {
            let px = li.offset_height() as f64 + (ROW_PX - 36.0);
            extra.update(|m| {
                m.insert(id.clone(), (px - ROW_PX).max(0.0));
            });
        };
        observe();
        // Grows as its details load: measured again on every change of size.
        if let Some(li) = row.get_untracked() {
            if let Some(stop) = on_resize(&li, observe) {
                let stop = StoredValue::new_local(Some(stop));
                on_cleanup(move || {
                    if let Some(stop) = stop.try_update_value(Option::take).flatten() {
                        stop();
                    }
                });
            }
        }
    });
    on_cleanup(move || {
        if let Some(Extra(extra)) = extra {
            extra.try_update(|m| {
                let id = &id.get_value();
                m.remove(id)
            });
        }
    });
}
