//! The Sessions pane (left): the sessions open in this browser, each expandable to the
//! tasks it works on.

use super::lists::{merge_list, page_resource, LoadError};
use super::on_demand::{on_demand, Part};
use super::state::{is_plain_terminal, use_tab};
use crate::api::functions::*;
use crate::live::cache::ListKey;
use crate::model::*;
use leptos::prelude::*;

/// Most tasks the "add a task" menu lists (the newest that match what is typed).
const CANDIDATES: usize = 50;

#[component]
pub fn SessionsPane(
    /// The project shown: a new terminal starts in its directory.
    active: Memo<Option<String>>,
) -> impl IntoView {
    let ctx = use_tab();
    Effect::new(move |_| {
        if ctx.restored.get() {
            ctx.load_open_sessions();
        }
    });
    view! {
        <nav class="pane sessions" aria-label="Sessions">
            <div class="row">
                <h2>"Sessions"</h2>
                <span class="spacer"></span>
                <button class="ghost" on:click=move |_| ctx.open_terminal(active.get_untracked())>"New terminal"</button>
            </div>
            <ul>
                <For each=move || ctx.open_sessions.get() key=|id| id.clone() let:id>
                    <SessionRow id=id/>
                </For>
            </ul>
            <Show when=move || ctx.restored.get() && ctx.open_sessions.with(|o| o.is_empty())>
                <p class="empty">"No open sessions. Use “Work on task” on a task to start one."</p>
            </Show>
        </nav>
    }
}

#[component]
fn SessionRow(id: String) -> impl IntoView {
    let ctx = use_tab();
    let expanded = RwSignal::new(false);
    let plain = is_plain_terminal(&id);
    let id = StoredValue::new(id);
    let session = Memo::new(move |_| {
        ctx.cache.with(|c| {
            let id = &id.get_value();
            c.session(id).cloned()
        })
    });
    let active = move || {
        ctx.active_session.with(|a| {
            let id = &id.get_value();
            a.as_ref() == Some(id)
        })
    };
    let name = move || {
        session.get().map(|s| s.name).unwrap_or_else(|| if plain { "Terminal".into() } else { "Opening…".into() })
    };
    let count = move || session.get().map(|s| s.task_ids.len()).unwrap_or(0);
    let status = move || session.get().map(|s| s.status.as_str()).unwrap_or("running");
    // The branch of the workspace it runs in, without the `maestro/` every one has.
    let branch = move || {
        let wid = session.get()?.workspace_id?;
        let b = ctx.cache.with(|c| c.workspace(&wid).map(|w| w.branch.clone()))?;
        Some(b.strip_prefix("maestro/").map(str::to_string).unwrap_or(b))
    };
    // What its agent is doing, while it runs (SPEC §9); what it asks on hover.
    let said = Signal::derive(move || session.with(|s| s.as_ref().and_then(super::agent_state::session_said)));
    // Closing a running session ends its agent: asked first (SPEC §9); an ended one goes.
    let asking = RwSignal::new(false);
    let running = move || !plain && session.with(|s| s.as_ref().is_some_and(|s| s.status == SessionStatus::Running));
    let close = move |_| match running() {
        true => asking.set(true),
        false => ctx.close_entry(id.get_value()),
    };
    let needs = super::attention::use_needs();
    let flagged = Signal::derive(move || {
        needs.ids.with(|ids| {
            let id = &id.get_value();
            ids.contains(id)
        })
    });
    view! {
        <li class="session" class:active=active aria-current=move || active().then_some("true")>
            <div class="session-line">
                <button
                    class="ghost expander"
                    class:hidden=plain
                    aria-expanded=move || expanded.get().to_string()
                    aria-label=move || format!("Tasks of session {}", name())
                    on:click=move |_| expanded.update(|e| *e = !*e)
                >
                    {move || if expanded.get() { "▾" } else { "▸" }}
                </button>
                // A narrow pane cuts the name; the whole of it stays a hover away.
                <button class="linkish" title=name on:click=move |_| ctx.show_session(id.get_value())>
                    <span class="marker" title="linked to Maestro" aria-hidden="true" class:hidden=plain>"◆"</span>
                    {name}
                </button>
                <super::attention::Marker when=flagged/>
                <Show when=move || !plain>
                    <span class=move || format!("badge status-{}", status())>{status}</span>
                    <super::agent_state::StateBadge said/>
                    <span class="badge" aria-label=move || format!("{} tasks", count())>
                        {move || format!("{} tasks", count())}
                    </span>
                    {move || branch().map(|b| view! {
                        <span class="badge branch" title="The workspace's branch" aria-label=format!("branch {b}")>{b.clone()}</span>
                    })}
                    {super::changes::totals::badge(
                        move || ctx.cache.with(|c| { let id = &id.get_value(); c.session_workspace(id).map(|w| w.changes) }),
                        || "its workspace".to_string(),
                    )}
                </Show>
                <button
                    class="ghost"
                    aria-label=move || format!("Close session {}", name())
                    on:click=close
                >
                    "×"
                </button>
            </div>
            <Show when=move || asking.get() && running()>
                <p class="error question" role="alert">
                    {move || format!("{} is still running: closing it ends its agent. ", name())}
                    <button
                        type="button"
                        class="danger"
                        on:click=move |_| {
                            asking.set(false);
                            ctx.close_entry(id.get_value());
                        }
                    >
                        "Close it, ending the agent"
                    </button>
                    " "
                    <button type="button" class="ghost" on:click=move |_| asking.set(false)>"Keep it"</button>
                </p>
            </Show>
            <Show when=move || expanded.get()>
                {
                    let id = id.get_value();
                    on_demand!(session_tasks_view(id))
                }
            </Show>
        </li>
    }
}

