//! The terminal's word on what a session's agent is doing (SPEC §9), for agents that say
//! nothing themselves: output after input → `working`; no output for a while → `idle`.
//! The least trusted source: it never moves `needs_input` on but for an answer (input then
//! output; output at the start may be the agent's own words as it asks), and it writes to
//! the store only when the state changes.

use crate::model::SessionState;
use crate::store::{Command, Store};
use std::time::{Duration, Instant};

/// Quiet this long, a working agent is idle (`MAESTRO_IDLE_MS` sets it, for tests).
pub const IDLE: Duration = Duration::from_secs(30);

/// Followed by a session terminal's output thread.
pub(super) struct Activity {
    store: Store,
    rt: tokio::runtime::Handle,
    id: String,
    idle: Duration,
    last_output: Instant,
    /// Input came and no output since.
    typed: bool,
    /// The agent just started (with its prompt) and printed nothing yet.
    started: bool,
    /// What it said last and the session's version then: not said again while that write
    /// is under way.
    sent: Option<(SessionState, u64)>,
}

impl Activity {
    pub(super) fn new(store: Store, rt: tokio::runtime::Handle, id: &str) -> Activity {
        let idle = std::env::var("MAESTRO_IDLE_MS").ok().and_then(|v| v.parse().ok()).map(Duration::from_millis);
        let idle = idle.unwrap_or(IDLE);
        Activity {
            store,
            rt,
            id: id.to_string(),
            idle,
            last_output: Instant::now(),
            typed: false,
            started: true,
            sent: None,
        }
    }

    /// Input was handed to the program.
    pub(super) fn input(&mut self) {
        self.typed = true;
    }

    /// The program printed something.
    pub(super) fn output(&mut self) {
        self.last_output = Instant::now();
        let answered = std::mem::take(&mut self.typed);
        if std::mem::take(&mut self.started) || answered {
            self.say(SessionState::Working, answered);
        }
    }

    /// Nothing was printed for a moment.
    pub(super) fn quiet(&mut self) {
        if self.last_output.elapsed() >= self.idle {
            self.say(SessionState::Idle, false);
        }
    }

    /// Says `state` unless the session is there already; `answered`: after input.
    fn say(&mut self, state: SessionState, answered: bool) {
        let Some((now, version)) = self.store.read(|s| s.sessions.get(&self.id).map(|s| (s.state, s.version))) else {
            return; // gone
        };
        let moves = match state {
            _ if now == Some(state) || self.sent == Some((state, version)) => false,
            SessionState::Idle => now == Some(SessionState::Working),
            _ if now == Some(SessionState::NeedsInput) => answered,
            _ => true,
        };
        if moves {
            self.sent = Some((state, version));
            let (store, id) = (self.store.clone(), self.id.clone());
            self.rt.spawn(async move {
                let _ = store.execute(Command::GuessSessionState { id, state, seen: now }, None).await;
            });
        }
    }
}
