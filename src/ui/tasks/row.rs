//! One task's row: status and priority at a glance, expanding to its details.

use super::details::details_view;
use super::window::{Extra, ROW_PX};
use crate::model::*;
use crate::ui::browser::on_resize;
use crate::ui::on_demand::on_demand;
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
    let needs = crate::ui::attention::use_needs();
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
                    <crate::ui::search::Marked title=Signal::derive(title)/>
                </span>
                <crate::ui::attention::Marker when=flagged/>
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
