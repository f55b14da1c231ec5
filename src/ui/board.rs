//! The board: the active project's tasks in one column per status (every status in
//! `TaskStatus::ALL`), in a view of its own that the terminal gives up its room to. A
//! card opens its task (`tasks::TaskDrawer`) with a click or Enter. A card moves to
//! another column by drag and drop, or from the keyboard (focus it, then ← / →), with the
//! same optimistic update and rollback as every other change. Each column is a window over
//! its list (only the cards on screen exist), so 10,000 tasks cost what a screenful does.

use super::browser::{carry, dragged, went_elsewhere};
use super::changes::totals::{badge, task_totals, task_whose};
use super::on_demand::Part;
use super::px;
use super::state::use_tab;
use super::tasks::{sessions_title, Counts, TaskDrawer};
use crate::model::units::count;
use crate::model::*;
use leptos::prelude::*;

/// Height of a card with its margin (`style/main.css` fixes it): the windows count in it.
const CARD_PX: f64 = 66.0;
/// Cards rendered beyond each edge of what is visible.
const OVERSCAN: usize = 6;
/// The visible height assumed before the browser has measured a column.
const FIRST_SCREEN_PX: f64 = 16.0 * CARD_PX;

/// The card being dragged and the column it left: that column holds still until the
/// drop, so no event can pull the card from under the pointer.
type Dragging = RwSignal<Option<(String, TaskStatus)>>;

/// The card a keyboard move took to another column: it takes the focus back once it is
/// rendered there.
type Refocus = RwSignal<Option<(String, TaskStatus)>>;

/// Each column's scroll position, in [`TaskStatus::ALL`]'s order.
type Tops = [RwSignal<f64>; TaskStatus::ALL.len()];

/// The task whose card was opened (its details beside the columns).
type Opened = RwSignal<Option<String>>;

/// The board, built on demand (see `ui::on_demand`): the server renders the list.
#[cfg_attr(
    maestro_split,
    leptos::wasm_split::wasm_split(board, wasm_split_path = ::leptos::wasm_split, fallible)
)]
pub fn board_view(
    project_id: String,
    filter: RwSignal<Option<TaskStatus>>,
    found: Memo<Option<Vec<String>>>,
    counts: Counts,
) -> Part {
    Ok(view! { <Board project_id filter found counts/> }.into_any())
}

/// The board of a project: the columns the status filter lets through, each with its
/// count; while searching, the matching cards only.
#[component]
fn Board(
    project_id: String,
    filter: RwSignal<Option<TaskStatus>>,
    /// The matching task ids in list order while searching, `None` otherwise.
    found: Memo<Option<Vec<String>>>,
    /// All tasks and per status, exact.
    counts: Counts,
) -> impl IntoView {
    let ctx = use_tab();
    let dragging: Dragging = RwSignal::new(None);
    // Each column's scroll position, so a keyboard move can bring the card into view.
    let tops: Tops = TaskStatus::ALL.map(|_| RwSignal::new(0.0f64));
    let refocus: Refocus = RwSignal::new(None);
    let opened: Opened = RwSignal::new(None);
    // Closing the task gives the focus back to its card.
    let closed = Callback::new(move |()| {
        if let Some(id) = opened.get_untracked() {
            let status = ctx.cache.with_untracked(|c| c.task(&id).map(|t| t.status));
            if let Some(status) = status {
                refocus.set(Some((id, status)));
            }
            opened.set(None);
        }
    });
    let drawer = move || opened.get().map(|id| view! { <TaskDrawer id closed/> });
    view! {
        {drawer}
        <div class="board" role="group" aria-label="Board" class:with-drawer=move || opened.with(Option::is_some)>
            {TaskStatus::ALL
                .map(|status| {
                    let pid = project_id.clone();
                    view! {
                        <Show when=move || filter.try_get().flatten().is_none_or(|f| f == status)>
                            <Column
                                project_id=pid.clone()
                                status=status
                                found=found
                                counts=counts
                                dragging=dragging
                                tops=tops
                                refocus=refocus
                                opened=opened
                            />
                        </Show>
                    }
                })}
        </div>
    }
}

