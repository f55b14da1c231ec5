//! Telling the person when an agent needs them: a session that ended (completed or
//! failed) or a task that is blocked is *flagged* until the person looks at it. Flags come
//! from the server's state (so a tab opened later sees them too); what was looked at is
//! kept per browser (`Tab::seen`, localStorage), so every tab of it agrees. One tab of the
//! browser (the holder of a Web Lock) raises a notification per flag an event raises.

use super::browser::notify;
use super::on_demand::{on_demand, Part};
use super::state::{use_tab, Tab};
use crate::live::cache::Kind;
use crate::model::*;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use std::collections::HashSet;

/// One thing that needs the person.
#[derive(Clone, Debug, PartialEq)]
pub struct Need {
    pub id: String,
    pub kind: Kind,
    pub project_id: String,
    /// The session's name or the task's title.
    pub name: String,
    /// "failed", "completed", "needs_input" or "blocked".
    pub why: &'static str,
    /// What a session's agent asks (SPEC §9).
    pub message: Option<String>,
}

/// What needs the person now, shared by every component through context.
#[derive(Clone, Copy)]
pub struct Needs {
    /// Flagged and not seen, newest first.
    pub items: Memo<Vec<Need>>,
    /// Their ids: what a row or a card asks.
    pub ids: Memo<HashSet<String>>,
}

impl Needs {
    pub fn new(ctx: Tab) -> Needs {
        let items = Memo::new(move |_: Option<&Vec<Need>>| {
            let seen = ctx.seen.get();
            ctx.cache.with(|c| {
                let mut v: Vec<(i64, Need)> = c
                    .flagged()
                    .filter(|(id, _)| !seen.contains(*id))
                    .filter_map(|(id, f)| {
                        let (name, why, at, message) = match f.kind {
                            // Running, yet flagged: its agent waits for an answer.
                            Kind::Session => match c.session(id)? {
                                s if s.status == SessionStatus::Running => {
                                    let at = s.state_at.unwrap_or(s.last_activity);
                                    (s.name.clone(), "needs_input", at, s.state_message.clone())
                                }
                                s => {
                                    (s.name.clone(), s.status.as_str(), s.completed_at.unwrap_or(s.last_activity), None)
                                }
                            },
                            _ => {
                                let t = c.task(id)?;
                                (t.title.clone(), "blocked", t.updated_at, None)
                            }
                        };
                        let (kind, project_id) = (f.kind, f.project_id.clone());
                        let need = Need { id: id.clone(), kind, project_id, name, why, message };
                        Some((at, need))
                    })
                    .collect();
                v.sort_by_key(|n| std::cmp::Reverse(n.0));
                v.into_iter().map(|(_, n)| n).collect()
            })
        });
        let ids =
            Memo::new(move |_| items.with(|v: &Vec<Need>| v.iter().map(|n| n.id.clone()).collect::<HashSet<_>>()));
        Needs { items, ids }
    }

    /// Whether a task shows the marker: it is blocked, or a session working on it ended,
    /// and the person has not looked yet.
    pub fn task(self, t: &Task) -> bool {
        self.ids.with(|ids| ids.contains(&t.id) || t.session_ids.iter().any(|s| ids.contains(s)))
    }

    /// How many need the person in a project.
    pub fn count(self, project_id: &str) -> usize {
        self.items.with(|v| v.iter().filter(|n| n.project_id == project_id).count())
    }
}

pub fn use_needs() -> Needs {
    expect_context::<Needs>()
}

/// The marker a row, a card or a session shows while it needs the person.
#[component]
///
/// `when` is its row's, which may be disposed before this is: read with `try_get` (a
/// `<Show>` reads it with `get`, and a Transition re-running it after the row went, as
/// opening another project's session from the ⚑ list did, was a panic that stopped the app).
pub fn Marker(#[prop(into)] when: Signal<bool>) -> impl IntoView {
    move || {
        when.try_get().unwrap_or(false).then(|| {
            view! { <span class="needs" role="img" aria-label="needs attention" title="Needs your attention">"●"</span> }
        })
    }
}

/// The top bar's count for the active project, the list of everything that needs the
/// person (every project), the notification switch, and the notifier itself.
#[component]
pub fn AttentionBar(active: Memo<Option<String>>) -> impl IntoView {
    let ctx = use_tab();
    let needs = use_needs();
    let navigate = use_navigate();
    let open = RwSignal::new(false);
    let here = move || active.get().map(|p| needs.count(&p)).unwrap_or(0);
    let elsewhere = move || needs.items.with(Vec::len) - here();
    // Opens what needs the person: a session (made active) or a task (expanded, and
    // the session working on it shown), in its project.
    let show: Callback<Need> = Callback::new(move |n: Need| {
        navigate(&format!("/projects/{}", n.project_id), Default::default());
        match n.kind {
            Kind::Session => ctx.show_session(n.id),
            _ => {
                let sessions = ctx.cache.with_untracked(|c| c.task(&n.id).map(|t| t.session_ids.clone()));
                ctx.expanded.update(|e| {
                    e.insert(n.id.clone());
                });
                ctx.mark_seen([n.id]);
                if let Some(s) = sessions.and_then(|s| s.first().cloned()) {
                    ctx.open_session(s);
                }
            }
        }
    });
    let permission = RwSignal::new(String::from("unsupported"));
    notifier(ctx, needs, show, permission);
    // The tab's name counts the agents waiting for an answer, and all that needs the person.
    Effect::new(move |_| {
        let (asking, all) = needs.items.with(|v| (v.iter().filter(|n| n.why == "needs_input").count(), v.len()));
        super::browser::set_title(&match (asking, all) {
            (0, 0) => "Maestro".to_string(),
            (0, n) => format!("({n}) Maestro"),
            (a, n) => format!("({n}) {a} waiting · Maestro"),
        });
    });
    view! {
        <button
            class=move || { if here() > 0 { "attention hot" } else { "attention" } }
            aria-label=move || format!("{} need attention here, {} elsewhere", here(), elsewhere())
            aria-expanded=move || open.get().to_string()
            title="What needs your attention"
            on:click=move |_| open.update(|o| *o = !*o)
        >
            {move || format!("⚑ {}", here())}
            <Show when=move || { elsewhere() > 0 }>
                <span class="muted">{move || format!(" +{}", elsewhere())}</span>
            </Show>
        </button>
        <Show when=move || open.get()>
            {on_demand!(list_view(open, permission, show))}
        </Show>
    }
}

