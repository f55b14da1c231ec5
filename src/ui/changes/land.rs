//! Landing a session's workspace from its Changes tab (SPEC §8 "Landing"): commit everything
//! (the task's title as the default message), merge into base (the project's strategy, or
//! the other), rebase, push, and "Open pull request" where the `gh` of the server holding
//! the workspace can. What moves a branch others see or rewrites one asks first; a refusal
//! says git's reason, and a merge that would conflict lists the files and offers "Rebase"
//! and "Resolve with agent".

use crate::api::functions::{
    commit_workspace, create_session, error_text, merge_workspace, open_pull_request, pull_requests_offered,
    push_workspace, rebase_workspace,
};
use crate::model::*;
use crate::ui::browser::spawn;
use crate::ui::state::{use_tab, Tab};
use leptos::prelude::*;

/// A landing step the person asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Step {
    Commit,
    Merge(MergeStrategy),
    Rebase,
    Push,
    PullRequest,
}

impl Step {
    /// The question asked before the step, for those that change what others see (`remote`:
    /// where a push goes, when known).
    fn question(self, w: &Workspace, remote: Option<&str>) -> Option<String> {
        let (branch, base) = (&w.branch, &w.base);
        match self {
            Step::Commit => None,
            Step::Merge(MergeStrategy::Merge) => Some(format!("Merge {branch} into {base} with a merge commit?")),
            Step::Merge(MergeStrategy::Squash) => Some(format!("Merge {branch} into {base} as one squashed commit?")),
            Step::Rebase => Some(format!("Rebase {branch} onto {base}? Its commits are rewritten on top of {base}.")),
            Step::Push => Some(format!("Push {branch} to {}?", remote.unwrap_or("the repository's remote"))),
            Step::PullRequest => Some(format!("Push {branch} and open a pull request on GitHub?")),
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Step::Commit => "Commit",
            Step::Merge(_) => "Merge",
            Step::Rebase => "Rebase",
            Step::Push => "Push",
            Step::PullRequest => "Open it",
        }
    }
}

/// What the last step came to.
#[derive(Clone, Debug, PartialEq)]
enum Said {
    Done(String),
    /// Refused: the reason, and the conflicting files of a merge.
    Refused {
        message: String,
        files: Vec<String>,
        merging: bool,
    },
}

/// Where the commit message typed for workspace `id` is kept (`Tab::typed`).
fn commit_key(id: &str) -> String {
    format!("commit:{id}")
}

