//! The versioned schema, migrated under a lock so that nodes starting at once agree.

use crate::store::StoreError;
use postgres::Client;

/// Serialises migrations between nodes starting at once (an arbitrary constant).
const MIGRATION_LOCK: i64 = 0x004d_6165_7374_726f;

/// Versioned schema: entry `i` moves a database from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
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
"#,
    r#"
    CREATE TABLE nodes (id TEXT PRIMARY KEY, url TEXT NOT NULL, heartbeat_at BIGINT NOT NULL);
"#,
    // Workspaces (SPEC §8), as JSON rows like the other entities.
    "CREATE TABLE workspaces (id TEXT PRIMARY KEY, data TEXT NOT NULL);",
    // Review comments (SPEC §8), the same.
    "CREATE TABLE comments (id TEXT PRIMARY KEY, data TEXT NOT NULL);",
];

pub(super) fn migrate(client: &mut Client) -> Result<(), StoreError> {
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
