//! A task's subtasks: ticked, deleted and added in place.

use crate::api::functions::*;
use crate::model::*;
use crate::ui::browser::client_id;
use crate::ui::state::use_tab;
use leptos::prelude::*;

#[component]
pub fn Subtasks(id: String) -> impl IntoView {
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
