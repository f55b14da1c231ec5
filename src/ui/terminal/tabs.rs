//! "Terminal" | "Changes (N)": the tabs of a session that works in a workspace. A tab
//! list as the ARIA pattern has it: one tab in the Tab order, arrows and Home/End move
//! between them and show the one they reach.

use crate::ui::state::use_tab;
use leptos::html::Button;
use leptos::prelude::*;

/// Which tab shows: the person's choice, and `changes`: whether that is the Changes tab,
/// only ever while the active session has a workspace.
#[derive(Clone, Copy)]
pub struct Tabs {
    chosen: RwSignal<bool>,
    pub changes: Memo<bool>,
    /// The Changes tab was shown for this session: its view stays (hidden behind the
    /// terminal), so going back finds the same file open at the same line.
    pub kept: RwSignal<bool>,
}

/// The tabs' state; another session opens on its terminal.
pub fn state(workspace: Memo<Option<String>>) -> Tabs {
    let ctx = use_tab();
    let (chosen, kept) = (RwSignal::new(false), RwSignal::new(false));
    Effect::new(move |prev: Option<Option<String>>| {
        let now = ctx.active_session.get();
        if prev.is_some_and(|p| p != now) {
            chosen.set(false);
            kept.set(false);
        }
        now
    });
    let changes = Memo::new(move |_| chosen.get() && workspace.with(Option::is_some));
    Effect::new(move |_| {
        if changes.get() {
            kept.set(true);
        }
    });
    Tabs { chosen, changes, kept }
}

/// The tab list, for a session with a workspace (nothing otherwise).
pub fn tabs(workspace: Memo<Option<String>>, Tabs { chosen, changes: open, .. }: Tabs) -> impl IntoView {
    let ctx = use_tab();
    let files = move || {
        let id = workspace.get()?;
        ctx.cache.with(|c| c.workspace(&id).map(|w| w.changes.files))
    };
    let (terminal, changes) = (NodeRef::<Button>::new(), NodeRef::<Button>::new());
    let show = move |to_changes: bool| {
        chosen.set(to_changes);
        if let Some(b) = if to_changes { changes.get_untracked() } else { terminal.get_untracked() } {
            let _ = b.focus();
        }
    };
    let keys = move |ev: leptos::ev::KeyboardEvent| {
        let to = match ev.key().as_str() {
            "ArrowRight" | "ArrowLeft" => !open.get_untracked(),
            "Home" => false,
            "End" => true,
            _ => return,
        };
        ev.prevent_default();
        show(to);
    };
    let tab = move |changes_tab: bool| move || (open.get() == changes_tab).to_string();
    let index = move |changes_tab: bool| move || if open.get() == changes_tab { "0" } else { "-1" };
    view! {
            <Show when=move || workspace.with(Option::is_some)>
                <div class="tabs" role="tablist" aria-label="Session view" on:keydown=keys>
                    <button role="tab" id="tab-terminal" node_ref=terminal aria-controls="panel-terminal"
                        aria-selected=tab(false) tabindex=index(false) on:click=move |_| show(false)>
                        "Terminal"
                    </button>
                    <button role="tab" id="tab-changes" node_ref=changes aria-controls="panel-changes"
                        aria-selected=tab(true) tabindex=index(true) on:click=move |_| show(true)>
                        {move || match files() {
                            Some(n) => format!("Changes ({n})"),
                            None => "Changes".to_string(),
                        }}
                    </button>
                </div>
            </Show>
    }
}
