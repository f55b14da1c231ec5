//! Re-adopting terminals when the server starts (SPEC §9 "Outliving the server"): every
//! holder an earlier run left in the holders' directory is connected to again, asked for
//! what its process printed since the kept output ends, and served as if just started; its
//! session stays `running`. A process that exited meanwhile completes or fails its session
//! with its code; one the machine's restart killed (another boot id), or whose holder is
//! gone without a word, fails it, saying why in its output.

use super::holder::{boot_id, link::connect, Record};
use super::{valid, Terminals};
use crate::model::{SessionPatch, SessionStatus};
use crate::store::Command;
use std::path::Path;

impl Terminals {
    /// Re-adopts the holders an earlier run left (none for a server in memory).
    pub async fn adopt(&self) {
        if !self.outlive() {
            return;
        }
        let Ok(dir) = self.holders.path().map(Path::to_path_buf) else { return };
        let boot = boot_id();
        for rec in Record::all(&dir) {
            self.adopt_one(&dir, rec, boot.as_deref()).await;
        }
    }

    async fn adopt_one(&self, dir: &Path, rec: Record, boot: Option<&str>) {
        let id = rec.id.clone();
        if valid(&id).is_err() {
            Record::remove(dir, &id);
            return;
        }
        let session = self.store.read(|s| s.sessions.get(&id).map(|s| s.status));
        let linked = session.is_some();
        if rec.boot.as_deref().zip(boot).is_some_and(|(was, is)| was != is) {
            Record::remove(dir, &id);
            self.lost(&id, "the machine restarted, and this session's process ended with it").await;
            return;
        }
        let from = if linked { self.outputs.kept(&id).end.saturating_sub(rec.base) } else { 0 };
        let held = match connect(dir, &id, from, rec.pid) {
            Ok(h) => h,
            Err(e) => {
                tracing::info!(terminal = id, error = %e, "a terminal's holder is gone");
                Record::remove(dir, &id);
                match rec.exit {
                    Some(code) => {
                        let _ = self.store.execute(Command::SessionExited { id, code }, None).await;
                    }
                    None => self.lost(&id, "this session's terminal holder ended while the server was down").await,
                }
                return;
            }
        };
        let at = self.held_from(&id, linked, rec.base, from, held.at);
        let files = if linked { self.prompts.session_files(&id) } else { Vec::new() };
        let served = {
            let mut terms = self.terms.lock().unwrap_or_else(|e| e.into_inner());
            self.serve(&mut terms, &id, linked, held, files, Some(at))
        };
        if let Err(e) = served {
            tracing::warn!(terminal = id, error = ?e, "cannot re-adopt a terminal");
            return;
        }
        tracing::info!(terminal = id, pid = rec.pid, "terminal re-adopted");
        // Deleted or ended meanwhile (a plain terminal's id is no session's): it ends now.
        let ended = match session {
            Some(status) => status != SessionStatus::Running,
            None => !id.starts_with("term_"),
        };
        if ended {
            self.kill(&id);
        }
    }

    /// Fails running session `id` whose process is gone with no exit code, saying `why` at
    /// the end of its output.
    async fn lost(&self, id: &str, why: &str) {
        if !self.store.read(|s| s.sessions.get(id).is_some_and(|s| s.status == SessionStatus::Running)) {
            return;
        }
        tracing::warn!(session = id, why, "session failed");
        let mut w = self.outputs.writer(id);
        w.write(format!("\r\n\x1b[31mmaestro: {why}\x1b[0m\r\n").as_bytes());
        drop(w);
        let patch = SessionPatch { status: Some(SessionStatus::Failed), ..Default::default() };
        let _ = self.store.execute(Command::UpdateSession { id: id.to_string(), patch }, None).await;
    }
}
