//! The writer thread: the only writer of this node's state. It takes whatever is queued
//! (group commit), has the backend open the write transaction (on a shared database that
//! takes the global lock and hands over what other nodes committed, which is applied and
//! published first), plans each command against the state as the batch has left it,
//! stages the events (with the next values of the one gap-free `seq`) and idempotency
//! records, has the backend make them durable, and only then publishes the events and
//! answers the callers. Between batches it applies other nodes' commits when told of them.

use super::backend::{Backend, Budgets, KeyRecord, Others, Staged};
use super::state::{Inputs, State};
use super::{
    Command, Committed, Footprint, IdempotencyKey, Job, LoggedEvent, Outcome, StoreConfig, StoreError, Vitals,
    EVENT_MAX_BYTES, IDEMPOTENCY_BYTES_MAX, IDEMPOTENCY_KEYS_MAX, PAGE_BYTES,
};
use crate::model::{now_millis, Event, Millis};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::{broadcast, mpsc, oneshot};

/// The writer thread's own state.
pub(super) struct Writer {
    pub(super) backend: Box<dyn Backend>,
    /// The state including the batch in progress; `shared` catches up on commit.
    pub(super) work: State,
    pub(super) shared: Arc<RwLock<Committed>>,
    pub(super) bus: broadcast::Sender<Arc<LoggedEvent>>,
    pub(super) last_seq: Arc<AtomicU64>,
    /// `work.bytes()`, kept current as events are applied to `work`.
    pub(super) bytes: u64,
    /// The same of the committed state, for readers.
    pub(super) committed_bytes: Arc<AtomicU64>,
    /// As of the last commit.
    pub(super) footprint: Footprint,
    /// The newest events, for readers that need not wait for us.
    pub(super) recent: Arc<RwLock<super::recent::Recent>>,
    pub(super) config: StoreConfig,
    pub(super) health: Arc<Vitals>,
    /// The last time handed to a command: each gets a later one, so "newest first" is a
    /// strict order even when many commands land in the same millisecond.
    pub(super) last_now: Millis,
    /// A catch-up is queued (so that wake-ups do not pile up behind a busy writer).
    pub(super) catching: Arc<std::sync::atomic::AtomicBool>,
}

/// The most commands committed in one transaction.
const BATCH_MAX: usize = 512;

type Reply = oneshot::Sender<Result<Outcome, StoreError>>;

fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

