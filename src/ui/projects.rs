//! The top bar's project controls: the picker, "new project" and "rename project".

use super::on_demand::{on_demand, Part};
use super::state::{use_tab, Tab};
use crate::api::functions::*;
use crate::model::*;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// Project picker, "new project" and "rename project" (their form built on demand).
#[component]
pub fn ProjectBar(
    active: Memo<Option<String>>,
    /// The fetched list, shown until the cache holds it (server rendering).
    initial: Vec<Project>,
) -> impl IntoView {
    let ctx = use_tab();
    let navigate = use_navigate();
    let creating = RwSignal::new(false);
    let renaming = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let projects = move || ctx.cache.with(|c| c.projects()).unwrap_or_else(|| initial.clone());
    let go =
        move |ev: leptos::ev::Event| navigate(&format!("/projects/{}", event_target_value(&ev)), Default::default());
    view! {
        <select id="project-picker" aria-label="Project" on:change=go>
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
            when=move || creating.get() || renaming.get()
            fallback=move || {
                view! {
                    <button on:click=move |_| creating.set(true)>"New project"</button>
                    <button
                        class="ghost"
                        disabled=move || active.get().is_none()
                        on:click=move |_| {
                            let current = active
                                .get_untracked()
                                .and_then(|id| ctx.cache.with_untracked(|c| c.project(&id).map(|p| p.name.clone())));
                            name.set(current.unwrap_or_default());
                            renaming.set(true);
                        }
                    >
                        "Rename project"
                    </button>
                }
            }
        >
            {on_demand!(name_form(active, creating, renaming, name))}
        </Show>
    }
}

/// The form naming a new project (`creating`) or the active one (`renaming`), built on
/// demand (see `ui::on_demand`).
#[cfg_attr(
    maestro_split,
    leptos::wasm_split::wasm_split(project_name_form, wasm_split_path = ::leptos::wasm_split, fallible)
)]
fn name_form(
    active: Memo<Option<String>>,
    creating: RwSignal<bool>,
    renaming: RwSignal<bool>,
    name: RwSignal<String>,
) -> Part {
    let ctx = use_tab();
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let n = name.get_untracked();
        let rename_id = renaming.get_untracked().then(|| active.get_untracked()).flatten();
        save_project(ctx, rename_id, n, navigate.clone(), move || {
            name.set(String::new());
            creating.set(false);
            renaming.set(false);
        });
    };
    Ok(view! {
        <form class="row" on:submit=submit>
            <input
                aria-label=move || if renaming.get() { "Project name" } else { "New project name" }
                placeholder="Project name"
                bind:value=name
                autofocus
            />
            <button type="submit">{move || if renaming.get() { "Save name" } else { "Create project" }}</button>
            <button
                type="button"
                class="ghost"
                on:click=move |_| {
                    creating.set(false);
                    renaming.set(false);
                }
            >
                "Cancel"
            </button>
        </form>
    }
    .into_any())
}

/// Saves a project named `name` (`rename`: that project; otherwise a new one), then shows
/// it and runs `done`; a refusal is said in a toast. A blank name does nothing.
pub fn save_project(
    ctx: Tab,
    rename: Option<String>,
    name: String,
    navigate: impl Fn(&str, leptos_router::NavigateOptions) + 'static,
    done: impl FnOnce() + 'static,
) {
    if name.trim().is_empty() {
        return;
    }
    leptos::task::spawn_local(async move {
        let saved = match rename {
            Some(id) => update_project(id, ProjectPatch { name: Some(name), ..Default::default() }).await,
            None => ctx.create_project(name).await,
        };
        match saved {
            Ok(p) => {
                ctx.cache.update(|c| c.confirm(&p));
                done();
                navigate(&format!("/projects/{}", p.id), Default::default());
            }
            Err(e) => ctx.toast(error_text(&e)),
        }
    });
}
