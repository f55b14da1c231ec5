//! Keeping active workspaces' changes current: a watcher per active workspace on this
//! node's disk, started and stopped as the store's workspace events say. Each watcher's
//! callback runs on the watcher's own thread: it recomputes the changes there and records
//! them (`workspace:updated`) only when the summary differs from the store's. The disk use
//! walks the whole tree, so it is measured again only with a change, at most once a minute.
//!
//! A workspace that cannot be watched (the system's inotify limits) is left unwatched: its
//! changes are recorded whenever its files are read.

use super::service::Workspaces;
use super::watch::{watch, Watcher, DEBOUNCE};
use super::{changes, disk_usage};
use crate::model::{EventData, Workspace, WorkspaceStatus};
use crate::store::{Command, Store, WorkspacePatch};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;

/// How often, at most, a followed workspace's disk use is measured again.
const DISK_EVERY: Duration = Duration::from_secs(60);

impl Workspaces {
    /// Follows every active workspace on this node, now and as events come. Call once, from
    /// inside the runtime.
    pub fn start(&self) {
        let me = self.clone();
        let mut events = self.inner.store.subscribe();
        tokio::spawn(async move {
            me.follow_all();
            loop {
                match events.recv().await {
                    Ok(e) => match &e.event.data {
                        EventData::WorkspaceCreated(w) | EventData::WorkspaceUpdated(w) => me.follow(w),
                        EventData::WorkspaceDeleted(d) => me.unfollow(&d.id),
                        _ => {}
                    },
                    Err(RecvError::Lagged(_)) => me.follow_all(),
                    Err(RecvError::Closed) => break,
                }
            }
        });
    }

    /// Follows what the store now says, every workspace.
    fn follow_all(&self) {
        let all: Vec<Workspace> = self.inner.store.read(|st| st.workspaces.values().cloned().collect());
        let known: HashSet<&str> = all.iter().map(|w| w.id.as_str()).collect();
        self.followed().retain(|id, _| known.contains(id.as_str()));
        for w in &all {
            self.follow(w);
        }
    }

    /// Follows a workspace again as the store now has it (after an archive or restore).
    pub(super) fn refollow(&self, id: &str) {
        match self.inner.store.read(|st| st.workspaces.get(id).cloned()) {
            Some(w) => self.follow(&w),
            None => self.unfollow(id),
        }
    }

    /// Starts or stops following `w` as it now is; one being archived or restored is left
    /// as it is.
    fn follow(&self, w: &Workspace) {
        if self.is_busy(&w.id) {
            return;
        }
        if w.status != WorkspaceStatus::Active || self.here(w).is_err() {
            self.unfollow(&w.id);
            return;
        }
        {
            let mut followed = self.followed();
            if followed.contains_key(&w.id) {
                return;
            }
            followed.insert(w.id.clone(), None);
        }
        let me = self.clone();
        let refresh =
            Refresh { store: self.inner.store.clone(), id: w.id.clone(), path: PathBuf::from(&w.path), disk_at: None };
        tokio::task::spawn_blocking(move || {
            let (id, path) = (refresh.id.clone(), refresh.path.clone());
            let mut first = Refresh { disk_at: Some(Instant::now()), ..refresh.clone() };
            let mut refresh = refresh;
            let watcher = watch(&path, DEBOUNCE, move || refresh.run());
            {
                let mut followed = me.followed();
                match (&watcher, followed.get_mut(&id)) {
                    (Ok(_), Some(slot @ None)) => *slot = watcher.ok(),
                    (Err(e), Some(_)) => {
                        tracing::warn!(workspace = id, error = %e, "cannot watch a workspace: its changes show when read")
                    }
                    // Stopped meanwhile: the watcher ends here.
                    _ => return,
                }
            }
            // Then what changed while nobody watched (the server was down, it was just made or
            // restored): a write from now on is seen by one or the other.
            first.run();
        });
    }

    /// Records a workspace's changes as they are now: a session's agent that just exited
    /// may have written last within the watcher's debounce, and its task's status (SPEC §8)
    /// is decided by what the store then holds.
    pub async fn record_changes(&self, id: &str) {
        let Some(w) = self.inner.store.read(|st| st.workspaces.get(id).cloned()) else { return };
        if w.status != WorkspaceStatus::Active || self.here(&w).is_err() || self.is_busy(id) {
            return;
        }
        // Not measuring the disk: the watcher does that, at most once a minute.
        let mut refresh = Refresh {
            store: self.inner.store.clone(),
            id: w.id,
            path: PathBuf::from(&w.path),
            disk_at: Some(Instant::now()),
        };
        let _ = tokio::task::spawn_blocking(move || refresh.run()).await;
    }

    /// Whether a workspace's changes are followed live (its watcher runs).
    pub fn following(&self, id: &str) -> bool {
        self.followed().get(id).is_some_and(Option::is_some)
    }

    /// Stops following a workspace: its watcher ends (a burst it saw may still call back).
    pub(super) fn unfollow(&self, id: &str) {
        let gone = self.followed().remove(id);
        drop(gone);
    }

    fn followed(&self) -> std::sync::MutexGuard<'_, HashMap<String, Option<Watcher>>> {
        self.inner.followed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a watcher's callback needs: it runs on the watcher's thread, never an async worker.
#[derive(Clone)]
struct Refresh {
    store: Store,
    id: String,
    path: PathBuf,
    /// When the disk use was last measured.
    disk_at: Option<Instant>,
}

impl Refresh {
    /// Recomputes the changes; records them when the summary changed.
    fn run(&mut self) {
        let Some(w) = self.store.read(|st| st.workspaces.get(&self.id).cloned()) else { return };
        if w.status != WorkspaceStatus::Active {
            return;
        }
        let summary = match changes(&self.path, &w.base) {
            Ok(files) => files.summary,
            Err(e) => {
                tracing::debug!(workspace = self.id, error = %e, "cannot compute a workspace's changes");
                return;
            }
        };
        if summary == w.changes {
            return;
        }
        let disk = match self.disk_at {
            Some(at) if at.elapsed() < DISK_EVERY => None,
            _ => {
                self.disk_at = Some(Instant::now());
                Some(Some(disk_usage(&self.path)))
            }
        };
        let patch = WorkspacePatch { changes: Some(summary), disk_bytes: disk, status: None };
        let cmd = Command::UpdateWorkspace { id: self.id.clone(), patch };
        // Waits on the store's channels only (no runtime needed, so none that is shutting
        // down can fail it). A workspace archived meanwhile refuses it: nothing to do then.
        if let Err(e) = futures::executor::block_on(self.store.execute(cmd, None)) {
            tracing::debug!(workspace = self.id, error = %e, "a workspace's changes were not recorded");
        }
    }
}
