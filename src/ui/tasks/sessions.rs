//! The sessions working on a task, in its details.

use crate::api::functions::*;
use crate::live::cache::ListKey;
use crate::ui::lists::{merge_list, page_resource, LoadError};
use crate::ui::state::use_tab;
use leptos::prelude::*;

/// The sessions working on task `id`, loaded when the task is expanded.
#[component]
pub fn TaskSessions(id: StoredValue<String>) -> impl IntoView {
    let ctx = use_tab();
    let key = ListKey::TaskSessions(id.get_value());
    let fetched = page_resource(move || id.get_value(), list_task_sessions);
    let sessions = move || {
        ctx.cache
            .with(|c| {
                let id = &id.get_value();
                c.task_sessions(id)
            })
            .unwrap_or_default()
    };
    view! {
        <section class="task-sessions" aria-label="Sessions working on this task">
            <h4>"Sessions"</h4>
            <Transition fallback=|| view! { <p class="muted">"Loading sessions…"</p> }>
                {move || {
                    if let Some(e) = merge_list(ctx, key.clone(), fetched.get(), |c, k, v, at| c.load_sessions(k, v, at)) {
                        return view! { <LoadError what="sessions" error=e retry=Callback::new(move |_| fetched.refetch())/> }
                            .into_any();
                    }
                    view! {
                        <ul>
                            <For each=sessions key=|s| (s.id.clone(), s.version) let:s>
                                {
                                    let sid = StoredValue::new(s.id.clone());
                                    view! {
                                        <li class=format!("session status-{}", s.status.as_str())>
                                            <span>{s.name.clone()}</span>
                                            <span class="badge">{s.status.as_str()}</span>
                                            <button
                                                class="ghost"
                                                aria-label=format!("Jump to session {}", s.name)
                                                on:click=move |_| ctx.show_session(sid.get_value())
                                            >
                                                "Jump"
                                            </button>
                                            <button
                                                class="ghost"
                                                aria-label=format!("Remove task from session {}", s.name)
                                                on:click=move |_| ctx.unlink(sid.get_value(), id.get_value())
                                            >
                                                "Remove"
                                            </button>
                                        </li>
                                    }
                                }
                            </For>
                        </ul>
                        <Show when=move || sessions().is_empty()>
                            <p class="empty">"No session is working on this task."</p>
                        </Show>
                    }
                        .into_any()
                }}
            </Transition>
        </section>
    }
}
