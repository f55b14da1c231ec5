//! The web UI (SPEC §4): the HTML shell, the router and the pages.

use crate::api::functions::{list_projects, CreateProject};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
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
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/maestro.css"/>
        <Title text="Maestro"/>
        <Router>
            <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                <Route path=path!("/") view=Workspace/>
                <Route path=path!("/projects/:id") view=Workspace/>
            </Routes>
        </Router>
    }
}

/// The main page: projects for now; the three panes grow from here.
#[component]
fn Workspace() -> impl IntoView {
    let create = ServerAction::<CreateProject>::new();
    let projects = Resource::new(move || create.version().get(), |_| list_projects());
    let name = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let n = name.get_untracked();
        if !n.trim().is_empty() {
            create.dispatch(CreateProject { name: n });
            name.set(String::new());
        }
    };
    view! {
        <header class="topbar">
            <h1>"Maestro"</h1>
        </header>
        <main class="panel" aria-label="Maestro panel">
            <form class="row" on:submit=submit>
                <label for="new-project-name">"New project"</label>
                <input id="new-project-name" placeholder="Project name" bind:value=name/>
                <button type="submit">"Create project"</button>
            </form>
            {move || {
                create
                    .value()
                    .get()
                    .and_then(|r| r.err())
                    .map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })
            }}
            <Transition fallback=|| view! { <p class="muted">"Loading projects…"</p> }>
                {move || {
                    projects
                        .get()
                        .map(|r| match r {
                            Ok(list) if list.is_empty() => {
                                view! { <p class="empty">"No projects yet: create one to start."</p> }
                                    .into_any()
                            }
                            Ok(list) => {
                                view! {
                                    <ul class="list" aria-label="Projects">
                                        {list
                                            .into_iter()
                                            .map(|p| {
                                                view! {
                                                    <li>
                                                        <a href=format!("/projects/{}", p.id)>{p.name}</a>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                }
                                    .into_any()
                            }
                            Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
                        })
                }}
            </Transition>
        </main>
    }
}
