//! The PostgreSQL backend (`--database-url`): the same tables as the SQLite file (entities
//! as JSON rows, the retained event log, idempotency keys), in one database.
//!
//! One Maestro node per database for now: a node holds a session-level advisory lock for
//! as long as it runs, so a second one is refused at start (as a second server on a SQLite
//! file is), and every commit also checks under a row lock that the log ends where this
//! node believes it does. Several nodes on one database is the next step (docs/SCALE-OUT
//! in the issue tracker); nothing here would let two of them interleave `seq`s meanwhile.
//!
//! When the connection drops, writes answer 503 (`storage_unavailable`) while reads go on
//! from memory, and the next write after a second reconnects.
//!
//! The `postgres` crate is blocking, as the writer thread that calls it is; it runs its own
//! small runtime, so it is never called from inside the server's (see `Store::open`).

use super::backend::{load_state, page, Backend, Budgets, Loaded, RowChange, Staged};
use super::{Footprint, StoreError};
use crate::model::EventData;
use postgres::{Client, NoTls, Transaction};
use std::time::{Duration, Instant};

/// Held by the node serving a database (an arbitrary constant: "Maestro").
const NODE_LOCK: i64 = 0x004d_6165_7374_726f;
/// Serialises migrations between nodes starting at once.
const MIGRATION_LOCK: i64 = NODE_LOCK + 1;

/// Versioned schema: entry `i` moves a database from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE projects (id TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE tasks    (id TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE sessions (id TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE events   (seq BIGINT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE meta     (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
    INSERT INTO meta (key, value) VALUES ('last_seq', 0);
    CREATE TABLE idempotency (
        key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,
        outcome TEXT NOT NULL, created_at BIGINT NOT NULL);
    CREATE INDEX idempotency_created ON idempotency (created_at);
"#];

/// Reconnecting is tried at most this often while the database is unreachable.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// A connection to the database, and what it has measured of it.
pub struct Postgres {
    client: Client,
    url: String,
    footprint: Footprint,
    /// The last `seq` this node knows is in the database (loaded or committed by it).
    known_seq: u64,
    /// When reconnecting was last tried.
    last_attempt: Option<Instant>,
    /// Set when this node can no longer tell what the database holds: every call fails.
    lost: Option<String>,
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
    /// Connects (10 s at most), takes the node lock and migrates. Call it outside any
    /// async runtime (a plain thread).
    pub fn connect(url: &str) -> Result<Postgres, StoreError> {
        let mut client = session(url)?;
        migrate(&mut client)?;
        let lost = None;
        Ok(Postgres {
            client,
            url: url.to_string(),
            footprint: Footprint::default(),
            known_seq: 0,
            last_attempt: None,
            lost,
        })
    }

    /// The connection, made again if it dropped (a database restart, a terminated
    /// backend): at most once per [`RECONNECT_EVERY`], failing fast in between so that
    /// writes answer 503 at once while reads go on from memory. If the database's log no
    /// longer ends where this node left it (a commit whose answer was lost), the node
    /// stops writing for good: restarting it reloads what is there.
    fn client(&mut self) -> Result<&mut Client, StoreError> {
        if let Some(why) = &self.lost {
            return Err(StoreError::Failed(why.clone()));
        }
        if !self.client.is_closed() {
            return Ok(&mut self.client);
        }
        if self.last_attempt.is_some_and(|t| t.elapsed() < RECONNECT_EVERY) {
            return Err(StoreError::Storage("the database is unreachable; reconnecting".into()));
        }
        self.last_attempt = Some(Instant::now());
        let mut client = session(&self.url)?;
        let ends: i64 = client.query_one("SELECT value FROM meta WHERE key = 'last_seq'", &[])?.get(0);
        if ends as u64 != self.known_seq {
            let why = format!(
                "the database's log ends at seq {ends}, this server's at {}: restart it to reload",
                self.known_seq
            );
            tracing::error!(why, "lost track of the database");
            self.lost = Some(why.clone());
            return Err(StoreError::Failed(why));
        }
        tracing::info!("reconnected to the database");
        self.client = client;
        Ok(&mut self.client)
    }
}