/// The list behind the flag, built on demand (see `ui::on_demand`).
#[cfg_attr(
    maestro_split,
    leptos::wasm_split::wasm_split(needs_list, wasm_split_path = ::leptos::wasm_split, fallible)
)]
fn list_view(open: RwSignal<bool>, permission: RwSignal<String>, show: Callback<Need>) -> Part {
    Ok(view! { <NeedsList open permission show/> }.into_any())
}

/// Everything that needs the person, with a way to open or dismiss each, and the
/// notification switch.
#[component]
fn NeedsList(open: RwSignal<bool>, permission: RwSignal<String>, show: Callback<Need>) -> impl IntoView {
    let ctx = use_tab();
    let needs = use_needs();
    let ask = move |_| notify::ask(permission);
    // Esc, or a click outside it (its own ⚑ button toggles it), closes it.
    let esc = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            open.set(false);
        }
    });
    let outside = window_event_listener(leptos::ev::pointerdown, move |ev| {
        if !super::browser::within(&ev, ".attention-list, button.attention") {
            open.set(false);
        }
    });
    on_cleanup(move || {
        esc.remove();
        outside.remove();
    });
    view! {
        <div class="attention-list" role="dialog" aria-label="Needs attention">
            <div class="row">
                <h2>"Needs attention"</h2>
                <span class="spacer"></span>
                {move || match permission.get().as_str() {
                    "default" => view! { <button on:click=ask>"Notify me"</button> }.into_any(),
                    "granted" => view! { <span class="muted">"Notifications on"</span> }.into_any(),
                    "denied" => view! { <span class="muted">"Notifications blocked by the browser"</span> }.into_any(),
                    _ => ().into_any(),
                }}
                <button class="ghost" aria-label="Close" on:click=move |_| open.set(false)>"×"</button>
            </div>
            <ul>
                <For each=move || needs.items.get() key=|n| n.id.clone() let:n>
                    {
                        let (n2, id) = (n.clone(), n.id.clone());
                        let project = ctx
                            .cache
                            .with_untracked(|c| c.project(&n.project_id).map(|p| p.name.clone()))
                            .unwrap_or_default();
                        let what = if n.kind == Kind::Session { "session" } else { "task" };
                        view! {
                            <li>
                                <span class=format!("badge why-{}", n.why)>{n.why.replace('_', " ")}</span>
                                <span class="name" title=n.name.clone()>{format!("{what} {}", n.name)}</span>
                                {n.message.clone().map(|m| view! { <span class="asks">{m}</span> })}
                                <span class="muted">{project}</span>
                                <button on:click=move |_| {
                                    open.set(false);
                                    show.run(n2.clone());
                                }>"Open"</button>
                                <button class="ghost" aria-label=format!("Dismiss {}", n.name) on:click=move |_| ctx.mark_seen([id.clone()])>
                                    "Dismiss"
                                </button>
                            </li>
                        }
                    }
                </For>
            </ul>
            <Show when=move || needs.items.with(Vec::is_empty)>
                <p class="empty">"Nothing needs you right now."</p>
            </Show>
            <Show when=move || needs.items.with(|v| v.len() > 1)>
                <button
                    class="ghost"
                    on:click=move |_| ctx.mark_seen(needs.items.get_untracked().into_iter().map(|n| n.id))
                >
                    "Dismiss all"
                </button>
            </Show>
        </div>
    }
}

/// Follows the flags events raise and lower: a lowered one is forgotten as seen (so it
/// can be raised again), a raised one is notified by the one tab that holds the lock.
fn notifier(ctx: Tab, needs: Needs, show: Callback<Need>, permission: RwSignal<String>) {
    let leader = RwSignal::new(false);
    notify::lead(leader);
    permission.set(notify::permission());
    Effect::new(move |_| {
        let (raised, lowered) = ctx.cache.take_flag_news();
        ctx.news.update_value(|n| n.extend(raised.iter().cloned()));
        if !lowered.is_empty() {
            ctx.unmark_seen(&lowered);
        }
        if raised.is_empty() || !leader.get_untracked() || notify::permission() != "granted" {
            return;
        }
        let items = needs.items.get_untracked();
        for n in items.into_iter().filter(|n| raised.contains(&n.id)) {
            let title = match n.kind {
                Kind::Session => format!("Session {}: {}", n.why.replace('_', " "), n.name),
                _ => format!("Task blocked: {}", n.name),
            };
            let project = ctx.cache.with_untracked(|c| c.project(&n.project_id).map(|p| p.name.clone()));
            // What the agent asks, else the project.
            let body = n.message.clone().or(project).unwrap_or_default();
            let tag = n.id.clone();
            notify::raise(&title, &body, &tag, move || show.run(n));
        }
    });
}