/// The landing bar of workspace `ws` (nothing while it is unknown).
pub fn bar(ws: Memo<Option<Workspace>>) -> impl IntoView {
    let ctx = use_tab();
    let title = Memo::new(move |_| {
        let task = ws.with(|w| w.as_ref().map(|w| w.task_id.clone()))?;
        ctx.cache.with(|c| c.task(&task).map(|t| t.title.clone()))
    });
    let default_strategy = Memo::new(move |_| {
        let project = ws.with(|w| w.as_ref().map(|w| w.project_id.clone()));
        project.and_then(|p| ctx.cache.with(|c| c.project(&p).map(|p| p.merge_strategy))).unwrap_or_default()
    });
    // `None`: the task's title, until the person types (what was typed outlives the view).
    let message = RwSignal::new(None::<String>);
    let chosen = RwSignal::new(None::<MergeStrategy>);
    let strategy = move || chosen.get().unwrap_or_else(|| default_strategy.get());
    let asking = RwSignal::new(None::<Step>);
    let busy = RwSignal::new(false);
    let said = RwSignal::new(None::<Said>);
    // What the server holding the workspace can do: push (to which remote), open a pull
    // request. Unknown (not asked yet, or that server unreachable): Push as ever, no PR.
    let offers = RwSignal::new(None::<PullRequests>);
    let ws_id = Memo::new(move |_| ws.with(|w| w.as_ref().map(|w| w.id.clone())));
    // Asks again; then `then` with the answer, if still the workspace shown.
    let ask_offers = move |id: String, then: Box<dyn FnOnce(Option<PullRequests>)>| {
        spawn(async move {
            let answer = pull_requests_offered(id.clone()).await.ok();
            // Still the workspace shown (another may have come meanwhile).
            if ws_id.try_get_untracked().flatten().as_deref() == Some(id.as_str()) {
                offers.try_set(answer.clone());
                then(answer);
            }
        });
    };
    let typed_key = move || ws_id.get_untracked().map(|id| commit_key(&id));
    Effect::new(move |_| {
        let key = ws_id.get().map(|id| commit_key(&id));
        message.set(key.and_then(|k| ctx.typed(&k)));
    });
    Effect::new(move |_| {
        offers.set(None);
        let Some(id) = ws_id.get() else { return };
        ask_offers(id, Box::new(|_| {}));
    });
    let remote = move || offers.with(|o| o.as_ref().and_then(|o| o.remote.clone()));
    let push_refused = move || offers.with(|o| o.as_ref().and_then(|o| o.push_refused.clone()));
    let pull_requests = move || offers.with(|o| o.as_ref().is_some_and(|o| o.available));
    let run = move |step: Step| {
        let Some(w) = ws.get_untracked() else { return };
        asking.set(None);
        said.set(None);
        busy.set(true);
        let typed = message.get_untracked().unwrap_or_else(|| title.get_untracked().unwrap_or_default());
        let sent_message = message.get_untracked();
        let text = (!typed.trim().is_empty()).then_some(typed);
        let w_id = w.id.clone();
        spawn(async move {
            let done = land(ctx, &w, step, text).await;
            busy.try_set(false);
            match done {
                Ok(words) => {
                    // The message goes once used, unless more was typed meanwhile.
                    let key = commit_key(&w_id);
                    if step == Step::Commit && ctx.typed(&key) == sent_message {
                        message.try_set(None);
                        ctx.keep_typed(key, None);
                    }
                    said.try_set(Some(Said::Done(words)));
                }
                Err(e) => {
                    let merging = matches!(step, Step::Merge(_));
                    said.try_set(Some(Said::Refused { message: error_text(&e), files: e.files, merging }));
                }
            }
        });
    };
    let ask = move |step: Step| {
        let question = ws.with_untracked(|w| w.as_ref().and_then(|w| step.question(w, None)));
        match question {
            Some(_) => asking.set(Some(step)),
            None => run(step),
        }
    };
    // Push where it was refused: asked again (a remote may have been added since), then the
    // question, or the reason at once.
    let push = move |_| {
        if offers.with_untracked(|o| o.as_ref().is_none_or(|o| o.push_refused.is_none())) {
            return ask(Step::Push);
        }
        let Some(id) = ws_id.get_untracked() else { return };
        said.set(None);
        ask_offers(
            id,
            Box::new(move |answer| match answer.and_then(|a| a.push_refused) {
                Some(message) => {
                    said.try_set(Some(Said::Refused { message, files: Vec::new(), merging: false }));
                }
                None => ask(Step::Push),
            }),
        );
    };
    let base = move || ws.with(|w| w.as_ref().map(|w| w.base.clone()).unwrap_or_default());
    let active = move || ws.with(|w| w.as_ref().is_some_and(|w| w.status == WorkspaceStatus::Active));
    let dirty = move || ws.with(|w| w.as_ref().is_some_and(|w| w.changes.dirty));
    view! {
        <Show when=active fallback=move || view! { <p class="muted land">{move || ws.with(|w| w.as_ref().map(|w| format!("This workspace is {}.", w.status.as_str())))}</p> }>
            <form class="land" aria-label="Land this workspace" on:submit=move |ev| {
                ev.prevent_default();
                ask(Step::Commit)
            }>
                <input
                    aria-label="Commit message"
                    placeholder="Commit message"
                    prop:value=move || message.get().or_else(|| title.get()).unwrap_or_default()
                    on:input=move |ev| {
                        let typed = event_target_value(&ev);
                        if let Some(key) = typed_key() {
                            ctx.keep_typed(key, Some(typed.clone()));
                        }
                        message.set(Some(typed));
                    }
                />
                <button type="submit" disabled=move || busy.get() || !dirty() title="Commit everything in the workspace">
                    "Commit"
                </button>
                <select
                    aria-label="Merge strategy"
                    prop:value=move || strategy().as_str()
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        chosen.set(MergeStrategy::ALL.into_iter().find(|m| m.as_str() == v));
                    }
                >
                    <option value="merge">"merge commit"</option>
                    <option value="squash">"squash"</option>
                </select>
                <button type="button" disabled=move || busy.get() on:click=move |_| ask(Step::Merge(strategy()))>
                    {move || format!("Merge into {}", base())}
                </button>
                <button type="button" class="ghost" disabled=move || busy.get() on:click=move |_| ask(Step::Rebase)>
                    {move || format!("Rebase onto {}", base())}
                </button>
                <button type="button" class="ghost" class:unavailable=move || push_refused().is_some()
                    disabled=move || busy.get() on:click=push
                    title=move || push_refused().unwrap_or_else(|| match remote() {
                        Some(r) => format!("Push the branch to {r}"),
                        None => "Push the branch to the repository's remote".into(),
                    })>
                    "Push"
                </button>
                <Show when=pull_requests>
                    <button type="button" class="ghost" disabled=move || busy.get() on:click=move |_| ask(Step::PullRequest)>
                        "Open pull request"
                    </button>
                </Show>
            </form>
        </Show>
        {move || {
            let step = asking.get()?;
            let question = ws.with(|w| w.as_ref().and_then(|w| step.question(w, remote().as_deref())))?;
            Some(view! {
                <p class="land-ask" role="group" aria-label="Confirm">
                    {question} " "
                    <button type="button" on:click=move |_| run(step)>{format!("Yes, {}", step.verb().to_lowercase())}</button>
                    " "
                    <button type="button" class="ghost" on:click=move |_| asking.set(None)>"Cancel"</button>
                </p>
            })
        }}
        {move || busy.get().then(|| view! { <p class="muted" role="status">"Working…"</p> })}
        {move || said.get().map(|s| said_view(ctx, ws, s, ask))}
    }
}

