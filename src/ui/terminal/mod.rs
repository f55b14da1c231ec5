//! The centre pane: the active session's terminal, drawn by xterm.js (`xterm.rs`, the
//! bridge to it) and attached to the session's shell on the server; for a session in a
//! workspace, a "Changes" tab beside it (`tabs.rs`; the view is `ui::changes`).

mod tabs;
mod xterm;

use crate::api::functions::*;
use crate::model::*;
use crate::ui::changes::changes_view;
use crate::ui::on_demand::on_demand;
use crate::ui::state::{is_plain_terminal, use_tab};
use leptos::prelude::*;

/// The centre pane: the active session's terminal (a real shell on the server).
#[component]
pub fn TerminalPane() -> impl IntoView {
    let ctx = use_tab();
    let session = Memo::new(move |_| {
        let id = ctx.active_session.get()?;
        ctx.cache.with(|c| c.session(&id).cloned())
    });
    let host: NodeRef<leptos::html::Div> = NodeRef::new();
    // What the terminal view attaches to: a plain terminal at once, a session once it
    // exists and while it runs (an ended session's shell is not started again). A view
    // already showing a session stays when it ends, so that its last output (what the
    // agent said as it finished) can be read.
    let target = Memo::new(move |shown: Option<&Option<String>>| {
        let id = ctx.active_session.get()?;
        let ok = is_plain_terminal(&id)
            || ctx.cache.with(|c| c.session(&id).is_some_and(|s| s.status == SessionStatus::Running))
            || shown.is_some_and(|s| s.as_deref() == Some(id.as_str()));
        ok.then_some(id)
    });
    let ended = move || session.with(|s| s.as_ref().is_some_and(|s| s.status != SessionStatus::Running));
    let workspace = Memo::new(move |_| session.with(|s| s.as_ref().and_then(|s| s.workspace_id.clone())));
    let tabs = tabs::state(workspace);
    let changes_open = tabs.changes;
    xterm::attach(target, host);
    // An ended session not watched as it ended: what its terminal printed, kept on the
    // server (SPEC §9), read-only.
    let kept_host: NodeRef<leptos::html::Div> = NodeRef::new();
    let kept =
        Memo::new(move |_| target.get().is_none().then(|| ctx.active_session.get()).flatten().filter(|_| ended()));
    xterm::replay(kept, kept_host);
    let exit_code = move || session.with(|s| s.as_ref().and_then(|s| s.exit_code));
    let set_status = move |status: SessionStatus| {
        let Some(s) = session.get_untracked() else { return };
        let patch = SessionPatch { status: Some(status), ..Default::default() };
        ctx.mutate(s.id.clone(), move |s| s.status = status, update_session(s.id.clone(), patch));
        // The person ended it here: nothing to draw their attention to.
        ctx.mark_seen([s.id]);
    };
    view! {
        <section class="pane terminal" aria-label="Terminal">
            {move || match (ctx.active_session.get(), session.get()) {
                (None, _) => view! { <p class="empty">"Open a session, or a new terminal, to see it here."</p> }.into_any(),
                (Some(_), None) => view! { <header class="row"><h2>"Terminal"</h2></header> }.into_any(),
                (Some(_), Some(s)) => {
                    view! {
                        <header class="row">
                            <h2 title=s.name.clone()>{s.name.clone()}</h2>
                            <span class=format!("badge status-{}", s.status.as_str())>{s.status.as_str()}</span>
                            {s.exit_code.map(|c| view! { <span class="muted exit-code">{format!("exit code {c}")}</span> })}
                            <span class="spacer"></span>
                            // Only a running session can be ended by hand.
                            {(s.status == SessionStatus::Running).then(|| view! {
                                <button class="ghost" on:click=move |_| set_status(SessionStatus::Completed)>"Mark completed"</button>
                                <button class="ghost" on:click=move |_| set_status(SessionStatus::Failed)>"Mark failed"</button>
                            })}
                        </header>
                        {timeline(&s.timeline)}
                        <details class="env">
                            <summary>"Environment"</summary>
                            <dl aria-label="Session environment">
                                {s.env
                                    .iter()
                                    .map(|(k, v)| view! { <dt>{k.clone()}</dt> <dd><code>{v.clone()}</code></dd> })
                                    .collect_view()}
                            </dl>
                        </details>
                    }
                        .into_any()
                }
            }}
            {tabs::tabs(workspace, tabs)}
            <Show when=move || {
                ctx.active_session.get().is_some() && (target.get().is_none() || ended()) && !changes_open.get()
            }>
                <p class="muted">
                    {move || match (target.get(), exit_code()) {
                        (None, Some(c)) => format!("This session has ended (its process exited with code {c}); what it printed is kept below."),
                        (None, None) => "This session has ended; what its terminal printed is kept below.".to_string(),
                        (Some(_), _) => "This session has ended; its last output stays below until you leave it.".to_string(),
                    }}
                </p>
            </Show>
            <div class="xterm-host" id="panel-terminal" node_ref=host role="group" aria-label="Terminal screen"
                class:hidden=move || target.get().is_none() || changes_open.get()></div>
            <div class="xterm-host" node_ref=kept_host role="group" aria-label="Kept output"
                class:hidden=move || kept.get().is_none() || changes_open.get()></div>
            <Show when=move || tabs.kept.get()>
                <div class="changes-host" class:hidden=move || !changes_open.get()>
                    {move || workspace.get().map(|id| on_demand!(changes_view(id)))}
                </div>
            </Show>
        </section>
    }
}

/// A session's timeline (`maestro session log`, SPEC §9): its last line, and all of them,
/// newest first, when opened. Times in UTC, as the CLI prints them.
fn timeline(lines: &[TimelineLine]) -> Option<impl IntoView + use<>> {
    let hhmm = |at: Millis| {
        let s = (at / 1000).rem_euclid(86_400);
        format!("{:02}:{:02}", s / 3600, s / 60 % 60)
    };
    let last = lines.last()?;
    let all = lines
        .iter()
        .rev()
        .map(|l| view! { <li><time title="UTC">{hhmm(l.at)}</time> " " {l.text.clone()}</li> })
        .collect_view();
    Some(view! {
        <details class="timeline">
            <summary title="What its agent said it did (maestro session log)">
                <time title="UTC">{hhmm(last.at)}</time> " " {last.text.clone()}
            </summary>
            <ol aria-label="Timeline">{all}</ol>
        </details>
    })
}