/// A connection as this node uses it: bounded waits everywhere, and the node lock.
fn session(url: &str) -> Result<Client, StoreError> {
    let mut config: postgres::Config =
        url.parse().map_err(|e| StoreError::Storage(format!("bad --database-url: {e}")))?;
    config.connect_timeout(Duration::from_secs(10));
    config.keepalives_idle(Duration::from_secs(30));
    config.application_name("maestro");
    let mut client = config.connect(NoTls)?;
    // No statement, lock wait or open transaction may hold this node (or another) for ever.
    client.batch_execute(
        "SET statement_timeout = '30s'; SET lock_timeout = '10s'; SET idle_in_transaction_session_timeout = '30s'",
    )?;
    let locked: bool = client.query_one("SELECT pg_try_advisory_lock($1)", &[&NODE_LOCK])?.get(0);
    if !locked {
        return Err(StoreError::Storage(
            "another Maestro server is using this database (one node per database for now)".into(),
        ));
    }
    Ok(client)
}

fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let version: i32 = match tx.query_opt("SELECT version FROM schema_version", &[])? {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO schema_version (version) VALUES (0)", &[])?;
            0
        }
    };
    let known = MIGRATIONS.len() as i32;
    if version > known {
        return Err(StoreError::Storage(format!(
            "the database has schema version {version}, newer than this Maestro knows ({known}); upgrade Maestro"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(sql)?;
        tx.execute("UPDATE schema_version SET version = $1", &[&(i as i32 + 1)])?;
    }
    tx.commit()?;
    Ok(())
}

impl Backend for Postgres {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        let c = self.client()?;
        let state = load_state(|table| {
            Ok(c.query(&format!("SELECT data FROM {table}"), &[])?.iter().map(|r| r.get(0)).collect())
        })?;
        let last_seq: i64 = c.query_one("SELECT value FROM meta WHERE key = 'last_seq'", &[])?.get(0);
        let row = c.query_one("SELECT MIN(seq), COALESCE(SUM(octet_length(data)), 0)::BIGINT FROM events", &[])?;
        let (min, log_bytes): (Option<i64>, i64) = (row.get(0), row.get(1));
        let (idempotency_keys, idempotency_bytes) = idempotency_size(c)?;
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

    fn idempotency_get(&mut self, key: &str) -> Result<Option<(String, String)>, StoreError> {
        let row = self.client()?.query_opt("SELECT fingerprint, outcome FROM idempotency WHERE key = $1", &[&key])?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    fn commit(&mut self, staged: &Staged, last_seq: u64, budgets: Option<&Budgets>) -> Result<Footprint, StoreError> {
        let mut fp = self.footprint;
        let mut tx = self.client()?.transaction()?;
        if let Some(first) = staged.events.first() {
            // The log must end where this node thinks it does (the row lock also orders
            // commits, should a second writer ever get past the node lock).
            let ends: i64 = tx.query_one("SELECT value FROM meta WHERE key = 'last_seq' FOR UPDATE", &[])?.get(0);
            if ends as u64 + 1 != first.event.seq {
                return Err(StoreError::Storage(format!(
                    "the database's log ends at seq {ends}, not {}: another writer is using it",
                    first.event.seq - 1
                )));
            }
        }
        for e in &staged.events {
            write_event(&mut tx, e.event.seq, &e.event.data, &e.json)?;
            fp.log_bytes += e.json.len() as u64;
        }
        if !staged.events.is_empty() {
            tx.execute("UPDATE meta SET value = $1 WHERE key = 'last_seq'", &[&(last_seq as i64)])?;
        }
        for k in &staged.keys {
            tx.execute(
                "INSERT INTO idempotency (key, fingerprint, outcome, created_at) VALUES ($1, $2, $3, $4)",
                &[&k.key, &k.fingerprint, &k.outcome, &k.at],
            )?;
            fp.idempotency_keys += 1;
            fp.idempotency_bytes += k.outcome.len() as u64;
        }
        if let Some(b) = budgets {
            if let Some(upto) = b.log_cut(last_seq, &fp, |keep| events_cut(&mut tx, keep))? {
                tx.execute("DELETE FROM events WHERE seq <= $1", &[&(upto as i64)])?;
                fp.first_retained = upto + 1;
                let bytes: i64 =
                    tx.query_one("SELECT COALESCE(SUM(octet_length(data)), 0)::BIGINT FROM events", &[])?.get(0);
                fp.log_bytes = bytes as u64;
            }
            tx.execute("DELETE FROM idempotency WHERE created_at < $1", &[&b.keys_since])?;
            tx.execute(
                "DELETE FROM idempotency WHERE key IN (SELECT key FROM (
                     SELECT key, ROW_NUMBER() OVER w AS n, SUM(octet_length(outcome)) OVER w AS bytes
                     FROM idempotency WINDOW w AS (ORDER BY created_at DESC, key)) AS ranked
                 WHERE n > $1 OR bytes > $2)",
                &[&(b.keys as i64), &(b.key_bytes as i64)],
            )?;
            (fp.idempotency_keys, fp.idempotency_bytes) = idempotency_size(&mut tx)?;
        }
        tx.commit()?;
        self.footprint = fp;
        self.known_seq = last_seq;
        Ok(fp)
    }

    fn events_after(&mut self, since: u64, limit: usize, max_bytes: usize) -> Result<Vec<(u64, String)>, StoreError> {
        let rows = self.client()?.query(
            "SELECT seq, data FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&(since.min(i64::MAX as u64) as i64), &(limit.min(i64::MAX as usize) as i64)],
        )?;
        page(rows.iter().map(|row| Ok((row.get::<_, i64>(0) as u64, row.get(1)))), max_bytes)
    }
}

/// Writes one event: the log row, and the entity row it creates, replaces or removes.
fn write_event(tx: &mut Transaction<'_>, seq: u64, e: &EventData, json: &str) -> Result<(), StoreError> {
    tx.execute("INSERT INTO events (seq, data) VALUES ($1, $2)", &[&(seq as i64), &json])?;
    let Some(RowChange { table, id, data }) = RowChange::of(e)? else { return Ok(()) };
    match data {
        Some(data) => tx.execute(
            &format!(
                "INSERT INTO {table} (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = excluded.data"
            ),
            &[&id, &data],
        )?,
        None => tx.execute(&format!("DELETE FROM {table} WHERE id = $1"), &[&id])?,
    };
    Ok(())
}

/// The newest `seq` that must go for the events after it to fit in `keep_bytes`.
fn events_cut(tx: &mut Transaction<'_>, keep_bytes: u64) -> Result<u64, StoreError> {
    let row = tx.query_opt(
        "SELECT seq FROM (SELECT seq, SUM(octet_length(data)) OVER (ORDER BY seq DESC) AS tail FROM events) AS t
         WHERE tail > $1 ORDER BY seq DESC LIMIT 1",
        &[&(keep_bytes as i64)],
    )?;
    Ok(row.map(|r| r.get::<_, i64>(0) as u64).unwrap_or(0))
}

/// How many idempotency keys are kept, and the bytes of their outcomes.
fn idempotency_size(c: &mut impl postgres::GenericClient) -> Result<(u64, u64), StoreError> {
    let row = c.query_one("SELECT COUNT(*), COALESCE(SUM(octet_length(outcome)), 0)::BIGINT FROM idempotency", &[])?;
    Ok((row.get::<_, i64>(0) as u64, row.get::<_, i64>(1) as u64))
}
