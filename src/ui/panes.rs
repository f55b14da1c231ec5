//! The panes' widths: a splitter between the sessions pane and the terminal, and one
//! between the terminal and the task panel. Drag one, or focus it and press ← / → (Home
//! puts the default back); the widths are kept per browser (`Tab::panes`). The board
//! takes the terminal's room and the task panel's together, so it has no splitter of its own.

use super::browser::{capture_pointer, width_of, window_width};
use super::state::{use_tab, Panes};
use leptos::prelude::*;

/// Narrowest a side pane may be made, in pixels.
const MIN_PX: f64 = 180.0;
/// What one arrow key press moves a splitter by.
const STEP_PX: f64 = 24.0;

/// Which splitter: the one right of the sessions pane, or the one left of the task panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

/// The `.panes` grid's custom properties for the widths set (the CSS has the defaults).
pub fn grid_style(p: Panes) -> String {
    let right = p.right;
    let mut s = String::new();
    if let Some(w) = p.left {
        s.push_str(&format!("--left: {};", super::px(w)));
    }
    if let Some(w) = right {
        s.push_str(&format!("--right: {};", super::px(w)));
    }
    s
}

/// A width kept within what leaves the terminal room (`window`: the window's width).
fn clamp(w: f64, window: f64) -> f64 {
    w.min(window * 0.7).max(MIN_PX).round()
}

#[component]
pub fn Splitter(side: Side) -> impl IntoView {
    let ctx = use_tab();
    let width = move || {
        let p = ctx.panes.get();
        match side {
            Side::Left => p.left,
            Side::Right => p.right,
        }
    };
    let set = move |w: Option<f64>| {
        let w = w.map(|w| clamp(w, window_width()));
        ctx.panes.update(|p| match side {
            Side::Left => p.left = w,
            Side::Right => p.right = w,
        });
    };
    // While dragging: where the pointer and the pane's width started.
    let start = StoredValue::new(None::<(f64, f64)>);
    // Moving right widens the left pane and narrows the right one.
    let sign = if side == Side::Left { 1.0 } else { -1.0 };
    let label = match side {
        Side::Left => "Resize the sessions pane",
        Side::Right => "Resize the task panel",
    };
    view! {
        <div
            class=match side {
                Side::Left => "splitter left",
                Side::Right => "splitter right",
            }
            role="separator"
            aria-orientation="vertical"
            aria-label=label
            aria-valuenow=move || width().map(|w| (w.round() as i64).to_string())
            tabindex="0"
            title="Drag to resize (← / → with the keyboard, Home for the default)"
            on:pointerdown=move |ev: leptos::ev::PointerEvent| {
                if let Some(w) = current_width(side) {
                    start.set_value(Some((ev.client_x() as f64, w)));
                    capture_pointer(&ev);
                    ev.prevent_default();
                }
            }
            on:pointermove=move |ev: leptos::ev::PointerEvent| {
                if let Some((x, w)) = start.get_value() {
                    set(Some(w + sign * (ev.client_x() as f64 - x)));
                }
            }
            on:pointerup=move |_| start.set_value(None)
            on:pointercancel=move |_| start.set_value(None)
            on:dblclick=move |_| set(None)
            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                let now = || width().unwrap_or_else(|| current_width(side).unwrap_or(MIN_PX));
                match ev.key().as_str() {
                    "ArrowRight" => set(Some(now() + sign * STEP_PX)),
                    "ArrowLeft" => set(Some(now() - sign * STEP_PX)),
                    "Home" => set(None),
                    _ => return,
                }
                ev.prevent_default();
            }
        ></div>
    }
}

/// The width on screen of the pane a splitter resizes.
fn current_width(side: Side) -> Option<f64> {
    width_of(if side == Side::Left { ".pane.sessions" } else { ".pane.maestro" })
}