impl Writer {
    pub(super) fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        let mut commits: u64 = 0;
        while let Some(first) = rx.blocking_recv() {
            let mut mutations = Vec::new();
            let mut reads = Vec::new();
            let mut keys = Vec::new();
            let mut next = Some(first);
            while let Some(job) = next.take() {
                match job {
                    Job::Mutate { cmd, key, reply } => mutations.push((cmd, key, reply)),
                    Job::ReadEvents { since, limit, reply } => reads.push((since, limit, reply)),
                    Job::ReadKey { key, reply } => keys.push((key, reply)),
                    Job::CatchUp => {
                        self.catching.store(false, Ordering::Release);
                        self.catch_up();
                    }
                    Job::Sync(done) => {
                        self.catch_up();
                        let _ = done.send(());
                    }
                    Job::NodesGone(nodes) => {
                        for node in nodes.into_iter().filter(|n| self.work.runs_on(n)) {
                            tracing::warn!(node, "a node stopped beating: failing the sessions it ran");
                            mutations.push((Command::FailNode { node }, None, oneshot::channel().0));
                        }
                    }
                    #[cfg(test)]
                    Job::Panic => panic!("injected by a test"),
                }
                if mutations.len() < BATCH_MAX {
                    next = rx.try_recv().ok();
                }
            }
            if !mutations.is_empty() {
                commits += 1;
                let fp = &self.footprint;
                let over = fp.log_bytes > self.config.retain_bytes
                    || fp.idempotency_keys > IDEMPOTENCY_KEYS_MAX
                    || fp.idempotency_bytes > IDEMPOTENCY_BYTES_MAX;
                self.commit_batch(mutations, over || commits.is_multiple_of(1024));
            }
            for (since, limit, reply) in reads {
                let _ = reply.send(self.read_events(since, limit));
            }
            // After the batch: a key it recorded is found.
            for (key, reply) in keys {
                let _ = reply.send(self.backend.idempotency_get(&key));
            }
        }
        tracing::debug!("store writer stopped");
    }

    /// Applies what other nodes committed since we last looked.
    fn catch_up(&mut self) {
        let caught = self.backend.others().and_then(|o| self.absorb(o));
        match caught {
            Err(e @ StoreError::Failed(_)) => self.note_failure(&e),
            // The database is away: writes say so; this is tried again.
            Err(e) => tracing::debug!(error = %e, "catching up failed"),
            Ok(()) => {}
        }
    }

    /// Plans, stages and commits a batch; answers every caller after the commit.
    fn commit_batch(&mut self, batch: Vec<(Command, Option<IdempotencyKey>, Reply)>, housekeeping: bool) {
        // The write lock first, and whatever other nodes committed before we got it.
        let began = self.backend.begin().and_then(|o| self.absorb(o));
        if let Err(e) = began {
            self.backend.abort();
            return self.fail(e, batch.into_iter().map(|(_, _, reply)| reply));
        }
        let mut now = now_millis();
        let mut staged = Staged::default();
        let mut answers: Vec<(Reply, Result<Outcome, StoreError>)> = Vec::with_capacity(batch.len());
        let mut seq = self.last_seq.load(Ordering::Acquire);
        let mut fatal = None;
        for (cmd, key, reply) in batch {
            now = now.max(self.last_now + 1);
            self.last_now = now;
            let r = match &fatal {
                Some(e) => Err(StoreError::clone(e)),
                None => self.plan_one(&cmd, key.as_ref(), now, &mut seq, &mut staged),
            };
            if let Err(e @ StoreError::Storage(_)) = &r {
                fatal = Some(e.clone());
            }
            answers.push((reply, r));
        }
        // Keep the newest `retain_events`, and of those at most three quarters of each
        // byte budget (so that pruning is not due again at the next commit).
        let budgets = housekeeping.then(|| Budgets {
            events: self.config.retain_events,
            event_bytes: self.config.retain_bytes / 4 * 3,
            keys: IDEMPOTENCY_KEYS_MAX / 4 * 3,
            key_bytes: IDEMPOTENCY_BYTES_MAX / 4 * 3,
            keys_since: now - 24 * 3600 * 1000,
        });
        let committed = match fatal {
            Some(e) => {
                self.backend.abort();
                Err(e)
            }
            None => self.backend.commit(&staged, seq, budgets.as_ref()),
        };
        let footprint = match committed {
            Ok(f) => f,
            // Nothing of this batch is durable: forget it and tell every caller.
            Err(e) => return self.fail(e, answers.into_iter().map(|(reply, _)| reply)),
        };
        self.health.degraded.lock().unwrap_or_else(|p| p.into_inner()).take();
        self.publish(&staged.events, seq, footprint);
        for (reply, r) in answers {
            let _ = reply.send(r);
        }
    }

    /// A batch that is not durable: the working state goes back to the committed one and
    /// every caller hears why.
    fn fail(&mut self, e: StoreError, replies: impl Iterator<Item = Reply>) {
        self.note_failure(&e);
        *self.health.degraded.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
        self.work = self.shared.read().unwrap_or_else(|p| p.into_inner()).state.clone();
        self.bytes = self.committed_bytes.load(Ordering::Acquire);
        for reply in replies {
            let _ = reply.send(Err(e.clone()));
        }
    }

    /// Logs a storage failure; one after which no write can succeed is also told to
    /// `serve`, which exits.
    fn note_failure(&self, e: &StoreError) {
        tracing::error!(error = %e, "store commit failed");
        if let StoreError::Failed(why) = e {
            self.health.failed.send_replace(Some(why.clone()));
        }
    }

    /// Committed events (this node's or others') reach readers, the recent log and the
    /// hub, in `seq` order.
    fn publish(&mut self, events: &[Arc<LoggedEvent>], seq: u64, footprint: Footprint) {
        self.footprint = footprint;
        *self.health.footprint.lock().unwrap_or_else(|p| p.into_inner()) = footprint;
        {
            let mut shared = self.shared.write().unwrap_or_else(|p| p.into_inner());
            for e in events {
                shared.state.apply(&e.event.data);
            }
            shared.seq = seq;
        }
        {
            let mut recent = self.recent.write().unwrap_or_else(|p| p.into_inner());
            for e in events {
                recent.push(e.clone());
            }
            recent.forget_before(footprint.first_retained);
        }
        // Whoever publishes has applied these to `work` too: it is the committed state now.
        self.committed_bytes.store(self.bytes, Ordering::Release);
        self.last_seq.store(seq, Ordering::Release);
        for e in events {
            let _ = self.bus.send(e.clone()); // no listener is fine
        }
    }

    /// Applies and publishes what other nodes committed. They must follow on from our
    /// last `seq` with none missing; otherwise this node can no longer tell what the
    /// state is, and stops writing (a restart reloads it).
    fn absorb(&mut self, others: Option<Others>) -> Result<(), StoreError> {
        let Some(others) = others else { return Ok(()) };
        let mut seq = self.last_seq.load(Ordering::Acquire);
        let mut events = Vec::with_capacity(others.events.len());
        for (n, json) in others.events {
            let lost = |why: String| StoreError::Failed(format!("reading other nodes' events: {why}"));
            if n != seq + 1 {
                return Err(lost(format!("seq {n} follows {seq}")));
            }
            let event: Event = serde_json::from_str(&json).map_err(|e| lost(format!("seq {n}: {e}")))?;
            // Written by anyone who can write to the database: checked before it is applied.
            super::foreign::check(&event.data).map_err(|why| lost(format!("seq {n}: {why}")))?;
            // Never refused: other nodes' commits are facts, whatever this node's budget.
            self.bytes = self.bytes.saturating_add_signed(self.work.growth(std::slice::from_ref(&event.data)));
            self.work.apply(&event.data);
            self.last_now = self.last_now.max(event.timestamp);
            seq = n;
            events.push(Arc::new(LoggedEvent { event, json: json.into() }));
        }
        self.publish(&events, seq, others.footprint);
        Ok(())
    }

    /// One command: idempotency check, plan, size check, stage, apply to `work`.
    fn plan_one(
        &mut self,
        cmd: &Command,
        key: Option<&IdempotencyKey>,
        now: Millis,
        seq: &mut u64,
        staged: &mut Staged,
    ) -> Result<Outcome, StoreError> {
        if let Some(k) = key {
            // An earlier command of this batch, or a committed one.
            let earlier =
                staged.keys.iter().find(|r| r.key == k.key).map(|r| (r.fingerprint.clone(), r.outcome.clone()));
            let recorded = match earlier {
                Some(r) => Some(r),
                None => self.backend.idempotency_get(&k.key)?,
            };
            if let Some((fingerprint, outcome)) = recorded {
                if fingerprint != k.fingerprint {
                    return Err(StoreError::KeyReused(format!(
                        "Idempotency-Key {:?} was already used for a different request",
                        k.key
                    )));
                }
                return Ok(serde_json::from_str(&outcome)?);
            }
        }
        let plan = self.work.plan(
            cmd,
            &mut Inputs { now, api_url: &self.config.api_url, setup_key: &self.config.setup_key, new_id: &mut new_id },
        )?;
        let growth = self.work.growth(&plan.events);
        let budget = self.config.max_state_bytes;
        if growth > 0 && self.bytes.saturating_add_signed(growth) > budget && !always_fits(cmd) {
            return Err(StoreError::Full(format!(
                "the server's store is full: it holds {} of its {} budget and this change needs {} more; \
                 delete tasks, sessions or projects that are no longer needed, or start the server with a \
                 larger --max-state-bytes (MAESTRO_MAX_STATE_BYTES)",
                human(self.bytes),
                human(budget),
                human(growth as u64)
            )));
        }
        // Every event is sized before any is staged: a refused command leaves no trace.
        let mut events = Vec::with_capacity(plan.events.len());
        for (i, data) in plan.events.into_iter().enumerate() {
            let event = Event { seq: *seq + 1 + i as u64, data, timestamp: now };
            let json: Arc<str> = serde_json::to_string(&event)?.into();
            if json.len() > EVENT_MAX_BYTES {
                return Err(StoreError::Invalid(format!(
                    "this change would make a {} of {} KiB; the most is {} KiB (shorten its texts or subtasks)",
                    event.data.name().split(':').next().unwrap_or("record"),
                    json.len() / 1024,
                    EVENT_MAX_BYTES / 1024
                )));
            }
            events.push(Arc::new(LoggedEvent { event, json }));
        }
        *seq += events.len() as u64;
        self.bytes = self.bytes.saturating_add_signed(growth);
        for e in &events {
            self.work.apply(&e.event.data);
        }
        if let Some(k) = key {
            let outcome = serde_json::to_string(&plan.outcome)?;
            staged.keys.push(KeyRecord { key: k.key.clone(), fingerprint: k.fingerprint.clone(), outcome, at: now });
        }
        staged.events.extend(events);
        Ok(plan.outcome)
    }

    fn read_events(&mut self, since: u64, limit: usize) -> Result<Vec<Arc<LoggedEvent>>, StoreError> {
        // A client resuming here from what another node sent it: catch up first, rather
        // than send it to refetch everything.
        if since > self.last_seq.load(Ordering::Acquire) {
            self.catch_up();
        }
        let last = self.last_seq.load(Ordering::Acquire);
        // A `since` beyond the last seq comes from another store's lifetime: refetch too.
        // (`since` is the client's number: no arithmetic on it that can overflow.)
        let first = self.footprint.first_retained;
        if since < first.saturating_sub(1) || since > last {
            return Err(StoreError::Gone { since, oldest: first });
        }
        let page = self.backend.events_after(since, limit, PAGE_BYTES)?;
        // Another node may have pruned what this one still counted as retained.
        if page.first().is_some_and(|(n, _)| *n != since + 1) {
            return Err(StoreError::Gone { since, oldest: page[0].0 });
        }
        page.into_iter()
            .map(|(_, json)| Ok(Arc::new(LoggedEvent { event: serde_json::from_str(&json)?, json: json.into() })))
            .collect()
    }
}

/// Changes that pass whatever the byte budget says: ending a session (its status, as a
/// terminal that closes or exits sets it before deleting it), the server's own record
/// of which node runs a terminal, and what a workspace's worktree on disk now is (else a
/// full store would show stale changes, or a worktree removed as still there). Each grows
/// a record by a few bytes at most.
fn always_fits(cmd: &Command) -> bool {
    match cmd {
        Command::UpdateSession { patch: p, .. } => p.name.is_none() && p.agent_id.is_none(),
        Command::ClaimTerminal { .. } | Command::FailNode { .. } | Command::SessionExited { .. } => true,
        // A word and a line, replacing the last.
        Command::SetSessionState { .. } | Command::GuessSessionState { .. } => true,
        // A workspace's changes, status and disk use are numbers and a word.
        Command::UpdateWorkspace { .. } => true,
        _ => false,
    }
}

/// Bytes as people read them: `812 bytes`, `3.4 MiB`.
fn human(n: u64) -> String {
    match n {
        0..1024 => format!("{n} bytes"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}
