//! The nodes on one database agree on their access settings (SPEC §6): a node whose token
//! or node secret differs from those of the nodes running refuses to start, so one node
//! cannot serve and change everything with another token (or none) while the others guard
//! it. The database keeps a fingerprint of the settings, never the settings: 64 bits of an
//! HMAC keyed by the node secret. When no node is running, a new fingerprint replaces the
//! old one: that is how all nodes move to a new token together.

use std::time::Duration;

/// Checks this node's settings against the running nodes' on the database at `url`, from a
/// plain thread (the client blocks). `Err` says why to refuse to start.
pub fn access_settings(url: &str, node_secret: &str, token: &str, me: &str) -> Result<(), String> {
    let fingerprint = fingerprint(node_secret, token);
    let (url, me) = (url.to_string(), me.to_string());
    let checked = std::thread::spawn(move || check(&url, fingerprint, &me)).join();
    checked.unwrap_or_else(|_| Err("checking the access settings panicked".into()))
}

fn fingerprint(node_secret: &str, token: &str) -> i64 {
    let mac = crate::mac::hmac(node_secret.as_bytes(), &["maestro access settings v1", token]);
    i64::from_be_bytes(mac[..8].try_into().unwrap_or_default())
}

fn check(url: &str, fingerprint: i64, me: &str) -> Result<(), String> {
    let db = |e: postgres::Error| format!("cannot check the access settings on the database: {e}");
    let mut config: postgres::Config = url.parse().map_err(|e| format!("bad --database-url: {e}"))?;
    config.connect_timeout(Duration::from_secs(10)).application_name("maestro access check");
    let mut client = config.connect(postgres::NoTls).map_err(db)?;
    let mut tx = client.transaction().map_err(db)?;
    tx.batch_execute("SET LOCAL lock_timeout = '10s'").map_err(db)?;
    // One node at a time decides, so two starting with different settings cannot both win.
    tx.execute("SELECT pg_advisory_xact_lock(7306086740297606514)", &[]).map_err(db)?;
    let stored: Option<i64> =
        tx.query_opt("SELECT value FROM meta WHERE key = 'access'", &[]).map_err(db)?.map(|r| r.get(0));
    match stored {
        Some(f) if f == fingerprint => {}
        Some(_) => {
            let timeout = super::pg::NODE_TIMEOUT.as_millis() as i64;
            let running: i64 = tx
                .query_one(
                    "SELECT count(*) FROM nodes WHERE id <> $1 \
                     AND heartbeat_at > (extract(epoch from clock_timestamp()) * 1000)::BIGINT - $2",
                    &[&me, &timeout],
                )
                .map_err(db)?
                .get(0);
            if running > 0 {
                return Err(format!(
                    "the {running} other node(s) running on this database use another MAESTRO_TOKEN or MAESTRO_NODE_SECRET; give every node the same (or stop them all to change both together)"
                ));
            }
            tx.execute("UPDATE meta SET value = $1 WHERE key = 'access'", &[&fingerprint]).map_err(db)?;
        }
        None => {
            tx.execute("INSERT INTO meta (key, value) VALUES ('access', $1)", &[&fingerprint]).map_err(db)?;
        }
    }
    tx.commit().map_err(db)
}
