//! The web UI (SPEC §4): the HTML shell and the app (here), and what they hold.
//!
//! - The page: `workspace.rs` (top bar, the three panes, the first-project invitation, the
//!   connection indicator), `route.rs` (which page a path is), `keys.rs` (shortcuts and
//!   their help), `toasts.rs`, `panes.rs` (the splitters).
//! - The panes: `sessions.rs` (left), `terminal/` (centre, with a session's workspace's
//!   `changes/` beside it), `tasks/` (right: the list) and
//!   `board.rs` (its columns), with `projects.rs` (the project bar), `project_settings.rs`
//!   (a project's settings and its directory checked as typed), `project_delete.rs` (deleting
//!   it with everything of it, after a question), `search.rs`,
//!   `attention.rs` (what needs the person) and `scroll.rs` (what the windowed lists share).
//! - The tab: `state.rs` (its signals and what the browser keeps), `lists.rs` (loading
//!   lists into its cache), `actions.rs` (its optimistic actions).
//! - `on_demand.rs`: the parts built (and, in release, fetched) when first opened;
//!   `browser/`: what only a browser can do, with the server's no-op beside it.

mod actions;
mod agent_state;
mod attention;
mod board;
mod browser;
mod changes;
mod keys;
mod lists;
mod on_demand;
mod panes;
mod project_delete;
mod project_settings;
mod projects;
pub mod route;
mod scroll;
mod search;
mod sessions;
pub mod state;
mod tasks;
mod terminal;
mod toasts;
mod workspace;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags};
use leptos_router::components::Router;
use state::Tab;
use workspace::Workspace;

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

/// A CSS length in whole pixels. Lengths are computed as `f64`; printing them as integers
/// keeps float formatting out of the wasm.
pub(crate) fn px(v: f64) -> String {
    format!("{}px", v.round() as i64)
}
