//! The Sessions pane (left): the active project's sessions as the server has them (every
//! running one, and the newest ended until "Clear finished" takes them and every older one
//! off, in this browser, with Undo), plus the plain terminals and sessions opened here; other projects'
//! one click away. Agents waiting for an answer first and the ended last, each a compact
//! row (its name; under it the state, agent and tasks) expandable to the tasks it works on.

use super::lists::{merge_list, page_resource, LoadError};
use super::on_demand::{on_demand, Part};
use super::state::{is_plain_terminal, use_tab};
use crate::api::functions::*;
use crate::live::cache::ListKey;
use crate::model::*;
use leptos::prelude::*;
use std::cmp::Reverse;

/// Most tasks the "add a task" menu lists (the newest that match what is typed).
const CANDIDATES: usize = 50;

/// Where an entry goes in the pane: agents waiting for an answer, then the rest that run,
/// then the ended; each group newest first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Waiting,
    Running,
    Ended,
}

fn group(s: &Session) -> Group {
    match s {
        s if s.status != SessionStatus::Running => Group::Ended,
        s if s.state == Some(SessionState::NeedsInput) => Group::Waiting,
        _ => Group::Running,
    }
}

/// When an entry started (ended, for the ended): the pane shows the newest first.
fn newest(s: &Session) -> Millis {
    match group(s) {
        Group::Ended => s.ended_key().0,
        _ => s.started_at,
    }
}

