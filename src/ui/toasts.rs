//! Toasts: short messages at the bottom of the page (errors, and what a destructive action
//! did, with Undo for a few seconds before it is carried out).

use super::state::{use_tab, Tab, Toast};
use leptos::prelude::*;

/// How long a destructive action waits for an Undo before it is carried out.
pub const UNDO_WINDOW: std::time::Duration = std::time::Duration::from_secs(5);

/// What the toasts' Undo buttons hold: per toast, what to do if the person lets it be
/// (commit) and if they press Undo. Closures of the browser's one thread: a thread-local
/// (the server, which renders on many threads, never has any).
#[derive(Default)]
struct Undos {
    next: u64,
    pending: std::collections::HashMap<u64, (Action, Action)>,
}

type Action = Box<dyn FnOnce()>;

thread_local! {
    static UNDOS: std::cell::RefCell<Undos> = Default::default();
}

/// Changes [`UNDOS`]; `None` (never a panic) if it is in use.
fn undos<R>(f: impl FnOnce(&mut Undos) -> R) -> Option<R> {
    UNDOS.with(|u| u.try_borrow_mut().ok().map(|mut u| f(&mut u)))
}

impl Tab {
    /// Shows an error for a few seconds.
    pub fn toast(self, text: impl Into<String>) {
        let id = self.toast_id();
        self.toasts.update(|t| t.push(Toast { id, text: text.into(), undo: false }));
        let gone = move || {
            self.toasts.try_update(|t| t.retain(|x| x.id != id));
        };
        set_timeout(gone, std::time::Duration::from_secs(6));
    }

    /// A fresh toast id (never one a pending timer still knows).
    fn toast_id(self) -> u64 {
        undos(|u| {
            u.next += 1;
            u.next
        })
        .unwrap_or_default()
    }

    /// A destructive action the person can take back: `text` says what was done, with
    /// Undo, for [`UNDO_WINDOW`]; then (or when the toast is dismissed) `commit` runs. Undo
    /// runs `undo` instead. The caller has already made it look done.
    pub fn with_undo(self, text: impl Into<String>, commit: impl FnOnce() + 'static, undo: impl FnOnce() + 'static) {
        let id = self.toast_id();
        undos(|u| u.pending.insert(id, (Box::new(commit), Box::new(undo))));
        self.toasts.update(|t| t.push(Toast { id, text: text.into(), undo: true }));
        set_timeout(move || self.end_toast(id, false), UNDO_WINDOW);
    }

    /// Ends toast `id`: an action waiting on it is undone (`undo`) or carried out.
    pub fn end_toast(self, id: u64, undo: bool) {
        self.toasts.try_update(|t| t.retain(|x| x.id != id));
        // Taken out before it runs: what it runs may start another.
        if let Some((commit, revert)) = undos(|u| u.pending.remove(&id)).flatten() {
            if undo {
                revert()
            } else {
                commit()
            }
        }
    }
}

/// The toasts on screen, each dismissable (an Undo toast offers Undo too).
#[component]
pub fn Toasts() -> impl IntoView {
    let ctx = use_tab();
    view! {
        <div class="toasts" aria-live="polite">
            <For each=move || ctx.toasts.get() key=|t| t.id let:t>
                <div class="toast" role="alert">
                    <span>{t.text.clone()}</span>
                    {t.undo.then(|| view! { <button on:click=move |_| ctx.end_toast(t.id, true)>"Undo"</button> })}
                    // Dismissing an Undo toast carries its action out now.
                    <button class="ghost" aria-label="Dismiss" on:click=move |_| ctx.end_toast(t.id, false)>"×"</button>
                </div>
            </For>
        </div>
    }
}
