//! The listener thread: other nodes' commits as wake-ups, this node's heartbeat, and
//! which nodes stopped beating.

use super::{session, CHANNEL};
use crate::store::backend::{News, NodeInfo};
use crate::store::StoreError;
use postgres::fallible_iterator::FallibleIterator;
use postgres::Client;
use std::time::{Duration, Instant};

/// How often a node looks for others' commits without being woken, and beats its heartbeat.
pub const POLL: Duration = Duration::from_secs(1);
/// A node whose heartbeat is older than this is taken for dead.
pub const NODE_TIMEOUT: Duration = Duration::from_secs(10);
/// The listener's reconnect backoff: doubling from [`POLL`] up to this.
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// The database's clock in milliseconds: every node's heartbeat is judged by one clock.
const DB_NOW: &str = "(extract(epoch from clock_timestamp()) * 1000)::BIGINT";

/// The listener thread: `LISTEN`, catch up, then a catch-up on every wake-up and every
/// [`POLL`]; the heartbeat and the dead nodes on the same beat. Reconnects with backoff.
pub(super) fn listen(url: String, me: NodeInfo, mut tell: Box<dyn FnMut(News) -> bool + Send>) {
    let mut backoff = POLL;
    loop {
        let connected = session(&url, &format!("maestro-listen {}", me.id)).and_then(|mut c| {
            // LISTEN first, then catch up: nothing committed after this can be missed.
            c.batch_execute(&format!("LISTEN {CHANNEL}"))?;
            Ok(c)
        });
        let mut c = match connected {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "the database listener cannot connect; retrying");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        backoff = POLL;
        let since = Instant::now();
        loop {
            if !tell(News::Commits) {
                return;
            }
            match beat(&mut c, &me, since.elapsed() > NODE_TIMEOUT + POLL) {
                Ok(news) => {
                    if !tell(news) {
                        return;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
            }
            // Wait for a wake-up (or the poll), then take whatever else is pending.
            let woke = c.notifications().timeout_iter(POLL).next();
            let drained = woke.and_then(|_| c.notifications().iter().count());
            if drained.is_err() || c.is_closed() {
                tracing::warn!("the database listener lost its connection; reconnecting");
                break;
            }
        }
    }
}

/// Beats this node's heartbeat and reads the others'. A node judges others dead only once
/// it has itself been connected longer than [`NODE_TIMEOUT`] (`judge`): after a database
/// restart every node gets as long to beat again.
fn beat(c: &mut Client, me: &NodeInfo, judge: bool) -> Result<News, StoreError> {
    c.execute(
        &format!(
            "INSERT INTO nodes (id, url, heartbeat_at) VALUES ($1, $2, {DB_NOW})
             ON CONFLICT (id) DO UPDATE SET url = excluded.url, heartbeat_at = excluded.heartbeat_at"
        ),
        &[&me.id, &me.url],
    )?;
    // Rows of nodes gone for a day are dropped: their sessions were failed long since.
    c.execute(&format!("DELETE FROM nodes WHERE heartbeat_at < {DB_NOW} - 86400000"), &[])?;
    let rows = c.query(
        &format!("SELECT id, url, heartbeat_at < {DB_NOW} - $1 FROM nodes"),
        &[&(NODE_TIMEOUT.as_millis() as i64)],
    )?;
    let (mut alive, mut dead) = (Vec::new(), Vec::new());
    for r in rows {
        let (id, url, stale): (String, String, bool) = (r.get(0), r.get(1), r.get(2));
        match stale {
            false => alive.push((id, url)),
            true if judge => dead.push(id),
            true => {}
        }
    }
    Ok(News::Nodes { alive, dead })
}
