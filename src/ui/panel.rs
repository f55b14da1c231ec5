//! The Maestro panel (right): the active project's tasks, their subtasks and the
//! sessions working on each task.

use super::on_demand::{on_demand, Part};
use super::state::{client_id, page_resource, use_tab};
use super::{merge_list, px, LoadError};
use crate::api::functions::*;
use crate::live::cache::ListKey;
use crate::model::*;
use leptos::prelude::*;

/// Height of a collapsed task row, its margin included (`style/main.css` fixes it): the
/// window's arithmetic counts in these.
const ROW_PX: f64 = 42.0;
/// Rows rendered beyond each edge of what is visible.
const OVERSCAN: usize = 10;
/// The visible height assumed before the browser has measured it (the server renders this
/// much: the first screen).
const FIRST_SCREEN_PX: f64 = 30.0 * ROW_PX;
/// Tasks the page carries (the first screen, and some to scroll into before the rest).
const FIRST_PAGE: usize = 100;

/// What a row tells the list about itself: how much taller than [`ROW_PX`] it is while
/// expanded, by task id.
#[derive(Clone, Copy)]
struct Extra(RwSignal<std::collections::HashMap<String, f64>>);

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

/// Which rows of a project's list exist now (id, and the task itself while the cache does
/// not hold the list), the window (first and end index, spacer heights above and below),
/// the counts (all, per status), from the cache once loaded and from `seed` (the first
/// rows and the counts) until then; and, while searching, the tasks that match.
#[allow(clippy::type_complexity)]
fn list_window(
    ctx: super::state::Tab,
    pid: String,
    (filter, needle): (RwSignal<Option<TaskStatus>>, Memo<String>),
    extra: Extra,
    (view_top, view_height): (RwSignal<f64>, RwSignal<f64>),
    seed: std::sync::Arc<TaskPage>,
) -> (Memo<Vec<(String, Option<Task>)>>, Memo<(f64, f64)>, Memo<(usize, [usize; 4])>, Memo<Option<Vec<String>>>) {
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
        let keep = |t: &Task| f.is_none_or(|s| t.status == s) && super::search::matches(t, &q);
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
        let (top, height) = (view_top.get(), view_height.get());
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
    (rows, spacers, counts, found)
}

