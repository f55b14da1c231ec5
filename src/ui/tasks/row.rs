//! One task's row: status and priority at a glance, expanding to its details.

use super::details::details_view;
use super::window::report_height;
use crate::model::units::count;
use crate::model::*;
use crate::ui::agent_state::TaskAgentState;
use crate::ui::attention::{use_needs, Marker};
use crate::ui::changes::totals::{badge, task_totals, task_whose};
use crate::ui::on_demand::on_demand;
use crate::ui::search::Marked;
use crate::ui::state::use_tab;
use leptos::prelude::*;

/// One task: status and priority at a glance; expands to details, subtasks and sessions.
#[component]
pub fn TaskRow(
    id: String,
    /// The task as the fetched list had it: shown until the cache holds it (server rendering).
    initial: Option<Task>,
) -> impl IntoView {
    let ctx = use_tab();
    let id = StoredValue::new(id);
    let expanded = Memo::new(move |_| {
        ctx.expanded.with(|e| {
            let id = &id.get_value();
            e.contains(id)
        })
    });
    let task = Memo::new(move |_| {
        {
            let id = &id.get_value();
            ctx.cache.task(id)
        }
        .or_else(|| initial.clone())
    });
    // Built once; only attributes and text follow the task. Re-rendering the row on every
    // event would throw away what the user is typing in its details.
    let title = move || task.with(|t| t.as_ref().map(|t| t.title.clone()).unwrap_or_default());
    let status = move || task.with(|t| t.as_ref().map(|t| t.status).unwrap_or_default());
    let field = move |f: fn(&Task) -> String| move || task.with(|t| t.as_ref().map(f).unwrap_or_default());
    let set_status = move |ev: leptos::ev::Event| {
        ctx.set_task_status(id.get_value(), TaskStatus::parse(&event_target_value(&ev)).unwrap_or_default())
    };
    let toggle = move |_| {
        let id = id.get_value();
        ctx.expanded.update(|e| {
            if !e.remove(&id) {
                e.insert(id.clone());
            }
        });
        if expanded.get_untracked() {
            // Looking at a task is looking at it and its sessions' ends.
            let sessions = task.with_untracked(|t| t.as_ref().map(|t| t.session_ids.clone()));
            ctx.mark_seen(std::iter::once(id).chain(sessions.unwrap_or_default()));
        }
    };
    let totals = task_totals(id);
    let needs = use_needs();
    let flagged = Signal::derive(move || task.with(|t| t.as_ref().is_some_and(|t| needs.task(t))));
    let row = NodeRef::<leptos::html::Li>::new();
    report_height(row, id, expanded);
    view! {
        <li
            node_ref=row
            data-task-id=id.get_value()
            class=field(|t| format!("task status-{} prio-{}", t.status.as_str(), t.priority.as_str()))
            aria-label=title
        >
            <div class="task-line">
                <button
                    class="ghost expander"
                    aria-expanded=move || expanded.get().to_string()
                    aria-label=move || format!("Details of {}", title())
                    on:click=toggle
                >
                    {move || if expanded.get() { "▾" } else { "▸" }}
                </button>
                <span class="title" title=title>
                    <Marked title=Signal::derive(title)/>
                </span>
                <Marker when=flagged/>
                <TaskAgentState task/>
                <Show when=move || ctx.drafts.with(|d| { let id = &id.get_value(); d.contains_key(id) })>
                    <span class="badge draft" title="Edited in its details and not saved yet">"unsaved edits"</span>
                </Show>
                <span class="badge prio" title="priority">{field(|t| t.priority.as_str().to_string())}</span>
                <span
                    class="badge sessions"
                    title=field(|t| sessions_title(t.session_count))
                    aria-label=field(|t| count(t.session_count, "session"))
                >
                    {field(|t| format!("⌁ {}", t.session_count))}
                </span>
                {badge(move || totals.get().map(|t| t.0), move || task_whose(totals.get().map_or(0, |t| t.1)))}
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
                    let id = id.get_value();
                    on_demand!(details_view(id))
                }
            </Show>
        </li>
    }
}

/// What the "⌁ n" badge of a row or a card means, on hover.
pub fn sessions_title(n: usize) -> String {
    format!("⌁ {}: the sessions (terminals and agents) that have worked on this task", count(n, "session"))
}