/// One status's column: header with its count, then a window of its cards.
#[component]
fn Column(
    project_id: String,
    status: TaskStatus,
    found: Memo<Option<Vec<String>>>,
    counts: Counts,
    dragging: Dragging,
    tops: Tops,
    refocus: Refocus,
    opened: Opened,
) -> impl IntoView {
    let ctx = use_tab();
    let top = tops.get(status.slot()).copied().unwrap_or_else(|| RwSignal::new(0.0));
    let height = RwSignal::new(FIRST_SCREEN_PX);
    // While searching: this column's matches, in list order.
    let matching = Memo::new(move |_| {
        // The panel's, which may go first: `try_get` (see `attention::Marker`).
        let ids = found.try_get().flatten()?;
        Some(ctx.cache.with_untracked(|c| {
            ids.into_iter().filter(|id| c.task(id).is_some_and(|t| t.status == status)).collect::<Vec<_>>()
        }))
    });
    let len = Memo::new(move |_| {
        let all = || counts.try_get().and_then(|c| c.1.get(status.slot()).copied()).unwrap_or(0);
        matching.with(|m| m.as_ref().map(Vec::len)).unwrap_or_else(all)
    });
    let window = Memo::new(move |_| {
        let n = len.get();
        let first = ((top.get() / CARD_PX) as usize).saturating_sub(OVERSCAN).min(n);
        let end = ((((top.get() + height.get()) / CARD_PX).ceil() as usize) + OVERSCAN).min(n);
        (first, end.max(first))
    });
    // The cards to render; held as they were while one of them is dragged.
    let pid = project_id.clone();
    let cards = Memo::new(move |held: Option<&Vec<String>>| {
        if let (Some(held), true) = (held, dragging.with(|d| d.as_ref().is_some_and(|d| d.1 == status))) {
            return held.clone();
        }
        let (first, end) = window.get();
        if let Some(ids) = matching.get() {
            return ids.iter().skip(first).take(end.saturating_sub(first)).cloned().collect();
        }
        ctx.cache.track_lists();
        ctx.cache.with_untracked(|c| c.project_window(&pid, Some(status), first, end.saturating_sub(first)))
    });
    let spacers = Memo::new(move |_| {
        let (first, _) = window.get();
        let shown = cards.with(Vec::len);
        (first as f64 * CARD_PX, len.get().saturating_sub(first + shown) as f64 * CARD_PX)
    });
    let over = RwSignal::new(false);
    let (scroller, measure) = super::scroll::scroll_view(top, height, CARD_PX);
    // A keyboard move sets `top` from outside: the column scrolls there.
    Effect::new(move |_| {
        let want = top.get();
        if let Some(el) = scroller.get_untracked() {
            if (el.scroll_top() as f64 - want).abs() >= 1.0 {
                el.set_scroll_top(want as i32);
            }
        }
    });
    let name = status.as_str().replace('_', " ");
    let label = name.clone();
    view! {
        <section
            class=move || format!("column status-{}{}", status.as_str(), if over.get() { " over" } else { "" })
            aria-label=format!("{name} column")
            on:dragover=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                over.set(true);
            }
            on:dragleave=move |_| over.set(false)
            on:drop=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                over.set(false);
                let id = dragged(&ev).unwrap_or_default();
                let from = dragging.get_untracked().map(|d| d.1);
                // Moved first, then the column it left lets go of it.
                if !id.is_empty() && ctx.cache.with_untracked(|c| c.task(&id).is_some_and(|t| t.status != status)) {
                    ctx.set_task_status(id, status);
                }
                if from.is_some() {
                    dragging.set(None);
                }
            }
        >
            <h3>
                {label}
                <span class="badge count" aria-label=move || count(len.get(), "task")>{move || len.get()}</span>
            </h3>
            <div class="column-scroll" node_ref=scroller on:scroll=move |_| measure()>
                <div class="spacer-row" style:height=move || px(spacers.get().0)></div>
                <ul class="cards">
                    <For each=move || cards.get() key=|id| id.clone() let:id>
                        <Card id=id column=status dragging=dragging tops=tops refocus=refocus opened=opened project_id=project_id.clone()/>
                    </For>
                </ul>
                <div class="spacer-row" style:height=move || px(spacers.get().1)></div>
            </div>
        </section>
    }
}

