//! A task's details: its text and priority to edit, "Work on task", "Delete task", its
//! subtasks, the sessions working on it and its workspaces. Built on demand, when the row expands.

use super::sessions::TaskSessions;
use super::subtasks::Subtasks;
use super::workspaces::TaskWorkspaces;
use crate::api::functions::*;
use crate::model::*;
use crate::ui::browser::spawn;
use crate::ui::on_demand::Part;
use crate::ui::state::{use_tab, Draft, Tab};
use leptos::prelude::*;

/// A task's details, built on demand (see `ui::on_demand`).
#[cfg_attr(
    maestro_split,
    leptos::wasm_split::wasm_split(task_details, wasm_split_path = ::leptos::wasm_split, fallible)
)]
pub fn details_view(id: String) -> Part {
    Ok(view! { <TaskDetails id/> }.into_any())
}

/// A task's title, description and prompt as the person edits them.
#[derive(Clone, Copy)]
struct Edits {
    title: RwSignal<String>,
    description: RwSignal<String>,
    prompt: RwSignal<String>,
    /// The task's text as last seen here: a field still equal to it was not changed by the
    /// person (it follows the task; Save leaves it alone).
    base: StoredValue<Draft>,
}

/// The text of a task as saved.
fn saved(t: &Task) -> Draft {
    (t.title.clone(), t.description.clone(), t.prompt.clone())
}

impl Edits {
    /// Task `id`'s text: the unsaved edits from the last time its details were open, else
    /// the task's own. Every edit is kept as a draft until saved (or undone by hand), so
    /// collapsing the row (or scrolling it away) loses nothing. A field the person has not
    /// changed follows the task as an agent, a script or another tab changes it.
    fn new(ctx: Tab, id: StoredValue<String>, task: Memo<Option<Task>>) -> Edits {
        let draft = ctx.drafts.with_untracked(|d| {
            let id = &id.get_value();
            d.get(id).cloned()
        });
        // A draft comes with the text it was typed over: what changed since then in the
        // fields the person left alone follows (the effect below, on its first run).
        let stored = task.with_untracked(|t| t.as_ref().map(saved)).unwrap_or_default();
        let ((t0, d0, p0), base) = draft.unwrap_or_else(|| (stored.clone(), stored));
        let edits = Edits {
            title: RwSignal::new(t0),
            description: RwSignal::new(d0),
            prompt: RwSignal::new(p0),
            base: StoredValue::new(base),
        };
        Effect::new(move |_| {
            let Some(now) = task.with(|t| t.as_ref().map(saved)) else { return };
            let was = edits.base.get_value();
            if now == was {
                return;
            }
            for (field, was, now) in
                [(edits.title, &was.0, &now.0), (edits.description, &was.1, &now.1), (edits.prompt, &was.2, &now.2)]
            {
                if field.with_untracked(|f| f == was) {
                    field.set(now.clone());
                }
            }
            edits.base.set_value(now);
        });
        Effect::new(move |_| {
            let now = (edits.title.get(), edits.description.get(), edits.prompt.get());
            let stored = task.with_untracked(|t| t.as_ref().map(saved));
            ctx.drafts.update(|d| {
                if stored.as_ref() == Some(&now) {
                    {
                        let id = &id.get_value();
                        d.remove(id)
                    };
                } else {
                    d.insert(id.get_value(), (now, edits.base.get_value()));
                }
            });
        });
        edits
    }

    /// Saves the fields the person changed to task `id` (its draft goes): at once here, then
    /// on the server. The others are not sent, so a change made meanwhile elsewhere stays.
    fn save(self, ctx: Tab, id: String) {
        // The title is kept trimmed, as the server keeps it (else it would never again
        // equal the task's and would stop following it).
        self.title.update(|t| {
            let trimmed = t.trim();
            if trimmed.len() != t.len() {
                *t = trimmed.to_string();
            }
        });
        let (t, d, p) = (self.title.get_untracked(), self.description.get_untracked(), self.prompt.get_untracked());
        let base = self.base.get_value();
        ctx.drafts.update(|d| {
            d.remove(&id);
        });
        let changed = |now: &String, was: &String| (now != was).then(|| now.clone());
        let patch = TaskPatch {
            title: changed(&t, &base.0),
            description: changed(&d, &base.1),
            prompt: changed(&p, &base.2),
            ..Default::default()
        };
        if patch.title.is_none() && patch.description.is_none() && patch.prompt.is_none() {
            return;
        }
        let sent = patch.clone();
        let (who, sent_text) = (id.clone(), (t, d, p));
        let call = async move {
            let answer = update_task(who.clone(), patch).await;
            if answer.is_err() {
                // Refused: the text goes back to what it was, what the person typed (to now,
                // if the details are still open) stays as a draft over it.
                let now = (
                    self.title.try_get_untracked(),
                    self.description.try_get_untracked(),
                    self.prompt.try_get_untracked(),
                );
                let typed = match now {
                    (Some(t), Some(d), Some(p)) => (t, d, p),
                    _ => sent_text,
                };
                self.base.try_update_value(|b| *b = base.clone());
                ctx.drafts.try_update(|d| d.insert(who, (typed, base)));
            }
            answer
        };
        ctx.mutate(
            id,
            move |x| {
                if let Some(t) = &sent.title {
                    x.title = t.trim().to_string();
                }
                if let Some(d) = &sent.description {
                    x.description.clone_from(d);
                }
                if let Some(p) = &sent.prompt {
                    x.prompt.clone_from(p);
                }
            },
            call,
        );
    }
}

