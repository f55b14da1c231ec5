//! The PostgreSQL backend (`--database-url`): the same tables as the SQLite file (entities
//! as JSON rows, the retained event log, idempotency keys), in one database that several
//! Maestro nodes share (SPEC §6).
//!
//! The one global, gap-free `seq` in commit order: every write transaction first locks the
//! one `meta.last_seq` row (`FOR UPDATE`), reads what other nodes committed since this one
//! last looked, and only then do the commands get planned, against the latest state; it
//! updates the row before it commits. A rollback undoes the number with everything else,
//! and no reader can see `seq` N+1 without N. Writes serialise on that lock; reads,
//! connections and fan-out are each node's own.
//!
//! Between its own writes a node learns of the others' commits from a listener thread with
//! a connection of its own: `LISTEN`, then catch up by `seq`, then a catch-up on every
//! notification (a wake-up only: one `NOTIFY` of the last `seq` per commit, never the
//! events) and on a poll every [`POLL`](listen::POLL) as the backstop for a notification lost to a
//! reconnect or a database restart. The same thread beats the node's heartbeat and tells
//! the store which nodes stopped beating.
//!
//! What is read as one moment is: the load, in one `REPEATABLE READ` snapshot (a node that
//! starts while another commits must not load half a commit and count it as applied); a
//! catch-up, whose log end and events come from one statement, or from under the lock; and
//! a page of the log, which stops at what this node has applied.
//!
//! When the connection drops, writes answer 503 (`storage_unavailable`) while reads go on
//! from memory, and the next write after a second reconnects. A commit whose answer was
//! lost is not guessed at: the caller hears 503, and if it did land, the catch-up after
//! the reconnect reads it back like any other node's events.
//!
//! The `postgres` crate is blocking, as the writer thread that calls it is; it runs its own
//! small runtime, so it is never called from inside the server's (see `Store::open`).
//!
//! Layout: this file holds the writer's connection and the [`Backend`] it implements;
//! `schema` the migrations, `listen` the listener thread and heartbeat, `write` one
//! commit's statements.

mod listen;
mod schema;
mod write;

pub use listen::NODE_TIMEOUT;

use super::backend::{load_state, page, Backend, Budgets, Loaded, News, NodeInfo, Others, Staged};
use super::{Footprint, StoreError};
use postgres::{Client, IsolationLevel, NoTls};
use std::time::{Duration, Instant};

/// The channel commits are announced on.
const CHANNEL: &str = "maestro_commits";

/// Reconnecting is tried at most this often while the database is unreachable.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// The writer's connection to the database, and what it has measured of it.
pub struct Postgres {
    client: Client,
    url: String,
    footprint: Footprint,
    /// The last `seq` this node has (loaded, committed or caught up to).
    known_seq: u64,
    /// When reconnecting was last tried.
    last_attempt: Option<Instant>,
    /// A write transaction is open (between `begin` and `commit`/`abort`).
    in_tx: bool,
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        // The server's own words (`db_error`) say more than the client's summary.
        match e.as_db_error() {
            Some(db) => StoreError::Storage(format!("PostgreSQL: {}", db.message())),
            None => StoreError::Storage(format!("PostgreSQL: {e}")),
        }
    }
}

impl Postgres {
    /// Connects (10 s at most) and migrates. Call it outside any async runtime (a plain
    /// thread).
    pub fn connect(url: &str) -> Result<Postgres, StoreError> {
        let mut client = session(url, "maestro")?;
        schema::migrate(&mut client)?;
        Ok(Postgres {
            client,
            url: url.to_string(),
            footprint: Footprint::default(),
            known_seq: 0,
            last_attempt: None,
            in_tx: false,
        })
    }

    /// The connection, made again if it dropped (a database restart, a terminated
    /// backend): at most once per [`RECONNECT_EVERY`], failing fast in between so that
    /// writes answer 503 at once while reads go on from memory.
    fn client(&mut self) -> Result<&mut Client, StoreError> {
        if !self.client.is_closed() {
            return Ok(&mut self.client);
        }
        self.in_tx = false;
        if self.last_attempt.is_some_and(|t| t.elapsed() < RECONNECT_EVERY) {
            return Err(StoreError::Storage("the database is unreachable; reconnecting".into()));
        }
        self.last_attempt = Some(Instant::now());
        self.client = session(&self.url, "maestro")?;
        tracing::info!("reconnected to the database");
        Ok(&mut self.client)
    }