/// The active project's tasks: filter, counts, "new task", and the rows. The list is a
/// window: only the rows on screen (and a few beyond) exist; spacers above and below keep
/// the scroll height of the whole list, so 10,000 tasks cost what 60 do.
#[component]
pub fn TaskPanel(project_id: String) -> impl IntoView {
    let ctx = use_tab();
    let pid = project_id.clone();
    let key = ListKey::ProjectTasks(project_id.clone());
    // The first screen and the counts, rendered by the server; the rest fetched by the
    // browser a page at a time once the page is live (a long list never goes into the page).
    let fetched = page_resource(move || pid.clone(), |p| list_task_page(p, None, FIRST_PAGE));
    let shown = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let gone = shown.clone();
    on_cleanup(move || gone.store(false, std::sync::atomic::Ordering::Relaxed));
    let pid = project_id.clone();
    Effect::new(move |_| {
        let Some(Ok(first)) = fetched.get() else { return };
        if first.next.is_none() {
            ctx.cache.update(|c| c.load_task_page(&pid, &first.tasks, true, first.seq));
            return;
        }
        let (pid, shown) = (pid.clone(), shown.clone());
        leptos::task::spawn_local(async move {
            if let Err(e) =
                ctx.page_tasks(pid, first.next, move || shown.load(std::sync::atomic::Ordering::Relaxed)).await
            {
                ctx.toast(format!("Could not load the whole task list: {}", error_text(&e)));
            }
        });
    });
    let filter = RwSignal::new(None::<TaskStatus>);
    // The search lives in the URL (`?q=`): a reload or a shared link shows the same view.
    let query = leptos_router::hooks::use_query_map();
    let typed = Memo::new(move |_| query.with(|q| q.get("q")).unwrap_or_default());
    let needle = Memo::new(move |_| typed.with(|q| q.trim().to_lowercase()));
    provide_context(super::search::Search(needle));
    let navigate = leptos_router::hooks::use_navigate();
    let here = project_id.clone();
    let search = move |ev: leptos::ev::Event| {
        let q = event_target_value(&ev);
        let url = if q.is_empty() {
            format!("/projects/{here}")
        } else {
            format!("/projects/{here}?q={}", super::search::encode(&q))
        };
        navigate(&url, leptos_router::NavigateOptions { replace: true, scroll: false, ..Default::default() });
    };
    let title = RwSignal::new(String::new());
    // Why the last task typed here was not added (its text is back in the field).
    let refusal = RwSignal::new(None::<String>);
    // A task that may have reached the server before the connection failed: sent again,
    // the same text goes under the same id, so the server stores it once.
    let unsent = StoredValue::new(None::<(String, Priority, String)>);
    let priority = RwSignal::new(Priority::Medium);
    let extra = Extra(RwSignal::new(Default::default()));
    provide_context(extra);
    let (view_top, view_height) = (RwSignal::new(0.0f64), RwSignal::new(FIRST_SCREEN_PX));
    let pid = project_id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = title.get_untracked();
        if t.trim().is_empty() {
            return;
        }
        let (typed, prio) = (t.clone(), priority.get_untracked());
        let again = unsent.try_update_value(|u| u.take()).flatten().filter(|u| u.0 == t && u.1 == prio);
        let id = again.map(|u| u.2).unwrap_or_else(|| client_id("task"));
        let task = NewTask {
            id: Some(id.clone()),
            project_id: pid.clone(),
            title: t,
            priority: Some(prio),
            ..Default::default()
        };
        ctx.create_task(task, move |e| {
            if e.code == "unreachable" {
                unsent.try_set_value(Some((typed.clone(), prio, id)));
            }
            // The text goes back unless the person has typed another meanwhile.
            let kept = title.try_update(|v| {
                if v.trim().is_empty() {
                    *v = typed.clone();
                    true
                } else {
                    false
                }
            });
            let what =
                if kept == Some(true) { String::from("Not added") } else { format!("“{typed}” was not added") };
            let why = if e.code == "unreachable" {
                "the server cannot be reached (offline?). Press Add task again once it is back.".to_string()
            } else {
                error_text(e)
            };
            refusal.try_set(Some(format!("{what}: {why}")));
        });
        refusal.set(None);
        title.set(String::new());
    };
    let (scroller, measure) = super::scroll::scroll_view(view_top, view_height, ROW_PX);
    view! {
        <form class="new-task" on:submit=submit>
            <input id="new-task-title" aria-label="New task title" placeholder="New task… (n)" bind:value=title/>
            <select
                aria-label="New task priority"
                on:change=move |ev| {
                    priority.set(Priority::parse(&event_target_value(&ev)).unwrap_or_default())
                }
            >
                <option value="low">"low"</option>
                <option value="medium" selected>"medium"</option>
                <option value="high">"high"</option>
            </select>
            <button type="submit">"Add task"</button>
        </form>
        <Show when=move || refusal.with(Option::is_some)>
            <p role="alert" class="error" aria-label="New task not added">{move || refusal.get().unwrap_or_default()}</p>
        </Show>
        <div class="row filters">
            <label for="status-filter">"Show"</label>
            <select id="status-filter" on:change=move |ev| filter.set(TaskStatus::parse(&event_target_value(&ev)))>
                <option value="">"all"</option>
                {TaskStatus::ALL.map(|s| view! { <option value=s.as_str()>{s.as_str().replace('_', " ")}</option> })}
            </select>
            <input
                type="search"
                id="task-search"
                aria-label="Search tasks"
                placeholder="Search… (/)"
                prop:value=move || typed.get()
                on:input=search
            />
            <span class="toggle" role="group" aria-label="View">
                <button class="ghost" aria-pressed=move || (!ctx.board.get()).to_string() on:click=move |_| ctx.board.set(false)>
                    "List"
                </button>
                <button class="ghost" aria-pressed=move || ctx.board.get().to_string() on:click=move |_| ctx.board.set(true)>
                    "Board"
                </button>
            </span>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading tasks…"</p> }>
            {move || {
                let seed = match fetched.get() {
                    Some(Err(e)) if !ctx.cache.with_untracked(|c| c.is_loaded(&key)) => {
                        let e = error_text(&e);
                        return view! { <LoadError what="tasks" error=e retry=Callback::new(move |_| fetched.refetch())/> }
                            .into_any();
                    }
                    Some(Ok(first)) => first,
                    _ => TaskPage::default(),
                };
                // Its rows are tasks like any other: events keep them current meanwhile.
                #[cfg(feature = "hydrate")]
                ctx.cache.update_untracked(|c| c.load_task_entities(&seed.tasks, seed.seq));
                let seed = std::sync::Arc::new(seed);
                let loaded_key = key.clone();
                let (rows, spacers, count_of, found) =
                    list_window(ctx, project_id.clone(), (filter, needle), extra, (view_top, view_height), seed);
                let counts = move || {
                    let (n, per) = count_of.get();
                    format!("{n} tasks · {} pending · {} in progress · {} completed · {} blocked", per[0], per[1], per[2], per[3])
                };
                let pid = project_id.clone();
                let board = move || {
                    ctx.board.get().then(|| {
                        let pid = pid.clone();
                        on_demand!(super::board::board_view(pid, filter, found, count_of))
                    })
                };
                view! {
                    <p class="muted counts" aria-label="Task counts">{counts}</p>
                    {board}
                    <div class="task-scroll" class:hidden=move || ctx.board.get() node_ref=scroller on:scroll=move |_| measure()>
                        <div class="spacer-row" style:height=move || px(spacers.get().0)></div>
                        <ul class="tasks" aria-label="Tasks">
                            <For each=move || rows.get() key=|(id, _)| id.clone() let:row>
                                <TaskRow id=row.0 initial=row.1/>
                            </For>
                        </ul>
                        <div class="spacer-row" style:height=move || px(spacers.get().1)></div>
                    </div>
                    // `try_get`: these may be asked once the list has gone (see `attention::Marker`).
                    <Show when=move || {
                        !ctx.cache.with(|c| c.is_loaded(&loaded_key)) && count_of.try_get().is_some_and(|c| c.0 > FIRST_PAGE)
                    }>
                        <p class="muted" role="status">{move || format!("Loading the rest of the {} tasks…", count_of.get().0)}</p>
                    </Show>
                    <Show when=move || count_of.try_get().is_some_and(|c| c.0 == 0)>
                        <p class="empty">"No tasks yet. Add one above."</p>
                    </Show>
                    {move || {
                        found.get().map(|ids| {
                            let text = match ids.len() {
                                0 => format!("No task matches “{}”.", typed.get().trim()),
                                n => format!("{n} matching “{}”", typed.get().trim()),
                            };
                            view! { <p class="muted" role="status" aria-label="Search results">{text}</p> }
                        })
                    }}
                }
                    .into_any()
            }}
        </Transition>
    }
}

