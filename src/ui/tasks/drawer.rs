//! A task opened from the board (a click or Enter on its card): the same details the
//! list's row expands to (`details.rs`, built on demand), in a panel over the board's
//! right side, so that the columns keep their room.

use super::details::details_view;
use crate::ui::on_demand::on_demand;
use crate::ui::state::use_tab;
use leptos::prelude::*;

/// The open task's panel; Esc or "Close" closes it (`closed` gives the focus back to
/// where it came from). It closes by itself when the task goes (deleted here or elsewhere).
#[component]
pub fn TaskDrawer(id: String, #[prop(into)] closed: Callback<()>) -> impl IntoView {
    let ctx = use_tab();
    let id = StoredValue::new(id);
    let task = Memo::new(move |_| {
        let id = &id.get_value();
        ctx.cache.task(id)
    });
    let gone = Memo::new(move |_| task.with(Option::is_none));
    Effect::new(move |_| {
        if gone.get() {
            closed.run(());
        }
    });
    let title = move || task.with(|t| t.as_ref().map(|t| t.title.clone()).unwrap_or_default());
    let status = move || task.with(|t| t.as_ref().map(|t| t.status).unwrap_or_default());
    let close_button = NodeRef::<leptos::html::Button>::new();
    // Opened from the keyboard or the mouse: the focus moves in, so Tab reaches its fields.
    Effect::new(move |_| {
        if let Some(b) = close_button.get() {
            request_animation_frame(move || drop(b.focus()));
        }
    });
    view! {
        <aside
            class="drawer"
            role="dialog"
            aria-label=move || format!("Task {}", title())
            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                if ev.key() == "Escape" {
                    ev.stop_propagation();
                    closed.run(());
                }
            }
        >
            <header class="row">
                <h2 class="drawer-title" title=title>{title}</h2>
                <span class=move || format!("badge status-{}", status().as_str())>
                    {move || status().as_str().replace('_', " ")}
                </span>
                <span class="spacer"></span>
                <button node_ref=close_button class="ghost" aria-label="Close task" title="Close (Esc)"
                    on:click=move |_| closed.run(())>
                    "×"
                </button>
            </header>
            {
                let id = id.get_value();
                on_demand!(details_view(id))
            }
        </aside>
    }
}
