//! The keyboard: global shortcuts, and the help overlay that lists them (`?`).

use super::browser::{focus_first, focus_id, focused_task, typing};
use super::on_demand::{on_demand, Part};
use super::state::use_tab;
use leptos::prelude::*;

/// The keyboard help overlay (`?`).
#[component]
pub fn Help() -> impl IntoView {
    let ctx = use_tab();
    view! {
        <Show when=move || ctx.show_help.get()>
            {on_demand!(help_view())}
        </Show>
    }
}

/// The help's contents, built on demand (see `on_demand`).
#[cfg_attr(
    maestro_split,
    leptos::wasm_split::wasm_split(help, wasm_split_path = ::leptos::wasm_split, fallible)
)]
fn help_view() -> Part {
    let ctx = use_tab();
    Ok(view! {
        <div class="overlay" role="dialog" aria-label="Keyboard shortcuts" aria-modal="true">
            <div class="dialog">
                <h2>"Keyboard shortcuts"</h2>
                <dl class="keys">
                    <dt><kbd>"n"</kbd></dt>
                    <dd>"New task"</dd>
                    <dt><kbd>"p"</kbd></dt>
                    <dd>"Choose project"</dd>
                    <dt><kbd>"/"</kbd></dt>
                    <dd>"Search tasks"</dd>
                    <dt><kbd>"f"</kbd></dt>
                    <dd>"Filter tasks by status"</dd>
                    <dt><kbd>"←"</kbd> " / " <kbd>"→"</kbd></dt>
                    <dd>"Move the focused card to the next column (board), or resize the focused splitter"</dd>
                    <dt><kbd>"j"</kbd> " / " <kbd>"k"</kbd></dt>
                    <dd>"Next / previous session in the Sessions pane"</dd>
                    <dt><kbd>"o"</kbd> " (" <kbd>"Enter"</kbd> " on a card)"</dt>
                    <dd>"Open the focused task (its row or card)"</dd>
                    <dt><kbd>"w"</kbd></dt>
                    <dd>"Work on the focused task (with the agent chosen last)"</dd>
                    <dt><kbd>"t"</kbd></dt>
                    <dd>"Focus the terminal"</dd>
                    <dt><kbd>"?"</kbd></dt>
                    <dd>"Show or hide this help"</dd>
                    <dt><kbd>"Esc"</kbd></dt>
                    <dd>"Close this help, a task opened from the board, or the ⚑ list"</dd>
                </dl>
                <button on:click=move |_| ctx.show_help.set(false)>"Close"</button>
            </div>
        </div>
    }
    .into_any())
}

/// Global shortcuts, ignored while typing in a field.
pub fn keyboard_shortcuts() {
    let ctx = use_tab();
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        // Handled already (a card's own Enter), or typed into a field.
        if ev.default_prevented() || typing(&ev) || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        match ev.key().as_str() {
            "?" => ctx.show_help.update(|h| *h = !*h),
            "Escape" => ctx.show_help.set(false),
            "n" => focus_id("new-task-title"),
            "p" => focus_id("project-picker"),
            "/" => focus_id("task-search"),
            "f" => focus_id("status-filter"),
            // In the Sessions pane's order; the focus follows, to the row.
            "j" | "k" => {
                let open = ctx.session_order.get_value();
                if open.is_empty() {
                    return;
                }
                let cur = ctx.active_session.get_untracked().and_then(|a| open.iter().position(|x| *x == a));
                let next = match (cur, ev.key().as_str()) {
                    (None, _) => 0,
                    (Some(i), "j") => (i + 1) % open.len(),
                    (Some(i), _) => (i + open.len() - 1) % open.len(),
                };
                if let Some(id) = open.get(next) {
                    ctx.active_session.set(Some(id.clone()));
                    request_animation_frame(|| focus_first(".pane.sessions li.session.active button.linkish"));
                }
            }
            "t" => focus_first("#panel-terminal textarea"),
            "o" => {
                // A card opens itself (and with Enter); a row expands.
                let Some(id) = focused_task() else { return };
                ctx.expanded.update(|e| {
                    e.insert(id.clone());
                });
                ctx.mark_seen([id]);
            }
            "w" => {
                let Some(task) = focused_task().and_then(|id| ctx.cache.with_untracked(|c| c.task(&id).cloned()))
                else {
                    return;
                };
                let agent = Some(ctx.last_agent.get_untracked()).filter(|a| !a.is_empty());
                ctx.work_on(&task, agent, None);
            }
            _ => return,
        }
        ev.prevent_default();
    });
    on_cleanup(move || handle.remove());
}