/// One task: status and priority at a glance; expands to details, subtasks and sessions.
#[component]
fn TaskRow(
    id: String,
    /// The task as the fetched list had it: shown until the cache holds it (server rendering).
    initial: Option<Task>,
) -> impl IntoView {
    let ctx = use_tab();
    let eid = id.clone();
    let expanded = Memo::new(move |_| ctx.expanded.with(|e| e.contains(&eid)));
    let tid = id.clone();
    let task = Memo::new(move |_| ctx.cache.task(&tid).or_else(|| initial.clone()));
    // Built once; only attributes and text follow the task. Re-rendering the row on every
    // event would throw away what the user is typing in its details.
    let title = move || task.with(|t| t.as_ref().map(|t| t.title.clone()).unwrap_or_default());
    let status = move || task.with(|t| t.as_ref().map(|t| t.status).unwrap_or_default());
    let field = move |f: fn(&Task) -> String| move || task.with(|t| t.as_ref().map(f).unwrap_or_default());
    let id2 = id.clone();
    let set_status = move |ev: leptos::ev::Event| {
        ctx.set_task_status(id2.clone(), TaskStatus::parse(&event_target_value(&ev)).unwrap_or_default())
    };
    let needs = super::attention::use_needs();
    let flagged = Signal::derive(move || task.with(|t| t.as_ref().is_some_and(|t| needs.task(t))));
    let draft_id = id.clone();
    // An expanded row tells the list how tall it is.
    let row = NodeRef::<leptos::html::Li>::new();
    let extra = use_context::<Extra>();
    let xid = id.clone();
    Effect::new(move |_| {
        let (Some(li), Some(Extra(extra))) = (row.get(), extra) else { return };
        if !expanded.get() {
            extra.update(|m| {
                m.remove(&xid);
            });
            return;
        }
        let id = xid.clone();
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
    let xid = id.clone();
    on_cleanup(move || {
        if let Some(Extra(extra)) = extra {
            extra.try_update(|m| m.remove(&xid));
        }
    });
    view! {
        <li
            node_ref=row
            class=field(|t| format!("task status-{} prio-{}", t.status.as_str(), t.priority.as_str()))
            aria-label=title
        >
            <div class="task-line">
                <button
                    class="ghost expander"
                    aria-expanded=move || expanded.get().to_string()
                    aria-label=move || format!("Details of {}", title())
                    on:click={
                        let id = id.clone();
                        move |_| {
                            ctx.expanded.update(|e| if !e.remove(&id) {
                                e.insert(id.clone());
                            });
                            if expanded.get_untracked() {
                                // Looking at a task is looking at it and its sessions' ends.
                                let sessions = task.with_untracked(|t| t.as_ref().map(|t| t.session_ids.clone()));
                                ctx.mark_seen(std::iter::once(id.clone()).chain(sessions.unwrap_or_default()));
                            }
                        }
                    }
                >
                    {move || if expanded.get() { "▾" } else { "▸" }}
                </button>
                <span class="title" title=title>
                    <super::search::Marked title=Signal::derive(title)/>
                </span>
                <super::attention::Marker when=flagged/>
                <Show when=move || ctx.drafts.with(|d| d.contains_key(&draft_id))>
                    <span class="badge draft" title="Edited in its details and not saved yet">"unsaved edits"</span>
                </Show>
                <span class="badge prio" title="priority">{field(|t| t.priority.as_str().to_string())}</span>
                <span
                    class="badge sessions"
                    title="sessions working on it"
                    aria-label=field(|t| format!("{} sessions", t.session_count))
                >
                    {field(|t| format!("⌁ {}", t.session_count))}
                </span>
                <select
                    aria-label=move || format!("Status of {}", title())
                    on:change=set_status
                    prop:value=move || status().as_str()
                    // Not yet stored (version 0): nothing to change on the server yet.
                    disabled=move || task.with(|t| t.as_ref().is_none_or(|t| t.version == 0))
                >
                    {TaskStatus::ALL
                        .map(|s| {
                            view! {
                                <option value=s.as_str() selected=move || s == status()>
                                    {s.as_str().replace('_', " ")}
                                </option>
                            }
                        })}
                </select>
            </div>
            <Show when=move || expanded.try_get().unwrap_or(false)>
                {
                    let id = id.clone();
                    on_demand!(details_view(id))
                }
            </Show>
        </li>
    }
}

/// Calls `f` whenever `el` changes size (browser only); returns what stops it.
#[cfg(feature = "hydrate")]
fn on_resize(el: &web_sys::Element, f: impl Fn() + 'static) -> Option<Box<dyn FnOnce()>> {
    use wasm_bindgen::JsCast;
    let callback = wasm_bindgen::closure::Closure::<dyn Fn()>::new(f);
    let observer = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()).ok()?;
    observer.observe(el);
    Some(Box::new(move || {
        observer.disconnect();
        drop(callback);
    }))
}

#[cfg(not(feature = "hydrate"))]
fn on_resize<E>(_el: &E, _f: impl Fn() + 'static) -> Option<Box<dyn FnOnce()>> {
    None
}

/// A task's details, built on demand (see `ui::on_demand`).
#[cfg_attr(
    maestro_split,
    leptos::wasm_split::wasm_split(task_details, wasm_split_path = ::leptos::wasm_split, fallible)
)]
fn details_view(id: String) -> Part {
    Ok(view! { <TaskDetails id/> }.into_any())
}

