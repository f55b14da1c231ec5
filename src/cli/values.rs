//! The words the command line takes for a status, a priority or a switch, refused with the list of
//! the ones it knows.

use crate::model::{MergeStrategy, Priority, SessionState, SessionStatus, TaskStatus, WorkspaceStatus};

pub(super) fn task_status(s: &str) -> Result<TaskStatus, String> {
    TaskStatus::parse(s).ok_or_else(|| one_of(TaskStatus::ALL.map(|v| v.as_str())))
}

pub(super) fn session_status(s: &str) -> Result<SessionStatus, String> {
    SessionStatus::parse(s).ok_or_else(|| one_of(SessionStatus::ALL.map(|v| v.as_str())))
}

pub(super) fn workspace_status(s: &str) -> Result<WorkspaceStatus, String> {
    WorkspaceStatus::parse(s).ok_or_else(|| one_of(WorkspaceStatus::ALL.map(|v| v.as_str())))
}

pub(super) fn session_state(s: &str) -> Result<SessionState, String> {
    SessionState::parse(s).ok_or_else(|| one_of(["working", "needs-input", "idle"]))
}

pub(super) fn merge_strategy(s: &str) -> Result<MergeStrategy, String> {
    MergeStrategy::ALL
        .into_iter()
        .find(|m| m.as_str() == s)
        .ok_or_else(|| one_of(MergeStrategy::ALL.map(|m| m.as_str())))
}

pub(super) fn priority(s: &str) -> Result<Priority, String> {
    Priority::parse(s).ok_or_else(|| one_of(Priority::ALL.map(|v| v.as_str())))
}

fn one_of<const N: usize>(words: [&str; N]) -> String {
    format!("expected one of: {}", words.join(", "))
}

/// `on` or `off` (a project's isolation).
pub(super) fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(one_of(["on", "off"])),
    }
}
