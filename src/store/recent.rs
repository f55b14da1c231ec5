//! The newest committed events, kept in memory (bounded in bytes), so that a client
//! resuming with `?since=` is answered from here at once instead of waiting behind the
//! writer's commits; older ones come from the backend's log.

use super::LoggedEvent;
use std::collections::VecDeque;
use std::sync::Arc;

/// Bytes kept: each event counts twice its JSON, since it is held parsed as well.
pub const RECENT_BYTES: usize = 8 << 20;

/// What one event costs here.
fn cost(e: &LoggedEvent) -> usize {
    2 * e.json.len()
}

pub(super) struct Recent {
    events: VecDeque<Arc<LoggedEvent>>,
    bytes: usize,
}

impl Recent {
    pub(super) fn new() -> Recent {
        Recent { events: VecDeque::new(), bytes: 0 }
    }

    /// Adds the next committed event, forgetting the oldest beyond the budget.
    pub(super) fn push(&mut self, e: Arc<LoggedEvent>) {
        self.bytes += cost(&e);
        self.events.push_back(e);
        while self.bytes > RECENT_BYTES && self.events.len() > 1 {
            if let Some(old) = self.events.pop_front() {
                self.bytes -= cost(&old);
            }
        }
    }

    /// Forgets events before `seq`: the log no longer has them, so neither may this.
    pub(super) fn forget_before(&mut self, seq: u64) {
        while self.events.front().is_some_and(|e| e.event.seq < seq) {
            if let Some(old) = self.events.pop_front() {
                self.bytes -= cost(&old);
            }
        }
    }

    /// The events after `since` (at most `limit`, and `max_bytes` of JSON but for the
    /// first), when every one of them is here; `None`: ask the log.
    pub(super) fn after(&self, since: u64, limit: usize, max_bytes: usize) -> Option<Vec<Arc<LoggedEvent>>> {
        let first = self.events.front()?.event.seq;
        let last = self.events.back()?.event.seq;
        if since < first.saturating_sub(1) || since > last {
            return None;
        }
        let (mut out, mut bytes) = (Vec::new(), 0usize);
        for e in self.events.iter().skip((since + 1 - first) as usize).take(limit) {
            bytes += e.json.len();
            if bytes > max_bytes && !out.is_empty() {
                break;
            }
            out.push(e.clone());
        }
        Some(out)
    }
}