/// The expanded part of a task row.
#[component]
fn TaskDetails(id: String) -> impl IntoView {
    let ctx = use_tab();
    let tid = id.clone();
    let task = Memo::new(move |_| ctx.cache.task(&tid));
    let current = task.get_untracked();
    let saved = |t: &Task| (t.title.clone(), t.description.clone(), t.prompt.clone());
    // Unsaved edits from the last time these details were open come back.
    let draft = ctx.drafts.with_untracked(|d| d.get(&id).cloned());
    let (t0, d0, p0) = draft.or_else(|| current.as_ref().map(saved)).unwrap_or_default();
    let (title, description, prompt) = (RwSignal::new(t0), RwSignal::new(d0), RwSignal::new(p0));
    // Every edit is kept as a draft until saved (or undone by hand), so collapsing the row
    // (or scrolling it away) loses nothing.
    let id_draft = id.clone();
    Effect::new(move |_| {
        let now = (title.get(), description.get(), prompt.get());
        let stored = task.with_untracked(|t| t.as_ref().map(saved));
        ctx.drafts.update(|d| {
            if stored.as_ref() == Some(&now) {
                d.remove(&id_draft);
            } else {
                d.insert(id_draft.clone(), now);
            }
        });
    });
    let id_save = id.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (t, d, p) = (title.get_untracked(), description.get_untracked(), prompt.get_untracked());
        ctx.drafts.update(|d| {
            d.remove(&id_save);
        });
        let patch = TaskPatch {
            title: Some(t.clone()),
            description: Some(d.clone()),
            prompt: Some(p.clone()),
            ..Default::default()
        };
        let id = id_save.clone();
        ctx.mutate(
            id.clone(),
            move |x| {
                x.title = t.trim().to_string();
                x.description = d;
                x.prompt = p;
            },
            update_task(id, patch),
        );
    };
    let id_prio = id.clone();
    let set_priority = move |ev: leptos::ev::Event| {
        let p = Priority::parse(&event_target_value(&ev)).unwrap_or_default();
        let patch = TaskPatch { priority: Some(p), ..Default::default() };
        ctx.mutate(id_prio.clone(), move |t| t.priority = p, update_task(id_prio.clone(), patch));
    };
    let id_del = id.clone();
    let id_work = id.clone();
    let priority = move || task.get().map(|t| t.priority).unwrap_or_default();
    // What "Work on task" can run: a shell, or an agent the project offers.
    let project_id = current.as_ref().map(|t| t.project_id.clone()).unwrap_or_default();
    // Loaded in the browser when the task is expanded (the server never renders this), into
    // a signal: a LocalResource's machinery for this one type cost the wasm ~10 KB.
    let agents = RwSignal::new(Vec::<Agent>::new());
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        if let Ok(list) = list_agents(project_id).await {
            agents.try_set(list);
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = project_id;
    let agent_list = move || agents.get();
    view! {
        <div class="details">
            <form class="edit" on:submit=save>
                <label>"Title" <input aria-label="Title" bind:value=title/></label>
                <label>"Description" <textarea aria-label="Description" bind:value=description rows="2"></textarea></label>
                <label>"Prompt" <textarea aria-label="Prompt" bind:value=prompt rows="3"></textarea></label>
                <div class="row">
                    <label>
                        "Priority "
                        <select aria-label="Priority" on:change=set_priority prop:value=move || priority().as_str()>
                            {Priority::ALL
                                .map(|p| {
                                    view! { <option value=p.as_str() selected=move || priority() == p>{p.as_str()}</option> }
                                })}
                        </select>
                    </label>
                    <button type="submit">"Save"</button>
                    <Show when=move || !agent_list().is_empty()>
                        <select
                            aria-label="Run with"
                            on:change=move |ev| ctx.last_agent.set(event_target_value(&ev))
                            prop:value=move || ctx.last_agent.get()
                        >
                            <option value="">"Shell"</option>
                            {move || {
                                agent_list()
                                    .into_iter()
                                    .map(|a| {
                                        let selected = ctx.last_agent.get_untracked() == a.id;
                                        view! {
                                            <option value=a.id.clone() selected=selected>
                                                {a.id.clone()}
                                            </option>
                                        }
                                    })
                                    .collect_view()
                            }}
                        </select>
                    </Show>
                    <button
                        type="button"
                        class="primary"
                        on:click=move |_| {
                            if let Some(t) = ctx.cache.with_untracked(|c| c.task(&id_work).cloned()) {
                                // A choice no longer offered (the list changed) is a shell.
                                let chosen = ctx.last_agent.get_untracked();
                                let offered = agents.get_untracked();
                                let agent = offered.iter().any(|a| a.id == chosen).then_some(chosen);
                                ctx.work_on(&t, agent);
                            }
                        }
                    >
                        "Work on task"
                    </button>
                    <button type="button" class="danger" on:click=move |_| ctx.delete_task(id_del.clone())>
                        "Delete task"
                    </button>
                </div>
            </form>
            <Subtasks id=id.clone()/>
            <TaskSessions id=id/>
        </div>
    }
}