/// The expanded part of a task row.
#[component]
fn TaskDetails(id: String) -> impl IntoView {
    let ctx = use_tab();
    let id = StoredValue::new(id);
    let task = Memo::new(move |_| {
        let id = &id.get_value();
        ctx.cache.task(id)
    });
    let edits = Edits::new(ctx, id, task);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        edits.save(ctx, id.get_value());
    };
    let set_priority = move |ev: leptos::ev::Event| {
        let p = Priority::parse(&event_target_value(&ev)).unwrap_or_default();
        let patch = TaskPatch { priority: Some(p), ..Default::default() };
        let id = id.get_value();
        ctx.mutate(id.clone(), move |t| t.priority = p, update_task(id, patch));
    };
    let priority = move || task.get().map(|t| t.priority).unwrap_or_default();
    let project_id = task.with_untracked(|t| t.as_ref().map(|t| t.project_id.clone())).unwrap_or_default();
    view! {
        <div class="details">
            <form class="edit" on:submit=save>
                <label>"Title" <input aria-label="Title" bind:value=edits.title/></label>
                <label>"Description" <textarea aria-label="Description" bind:value=edits.description rows="2"></textarea></label>
                <label>"Prompt" <textarea aria-label="Prompt" bind:value=edits.prompt rows="3"></textarea></label>
                // The text's own row (priority saves as it is chosen), then the work's, each
                // with room; Delete apart at the end of the first.
                <div class="row edit-actions">
                    <button type="submit">"Save"</button>
                    <label class="inline">
                        "Priority"
                        <select aria-label="Priority" on:change=set_priority prop:value=move || priority().as_str()>
                            {Priority::ALL
                                .map(|p| {
                                    view! { <option value=p.as_str() selected=move || priority() == p>{p.as_str()}</option> }
                                })}
                        </select>
                    </label>
                    <span class="spacer"></span>
                    <button type="button" class="danger" on:click=move |_| ctx.delete_task(id.get_value())>
                        "Delete task"
                    </button>
                </div>
                <div class="row work">{work_on_task(id, project_id)}</div>
            </form>
            <Subtasks id/>
            <TaskSessions id/>
            <TaskWorkspaces id/>
        </div>
    }
}

/// "Work on task", and what it runs: a shell, or an agent the project offers (the menu
/// shows once there is one); in the task's workspace, or a new one when asked (SPEC §8).
fn work_on_task(id: StoredValue<String>, project_id: String) -> impl IntoView {
    let ctx = use_tab();
    // Loaded in the browser when the task is expanded (the server never renders this), into
    // a signal: a LocalResource's machinery for this one type would cost the wasm more (docs/PERF.md).
    let agents = RwSignal::new(Vec::<Agent>::new());
    spawn(async move {
        if let Ok(list) = list_agents(project_id).await {
            agents.try_set(list);
        }
    });
    let agent_list = move || agents.get();
    let fresh = RwSignal::new(false);
    let work = move |_| {
        if let Some(t) = ctx.cache.with_untracked(|c| {
            let id = &id.get_value();
            c.task(id).cloned()
        }) {
            // A choice no longer offered (the list changed) is a shell.
            let chosen = ctx.last_agent.get_untracked();
            let offered = agents.get_untracked();
            let agent = offered.iter().any(|a| a.id == chosen).then_some(chosen);
            // "new": a second attempt beside the task's workspace; else the task's own.
            let workspace = fresh.get_untracked().then(|| WORKSPACE_NEW.to_string());
            fresh.set(false);
            ctx.work_on(&t, agent, workspace);
        }
    };
    view! {
        <button type="button" class="primary" on:click=work>
            "Work on task"
        </button>
        <Show when=move || !agent_list().is_empty()>
            <label class="inline">
            "with"
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
            </label>
        </Show>
        <label class="check" title="A new branch and worktree beside the task's own: another attempt">
            <input type="checkbox" bind:checked=fresh/>
            " in a new workspace"
        </label>
    }
}