#[component]
pub fn SessionsPane(
    /// The project shown: its sessions are listed (a new terminal starts in its directory).
    active: Memo<Option<String>>,
) -> impl IntoView {
    let ctx = use_tab();
    Effect::new(move |_| {
        if ctx.restored.get() {
            ctx.load_open_sessions();
        }
    });
    // The project's list from the server, fetched each time it is shown, and when its pane
    // is cleared (here, or in another tab of the browser); events keep it.
    let pane_cleared_to = Memo::new(move |_| active.get().and_then(|p| ctx.cleared_to.with(|m| m.get(&p).cloned())));
    Effect::new(move |_| {
        // Read, not only tracked: a memo never read has nothing to follow.
        let _ = pane_cleared_to.get();
        if let (true, Some(p)) = (ctx.restored.get(), active.get()) {
            ctx.reload(ListKey::PaneSessions(p));
        }
    });
    // Every project's sessions, not only the active one's (one click away).
    let every = RwSignal::new(false);
    // The entries: (group, whether of another project, id), in the pane's order. None
    // before this browser's state is read (the server renders none).
    let entries = Memo::new(move |_| {
        if !ctx.restored.get() {
            return Vec::new();
        }
        let open = ctx.open_sessions.get();
        let cleared = ctx.cleared.get();
        let cleared_to = ctx.cleared_to.get();
        // Ended up to where its project's pane was cleared (unless opened again).
        let cleared_by_time = |s: &Session| {
            group(s) == Group::Ended
                && cleared_to.get(&s.project_id).is_some_and(|(at, id)| s.ended_key() <= (*at, id.as_str()))
        };
        let here = active.get();
        let elsewhere = |p: Option<&String>| p.is_some_and(|p| Some(p) != here.as_ref());
        let mut v: Vec<(Group, bool, (Millis, usize), String)> = ctx.cache.with(|c| {
            let opened = |id: &String| open.iter().position(|o| o == id);
            let listed = c.pane_sessions().filter(|s| opened(&s.id).is_none() && !cleared_by_time(s));
            let mut v: Vec<_> =
                listed.map(|s| (group(s), elsewhere(Some(&s.project_id)), (newest(s), 0), s.id.clone())).collect();
            v.extend(open.iter().enumerate().map(|(i, id)| match c.session(id) {
                Some(s) => (group(s), elsewhere(Some(&s.project_id)), (newest(s), i), id.clone()),
                // A plain terminal, or a session on its way: the newest.
                None => {
                    let project = ctx.terminal_projects.with_value(|m| m.get(id).cloned());
                    (Group::Running, elsewhere(project.as_ref()), (Millis::MAX, i), id.clone())
                }
            }));
            v
        });
        v.retain(|(g, _, _, id)| *g != Group::Ended || !cleared.contains(id));
        // Ties (ended in the same millisecond) in the server's order: by id.
        v.sort_by(|a, b| (a.0, Reverse((a.2, &a.3))).cmp(&(b.0, Reverse((b.2, &b.3)))));
        v.into_iter().map(|(g, elsewhere, _, id)| (g, elsewhere, id)).collect::<Vec<_>>()
    });
    let shown = Memo::new(move |_| {
        let all = every.get();
        entries.with(|v| v.iter().filter(|e| all || !e.1).map(|e| e.2.clone()).collect::<Vec<_>>())
    });
    Effect::new(move |_| ctx.session_order.set_value(shown.get()));
    let elsewhere = Memo::new(move |_| entries.with(|v| v.iter().filter(|e| e.1).count()));
    let finished = Memo::new(move |_| {
        let all = every.get();
        entries.with(|v| {
            v.iter().filter(|e| e.0 == Group::Ended && (all || !e.1)).map(|e| e.2.clone()).collect::<Vec<_>>()
        })
    });
    // Whether the project's list came (until then, no "nothing here").
    let loaded = move || active.get().is_none_or(|p| ctx.cache.with(|c| c.is_loaded(&ListKey::PaneSessions(p))));
    // Ended sessions leave the pane in this browser (they stay on the server, and in their
    // tasks' details); Undo puts them back. The project's pane is cleared to the newest of
    // them: older ended ones not yet shown are cleared too ("Older sessions" offers none).
    let clear = move |_| {
        let gone = finished.get_untracked();
        let before = ctx.open_sessions.get_untracked();
        let project = active.get_untracked();
        let was_to = project.as_ref().and_then(|p| ctx.cleared_to.with_untracked(|m| m.get(p).cloned()));
        let newest = ctx.cache.with_untracked(|c| {
            let here = gone.iter().filter_map(|id| c.session(id)).filter(|s| Some(&s.project_id) == project.as_ref());
            here.map(|s| s.ended_key()).max().map(|(at, id)| (at, id.to_string()))
        });
        ctx.set_cleared(&gone, true);
        ctx.open_sessions.update(|o| o.retain(|id| !gone.contains(id)));
        let moved = project.clone().zip(newest.filter(|n| was_to.as_ref().is_none_or(|w| n > w)));
        if let Some((p, to)) = &moved {
            ctx.set_cleared_to(p, Some(to.clone()));
        }
        let what = crate::model::units::count(gone.len(), "finished session");
        let undo = move || {
            ctx.set_cleared(&gone, false);
            // Only if still where this clear put it (a later clear stays).
            if let Some((p, to)) = &moved {
                if ctx.cleared_to.with_untracked(|m| m.get(p) == Some(to)) {
                    ctx.set_cleared_to(p, was_to);
                }
            }
            ctx.open_sessions.update(|o| {
                let added: Vec<String> = o.iter().filter(|id| !before.contains(id)).cloned().collect();
                *o = before;
                o.extend(added);
            })
        };
        ctx.with_undo(format!("{what} cleared"), || {}, undo);
    };
    // A project with more ended sessions than the pane was sent: the next ones, on asking
    // (up to the most the server sends).
    let asked = move |p: &String| ctx.ended_shown.with_value(|m| m.get(p).copied()).unwrap_or(ENDED_SHOWN);
    let older = move || active.get().is_some_and(|p| ctx.cache.with(|c| c.more_ended(&p)) && asked(&p) < ENDED_MAX);
    let show_older = move |_| {
        let Some(p) = active.get_untracked() else { return };
        let more = (asked(&p) + ENDED_SHOWN).min(ENDED_MAX);
        ctx.ended_shown.update_value(|m| {
            m.insert(p.clone(), more);
        });
        ctx.reload(ListKey::PaneSessions(p));
    };
    view! {
        <nav class="pane sessions" aria-label="Sessions">
            <div class="row">
                <h2>"Sessions"</h2>
                <span class="spacer"></span>
                <button class="ghost" on:click=move |_| ctx.open_terminal(active.get_untracked())>"New terminal"</button>
            </div>
            <ul class="session-list">
                <For each=move || shown.get() key=|id| id.clone() let:id>
                    <SessionRow id=id/>
                </For>
            </ul>
            <Show when=move || ctx.restored.get() && shown.with(Vec::is_empty) && loaded() && !older()>
                <p class="empty">"No sessions here. Use “Work on task” on a task to start one."</p>
            </Show>
            <div class="row session-tools">
                <Show when=older>
                    <button class="ghost" on:click=show_older
                        title=format!("Show the next {ENDED_SHOWN} sessions that ended before these")>
                        "Older sessions"
                    </button>
                </Show>
                <Show when=move || finished.with(|f| !f.is_empty())>
                    <button class="ghost" on:click=clear
                        title="Take the ended sessions off this list in this browser (they stay on the server and in their tasks' details)">
                        "Clear finished"
                    </button>
                </Show>
                <Show when=move || { elsewhere.get() > 0 }>
                    <button class="ghost" aria-pressed=move || every.get().to_string()
                        on:click=move |_| every.update(|e| *e = !*e)>
                        {move || if every.get() {
                            "Only this project".to_string()
                        } else {
                            format!("Other projects ({})", elsewhere.get())
                        }}
                    </button>
                </Show>
            </div>
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
    let count = move || crate::model::units::count(session.get().map(|s| s.task_ids.len()).unwrap_or(0), "task");
    let status = move || session.get().map(|s| s.status.as_str()).unwrap_or("running");
    let agent = move || session.get().map(|s| s.agent_id.unwrap_or_else(|| "shell".into()));
    // The branch of the workspace it runs in, without the `maestro/` every one has.
    let branch = move || {
        let wid = session.get()?.workspace_id?;
        let b = ctx.cache.with(|c| c.workspace(&wid).map(|w| w.branch.clone()))?;
        Some(b.strip_prefix("maestro/").map(str::to_string).unwrap_or(b))
    };
    // What its agent is doing, while it runs (SPEC §9); what it asks on hover.
    let said = Signal::derive(move || session.with(|s| s.as_ref().and_then(super::agent_state::session_said)));
    // Closing a running session ends its agent, a plain terminal its shell and whatever runs
    // in it: asked first (SPEC §9); an ended session goes.
    let asking = RwSignal::new(false);
    let running = move || plain || session.with(|s| s.as_ref().is_some_and(|s| s.status == SessionStatus::Running));
    let ends = if plain { "its shell and whatever runs in it" } else { "its agent" };
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
        <li class="session" class:active=active aria-current=move || active().then_some("true") aria-label=name>
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
                <button
                    class="ghost close"
                    aria-label=move || format!("Close session {}", name())
                    title=move || match (plain, running()) {
                        (true, _) => "Close this terminal, ending its shell",
                        (false, true) => "End and close this session (asks first)",
                        // SPEC §5: closing deletes it; "Clear finished" only takes it off the list.
                        (false, false) => "Delete this session, its task links and its kept output (Undo for a few seconds; “Clear finished” only hides ended ones)",
                    }
                    on:click=close
                >
                    "×"
                </button>
            </div>
            <Show when=move || asking.get() && running()>
                <p class="error question" role="alert">
                    {move || format!("{} is still running: closing it ends {ends}. ", name())}
                    <button
                        type="button"
                        class="danger"
                        on:click=move |_| {
                            asking.set(false);
                            ctx.close_entry(id.get_value());
                        }
                    >
                        {if plain { "Close it, ending the shell" } else { "Close it, ending the agent" }}
                    </button>
                    " "
                    <button type="button" class="ghost" on:click=move |_| asking.set(false)>"Keep it"</button>
                </p>
            </Show>
            <Show when=move || !plain>
                <div class="session-meta">
                    <super::agent_state::StateBadge said/>
                    <Show when=move || said.with(Option::is_none)>
                        <span class=move || format!("badge status-{}", status())>{status}</span>
                    </Show>
                    {move || agent().map(|a| view! { <span class="agent" title="The agent it runs" aria-label=format!("agent {a}")>{a.clone()}</span> })}
                    <span aria-label=count>{count}</span>
                    {move || branch().map(|b| view! {
                        <span class="branch" title="The workspace's branch" aria-label=format!("branch {b}")>{b.clone()}</span>
                    })}
                    {super::changes::totals::badge(
                        move || ctx.cache.with(|c| { let id = &id.get_value(); c.session_workspace(id).map(|w| w.changes) }),
                        || "its workspace".to_string(),
                    )}
                </div>
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
        let link = move |s: &mut Session| {
            if !s.task_ids.contains(&local_tid) {
                s.task_ids.push(local_tid.clone())
            }
        };
        ctx.mutate(sid.clone(), link, link_task(sid, tid));
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
