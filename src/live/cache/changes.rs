//! What changed since the UI last asked.

/// What changed since the UI last asked ([`Cache::take_changes`]), so that it tells only
/// what shows those: applying an event costs the same however many tasks there are.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    /// Tasks stored, replaced or removed (a row shows each).
    pub tasks: Vec<String>,
    /// Tasks whose workspaces changed (their rows show the totals).
    pub workspace_tasks: Vec<String>,
    /// Every task may have changed (a resync).
    pub all_tasks: bool,
    /// A project's task list changed its members, order or counts.
    pub lists: bool,
    /// Anything else: projects, sessions, which lists are loaded, flags.
    pub other: bool,
    /// Ids flagged by an event (a session that ended, a task that became blocked): what
    /// a notification tells. Loads and the tab's own edits raise nothing here.
    pub raised: Vec<String>,
    /// Ids no longer flagged (unblocked, deleted): looking at them again starts over.
    pub lowered: Vec<String>,
}
