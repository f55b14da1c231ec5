//! The embedded backend: one SQLite file (WAL, `synchronous=FULL`) holding the current
//! entities as JSON rows, the retained event log and the idempotency keys. Only the store's
//! writer thread touches it, so there is never a "database is locked" between our own
//! writers.

use super::backend::{load_state, page, Backend, Budgets, Loaded, RowChange, Staged};
use super::{Footprint, StoreError};
use crate::model::EventData;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::path::Path;

/// The SQLite backend and what it has measured of its file.
pub struct Sqlite {
    conn: Connection,
    footprint: Footprint,
}

impl Sqlite {
    /// Opens (creating if needed) and migrates the file at `path`; `None` is a private
    /// in-memory database (tests). `max_bytes` caps the file: past it, writes fail as on a
    /// full disk.
    pub fn open(path: Option<&Path>, max_bytes: Option<u64>) -> Result<Sqlite, StoreError> {
        Ok(Sqlite { conn: open(path, max_bytes)?, footprint: Footprint::default() })
    }
}

impl Backend for Sqlite {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        let loaded = load(&self.conn)?;
        self.footprint = loaded.footprint;
        Ok(loaded)
    }

    fn idempotency_get(&mut self, key: &str) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT fingerprint, outcome FROM idempotency WHERE key = ?1")?
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn commit(&mut self, staged: &Staged, last_seq: u64, budgets: Option<&Budgets>) -> Result<Footprint, StoreError> {
        let mut fp = self.footprint;
        let tx = self.conn.transaction()?;
        for e in &staged.events {
            write_event(&tx, e.event.seq, &e.event.data, &e.json)?;
            fp.log_bytes += e.json.len() as u64;
        }
        if !staged.events.is_empty() {
            set_last_seq(&tx, last_seq)?;
        }
        for k in &staged.keys {
            tx.prepare_cached(
                "INSERT INTO idempotency (key, fingerprint, outcome, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![k.key, k.fingerprint, k.outcome, k.at])?;
            fp.idempotency_keys += 1;
            fp.idempotency_bytes += k.outcome.len() as u64;
        }
        if let Some(b) = budgets {
            if let Some(upto) = b.log_cut(last_seq, &fp, |keep| events_cut(&tx, keep))? {
                tx.prepare_cached("DELETE FROM events WHERE seq <= ?1")?.execute([upto])?;
                fp.first_retained = upto + 1;
                fp.log_bytes = events_bytes(&tx)?;
            }
            idempotency_prune(&tx, b.keys_since, b.keys, b.key_bytes)?;
            (fp.idempotency_keys, fp.idempotency_bytes) = idempotency_size(&tx)?;
        }
        tx.commit()?;
        self.footprint = fp;
        Ok(fp)
    }

    fn events_after(&mut self, since: u64, limit: usize, max_bytes: usize) -> Result<Vec<(u64, String)>, StoreError> {
        events_after(&self.conn, since, limit, max_bytes)
    }
}

/// Versioned schema: entry `i` moves a file from `user_version = i` to `i + 1`. Append
/// only, so that a later release can open any older file.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE projects (id TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE tasks    (id TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE sessions (id TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE events   (seq INTEGER PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE meta     (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE idempotency (
        key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,
        outcome TEXT NOT NULL, created_at INTEGER NOT NULL);
"#,
    // Workspaces (SPEC §8), as JSON rows like the other entities.
    "CREATE TABLE workspaces (id TEXT PRIMARY KEY, data TEXT NOT NULL);",
    // Review comments (SPEC §8), the same.
    "CREATE TABLE comments (id TEXT PRIMARY KEY, data TEXT NOT NULL);",
];

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Storage(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Storage(format!("corrupt record: {e}"))
    }
}

