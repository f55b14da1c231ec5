//! What the windowed lists (the task list, each board column) share: a scroller that
//! knows which part of it is on screen.

use leptos::prelude::*;

/// A windowed list's scroller: its element, and what measures where its visible part
/// starts (`top`) and how tall it is (`height`, at least `min`) — on mount, on window
/// resizes while it lives, and wherever the caller adds (its scroll events).
pub fn scroll_view(
    top: RwSignal<f64>,
    height: RwSignal<f64>,
    min: f64,
) -> (NodeRef<leptos::html::Div>, impl Fn() + Copy + 'static) {
    let scroller = NodeRef::<leptos::html::Div>::new();
    let measure = move || {
        if let Some(el) = scroller.try_get_untracked().flatten() {
            top.try_set(el.scroll_top() as f64);
            height.try_set((el.client_height() as f64).max(min));
        }
    };
    Effect::new(move |_| {
        if scroller.get().is_some() {
            measure();
        }
    });
    let resized = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resized.remove());
    (scroller, measure)
}
