//! A task's subtasks: ticked, deleted and added in place.

use crate::api::functions::*;
use crate::model::*;
use crate::ui::browser::client_id;
use crate::ui::state::use_tab;
use leptos::prelude::*;

/// Task `id`'s subtasks, and a form to add one.
#[component]
pub fn Subtasks(id: StoredValue<String>) -> impl IntoView {
    let ctx = use_tab();
    let subtasks = Memo::new(move |_| {
        {
            let id = &id.get_value();
            ctx.cache.task(id)
        }
        .map(|t| t.subtasks)
        .unwrap_or_default()
    });
    let title = RwSignal::new(String::new());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = title.get_untracked();
        if t.trim().is_empty() {
            return;
        }
        title.set(String::new());
        let tid = id.get_value();
        let local = Subtask {
            id: client_id("sub-pending"),
            task_id: tid.clone(),
            title: t.trim().to_string(),
            status: SubtaskStatus::Pending,
            created_at: crate::model::now_millis(),
            completed_at: None,
        };
        // Shown once however often it is applied: not again over a copy that has it.
        let before = ctx.cache.with_untracked(|c| c.task(&tid).map_or(0, |x| titled(x, &local.title)));
        ctx.mutate(
            tid.clone(),
            move |x| {
                if titled(x, &local.title) == before {
                    x.subtasks.push(local.clone())
                }
            },
            add_subtask(tid, t),
        );
    };
    view! {
        <section class="subtasks" aria-label="Subtasks">
            <h4>"Subtasks"</h4>
            <ul>
                <For each=move || subtasks.get() key=|s| (s.id.clone(), s.status) let:s>
                    {subtask_item(id, s)}
                </For>
            </ul>
            <form class="row" on:submit=add>
                <input aria-label="New subtask" placeholder="Add a subtask" bind:value=title/>
                <button type="submit">"Add subtask"</button>
            </form>
        </section>
    }
}

/// How many of the task's subtasks have this title.
fn titled(task: &Task, title: &str) -> usize {
    task.subtasks.iter().filter(|s| s.title == title).count()
}

/// One subtask of task `task`: its box to tick, and a button to delete it.
fn subtask_item(task: StoredValue<String>, subtask: Subtask) -> impl IntoView {
    let ctx = use_tab();
    let done = subtask.status == SubtaskStatus::Completed;
    let sid = StoredValue::new(subtask.id);
    let tick = move |ev: leptos::ev::Event| {
        let status = if event_target_checked(&ev) { SubtaskStatus::Completed } else { SubtaskStatus::Pending };
        let patch = SubtaskPatch { status: Some(status), ..Default::default() };
        let (tid, sid) = (task.get_value(), sid.get_value());
        let mine = sid.clone();
        ctx.mutate(
            tid.clone(),
            move |t| t.subtasks.iter_mut().filter(|x| x.id == mine).for_each(|x| x.status = status),
            update_subtask(tid, sid, patch),
        );
    };
    let delete = move |_| {
        let (tid, sid) = (task.get_value(), sid.get_value());
        let mine = sid.clone();
        ctx.mutate(tid.clone(), move |t| t.subtasks.retain(|x| x.id != mine), delete_subtask(tid, sid));
    };
    view! {
        <li class:done=done>
            <label>
                <input type="checkbox" checked=done aria-label=format!("Done: {}", subtask.title) on:change=tick/>
                {subtask.title.clone()}
            </label>
            <button class="ghost" aria-label=format!("Delete subtask {}", subtask.title) on:click=delete>
                "×"
            </button>
        </li>
    }
}