    /// Takes in the events after `known_seq` up to `ends` (the log's end in the snapshot
    /// they were read in, or as of taking the lock), with the oldest `seq` kept: they
    /// become known. All of them must still be in the log.
    fn catch_up(&mut self, ends: u64, events: Vec<(u64, String)>, oldest: Option<u64>) -> Result<Others, StoreError> {
        let known = self.known_seq;
        if ends > known {
            if events.first().map(|e| e.0) != Some(known + 1) || events.len() as u64 != ends - known {
                return Err(StoreError::Failed(format!(
                    "the log no longer holds seq {} (this server fell too far behind the others): restart it to reload",
                    known + 1
                )));
            }
            // The byte count may run high after others pruned, until housekeeping measures it.
            self.footprint.first_retained = oldest.unwrap_or(ends + 1);
            self.footprint.log_bytes += events.iter().map(|e| e.1.len() as u64).sum::<u64>();
            self.known_seq = ends;
        }
        Ok(Others { events, footprint: self.footprint })
    }

    /// Under the lock `begin` took, at `ends`: the events after `known_seq`. Separate
    /// statements are one moment here, since no other node can commit meanwhile.
    fn catch_up_locked(&mut self, ends: u64) -> Result<Others, StoreError> {
        let known = self.known_seq;
        if ends <= known {
            return self.catch_up(ends, Vec::new(), None);
        }
        let c = self.client()?;
        let rows = c.query(
            "SELECT seq, data FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq",
            &[&(known as i64), &(ends as i64)],
        )?;
        let events = rows.iter().map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, String>(1))).collect();
        // Others may have pruned: the oldest kept is asked for (an index lookup).
        let oldest: Option<i64> = c.query_one("SELECT MIN(seq) FROM events", &[])?.get(0);
        self.catch_up(ends, events, oldest.map(|m| m as u64))
    }
}

/// A connection as this node uses it: bounded waits everywhere.
fn session(url: &str, name: &str) -> Result<Client, StoreError> {
    let mut config: postgres::Config =
        url.parse().map_err(|e| StoreError::Storage(format!("bad --database-url: {e}")))?;
    config.connect_timeout(Duration::from_secs(10));
    config.keepalives_idle(Duration::from_secs(30));
    config.application_name(name);
    let mut client = config.connect(NoTls)?;
    // No statement, lock wait or open transaction may hold this node (or another) for ever.
    client.batch_execute(
        "SET statement_timeout = '30s'; SET lock_timeout = '10s'; SET idle_in_transaction_session_timeout = '30s'",
    )?;
    Ok(client)
}

