//! The active project's task panel: "new task", the filters, the counts and the list.

use super::feed::{first_page, seed, FirstPage, FIRST_PAGE};
use super::row::TaskRow;
use super::window::{list_window, Counts, Extra, Viewport, ROW_PX};
use crate::api::functions::error_text;
use crate::live::cache::ListKey;
use crate::model::*;
use crate::ui::board::board_view;
use crate::ui::browser::{client_id, url_encode};
use crate::ui::lists::LoadError;
use crate::ui::on_demand::on_demand;
use crate::ui::px;
use crate::ui::scroll::scroll_view;
use crate::ui::search::Search;
use crate::ui::state::{use_tab, Tab};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

/// The active project's tasks: "new task", the filters, and the list.
#[component]
pub fn TaskPanel(project_id: String) -> impl IntoView {
    let ctx = use_tab();
    let fetched = first_page(ctx, project_id.clone());
    // The project's workspaces, for the totals on rows and cards (browser only: an effect).
    let pid = project_id.clone();
    Effect::new(move |_| ctx.reload(ListKey::ProjectWorkspaces(pid.clone())));
    let filter = RwSignal::new(None::<TaskStatus>);
    // The search lives in the URL (`?q=`): a reload or a shared link shows the same view.
    let query = use_query_map();
    let typed = Memo::new(move |_| query.with(|q| q.get("q")).unwrap_or_default());
    let needle = Memo::new(move |_| typed.with(|q| q.trim().to_lowercase()));
    provide_context(Search(needle));
    view! {
        {new_task_form(project_id.clone())}
        {filters(project_id.clone(), filter, typed)}
        {task_list(project_id, fetched, filter, needle, typed)}
    }
}

/// What the "new task" form holds between submissions.
#[derive(Clone, Copy)]
struct Entry {
    title: RwSignal<String>,
    /// Why the last task typed here was not added (its text is back in the field).
    refusal: RwSignal<Option<String>>,
    /// A task that may have reached the server before the connection failed: sent again,
    /// the same text goes under the same id, so the server stores it once.
    unsent: StoredValue<Option<(String, Priority, String)>>,
    priority: RwSignal<Priority>,
}

impl Entry {
    fn new() -> Entry {
        Entry {
            title: RwSignal::new(String::new()),
            refusal: RwSignal::new(None),
            unsent: StoredValue::new(None),
            priority: RwSignal::new(Priority::Medium),
        }
    }

    /// Adds the task typed (none if the title is blank), at once. A refusal puts the text
    /// back, unless the person has typed another meanwhile, and says why.
    fn submit(self, ctx: Tab, project_id: String) {
        let Entry { title, refusal, unsent, priority } = self;
        let t = title.get_untracked();
        if t.trim().is_empty() {
            return;
        }
        let (typed, prio) = (t.clone(), priority.get_untracked());
        let again = unsent.try_update_value(|u| u.take()).flatten().filter(|u| u.0 == t && u.1 == prio);
        let id = again.map(|u| u.2).unwrap_or_else(|| client_id("task"));
        let task = NewTask { id: Some(id.clone()), project_id, title: t, priority: Some(prio), ..Default::default() };
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
    }
}

/// "New task": a title and a priority; why the last one was not added, if it was not.
fn new_task_form(project_id: String) -> impl IntoView {
    let ctx = use_tab();
    let entry = Entry::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        entry.submit(ctx, project_id.clone());
    };
    view! {
        <form class="new-task" on:submit=submit>
            <input id="new-task-title" aria-label="New task title" placeholder="New task… (n)" bind:value=entry.title/>
            <select
                aria-label="New task priority"
                on:change=move |ev| {
                    entry.priority.set(Priority::parse(&event_target_value(&ev)).unwrap_or_default())
                }
            >
                <option value="low">"low"</option>
                <option value="medium" selected>"medium"</option>
                <option value="high">"high"</option>
            </select>
            <button type="submit">"Add task"</button>
        </form>
        <Show when=move || entry.refusal.with(Option::is_some)>
            <p role="alert" class="error" aria-label="New task not added">{move || entry.refusal.get().unwrap_or_default()}</p>
        </Show>
    }
}