/// What the last step came to; for a conflicting merge or rebase, its files and the ways
/// out (`ask`: a step, asked first as from the bar).
fn said_view(ctx: Tab, ws: Memo<Option<Workspace>>, said: Said, ask: impl Fn(Step) + Copy + 'static) -> AnyView {
    match said {
        Said::Done(words) => view! { <p class="land-done" role="status">{words}</p> }.into_any(),
        Said::Refused { message, files, merging } => {
            let conflicts = !files.is_empty();
            let names = files.clone();
            view! {
                <div class="error land-refused" role="alert">
                    <p>{message}</p>
                    {conflicts
                        .then(|| {
                            view! {
                                <ul aria-label="Conflicting files">
                                    {files.into_iter().map(|f| view! { <li><code>{f}</code></li> }).collect_view()}
                                </ul>
                                {merging.then(|| view! {
                                    <button type="button" on:click=move |_| ask(Step::Rebase)>
                                        {move || ws.with(|w| w.as_ref().map(|w| format!("Rebase onto {} first", w.base)))}
                                    </button>
                                    " "
                                })}
                                <button type="button" on:click=move |_| resolve_with_agent(ctx, ws, names.clone())>
                                    "Resolve with agent"
                                </button>
                            }
                        })}
                </div>
            }
            .into_any()
        }
    }
}

/// Runs `step` on `w`; what to tell the person when it is done.
async fn land(ctx: Tab, w: &Workspace, step: Step, message: Option<String>) -> Result<String, FnError> {
    let id = w.id.clone();
    let changed = match step {
        Step::Commit => commit_workspace(id, message).await?,
        Step::Merge(s) => merge_workspace(id, s, None).await?,
        Step::Rebase => rebase_workspace(id).await?,
        Step::Push => push_workspace(id).await?,
        Step::PullRequest => return Ok(format!("Pull request opened: {}", open_pull_request(id).await?.url)),
    };
    ctx.cache.update(|c| c.confirm(&changed));
    Ok(match step {
        Step::Commit => format!("Committed on {}.", changed.branch),
        Step::Merge(_) => format!("Merged into {}.", changed.base),
        Step::Rebase => format!("Rebased onto {}.", changed.base),
        _ => format!("Pushed {}.", changed.branch),
    })
}

/// "Resolve with agent": a session on the workspace whose prompt names the conflicting files
/// (SPEC §8), opened here as "Work on task" opens one.
fn resolve_with_agent(ctx: Tab, ws: Memo<Option<Workspace>>, files: Vec<String>) {
    let Some(w) = ws.get_untracked() else { return };
    // The agent that worked there last, else the one "Work on task" ran last.
    let agent = ctx
        .cache
        .with_untracked(|c| {
            let mut here = c.task_sessions(&w.task_id).unwrap_or_default();
            here.retain(|s| s.workspace_id.as_deref() == Some(w.id.as_str()) && s.agent_id.is_some());
            here.into_iter().max_by_key(|s| s.started_at).and_then(|s| s.agent_id)
        })
        .or_else(|| Some(ctx.last_agent.get_untracked()).filter(|a| !a.is_empty()));
    let prompt = format!(
        "Merging {} into {} conflicts in these files:\n{}\nRebase {} onto {} (git rebase {}), resolve the \
         conflicts keeping both sides' intent, run the tests, and commit.",
        w.branch,
        w.base,
        files.iter().map(|f| format!("- {f}")).collect::<Vec<_>>().join("\n"),
        w.branch,
        w.base,
        w.base
    );
    let new = NewSession {
        id: Some(crate::ui::browser::client_id("sess")),
        project_id: w.project_id.clone(),
        task_ids: vec![w.task_id.clone()],
        name: Some(format!("Resolve conflicts in {}", w.branch).chars().take(200).collect()),
        agent_id: agent,
        workspace: Some(w.id.clone()),
        prompt: Some(prompt),
    };
    spawn(async move {
        match create_session(new).await {
            Ok(s) => {
                ctx.cache.update(|c| c.confirm(&s));
                ctx.open_session(s.id);
            }
            Err(e) => ctx.toast(error_text(&e)),
        }
    });
}