#[component]
fn Subtasks(id: String) -> impl IntoView {
    let ctx = use_tab();
    let tid = id.clone();
    let subtasks = Memo::new(move |_| ctx.cache.task(&tid).map(|t| t.subtasks).unwrap_or_default());
    let title = RwSignal::new(String::new());
    let id_add = id.clone();
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = title.get_untracked();
        if t.trim().is_empty() {
            return;
        }
        title.set(String::new());
        let tid = id_add.clone();
        let local = Subtask {
            id: client_id("sub-pending"),
            task_id: tid.clone(),
            title: t.trim().to_string(),
            status: SubtaskStatus::Pending,
            created_at: crate::model::now_millis(),
            completed_at: None,
        };
        ctx.mutate(tid.clone(), move |x| x.subtasks.push(local), add_subtask(tid, t));
    };
    view! {
        <section class="subtasks" aria-label="Subtasks">
            <h4>"Subtasks"</h4>
            <ul>
                <For each=move || subtasks.get() key=|s| (s.id.clone(), s.status) let:s>
                    {
                        let (tid, sid, done) = (id.clone(), s.id.clone(), s.status == SubtaskStatus::Completed);
                        let (tid2, sid2) = (tid.clone(), sid.clone());
                        view! {
                            <li class:done=done>
                                <label>
                                    <input
                                        type="checkbox"
                                        checked=done
                                        aria-label=format!("Done: {}", s.title)
                                        on:change=move |ev| {
                                            let status = if event_target_checked(&ev) { SubtaskStatus::Completed } else { SubtaskStatus::Pending };
                                            let patch = SubtaskPatch { status: Some(status), ..Default::default() };
                                            let sid3 = sid.clone();
                                            ctx.mutate(
                                                tid.clone(),
                                                move |t| t.subtasks.iter_mut().filter(|x| x.id == sid3).for_each(|x| x.status = status),
                                                update_subtask(tid.clone(), sid.clone(), patch),
                                            );
                                        }
                                    />
                                    {s.title.clone()}
                                </label>
                                <button
                                    class="ghost"
                                    aria-label=format!("Delete subtask {}", s.title)
                                    on:click=move |_| {
                                        let sid4 = sid2.clone();
                                        ctx.mutate(
                                            tid2.clone(),
                                            move |t| t.subtasks.retain(|x| x.id != sid4),
                                            delete_subtask(tid2.clone(), sid2.clone()),
                                        );
                                    }
                                >
                                    "×"
                                </button>
                            </li>
                        }
                    }
                </For>
            </ul>
            <form class="row" on:submit=add>
                <input aria-label="New subtask" placeholder="Add a subtask" bind:value=title/>
                <button type="submit">"Add subtask"</button>
            </form>
        </section>
    }
}

