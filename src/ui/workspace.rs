//! The page around the panes: the top bar (projects, what needs attention, the keyboard
//! help's button, the connection), the three panes with their splitters, and the
//! invitation shown before there is a project.

use super::browser::{reload_page, storage_get, storage_set};
use super::keys::{keyboard_shortcuts, Help};
use super::lists::{merge_list, page_resource};
use super::route::Page;
use super::state::{use_tab, Pane, Tab, LAST_PROJECT_KEY};
use super::toasts::Toasts;
use super::{attention, panes, projects, sessions, tasks, terminal};
use crate::api::functions::list_projects;
use crate::live::cache::ListKey;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// The page: top bar, then Sessions | Terminal | Maestro panel.
#[component]
pub fn Workspace(page: Memo<Option<Page>>) -> impl IntoView {
    let ctx = use_tab();
    let route_id = Memo::new(move |_| match page.get() {
        Some(Page::Project(id)) => Some(id),
        _ => None,
    });
    let projects = page_resource(|| (), |_| list_projects());
    // The active project: the route's, else (on `/`) the first one.
    let active = Memo::new(move |_| {
        route_id.get().or_else(|| {
            let from_cache = ctx.cache.with(|c| c.projects().and_then(|v| v.first().map(|p| p.id.clone())));
            from_cache
                .or_else(|| projects.get().and_then(|r| r.ok()).and_then(|(v, _)| v.first().map(|p| p.id.clone())))
        })
    });
    remember_last_project(ctx, route_id, active);
    // The active project's settings are open (its bar and the no-directory notice open them).
    let settings = RwSignal::new(false);
    keyboard_shortcuts();
    view! {
        <div class="app">
            <header class="topbar">
                <h1>"Maestro"</h1>
                <Transition fallback=|| view! { <span class="muted">"…"</span> }>
                    {move || {
                        let fetched = projects.get();
                        merge_list(ctx, ListKey::Projects, fetched.clone(), |c, _, v, at| c.load_projects(v, at));
                        let initial = fetched.and_then(|r| r.ok()).map(|(v, _)| v).unwrap_or_default();
                        view! { <projects::ProjectBar active=active initial=initial settings=settings/> }
                    }}
                </Transition>
                <span class="spacer"></span>
                <attention::AttentionBar active=active/>
                <button class="ghost" aria-label="Keyboard shortcuts" on:click=move |_| ctx.show_help.update(|h| *h = !*h)>
                    "?"
                </button>
                <ConnIndicator/>
            </header>
            <PaneSwitcher/>
            <div class=move || format!("panes {}", ctx.pane.get().class()) class:board-mode=move || ctx.board.get()
                style=move || panes::grid_style(ctx.panes.get())>
                <sessions::SessionsPane active=active/>
                <panes::Splitter side=panes::Side::Left/>
                <terminal::TerminalPane/>
                <panes::Splitter side=panes::Side::Right/>
                <main class="pane maestro" aria-label="Maestro panel">
                    <projects::DirectoryNotice active=active settings=settings/>
                    {move || match active.get() {
                        Some(id) => view! { <tasks::TaskPanel project_id=id/> }.into_any(),
                        None => view! { <FirstProject/> }.into_any(),
                    }}
                </main>
            </div>
            <Show when=move || ctx.cache.stale()>
                <p role="alert" class="error stale">
                    "Part of this page could not be brought up to date, so it may be behind. "
                    <button on:click=|_| reload_page()>"Reload"</button>
                </p>
            </Show>
            <Toasts/>
            <Help/>
        </div>
    }
}

/// On a narrow screen (a phone), the one pane shown and the switch to the others
/// (`style/main.css` hides this on a wide one).
#[component]
fn PaneSwitcher() -> impl IntoView {
    let ctx = use_tab();
    let needs = attention::use_needs();
    view! {
        <nav class="switcher" role="tablist" aria-label="Panes">
            {Pane::ALL
                .map(|p| {
                    view! {
                        <button
                            role="tab"
                            aria-selected=move || (ctx.pane.get() == p).to_string()
                            on:click=move |_| ctx.pane.set(p)
                        >
                            {p.label()}
                            // What needs the person is on the Sessions pane.
                            {(p == Pane::Sessions).then(|| view! {
                                <attention::Marker when=Signal::derive(move || needs.items.with(|v| !v.is_empty()))/>
                            })}
                        </button>
                    }
                })}
        </nav>
    }
}

/// The invitation shown when there is no project yet.
#[component]
fn FirstProject() -> impl IntoView {
    let ctx = use_tab();
    let name = RwSignal::new(String::new());
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        projects::save_project(ctx, name.get_untracked(), None, navigate.clone(), move || name.set(String::new()));
    };
    view! {
        <section class="empty-state">
            <h2>"Welcome to Maestro"</h2>
            <p class="muted">"Create a project to start organising tasks for your agents."</p>
            <form class="row" on:submit=submit>
                <input aria-label="New project name" placeholder="Project name" bind:value=name/>
                <button type="submit">"Create project"</button>
            </form>
        </section>
    }
}

#[component]
fn ConnIndicator() -> impl IntoView {
    let ctx = use_tab();
    view! {
        <span
            class=move || format!("conn {}", ctx.conn.get().label())
            role="status"
            aria-label=move || format!("Connection: {}", ctx.conn.get().label())
            title="Live updates"
        >
            <span class="dot"></span>
            {move || ctx.conn.get().label()}
        </span>
    }
}

/// `/` opens the last used project (`route_id`: the one the path names, if it names one);
/// every project opened (`active`) becomes the last used.
fn remember_last_project(ctx: Tab, route_id: Memo<Option<String>>, active: Memo<Option<String>>) {
    Effect::new(move |_| {
        if let Some(id) = active.get() {
            storage_set(LAST_PROJECT_KEY, &id);
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if route_id.get_untracked().is_none() {
            if let Some(last) = storage_get::<String>(LAST_PROJECT_KEY) {
                let exists = ctx.cache.with(|c| c.project(&last).is_some());
                if exists && active.get_untracked().as_deref() != Some(last.as_str()) {
                    navigate(&format!("/projects/{last}"), Default::default());
                }
            }
        }
    });
}