impl Backend for Postgres {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        // One snapshot for every table and `last_seq`: read in statements of their own, a
        // commit of another node's between them would be loaded in part and yet counted
        // as applied (and never caught up on).
        let mut tx = self
            .client()?
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let state = load_state(|table| {
            Ok(tx.query(&format!("SELECT data FROM {table}"), &[])?.iter().map(|r| r.get(0)).collect())
        })?;
        let last_seq: i64 = tx.query_one("SELECT value FROM meta WHERE key = 'last_seq'", &[])?.get(0);
        let row = tx.query_one("SELECT MIN(seq), COALESCE(SUM(octet_length(data)), 0)::BIGINT FROM events", &[])?;
        let (min, log_bytes): (Option<i64>, i64) = (row.get(0), row.get(1));
        let (idempotency_keys, idempotency_bytes) = write::idempotency_size(&mut tx)?;
        tx.commit()?;
        let last_seq = last_seq as u64;
        self.known_seq = last_seq;
        self.footprint = Footprint {
            log_bytes: log_bytes as u64,
            first_retained: min.map(|m| m as u64).unwrap_or(last_seq + 1),
            idempotency_keys,
            idempotency_bytes,
        };
        Ok(Loaded { state, last_seq, footprint: self.footprint })
    }

    // Asked while planning, under the lock `begin` took: no node records or prunes a key
    // meanwhile, so the answer is of the same moment as the state just caught up to.
    fn idempotency_get(&mut self, key: &str) -> Result<Option<(String, String)>, StoreError> {
        let row = self.client()?.query_opt("SELECT fingerprint, outcome FROM idempotency WHERE key = $1", &[&key])?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    fn begin(&mut self) -> Result<Option<Others>, StoreError> {
        self.abort();
        self.client()?.batch_execute("BEGIN")?;
        self.in_tx = true;
        // The lock every node's writes queue on; the log's end as of holding it.
        // (Its own statement: a row locked by a join would be re-read after the wait with
        // the events as they were before it, a torn read.)
        let locked = self.client()?.query_one("SELECT value FROM meta WHERE key = 'last_seq' FOR UPDATE", &[]);
        let caught = locked.map_err(StoreError::from).and_then(|row| self.catch_up_locked(row.get::<_, i64>(0) as u64));
        if caught.is_err() {
            self.abort();
        }
        caught.map(Some)
    }

    fn abort(&mut self) {
        if std::mem::take(&mut self.in_tx) && !self.client.is_closed() {
            let _ = self.client.batch_execute("ROLLBACK");
        }
    }

    fn others(&mut self) -> Result<Option<Others>, StoreError> {
        // The log's end and the events up to it in one statement, so one snapshot (and
        // one round trip): the meta row comes back even when no event follows.
        let known = self.known_seq as i64;
        let rows = self.client()?.query(
            "SELECT m.value, (SELECT MIN(seq) FROM events), e.seq, e.data
             FROM meta m LEFT JOIN events e ON e.seq > $1 AND e.seq <= m.value
             WHERE m.key = 'last_seq' ORDER BY e.seq",
            &[&known],
        )?;
        let Some(first) = rows.first() else {
            return Err(StoreError::Failed("the database has no last_seq".into()));
        };
        let (ends, oldest): (i64, Option<i64>) = (first.get(0), first.get(1));
        let mut events = Vec::with_capacity(rows.len());
        for r in &rows {
            if let (Some(seq), Some(data)) = (r.get::<_, Option<i64>>(2), r.get::<_, Option<String>>(3)) {
                events.push((seq as u64, data));
            }
        }
        self.catch_up(ends as u64, events, oldest.map(|m| m as u64)).map(Some)
    }

    fn follow(&mut self, me: &NodeInfo, tell: Box<dyn FnMut(News) -> bool + Send>) -> Result<(), StoreError> {
        let (url, me) = (self.url.clone(), me.clone());
        std::thread::Builder::new()
            .name("maestro-pg-listen".into())
            .spawn(move || listen::listen(url, me, tell))
            .map_err(|e| StoreError::Storage(format!("cannot start the database listener: {e}")))?;
        Ok(())
    }

    fn commit(&mut self, staged: &Staged, last_seq: u64, budgets: Option<&Budgets>) -> Result<Footprint, StoreError> {
        if !self.in_tx {
            return Err(StoreError::Storage("the database connection was lost; nothing was written".into()));
        }
        let written = self.write(staged, last_seq, budgets);
        self.in_tx = false;
        match written {
            Ok(fp) => {
                self.footprint = fp;
                self.known_seq = last_seq;
                Ok(fp)
            }
            Err(e) => {
                if !self.client.is_closed() {
                    let _ = self.client.batch_execute("ROLLBACK");
                }
                Err(e)
            }
        }
    }

    fn events_after(&mut self, since: u64, limit: usize, max_bytes: usize) -> Result<Vec<(u64, String)>, StoreError> {
        // No further than this node has applied: what it serves is one moment of its own.
        let known = self.known_seq as i64;
        let rows = self.client()?.query(
            "SELECT seq, data FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
            &[&(since.min(i64::MAX as u64) as i64), &known, &(limit.min(i64::MAX as usize) as i64)],
        )?;
        page(rows.iter().map(|row| Ok((row.get::<_, i64>(0) as u64, row.get(1)))), max_bytes)
    }
}
