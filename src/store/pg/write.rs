//! One commit's statements: the events, the entity rows they change, the idempotency
//! keys, and the pruning the budgets ask for.

use super::{Postgres, CHANNEL};
use crate::store::backend::{Budgets, RowChange, Staged};
use crate::store::{Footprint, StoreError};
use postgres::GenericClient;

impl Postgres {
    /// The writes of one commit, in the transaction `begin` opened, and its `COMMIT`.
    pub(super) fn write(
        &mut self,
        staged: &Staged,
        last_seq: u64,
        budgets: Option<&Budgets>,
    ) -> Result<Footprint, StoreError> {
        let mut fp = self.footprint;
        let tx = self.client()?;
        write_events(tx, staged)?;
        fp.log_bytes += staged.events.iter().map(|e| e.json.len() as u64).sum::<u64>();
        if !staged.events.is_empty() {
            tx.execute("UPDATE meta SET value = $1 WHERE key = 'last_seq'", &[&(last_seq as i64)])?;
            // One wake-up per commit, carrying only the seq (delivered at commit).
            tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &last_seq.to_string()])?;
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
            if let Some(upto) = b.log_cut(last_seq, &fp, |keep| events_cut(tx, keep))? {
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
            (fp.idempotency_keys, fp.idempotency_bytes) = idempotency_size(tx)?;
        }
        tx.batch_execute("COMMIT")?;
        Ok(fp)
    }
}

/// Writes a batch's events: the log rows, and the entity rows they create, replace or
/// remove. A handful of statements whatever the batch's size (each is a round trip, and
/// the global lock is held across them): arrays through `UNNEST`, and of several changes
/// to one row only the last.
fn write_events(tx: &mut impl GenericClient, staged: &Staged) -> Result<(), StoreError> {
    if staged.events.is_empty() {
        return Ok(());
    }
    let seqs: Vec<i64> = staged.events.iter().map(|e| e.event.seq as i64).collect();
    let jsons: Vec<&str> = staged.events.iter().map(|e| &*e.json).collect();
    tx.execute("INSERT INTO events (seq, data) SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[])", &[&seqs, &jsons])?;
    let mut rows: std::collections::BTreeMap<(&str, &str), Option<String>> = Default::default();
    for e in &staged.events {
        if let Some(RowChange { table, id, data }) = RowChange::of(&e.event.data)? {
            rows.insert((table, id), data);
        }
    }
    for table in ["projects", "tasks", "sessions", "workspaces", "comments"] {
        let (mut ids, mut datas, mut gone) = (Vec::new(), Vec::new(), Vec::new());
        for ((_, id), data) in rows.range((table, "")..).take_while(|((t, _), _)| *t == table) {
            match data {
                Some(d) => {
                    ids.push(*id);
                    datas.push(d.as_str());
                }
                None => gone.push(*id),
            }
        }
        if !ids.is_empty() {
            tx.execute(
                &format!(
                    "INSERT INTO {table} (id, data) SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[])
                     ON CONFLICT (id) DO UPDATE SET data = excluded.data"
                ),
                &[&ids, &datas],
            )?;
        }
        if !gone.is_empty() {
            tx.execute(&format!("DELETE FROM {table} WHERE id = ANY($1)"), &[&gone])?;
        }
    }
    Ok(())
}

/// The newest `seq` that must go for the events after it to fit in `keep_bytes`.
fn events_cut(tx: &mut impl GenericClient, keep_bytes: u64) -> Result<u64, StoreError> {
    let row = tx.query_opt(
        "SELECT seq FROM (SELECT seq, SUM(octet_length(data)) OVER (ORDER BY seq DESC) AS tail FROM events) AS t
         WHERE tail > $1 ORDER BY seq DESC LIMIT 1",
        &[&(keep_bytes as i64)],
    )?;
    Ok(row.map(|r| r.get::<_, i64>(0) as u64).unwrap_or(0))
}

/// How many idempotency keys are kept, and the bytes of their outcomes.
pub(super) fn idempotency_size(c: &mut impl postgres::GenericClient) -> Result<(u64, u64), StoreError> {
    let row = c.query_one("SELECT COUNT(*), COALESCE(SUM(octet_length(outcome)), 0)::BIGINT FROM idempotency", &[])?;
    Ok((row.get::<_, i64>(0) as u64, row.get::<_, i64>(1) as u64))
}
