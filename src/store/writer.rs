//! The writer thread: the only writer of Maestro's state. It takes whatever is queued
//! (group commit), plans each command against the state as the batch has left it, stages
//! the events (with the next values of the one gap-free `seq`) and idempotency records,
//! has the backend make them durable in one transaction, and only then publishes the
//! events and answers the callers.

use super::backend::{Backend, Budgets, KeyRecord, Staged};
use super::state::{Inputs, State};
use super::*;

/// The writer thread's own state.
pub(super) struct Writer {
    pub(super) backend: Box<dyn Backend>,
    /// The state including the batch in progress; `shared` catches up on commit.
    pub(super) work: State,
    pub(super) shared: Arc<RwLock<Committed>>,
    pub(super) bus: broadcast::Sender<Arc<LoggedEvent>>,
    pub(super) last_seq: Arc<AtomicU64>,
    /// As of the last commit.
    pub(super) footprint: Footprint,
    /// The newest events, for readers that need not wait for us.
    pub(super) recent: Arc<RwLock<super::recent::Recent>>,
    pub(super) config: StoreConfig,
    pub(super) health: Arc<Vitals>,
    /// The last time handed to a command: each gets a later one, so "newest first" is a
    /// strict order even when many commands land in the same millisecond.
    pub(super) last_now: Millis,
}

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
            let mut next = Some(first);
            while let Some(job) = next.take() {
                match job {
                    Job::Mutate { cmd, key, reply } => mutations.push((cmd, key, reply)),
                    Job::ReadEvents { since, limit, reply } => reads.push((since, limit, reply)),
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
        }
        tracing::debug!("store writer stopped");
    }

    /// Plans, stages and commits a batch; answers every caller after the commit.
    fn commit_batch(&mut self, batch: Vec<(Command, Option<IdempotencyKey>, Reply)>, housekeeping: bool) {
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
            Some(e) => Err(e),
            None => self.backend.commit(&staged, seq, budgets.as_ref()),
        };
        let footprint = match committed {
            Ok(f) => f,
            Err(e) => {
                // Nothing of this batch is durable: forget it and tell every caller.
                tracing::error!(error = %e, "store commit failed");
                if let StoreError::Failed(why) = &e {
                    // No later write can succeed either: say so, and let `serve` exit.
                    self.health.failed.send_replace(Some(why.clone()));
                }
                *self.health.degraded.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                self.work = self.shared.read().unwrap_or_else(|p| p.into_inner()).state.clone();
                for (reply, _) in answers {
                    let _ = reply.send(Err(e.clone()));
                }
                return;
            }
        };
        self.footprint = footprint;
        *self.health.footprint.lock().unwrap_or_else(|p| p.into_inner()) = footprint;
        self.health.degraded.lock().unwrap_or_else(|p| p.into_inner()).take();
        {
            let mut shared = self.shared.write().unwrap_or_else(|p| p.into_inner());
            for e in &staged.events {
                shared.state.apply(&e.event.data);
            }
            shared.seq = seq;
        }
        {
            let mut recent = self.recent.write().unwrap_or_else(|p| p.into_inner());
            for e in &staged.events {
                recent.push(e.clone());
            }
            recent.forget_before(footprint.first_retained);
        }
        self.last_seq.store(seq, Ordering::Release);
        for e in staged.events {
            let _ = self.bus.send(e); // no listener is fine
        }
        for (reply, r) in answers {
            let _ = reply.send(r);
        }
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
        let plan = self.work.plan(cmd, &mut Inputs { now, api_url: &self.config.api_url, new_id: &mut new_id })?;
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
        let last = self.last_seq.load(Ordering::Acquire);
        // A `since` beyond the last seq comes from another store's lifetime: refetch too.
        // (`since` is the client's number: no arithmetic on it that can overflow.)
        let first = self.footprint.first_retained;
        if since < first.saturating_sub(1) || since > last {
            return Err(StoreError::Gone { since, oldest: first });
        }
        self.backend
            .events_after(since, limit, PAGE_BYTES)?
            .into_iter()
            .map(|(_, json)| Ok(Arc::new(LoggedEvent { event: serde_json::from_str(&json)?, json: json.into() })))
            .collect()
    }
}