/// The status filter, the search box (its text kept in the URL) and the list/board switch.
fn filters(project_id: String, filter: RwSignal<Option<TaskStatus>>, typed: Memo<String>) -> impl IntoView {
    let ctx = use_tab();
    let navigate = use_navigate();
    let search = move |ev: leptos::ev::Event| {
        let q = event_target_value(&ev);
        let here = &project_id;
        let url =
            if q.is_empty() { format!("/projects/{here}") } else { format!("/projects/{here}?q={}", url_encode(&q)) };
        navigate(&url, NavigateOptions { replace: true, scroll: false, ..Default::default() });
    };
    view! {
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
    }
}

/// The counts, then the board or the rows. The rows are a window: only those on screen
/// (and a few beyond) exist; spacers above and below keep the scroll height of the whole
/// list, so 10,000 tasks cost what 60 do.
fn task_list(
    project_id: String,
    fetched: FirstPage,
    filter: RwSignal<Option<TaskStatus>>,
    needle: Memo<String>,
    typed: Memo<String>,
) -> impl IntoView {
    let ctx = use_tab();
    let key = ListKey::ProjectTasks(project_id.clone());
    let pid = StoredValue::new(project_id);
    let extra = Extra(RwSignal::new(Default::default()));
    provide_context(extra);
    let viewport = Viewport::default();
    let (scroller, measure) = scroll_view(viewport.top, viewport.height, ROW_PX);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading tasks…"</p> }>
            {move || {
                let seed = match seed(ctx, &key, fetched.get()) {
                    Ok(first) => std::sync::Arc::new(first),
                    Err(e) => {
                        return view! { <LoadError what="tasks" error=e retry=Callback::new(move |_| fetched.refetch())/> }
                            .into_any();
                    }
                };
                let list = list_window(ctx, pid.get_value(), filter, needle, extra, viewport, seed);
                let counts = move || {
                    let (n, per) = list.counts.get();
                    let each = TaskStatus::ALL.map(|s| format!(" · {} {}", per.get(s.slot()).copied().unwrap_or(0), s.as_str().replace('_', " ")));
                    format!("{}{}", crate::model::units::count(n, "task"), each.concat())
                };
                let board = move || {
                    ctx.board.get().then(|| {
                        let pid = pid.get_value();
                        on_demand!(board_view(pid, filter, list.found, list.counts))
                    })
                };
                view! {
                    <p class="muted counts" aria-label="Task counts">{counts}</p>
                    // Beside the field it points to, not under an empty list.
                    <Show when=move || list.counts.try_get().is_some_and(|c| c.0 == 0)>
                        <p class="empty">"No tasks yet: type one in “New task” above and press Enter."</p>
                    </Show>
                    {board}
                    <div class="task-scroll" class:hidden=move || ctx.board.get() node_ref=scroller on:scroll=move |_| measure()>
                        <div class="spacer-row" style:height=move || px(list.spacers.get().0)></div>
                        <ul class="tasks" aria-label="Tasks">
                            <For each=move || list.rows.get() key=|(id, _)| id.clone() let:row>
                                <TaskRow id=row.0 initial=row.1/>
                            </For>
                        </ul>
                        <div class="spacer-row" style:height=move || px(list.spacers.get().1)></div>
                    </div>
                    {list_notes(key.clone(), list.counts, list.found, typed)}
                }
                    .into_any()
            }}
        </Transition>
    }
}

/// Under the list: that the rest of it is on its way, that there is none, or (while
/// searching) how many tasks match.
fn list_notes(key: ListKey, counts: Counts, found: Memo<Option<Vec<String>>>, typed: Memo<String>) -> impl IntoView {
    let ctx = use_tab();
    view! {
        // `try_get`: these may be asked once the list has gone (see `attention::Marker`).
        <Show when=move || {
            !ctx.cache.with(|c| c.is_loaded(&key)) && counts.try_get().is_some_and(|c| c.0 > FIRST_PAGE)
        }>
            <p class="muted" role="status">{move || format!("Loading the rest of the {} tasks…", counts.get().0)}</p>
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
}
