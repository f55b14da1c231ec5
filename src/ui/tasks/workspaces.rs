//! A task's workspaces in its details (SPEC §8): each one's branch, what it changed, the disk
//! its worktree takes, and archiving or restoring it. Loaded when the details open; kept
//! current by `workspace:*` events like everything in the cache.

use crate::api::functions::{archive_workspace, error_text, list_task_workspaces, restore_workspace};
use crate::model::{error_code, units, FnError, Workspace, WorkspaceStatus};
use crate::ui::browser::spawn;
use crate::ui::state::{use_tab, Tab};
use leptos::prelude::*;

/// What the person is told about one workspace after an archive or restore was refused.
#[derive(Clone, Debug, PartialEq)]
struct Refusal {
    message: String,
    /// Archiving anyway would lose uncommitted work: offered, behind its own button.
    forcible: bool,
}

/// The workspaces of task `id`, newest first; nothing while it has none.
#[component]
pub fn TaskWorkspaces(id: StoredValue<String>) -> impl IntoView {
    let ctx = use_tab();
    let failed = RwSignal::new(None::<String>);
    let load = move || {
        spawn(async move {
            match list_task_workspaces(id.get_value()).await {
                Ok((list, at)) => {
                    ctx.cache.update(|c| c.load_workspace_entities(&list, at));
                    failed.try_set(None);
                }
                Err(e) => {
                    failed.try_set(Some(error_text(&e)));
                }
            }
        })
    };
    load();
    let workspaces = move || ctx.cache.with(|c| c.task_workspaces(&id.get_value()));
    view! {
        <Show when=move || failed.with(Option::is_some) || !workspaces().is_empty()>
            <section class="task-workspaces" aria-label="Workspaces of this task">
                <h4>"Workspaces"</h4>
                {move || {
                    failed
                        .get()
                        .map(|e| {
                            view! {
                                <p class="error" role="alert">
                                    "Workspaces could not be loaded: " {e} " "
                                    <button type="button" class="ghost" on:click=move |_| load()>
                                        "Retry"
                                    </button>
                                </p>
                            }
                        })
                }}
                <ul>
                    <For each=workspaces key=|w| (w.id.clone(), w.version) let:w>
                        <WorkspaceRow w/>
                    </For>
                </ul>
            </section>
        </Show>
    }
}

/// One workspace: branch, status, changes, disk, and what can be done with it.
#[component]
fn WorkspaceRow(w: Workspace) -> impl IntoView {
    let ctx = use_tab();
    let id = StoredValue::new(w.id.clone());
    let refused = RwSignal::new(None::<Refusal>);
    let pending = RwSignal::new(false);
    let c = w.changes;
    let changes =
        format!("{} {} +{} −{}", c.files, if c.files == 1 { "file" } else { "files" }, c.additions, c.deletions);
    let against = format!(
        "against {}: {} commit(s) ahead, {} behind{}",
        w.base,
        c.ahead,
        c.behind,
        if c.dirty { ", with uncommitted changes" } else { "" }
    );
    let disk = w.disk_bytes.map(units::bytes);
    let status = w.status;
    let branch = w.branch.clone();
    let archive = move |force: bool| act(ctx, id, pending, refused, Act::Archive { force });
    view! {
        <li class=format!("workspace status-{}", status.as_str())>
            <code class="branch" title=w.path.clone()>{branch.clone()}</code>
            <span class="badge">{status.as_str()}</span>
            <span class="changes" title=against>
                {changes}
                {c.dirty.then_some(" · uncommitted")}
            </span>
            {disk.map(|d| view! { <span class="muted" title="Disk its worktree takes">{d}</span> })}
            {match status {
                WorkspaceStatus::Archived => {
                    view! {
                        <button
                            type="button"
                            class="ghost"
                            aria-label=format!("Restore workspace {branch}")
                            disabled=move || pending.get()
                            on:click=move |_| act(ctx, id, pending, refused, Act::Restore)
                        >
                            "Restore"
                        </button>
                    }
                        .into_any()
                }
                _ => {
                    view! {
                        <button
                            type="button"
                            class="ghost"
                            aria-label=format!("Archive workspace {branch}")
                            title="Removes the worktree; the branch is kept and can be restored"
                            disabled=move || pending.get()
                            on:click=move |_| archive(false)
                        >
                            "Archive"
                        </button>
                    }
                        .into_any()
                }
            }}
            {move || {
                refused
                    .get()
                    .map(|r| {
                        view! {
                            <p class="error" role="alert">
                                {r.message} " "
                                {r
                                    .forcible
                                    .then(|| {
                                        view! {
                                            <button type="button" class="danger" on:click=move |_| archive(true)>
                                                "Archive anyway, losing uncommitted changes"
                                            </button>
                                            " "
                                            <button type="button" class="ghost" on:click=move |_| refused.set(None)>
                                                "Keep it"
                                            </button>
                                        }
                                    })}
                            </p>
                        }
                    })
            }}
        </li>
    }
}

/// What a row's button asks of the server.
#[derive(Clone, Copy)]
enum Act {
    Archive { force: bool },
    Restore,
}

/// Runs `what` on workspace `id`; the answer goes into the cache, a refusal under the row.
fn act(ctx: Tab, id: StoredValue<String>, pending: RwSignal<bool>, refused: RwSignal<Option<Refusal>>, what: Act) {
    pending.set(true);
    refused.set(None);
    spawn(async move {
        let wid = id.get_value();
        let done: Result<Workspace, FnError> = match what {
            Act::Archive { force } => archive_workspace(wid.clone(), force).await,
            Act::Restore => restore_workspace(wid.clone()).await,
        };
        pending.try_set(false);
        match done {
            Ok(w) => {
                ctx.cache.update(|c| c.confirm(&w));
            }
            Err(e) => {
                // A running session is never forced out of its directory from here.
                let running = ctx.cache.with_untracked(|c| c.workspace_in_use(&wid));
                let forcible =
                    matches!(what, Act::Archive { force: false }) && e.code == error_code::CONFLICT && !running;
                refused.try_set(Some(Refusal { message: error_text(&e), forcible }));
            }
        }
    });
}
