//! What sessions' agents are doing (SPEC §9), where the person looks: a badge on a
//! session's row, and on its tasks' rows and board cards the most pressing of their
//! running sessions' states (one that waits for an answer first, with its question).

use super::state::use_tab;
use crate::model::*;
use leptos::prelude::*;

/// A state and what it asks or says.
pub type Said = (SessionState, Option<String>);

/// What session `s`'s agent is doing, while it runs.
pub fn session_said(s: &Session) -> Option<Said> {
    if s.status != SessionStatus::Running {
        return None;
    }
    s.state.map(|x| (x, s.state_message.clone()))
}

/// Which of two states the person should see first: needs input, then working, then idle.
fn rank(s: SessionState) -> u8 {
    match s {
        SessionState::NeedsInput => 0,
        SessionState::Working => 1,
        SessionState::Idle => 2,
    }
}

/// The badge: the state as people read it, and what it asks (in full on hover).
#[component]
pub fn StateBadge(#[prop(into)] said: Signal<Option<Said>>, #[prop(optional)] asks: bool) -> impl IntoView {
    // The row may go before this does (see `attention::Marker`): `try_get`.
    move || {
        said.try_get().flatten().map(|(st, message)| {
            let label =
                format!("agent {}{}", st.label(), message.as_ref().map(|a| format!(": {a}")).unwrap_or_default());
            let shown = message.clone().filter(|_| asks && st == SessionState::NeedsInput);
            view! {
                <span class=format!("badge state-{}", st.as_str()) title=message.unwrap_or_default() aria-label=label>
                    {st.label()}
                    {shown.map(|m| view! { <span class="asks">": " {m}</span> })}
                </span>
            }
        })
    }
}

/// The badge of a task's row or card: the most pressing state of its running sessions.
#[component]
pub fn TaskAgentState(task: Memo<Option<Task>>) -> impl IntoView {
    let ctx = use_tab();
    let said = Memo::new(move |_| {
        let ids = task.with(|t| t.as_ref().map(|t| t.session_ids.clone()))?;
        ctx.cache.with(|c| {
            ids.iter().filter_map(|id| c.session(id)).filter_map(session_said).min_by_key(|(st, _)| rank(*st))
        })
    });
    view! { <StateBadge said=said asks=true/> }
}
