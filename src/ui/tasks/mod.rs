//! The Maestro panel (right): the active project's tasks, their subtasks and the
//! sessions working on each task.
//!
//! - `panel.rs`: the panel — "new task", the filters, and the list.
//! - `feed.rs`: where the list's tasks come from (the first page, then the rest).
//! - `window.rs`: which rows of a long list exist (only those on screen).
//! - `row.rs`: one task's row; `details.rs`: what it expands to, built on demand, with its
//!   `subtasks.rs`, the sessions working on it (`sessions.rs`) and its git workspaces
//!   (`workspaces.rs`); `drawer.rs`: the same details for a task opened from the board.

mod details;
mod drawer;
mod feed;
mod panel;
mod row;
mod sessions;
mod subtasks;
mod window;
mod workspaces;

pub use drawer::TaskDrawer;
pub use panel::TaskPanel;
pub use row::sessions_title;
pub use window::Counts;