/// The sessions working on a task, loaded when the task is expanded.
#[component]
fn TaskSessions(id: String) -> impl IntoView {
    let ctx = use_tab();
    let key = ListKey::TaskSessions(id.clone());
    let tid = id.clone();
    let fetched = page_resource(move || tid.clone(), list_task_sessions);
    let tid = id.clone();
    let sessions = move || ctx.cache.with(|c| c.task_sessions(&tid)).unwrap_or_default();
    view! {
        <section class="task-sessions" aria-label="Sessions working on this task">
            <h4>"Sessions"</h4>
            <Transition fallback=|| view! { <p class="muted">"Loading sessions…"</p> }>
                {move || {
                    if let Some(e) = merge_list(ctx, key.clone(), fetched.get(), |c, k, v, at| c.load_sessions(k, v, at)) {
                        return view! { <LoadError what="sessions" error=e retry=Callback::new(move |_| fetched.refetch())/> }
                            .into_any();
                    }
                    let id = id.clone();
                    let sessions = sessions.clone();
                    let empty = sessions.clone();
                    view! {
                        <ul>
                            <For each=sessions key=|s| (s.id.clone(), s.version) let:s>
                                {
                                    let (sid, sid2, tid) = (s.id.clone(), s.id.clone(), id.clone());
                                    view! {
                                        <li class=format!("session status-{}", s.status.as_str())>
                                            <span>{s.name.clone()}</span>
                                            <span class="badge">{s.status.as_str()}</span>
                                            <button
                                                class="ghost"
                                                aria-label=format!("Jump to session {}", s.name)
                                                on:click=move |_| ctx.show_session(sid.clone())
                                            >
                                                "Jump"
                                            </button>
                                            <button
                                                class="ghost"
                                                aria-label=format!("Remove task from session {}", s.name)
                                                on:click=move |_| ctx.unlink(sid2.clone(), tid.clone())
                                            >
                                                "Remove"
                                            </button>
                                        </li>
                                    }
                                }
                            </For>
                        </ul>
                        <Show when=move || empty().is_empty()>
                            <p class="empty">"No session is working on this task."</p>
                        </Show>
                    }
                        .into_any()
                }}
            </Transition>
        </section>
    }
}