fn open(path: Option<&Path>, max_bytes: Option<u64>) -> Result<Connection, StoreError> {
    let mut conn = match path {
        Some(p) => {
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Storage(format!("cannot create {}: {e}", dir.display())))?;
            }
            Connection::open(p)?
        }
        None => Connection::open_in_memory()?,
    };
    // FULL: a commit returns only once the WAL is fsynced. EXCLUSIVE: a second Maestro
    // on the same file fails at once instead of corrupting our in-memory view.
    // journal_size_limit: after a checkpoint the WAL shrinks back to 64 MiB at most, where a
    // burst of large commits would otherwise leave it at its largest for good.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA locking_mode = EXCLUSIVE;
         PRAGMA journal_size_limit = 67108864;",
    )?;
    conn.execute_batch("BEGIN IMMEDIATE; COMMIT;").map_err(|e| match path {
        Some(p) => StoreError::Storage(format!(
            "cannot lock {} (is another Maestro server using this data directory?): {e}",
            p.display()
        )),
        None => e.into(),
    })?;
    migrate(&mut conn)?;
    if let Some(max) = max_bytes {
        let page: u64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        conn.pragma_update(None, "max_page_count", (max / page.max(1)).max(1))?;
    }
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Storage(format!(
            "the data file has schema version {version}, newer than this Maestro knows ({}); upgrade Maestro",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

fn load(conn: &Connection) -> Result<Loaded, StoreError> {
    let state = load_state(|table| {
        let mut stmt = conn.prepare(&format!("SELECT data FROM {table}"))?;
        let texts = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(texts.collect::<Result<Vec<_>, _>>()?)
    })?;
    let meta_seq: Option<u64> =
        conn.query_row("SELECT value FROM meta WHERE key = 'last_seq'", [], |r| r.get(0)).optional()?;
    let (min, max): (Option<u64>, Option<u64>) =
        conn.query_row("SELECT MIN(seq), MAX(seq) FROM events", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    // The last seq is kept in `meta`, so pruning the log never reuses one.
    let last_seq = meta_seq.unwrap_or(0).max(max.unwrap_or(0));
    let (idempotency_keys, idempotency_bytes) = idempotency_size(conn)?;
    let footprint = Footprint {
        log_bytes: events_bytes(conn)?,
        first_retained: min.unwrap_or(last_seq + 1),
        idempotency_keys,
        idempotency_bytes,
    };
    Ok(Loaded { state, last_seq, footprint })
}

/// Writes one event: the log row, and the entity row it creates, replaces or removes.
fn write_event(tx: &Transaction<'_>, seq: u64, e: &EventData, json: &str) -> Result<(), StoreError> {
    tx.prepare_cached("INSERT INTO events (seq, data) VALUES (?1, ?2)")?.execute(params![seq, json])?;
    let Some(RowChange { table, id, data }) = RowChange::of(e)? else { return Ok(()) };
    match data {
        Some(data) => tx
            .prepare_cached(&format!(
                "INSERT INTO {table} (id, data) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET data = excluded.data"
            ))?
            .execute(params![id, data])?,
        None => tx.prepare_cached(&format!("DELETE FROM {table} WHERE id = ?1"))?.execute([id])?,
    };
    Ok(())
}

fn set_last_seq(tx: &Transaction<'_>, seq: u64) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('last_seq', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute([seq])?;
    Ok(())
}

/// Events after `since`, oldest first, as stored JSON: at most `limit` of them, and no
/// more than `max_bytes` of JSON but for the first.
fn events_after(
    conn: &Connection,
    since: u64,
    limit: usize,
    max_bytes: usize,
) -> Result<Vec<(u64, String)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT seq, data FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    let rows = stmt.query_map(params![since, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
    page(rows.map(|r| r.map_err(StoreError::from)), max_bytes)
}

/// Bytes of event JSON in the log.
fn events_bytes(conn: &Connection) -> Result<u64, StoreError> {
    Ok(conn.query_row("SELECT COALESCE(SUM(LENGTH(CAST(data AS BLOB))), 0) FROM events", [], |r| r.get(0))?)
}

/// The newest `seq` that must go for the events after it to fit in `keep_bytes` (0 when
/// everything fits).
fn events_cut(conn: &Connection, keep_bytes: u64) -> Result<u64, StoreError> {
    Ok(conn
        .query_row(
            "SELECT seq FROM (SELECT seq, SUM(LENGTH(CAST(data AS BLOB))) OVER (ORDER BY seq DESC) AS tail FROM events)
             WHERE tail > ?1 ORDER BY seq DESC LIMIT 1",
            [keep_bytes],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// Forgets idempotency keys recorded before `before` (clients retry within minutes), and
/// the oldest beyond `keep` keys or `keep_bytes` of outcomes.
fn idempotency_prune(tx: &Transaction<'_>, before: i64, keep: u64, keep_bytes: u64) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM idempotency WHERE created_at < ?1")?.execute([before])?;
    tx.prepare_cached(
        "DELETE FROM idempotency WHERE key IN (SELECT key FROM (
             SELECT key, ROW_NUMBER() OVER w AS n, SUM(LENGTH(CAST(outcome AS BLOB))) OVER w AS bytes
             FROM idempotency WINDOW w AS (ORDER BY created_at DESC, key))
         WHERE n > ?1 OR bytes > ?2)",
    )?
    .execute(params![keep, keep_bytes])?;
    Ok(())
}

/// How many idempotency keys are kept, and the bytes of their outcomes.
fn idempotency_size(conn: &Connection) -> Result<(u64, u64), StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(*), COALESCE(SUM(LENGTH(CAST(outcome AS BLOB))), 0) FROM idempotency",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}
