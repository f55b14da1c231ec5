//! The totals a session row, a task row and a board card show: lines added and deleted,
//! and files changed, from the cached workspaces only (no fetch per row). In the main wasm:
//! rows are always there, the Changes view is not.

use crate::model::ChangeSummary;
use crate::ui::state::use_tab;
use leptos::prelude::*;

/// A task's totals (its newest active workspace's, and how many active ones it has), woken
/// by changes to that task's workspaces alone, so a list of 10,000 rows costs one wake-up
/// per workspace event.
pub fn task_totals(id: StoredValue<String>) -> Memo<Option<(ChangeSummary, usize)>> {
    let ctx = use_tab();
    Memo::new(move |_| {
        let id = id.get_value();
        ctx.cache.track_task(&id);
        ctx.cache.with_untracked(|c| c.task_changes(&id))
    })
}

/// The badge: "+A −D · N files", nothing while nothing changed; `whose` says in the title
/// which workspace the numbers are of.
pub fn badge(
    summary: impl Fn() -> Option<ChangeSummary> + Copy + Send + Sync + 'static,
    whose: impl Fn() -> String + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let shown = move || summary().filter(|s| s.files > 0 || s.dirty);
    move || {
        shown().map(|s| {
            let title = format!(
                "{} {}: {} lines added, {} deleted ({})",
                s.files,
                if s.files == 1 { "file changed" } else { "files changed" },
                s.additions,
                s.deletions,
                whose()
            );
            view! {
                <span class="badge changes" title=title.clone() aria-label=title>
                    <span class="add">{format!("+{}", s.additions)}</span>
                    " "
                    <span class="del">{format!("−{}", s.deletions)}</span>
                    {format!(" · {} {}", s.files, if s.files == 1 { "file" } else { "files" })}
                </span>
            }
        })
    }
}

/// What a task's badge says its numbers are of.
pub fn task_whose(active: usize) -> String {
    match active {
        1 => "its workspace".to_string(),
        n => format!("its newest active workspace, of {n}"),
    }
}
