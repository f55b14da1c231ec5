//! A task's details: its text and priority to edit, "Work on task", "Delete task", its
//! subtasks and the sessions working on it. Built on demand, when the row expands.

use super::sessions::TaskSessions;
use super::subtasks::Subtasks;
use crate::api::functions::*;
use crate::model::*;
use crate::ui::browser::spawn;
use crate::ui::on_demand::Part;
use crate::ui::state::use_tab;
use leptos::prelude::*;

/// A task's details, built on demand (see `ui::on_demand`).
#[cfg_attr(
    maestro_split,
    leptos::wasm_split::wasm_split(task_details, wasm_split_path = ::leptos::wasm_split, fallible)
)]
pub fn details_view(id: String) -> Part {
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
    spawn(async move {
        if let Ok(list) = list_agents(project_id).await {
            agents.try_set(list);
        }
    });
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
