//! Started anywhere (SPEC §9): a session made with an agent — through the API, a server
//! function or the CLI — has its process started on the server at once, whether or not a
//! browser is open. A session of a plain shell waits for someone to open it.

use super::wire::size;
use super::Terminals;
use crate::auth::relay::Place;
use crate::model::{Session, SessionStatus};
use std::sync::atomic::Ordering;

/// The size an agent's terminal starts at, until a browser gives its own.
pub const START_COLS: u16 = 120;
pub const START_ROWS: u16 = 32;

impl Terminals {
    /// Starts session `s`'s agent now, here or on no node (another node that claimed it
    /// runs it already). A failure to start is said in the log and leaves the session as
    /// it is: opening it says why again.
    pub async fn start_agent(&self, s: &Session) {
        if s.agent_id.is_none() || s.status != SessionStatus::Running {
            return;
        }
        match self.place(&s.id).await {
            Ok(Place::Here) => {}
            Ok(Place::There { .. }) => return,
            Err(e) => {
                tracing::warn!(session = s.id, error = ?e, "cannot start the session's agent");
                return;
            }
        }
        if let Err(e) = self.open(&s.id, size(Some(START_COLS), Some(START_ROWS)), None) {
            tracing::warn!(session = s.id, error = ?e, "cannot start the session's agent");
        }
    }
}

impl super::Term {
    /// Gives the terminal a browser's size when it is the first to give one (a terminal
    /// started with no browser has [`START_COLS`]×[`START_ROWS`] until then).
    pub(super) fn size_once(&self, cols: Option<u16>, rows: Option<u16>) {
        if cols.is_some() && rows.is_some() && !self.sized.swap(true, Ordering::Relaxed) {
            self.link.resize(size(cols, rows));
        }
    }
}
