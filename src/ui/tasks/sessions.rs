//! The sessions working on a task, in its details.

use crate::api::functions::*;
use crate::sync::cache::ListKey;
use crate::ui::lists::{merge_list, page_resource, LoadError};
use crate::ui::state::use_tab;
use leptos::prelude::*;

/// The sessions working on a task, loaded when the task is expanded.
#[component]
pub fn TaskSessions(id: String) -> impl IntoView {
    let ctx = use_tab();
    let key = ListKey::TaskSessions(id.clone());
    let tid = id.clone();
    let fetched = page_resource(move || tid.clone(), list_task_sessions);
    let tid = id.clone();
    let sessions = move || ctx.cache.with(|c| c.task_sessions(&tid)).unwrap_or_default();
    view! {
        <section class="task-sessions" aria-label="Sessions working on this task">
            <h4>"Sessions"</h4>
            <Transition fallback=|| view! { <p class="muted">"Loading sessions…"</p> }>
                {move || {
                    if let Some(e) = merge_list(ctx, key.clone(), fetched.get(), |c, k, v, at| c.load_sessions(k, v, at)) {
                        return view! { <LoadError what="sessions" error=e retry=Callback::new(move |_| fetched.refetch())/> }
                            .into_any();
                    }
                    let id = id.clone();
                    let sessions = sessions.clone();
                    let empty = sessions.clone();
                    view! {
                        <ul>
                            <For each=sessions key=|s| (s.id.clone(), s.version) let:s>
                                {
                                    let (sid, sid2, tid) = (s.id.clone(), s.id.clone(), id.clone());
                                    view! {
                                        <li class=format!("session status-{}", s.status.as_str())>
                                            <span>{s.name.clone()}</span>
                                            <span class="badge">{s.status.as_str()}</span>
                                            <button
                                                class="ghost"
                                                aria-label=format!("Jump to session {}", s.name)
                                                on:click=move |_| ctx.show_session(sid.clone())
                                            >
                                                "Jump"
                                            </button>
                                            <button
                                                class="ghost"
                                                aria-label=format!("Remove task from session {}", s.name)
                                                on:click=move |_| ctx.unlink(sid2.clone(), tid.clone())
                                            >
                                                "Remove"
                                            </button>
                                        </li>
                                    }
                                }
                            </For>
                        </ul>
                        <Show when=move || empty().is_empty()>
                            <p class="empty">"No session is working on this task."</p>
                        </Show>
                    }
                        .into_any()
                }}
            </Transition>
        </section>
    }
}
