//! Node ownership: which node runs a session's terminal (several nodes on one database),
//! and what happens to its sessions when it dies.

use super::plan::{touch_session, Inputs, Plan};
use super::State;
use crate::model::{EventData, Session, SessionStatus};
use crate::store::{Outcome, StoreError};

impl State {
    /// The node that will run a session's terminal: the first to ask. Asking again is
    /// fine; another node asking is told which one has it (`Conflict`).
    pub(super) fn claim_terminal(&self, id: &str, node: &str, ctx: &mut Inputs<'_>) -> Result<Plan, StoreError> {
        let old = self.session(id)?;
        match &old.node {
            Some(n) if n == node => Ok(Plan::unchanged(Outcome::Session(old.clone()))),
            Some(n) => Err(StoreError::Conflict(format!("session {id}'s terminal runs on node {n}"))),
            None => {
                let mut s = old.clone();
                s.node = Some(node.to_string());
                touch_session(&mut s, ctx);
                Ok(Plan { events: vec![EventData::SessionUpdated(s.clone())], outcome: Outcome::Session(s) })
            }
        }
    }

    /// A node has died: the sessions whose terminals it ran, and that had not ended, failed.
    pub(super) fn fail_node(&self, node: &str, ctx: &mut Inputs<'_>) -> Plan {
        let mut gone: Vec<&Session> = self
            .sessions
            .values()
            .filter(|s| s.status == SessionStatus::Running && s.node.as_deref() == Some(node))
            .collect();
        gone.sort_by(|a, b| a.id.cmp(&b.id));
        let events = gone
            .into_iter()
            .map(|s| {
                let mut s = s.clone();
                s.status = SessionStatus::Failed;
                s.completed_at = Some(ctx.now);
                touch_session(&mut s, ctx);
                EventData::SessionUpdated(s)
            })
            .collect();
        Plan { events, outcome: Outcome::Deleted }
    }

    /// Whether any session still running has its terminal on `node`.
    pub fn runs_on(&self, node: &str) -> bool {
        self.sessions.values().any(|s| s.status == SessionStatus::Running && s.node.as_deref() == Some(node))
    }
}
