//! The active project's task panel: "new task", the filters, the counts and the list.

use super::row::TaskRow;
use super::window::{list_window, Extra, FIRST_SCREEN_PX, ROW_PX};
use crate::api::functions::*;
use crate::model::*;
use crate::sync::cache::ListKey;
use crate::ui::browser::{client_id, url_encode, write_cache};
use crate::ui::lists::{page_resource, LoadError};
use crate::ui::on_demand::on_demand;
use crate::ui::px;
use crate::ui::state::use_tab;
use leptos::prelude::*;

/// Tasks the page carries (the first screen, and some to scroll into before the rest).
const FIRST_PAGE: usize = 100;

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
    provide_context(crate::ui::search::Search(needle));
    let navigate = leptos_router::hooks::use_navigate();
    let here = project_id.clone();
    let search = move |ev: leptos::ev::Event| {
        let q = event_target_value(&ev);
        let url =
            if q.is_empty() { format!("/projects/{here}") } else { format!("/projects/{here}?q={}", url_encode(&q)) };
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
    let (scroller, measure) = crate::ui::scroll::scroll_view(view_top, view_height, ROW_PX);
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
                write_cache(ctx.cache, |c| c.load_task_entities(&seed.tasks, seed.seq));
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
                        on_demand!(crate::ui::board::board_view(pid, filter, found, count_of))
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
