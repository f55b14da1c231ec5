//! The top bar's project controls: the picker, "new project" (a name and a directory) and
//! the project's settings (`project_settings`); and the notice of a project whose agents
//! run in the server's home directory; and moving on when the project shown is deleted.

use super::on_demand::{on_demand, Part};
use super::project_settings::{inspected, settings_view, DirectoryField};
use super::state::{use_tab, Tab};
use crate::api::functions::*;
use crate::model::*;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// Project picker, "New project" and "Project settings" (their forms built on demand).
#[component]
pub fn ProjectBar(
    active: Memo<Option<String>>,
    /// The fetched list, shown until the cache holds it (server rendering).
    initial: Vec<Project>,
    /// Whether the active project's settings are open.
    settings: RwSignal<bool>,
) -> impl IntoView {
    let ctx = use_tab();
    let navigate = use_navigate();
    let creating = RwSignal::new(false);
    let projects = move || ctx.cache.with(|c| c.projects()).unwrap_or_else(|| initial.clone());
    let title = {
        let projects = projects.clone();
        move || {
            let id = active.get()?;
            projects().into_iter().find(|p| p.id == id).map(|p| p.name)
        }
    };
    leave_when_deleted(ctx, active, navigate.clone());
    let go =
        move |ev: leptos::ev::Event| navigate(&format!("/projects/{}", event_target_value(&ev)), Default::default());
    view! {
        // A long name is cut (the whole of it on hover), so the bar keeps its room.
        <select id="project-picker" aria-label="Project" on:change=go title=title>
            // Options are plain: a keyed <For> would cost the wasm bytes for nothing to keep.
            {move || {
                projects()
                    .into_iter()
                    .map(|p| {
                        view! {
                            <option value=p.id.clone() selected=move || active.get().as_deref() == Some(p.id.as_str())>
                                {p.name}
                            </option>
                        }
                    })
                    .collect_view()
            }}
        </select>
        <Show
            when=move || creating.get()
            fallback=move || {
                view! {
                    <button on:click=move |_| creating.set(true)>"New project"</button>
                    <button class="ghost" disabled=move || active.get().is_none() on:click=move |_| settings.set(true)>
                        "Project settings"
                    </button>
                }
            }
        >
            {on_demand!(new_project_form(creating))}
        </Show>
        <Show when=move || settings.get()>{on_demand!(settings_view(active, settings))}</Show>
    }
}

/// The project shown deleted (in this tab or another, by the CLI): on to `/`, which shows
/// another project or the empty state. Only a project seen here: a mistyped link stays.
fn leave_when_deleted(
    ctx: Tab,
    active: Memo<Option<String>>,
    navigate: impl Fn(&str, leptos_router::NavigateOptions) + 'static,
) {
    let seen = StoredValue::new(None::<String>);
    Effect::new(move |_| {
        let Some(id) = active.get() else { return };
        if ctx.cache.with(|c| c.project(&id).is_some()) {
            seen.set_value(Some(id));
        } else if seen.get_value().as_deref() == Some(id.as_str()) {
            seen.set_value(None);
            navigate("/", Default::default());
        }
    });
}

/// The form naming a new project and, if the person likes, its directory; built on demand
/// (see `ui::on_demand`).
#[cfg_attr(
    maestro_split,
    leptos::wasm_split::wasm_split(project_name_form, wasm_split_path = ::leptos::wasm_split, fallible)
)]
fn new_project_form(creating: RwSignal<bool>) -> Part {
    let ctx = use_tab();
    let navigate = use_navigate();
    let (name, dir) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let looked = inspected(dir);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let base_path = Some(dir.get_untracked()).filter(|d| !d.trim().is_empty());
        save_project(ctx, name.get_untracked(), base_path, navigate.clone(), move || creating.set(false));
    };
    Ok(view! {
        <form class="row new-project" on:submit=submit>
            <input aria-label="New project name" placeholder="Project name" bind:value=name autofocus/>
            <DirectoryField dir=dir looked=looked label="Directory (optional)"/>
            <button type="submit">"Create project"</button>
            <button type="button" class="ghost" on:click=move |_| creating.set(false)>
                "Cancel"
            </button>
        </form>
    }
    .into_any())
}

/// Creates a project named `name` (in `base_path`, if given), then shows it and runs `done`;
/// a refusal is said in a toast and what was typed stays. A blank name does nothing.
pub fn save_project(
    ctx: Tab,
    name: String,
    base_path: Option<String>,
    navigate: impl Fn(&str, leptos_router::NavigateOptions) + 'static,
    done: impl FnOnce() + 'static,
) {
    if name.trim().is_empty() {
        return;
    }
    leptos::task::spawn_local(async move {
        match ctx.create_project(name, base_path).await {
            Ok(p) => {
                done();
                navigate(&format!("/projects/{}", p.id), Default::default());
            }
            Err(e) => ctx.toast(error_text(&e)),
        }
    });
}

/// Says so when the active project has no directory (its agents and terminals start in the
/// server's home directory), with a button to the settings. Shown once the tab is live:
/// the server's page has no cache to tell from.
#[component]
pub fn DirectoryNotice(active: Memo<Option<String>>, settings: RwSignal<bool>) -> impl IntoView {
    let ctx = use_tab();
    let homeless = move || {
        let id = active.get()?;
        ctx.restored.get().then(|| ctx.cache.with(|c| c.project(&id).map(|p| p.base_path.is_none())))?
    };
    view! {
        <Show when=move || homeless() == Some(true)>
            <p class="notice" role="note" aria-label="No directory">
                "Agents of this project run in the server's home directory. "
                <button class="ghost" on:click=move |_| settings.set(true)>"Set a directory"</button>
            </p>
        </Show>
    }
}