/// The tasks of an expanded session, built on demand (see `ui::on_demand`).
#[cfg_attr(
    maestro_split,
    leptos::wasm_split::wasm_split(session_tasks, wasm_split_path = ::leptos::wasm_split, fallible)
)]
fn session_tasks_view(id: String) -> Part {
    Ok(view! { <SessionTasks id/> }.into_any())
}

/// The tasks a session works on, loaded when the session is expanded; plus adding one.
#[component]
fn SessionTasks(id: String) -> impl IntoView {
    let ctx = use_tab();
    let key = ListKey::SessionTasks(id.clone());
    let id = StoredValue::new(id);
    let fetched = page_resource(move || id.get_value(), list_session_tasks);
    // Which tasks: the session's links (woken by session changes); each one's contents:
    // woken by that task alone.
    let tasks = move || {
        let ids = ctx
            .cache
            .with(|c| {
                let id = &id.get_value();
                c.session_task_ids(id)
            })
            .unwrap_or_default();
        ids.iter().filter_map(|id| ctx.cache.task(id)).collect::<Vec<_>>()
    };
    // Tasks of the session's project not yet linked, to add one: the newest that match
    // what is typed, never more than a menu can show (a project may have 10,000).
    let find = RwSignal::new(String::new());
    let candidates = move || {
        ctx.cache.track_lists();
        let q = find.get().to_lowercase();
        ctx.cache.with(|c| {
            let s = {
                let id = &id.get_value();
                c.session(id)
            }?;
            let free = c.project_tasks_iter(&s.project_id).filter(|t| !s.task_ids.contains(&t.id));
            let v: Vec<Task> = free
                .filter(|t| q.is_empty() || t.title.to_lowercase().contains(&q))
                .take(CANDIDATES)
                .cloned()
                .collect();
            Some(v)
        })
    };
    let choice = RwSignal::new(String::new());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let tid = choice.get_untracked();
        if tid.is_empty() {
            return;
        }
        let (sid, local_tid) = (id.get_value(), tid.clone());
        ctx.mutate(sid.clone(), move |s| s.task_ids.push(local_tid), link_task(sid, tid));
    };
    view! {
        <div class="session-tasks">
            <Transition fallback=|| view! { <p class="muted">"Loading tasks…"</p> }>
                {move || {
                    if let Some(e) = merge_list(ctx, key.clone(), fetched.get(), |c, k, v, at| c.load_tasks(k, v, at)) {
                        return view! { <LoadError what="tasks" error=e retry=Callback::new(move |_| fetched.refetch())/> }
                            .into_any();
                    }
                    view! {
                        <ul aria-label="Tasks of this session">
                            <For each=tasks key=|t| (t.id.clone(), t.version) let:t>
                                <li class=format!("status-{}", t.status.as_str())>
                                    {t.title.clone()}
                                    <span class="badge">{t.status.as_str().replace('_', " ")}</span>
                                </li>
                            </For>
                        </ul>
                        <Show when=move || tasks().is_empty()>
                            <p class="empty">"No tasks linked."</p>
                        </Show>
                    }
                        .into_any()
                }}
            </Transition>
            {move || {
                candidates()
                    .filter(|c| !c.is_empty() || !find.with(String::is_empty))
                    .map(|list| {
                        view! {
                            <form class="row" on:submit=add>
                                <input
                                    type="search"
                                    aria-label="Find a task to add"
                                    placeholder="Find a task…"
                                    prop:value=move || find.get()
                                    on:input=move |ev| {
                                        choice.set(String::new());
                                        find.set(event_target_value(&ev));
                                    }
                                />
                                <select aria-label="Task to add" on:change=move |ev| choice.set(event_target_value(&ev))>
                                    <option value="">"Add a task…"</option>
                                    {list
                                        .into_iter()
                                        .map(|t| view! { <option value=t.id.clone()>{t.title.clone()}</option> })
                                        .collect_view()}
                                </select>
                                <button type="submit">"Add to session"</button>
                            </form>
                        }
                    })
            }}
        </div>
    }
}
