//! The web UI (SPEC §4): the HTML shell, the router, the three-pane workspace and its
//! chrome (connection indicator, toasts, keyboard help).

mod actions;
mod attention;
mod board;
mod browser;
mod on_demand;
mod panes;
mod projects;
pub mod route;
mod scroll;
mod search;
mod sessions;
pub mod state;
mod tasks;
mod terminal;

use crate::api::functions::{error_text, list_projects};
use crate::sync::cache::ListKey;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags};
use leptos_router::components::Router;
use leptos_router::hooks::use_navigate;
use on_demand::on_demand;
use route::Page;
use state::{use_tab, Tab};

/// The HTML document the server renders around the app. Only the server renders it, so
/// `leptos_meta` (the hashed stylesheet's link) stays out of the wasm.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    provide_meta_context();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>"Maestro"</title>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" href="/xterm/xterm.css"/>
                <script src="/xterm/xterm.js"></script>
                <script src="/xterm/addon-fit.js"></script>
                <AutoReload options=options.clone()/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    let ctx = Tab::new();
    provide_context(ctx);
    provide_context(attention::Needs::new(ctx));
    Effect::new(move |_| ctx.start());
    view! {
        <Router>
            <Pages/>
        </Router>
    }
}

/// The workspace for either page, or "Page not found" (the server answers such a path 404).
#[component]
fn Pages() -> impl IntoView {
    let page = route::use_page();
    let found = Memo::new(move |_| page.with(Option::is_some));
    move || match found.get() {
        true => view! { <Workspace page/> }.into_any(),
        false => view! { <p class="empty">"Page not found."</p> }.into_any(),
    }
}

/// The page: top bar, then Sessions | Terminal | Maestro panel.
#[component]
fn Workspace(page: Memo<Option<Page>>) -> impl IntoView {
    let ctx = use_tab();
    let route_id = Memo::new(move |_| match page.get() {
        Some(Page::Project(id)) => Some(id),
        _ => None,
    });
    let projects = state::page_resource(|| (), |_| list_projects());
    // The active project: the route's, else (on `/`) the first one.
    let active = Memo::new(move |_| {
        route_id.get().or_else(|| {
            let from_cache = ctx.cache.with(|c| c.projects().and_then(|v| v.first().map(|p| p.id.clone())));
            from_cache
                .or_else(|| projects.get().and_then(|r| r.ok()).and_then(|(v, _)| v.first().map(|p| p.id.clone())))
        })
    });
    // `/` opens the last used project; every project opened becomes the last used.
    Effect::new(move |_| {
        if let Some(id) = active.get() {
            browser::storage_set(state::LAST_PROJECT_KEY, &id);
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if route_id.get_untracked().is_none() {
            if let Some(last) = browser::storage_get::<String>(state::LAST_PROJECT_KEY) {
                let exists = ctx.cache.with(|c| c.project(&last).is_some());
                if exists && active.get_untracked().as_deref() != Some(last.as_str()) {
                    navigate(&format!("/projects/{last}"), Default::default());
                }
            }
        }
    });
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
                        view! { <projects::ProjectBar active=active initial=initial/> }
                    }}
                </Transition>
                <span class="spacer"></span>
                <attention::AttentionBar active=active/>
                <button class="ghost" aria-label="Keyboard shortcuts" on:click=move |_| ctx.show_help.update(|h| *h = !*h)>
                    "?"
                </button>
                <ConnIndicator/>
            </header>
            <div class="panes" class:board-mode=move || ctx.board.get()
                style=move || panes::grid_style(ctx.panes.get(), ctx.board.get())>
                <sessions::SessionsPane/>
                <panes::Splitter side=panes::Side::Left/>
                <terminal::TerminalPane/>
                <panes::Splitter side=panes::Side::Right/>
                <main class="pane maestro" aria-label="Maestro panel">
                    {move || match active.get() {
                        Some(id) => view! { <tasks::TaskPanel project_id=id/> }.into_any(),
                        None => view! { <FirstProject/> }.into_any(),
                    }}
                </main>
            </div>
            <Show when=move || ctx.cache.stale()>
                <p role="alert" class="error stale">
                    "Part of this page could not be brought up to date, so it may be behind. "
                    <button on:click=|_| browser::reload_page()>"Reload"</button>
                </p>
            </Show>
            <Toasts/>
            <Help/>
        </div>
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
        projects::save_project(ctx, None, name.get_untracked(), navigate.clone(), move || name.set(String::new()));
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

#[component]
fn Toasts() -> impl IntoView {
    let ctx = use_tab();
    view! {
        <div class="toasts" aria-live="polite">
            <For each=move || ctx.toasts.get() key=|t| t.id let:t>
                <div class="toast" role="alert">
                    <span>{t.text.clone()}</span>
                    {t.undo.then(|| view! { <button on:click=move |_| ctx.end_toast(t.id, true)>"Undo"</button> })}
                    // Dismissing an Undo toast carries its action out now.
                    <button class="ghost" aria-label="Dismiss" on:click=move |_| ctx.end_toast(t.id, false)>"×"</button>
                </div>
            </For>
        </div>
    }
}