/// One task on the board: title (the search's match marked), priority, sessions, and the
/// attention marker. A click or Enter opens it; draggable; ← / → move it to the
/// neighbouring column.
#[component]
fn Card(
    id: String,
    /// The column it is rendered in.
    column: TaskStatus,
    dragging: Dragging,
    tops: Tops,
    refocus: Refocus,
    opened: Opened,
    project_id: String,
) -> impl IntoView {
    let ctx = use_tab();
    let needs = super::attention::use_needs();
    let id = StoredValue::new(id);
    let task = Memo::new(move |_| {
        let id = &id.get_value();
        ctx.cache.task(id)
    });
    let title = Signal::derive(move || task.with(|t| t.as_ref().map(|t| t.title.clone()).unwrap_or_default()));
    let field = move |f: fn(&Task) -> String| move || task.with(|t| t.as_ref().map(f).unwrap_or_default());
    let flagged = Signal::derive(move || task.with(|t| t.as_ref().is_some_and(|t| needs.task(t))));
    let totals = task_totals(id);
    let keys = move |ev: leptos::ev::KeyboardEvent| {
        let Some(now) = task.with_untracked(|t| t.as_ref().map(|t| t.status)) else { return };
        let i = now.slot();
        let to = match ev.key().as_str() {
            "ArrowRight" => TaskStatus::ALL.get(i + 1),
            "ArrowLeft" => i.checked_sub(1).and_then(|i| TaskStatus::ALL.get(i)),
            "Enter" | "o" => {
                ev.prevent_default();
                return opened.set(Some(id.get_value()));
            }
            _ => return,
        };
        let Some(&to) = to else { return };
        ev.prevent_default();
        let id = id.get_value();
        ctx.set_task_status(id.clone(), to);
        // Follow the card: scroll its new column to it and give it the focus back.
        let at = ctx.cache.with_untracked(|c| c.position(&project_id, Some(to), &id));
        if let (Some(at), Some(top)) = (at, tops.get(to.slot())) {
            top.set((at as f64 * CARD_PX - 2.0 * CARD_PX).max(0.0));
        }
        refocus.set(Some((id, to)));
    };
    let node = NodeRef::<leptos::html::Li>::new();
    Effect::new(move |_| {
        let mine = refocus.with(|r| {
            r.as_ref().is_some_and(|(r, to)| { let id = &id.get_value(); r == id } && *to == column)
        });
        // Made before it is in the document: focused once it is. The wish stays while
        // the focus does.
        if let (true, Some(el)) = (mine, node.get()) {
            request_animation_frame(move || drop(el.focus()));
        }
    });
    view! {
        <li
            node_ref=node
            data-task-id=id.get_value()
            class=field(|t| format!("card status-{} prio-{}", t.status.as_str(), t.priority.as_str()))
            aria-label=move || title.get()
            aria-roledescription="card"
            aria-keyshortcuts="Enter ArrowLeft ArrowRight"
            aria-haspopup="dialog"
            title="Open: click or Enter · move: drag, or ← / →"
            tabindex="0"
            draggable="true"
            on:click=move |_| opened.set(Some(id.get_value()))
            on:dragstart=move |ev: leptos::ev::DragEvent| {
                { let id = &id.get_value(); carry(&ev, id) };
                if let Some(s) = task.with_untracked(|t| t.as_ref().map(|t| t.status)) {
                    dragging.set(Some((id.get_value(), s)));
                }
            }
            on:dragend=move |_| dragging.set(None)
            on:keydown=keys
            on:focusout=move |ev: leptos::ev::FocusEvent| {
                if went_elsewhere(&ev) {
                    refocus.set(None);
                }
            }
        >
            <span class="title" title=move || title.get()>
                <super::search::Marked title=title/>
            </span>
            <span class="meta">
                <span class="badge prio" title="priority">{field(|t| t.priority.as_str().to_string())}</span>
                <span class="badge sessions" title=field(|t| sessions_title(t.session_count))
                    aria-label=field(|t| count(t.session_count, "session"))>
                    {field(|t| format!("⌁ {}", t.session_count))}
                </span>
                {badge(move || totals.get().map(|t| t.0), move || task_whose(totals.get().map_or(0, |t| t.1)))}
                <super::agent_state::TaskAgentState task/>
                <super::attention::Marker when=flagged/>
            </span>
        </li>
    }
}
