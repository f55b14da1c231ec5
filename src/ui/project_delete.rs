//! Deleting a project from its settings: "Delete project…", then a question naming what goes
//! — its tasks, ended sessions and workspaces, as the server counts them — and what stays
//! (its directory's files, the workspaces' branches). The server deletes it all in one step,
//! or refuses while a session runs or a worktree holds uncommitted work, and the question
//! says why. No Undo: what goes includes worktrees and kept output, so the question is asked
//! first instead. After it, the page moves to another project (or the empty state); other
//! tabs move on when the deletion reaches them (`projects::ProjectBar`).

use crate::api::functions::{delete_project, error_text, project_contents};
use crate::model::{Project, ProjectContents};
use leptos::prelude::*;

/// The section at the foot of the settings dialog (`open`: the dialog's).
pub fn delete_section(project: StoredValue<Project>, open: RwSignal<bool>) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    let asking = RwSignal::new(false);
    let contents = RwSignal::new(None::<ProjectContents>);
    let error = RwSignal::new(None::<String>);
    let deleting = RwSignal::new(false);
    // Counted when asked (and again after a refusal), so the question says what goes now.
    let count = move || {
        leptos::task::spawn_local(async move {
            match project_contents(project.get_value().id).await {
                Ok(c) => {
                    contents.try_set(Some(c));
                }
                Err(e) => {
                    error.try_set(Some(error_text(&e)));
                }
            }
        });
    };
    let ask = move |_| {
        error.set(None);
        contents.set(None);
        asking.set(true);
        count();
    };
    let confirm = move |_| {
        let navigate = navigate.clone();
        deleting.set(true);
        leptos::task::spawn_local(async move {
            match delete_project(project.get_value().id).await {
                Ok(()) => {
                    open.try_set(false);
                    navigate("/", Default::default());
                }
                Err(e) => {
                    deleting.try_set(false);
                    error.try_set(Some(error_text(&e)));
                    count();
                }
            }
        });
    };
    let text = move || {
        project.with_value(|p| {
            contents.with(|c| match c {
                Some(c) => question(p, c),
                None => (format!("Delete project “{}”?", p.name), "Counting what goes with it…".into()),
            })
        })
    };
    let running = move || contents.with(|c| c.as_ref().and_then(running_note));
    view! {
        <Show
            when=move || asking.get()
            fallback=move || view! {
                <button type="button" class="danger delete-project" on:click=ask>"Delete project…"</button>
            }
        >
            <div role="alertdialog" aria-label="Delete project?" class="confirm">
                <p><strong>{move || text().0}</strong></p>
                <p>{move || text().1}</p>
                {move || running().map(|r| view! { <p class="error">{r}</p> })}
                {move || error.get().map(|e| view! { <p role="alert" class="error">{e}</p> })}
                <div class="row">
                    <button type="button" class="danger" disabled=move || deleting.get() || contents.with(Option::is_none)
                        on:click=confirm.clone()>
                        {move || if deleting.get() { "Deleting…" } else { "Delete project" }}
                    </button>
                    <button type="button" class="ghost" on:click=move |_| asking.set(false)>"Keep it"</button>
                </div>
            </div>
        </Show>
    }
}

/// The question and what stays, from what the server counted.
fn question(p: &Project, c: &ProjectContents) -> (String, String) {
    let parts: Vec<String> = [(c.tasks, "task"), (c.ended_sessions, "ended session"), (c.workspaces, "workspace")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}{}", if n == 1 { "" } else { "s" }))
        .collect();
    let asked = match parts.split_last() {
        None => format!("Delete project “{}”?", p.name),
        Some((last, [])) => format!("Delete project “{}” and its {last}?", p.name),
        Some((last, rest)) => format!("Delete project “{}”, its {} and {last}?", p.name, rest.join(", ")),
    };
    let mut stays = match &p.base_path {
        Some(d) => format!("Nothing in its directory {d} is deleted."),
        None => "Nothing of yours on disk is deleted.".to_string(),
    };
    if c.worktrees > 0 {
        stays.push_str(
            " Its workspaces' worktrees are removed, unless one holds uncommitted work: then nothing is deleted.",
        );
    }
    if c.workspaces > 0 {
        stays.push_str(" Their branches stay in the repository.");
    }
    (asked, stays)
}

/// While sessions run the server refuses: said before the person tries.
fn running_note(c: &ProjectContents) -> Option<String> {
    let names: Vec<String> = c.running.iter().map(|n| format!("“{n}”")).collect();
    match names.as_slice() {
        [] => None,
        [one] => Some(format!("Its session {one} is still running: end it first.")),
        many => {
            Some(format!("{} of its sessions are still running ({}): end them first.", many.len(), many.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_question_names_what_goes_and_what_stays() {
        let p = Project { name: "X".into(), base_path: Some("/srv/x".into()), ..Project::default() };
        let c = ProjectContents { tasks: 12, ended_sessions: 3, running: vec![], workspaces: 2, worktrees: 1 };
        let (asked, stays) = question(&p, &c);
        assert_eq!(asked, "Delete project “X”, its 12 tasks, 3 ended sessions and 2 workspaces?");
        assert!(stays.starts_with("Nothing in its directory /srv/x is deleted.") && stays.contains("branches stay"));
        let one = ProjectContents { tasks: 1, ..Default::default() };
        assert_eq!(question(&p, &one).0, "Delete project “X” and its 1 task?");
        assert_eq!(question(&p, &ProjectContents::default()).0, "Delete project “X”?");
        assert_eq!(running_note(&c), None);
        let two = ProjectContents { running: vec!["a".into(), "b".into()], ..Default::default() };
        assert_eq!(running_note(&two).unwrap(), "2 of its sessions are still running (“a”, “b”): end them first.");
    }
}