/// The keyboard help overlay (`?`).
#[component]
fn Help() -> impl IntoView {
    let ctx = use_tab();
    view! {
        <Show when=move || ctx.show_help.get()>
            {on_demand!(help_view())}
        </Show>
    }
}

/// The help's contents, built on demand (see `on_demand`).
#[cfg_attr(
    maestro_split,
    leptos::wasm_split::wasm_split(help, wasm_split_path = ::leptos::wasm_split, fallible)
)]
fn help_view() -> on_demand::Part {
    let ctx = use_tab();
    Ok(view! {
        <div class="overlay" role="dialog" aria-label="Keyboard shortcuts" aria-modal="true">
            <div class="dialog">
                <h2>"Keyboard shortcuts"</h2>
                <dl class="keys">
                    <dt><kbd>"n"</kbd></dt>
                    <dd>"New task"</dd>
                    <dt><kbd>"p"</kbd></dt>
                    <dd>"Choose project"</dd>
                    <dt><kbd>"/"</kbd></dt>
                    <dd>"Search tasks"</dd>
                    <dt><kbd>"f"</kbd></dt>
                    <dd>"Filter tasks by status"</dd>
                    <dt><kbd>"←"</kbd> " / " <kbd>"→"</kbd></dt>
                    <dd>"Move the focused card to the next column (board), or resize the focused splitter"</dd>
                    <dt><kbd>"j"</kbd> " / " <kbd>"k"</kbd></dt>
                    <dd>"Next / previous open session"</dd>
                    <dt><kbd>"?"</kbd></dt>
                    <dd>"Show or hide this help"</dd>
                    <dt><kbd>"Esc"</kbd></dt>
                    <dd>"Close this help"</dd>
                </dl>
                <button on:click=move |_| ctx.show_help.set(false)>"Close"</button>
            </div>
        </div>
    }
    .into_any())
}

/// Global shortcuts, ignored while typing in a field.
fn keyboard_shortcuts() {
    {
        let ctx = use_tab();
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if browser::typing(&ev) || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            let focus = browser::focus_id;
            match ev.key().as_str() {
                "?" => ctx.show_help.update(|h| *h = !*h),
                "Escape" => ctx.show_help.set(false),
                "n" => focus("new-task-title"),
                "p" => focus("project-picker"),
                "/" => focus("task-search"),
                "f" => focus("status-filter"),
                "j" | "k" => {
                    let open = ctx.open_sessions.get_untracked();
                    if open.is_empty() {
                        return;
                    }
                    let cur = ctx.active_session.get_untracked().and_then(|a| open.iter().position(|x| *x == a));
                    let next = match (cur, ev.key().as_str()) {
                        (None, _) => 0,
                        (Some(i), "j") => (i + 1) % open.len(),
                        (Some(i), _) => (i + open.len() - 1) % open.len(),
                    };
                    if let Some(id) = open.get(next) {
                        ctx.active_session.set(Some(id.clone()));
                    }
                }
                _ => return,
            }
            ev.prevent_default();
        });
        on_cleanup(move || handle.remove());
    }
}

/// A list that could not be loaded: what went wrong, and a way to try again.
#[component]
pub(crate) fn LoadError(what: &'static str, error: String, retry: Callback<()>) -> impl IntoView {
    view! {
        <p role="alert" class="error">
            {format!("Could not load {what}: {error} ")}
            <button on:click=move |_| retry.run(())>"Retry"</button>
        </p>
    }
}

/// Keeps a lazily loaded list in the cache: fetched when the component showing it is
/// created, merged into the browser's cache as it renders (so the hydrating client
/// renders what the server did; see [`browser::write_cache`]), and kept current by events
/// afterwards. Returns the error to show, if the list could not be loaded.
pub(crate) fn merge_list<T: Clone + 'static>(
    ctx: Tab,
    key: ListKey,
    fetched: Option<Result<(Vec<T>, u64), crate::api::functions::FnError>>,
    load: fn(&mut crate::sync::cache::Cache, ListKey, &[T], u64),
) -> Option<String> {
    match fetched {
        Some(Ok((list, at))) => {
            browser::write_cache(ctx.cache, |c| load(c, key, &list, at));
            None
        }
        Some(Err(e)) if !ctx.cache.with_untracked(|c| c.is_loaded(&key)) => Some(error_text(&e)),
        _ => None,
    }
}

/// A CSS length in whole pixels. Lengths are computed as `f64`; printing them as integers
/// keeps float formatting (~6 KB) out of the wasm.
pub(crate) fn px(v: f64) -> String {
    format!("{}px", v.round() as i64)
}
