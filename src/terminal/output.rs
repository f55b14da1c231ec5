//! Every session's terminal output, kept on disk (SPEC §9 "Nothing an agent said is lost"):
//! readable after the session ended and after a restart, and by byte offset, so that a
//! terminal stream can resume where it left off.
//!
//! Layout: `DIR/<session>/<offset>.out`, segment files each named (20 digits, so names sort)
//! by the absolute offset of its first byte in everything the session's terminal ever
//! printed. The first segment's name is the first kept byte, the last one's name plus its
//! length the end. Nothing else records either, so a crash leaves nothing to reconcile: what
//! reached the disk is what is kept.
//!
//! Budgets: a session keeps at most `session_max` bytes. Segments are an eighth of that;
//! when a session holds more, its oldest segment goes, so it keeps the newest 7/8 to all of
//! its budget. All sessions together keep at most `total_max`: the sessions written least
//! recently lose their whole output first, never one being written.
//!
//! Written by each terminal's output thread (never an async worker), in batches (`writer`): a
//! [`Writer`] holds the pieces it is given (shared with the recent output in memory, not
//! copied) and writes them with one `writev` when they reach [`BATCH`] bytes or when the
//! thread flushes it (the output went quiet, every so often, or the process ended). What it
//! holds is not lost to a crash: the terminal's holder still has it (`holder`), and a server
//! that re-adopts the terminal asks for what follows the kept output's end.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

/// A session's output budget by default (`MAESTRO_OUTPUT_SESSION_BYTES`).
pub const SESSION_MAX: u64 = 8 << 20;
/// All sessions' output budget by default (`MAESTRO_OUTPUT_TOTAL_BYTES`).
pub const TOTAL_MAX: u64 = 512 << 20;
/// Temporary directories (a server in memory) are named after its process, so that a later
/// start can remove the ones whose server was killed.
pub(super) const TEMP_PREFIX: &str = "maestro-output-";

/// The kept output of every session.
#[derive(Clone)]
pub struct Outputs {
    inner: Arc<Inner>,
}

struct Inner {
    given: Option<PathBuf>,
    temp: OnceLock<Result<tempfile::TempDir, String>>,
    session_max: u64,
    total_max: u64,
    books: Mutex<Books>,
}

/// What is kept, in memory: per session its bytes and when last written; who is writing.
#[derive(Default)]
struct Books {
    sessions: HashMap<String, (u64, SystemTime)>,
    total: u64,
    /// Sessions with a writer, and whether their output was removed meanwhile (the session
    /// was deleted): then the writer writes nothing more.
    writing: HashMap<String, bool>,
}

/// A session's kept range: offsets of the first kept byte and of the end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Kept {
    pub start: u64,
    pub end: u64,
}

/// Some output read: it starts at `offset`, within what is `kept`.
#[derive(Debug, Default)]
pub struct Chunk {
    pub offset: u64,
    pub bytes: Vec<u8>,
    pub kept: Kept,
}

impl Outputs {
    /// Kept in a temporary directory made when first needed (a server in memory), with
    /// the budgets of the environment (`MAESTRO_OUTPUT_SESSION_BYTES`,
    /// `MAESTRO_OUTPUT_TOTAL_BYTES`), else the defaults.
    pub fn temporary() -> Outputs {
        let env = |k: &str, d: u64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
        Outputs::budgeted(
            None,
            env("MAESTRO_OUTPUT_SESSION_BYTES", SESSION_MAX),
            env("MAESTRO_OUTPUT_TOTAL_BYTES", TOTAL_MAX),
        )
    }

    /// With these budgets (at least 8 KiB a session, and a total that holds one).
    fn budgeted(given: Option<PathBuf>, session_max: u64, total_max: u64) -> Outputs {
        let session_max = session_max.max(8 * 1024);
        let total_max = total_max.max(session_max);
        let inner = Inner { given, temp: OnceLock::new(), session_max, total_max, books: Mutex::default() };
        Outputs { inner: Arc::new(inner) }
    }

    /// The same budgets, kept in `dir` (made private if needed), with what an earlier run
    /// kept there.
    pub fn at(&self, dir: &Path) -> Result<Outputs, String> {
        let at = |e: &dyn std::fmt::Display| format!("output directory {}: {e}", dir.display());
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| at(&e))?;
        let me = Outputs::budgeted(Some(dir.to_path_buf()), self.inner.session_max, self.inner.total_max);
        me.scan(dir).map_err(|e| at(&e))?;
        Ok(me)
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.inner.books.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn dir(&self) -> Result<&Path, String> {
        if let Some(d) = &self.inner.given {
            return Ok(d);
        }
        let temp = self.inner.temp.get_or_init(|| {
            let base = std::env::temp_dir();
            super::prompts::remove_abandoned(&base, TEMP_PREFIX);
            tempfile::Builder::new()
                .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
                .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .tempdir_in(&base)
                .map_err(|e| format!("cannot make a directory for terminal output in {}: {e}", base.display()))
        });
        temp.as_ref().map(|t| t.path()).map_err(Clone::clone)
    }

    /// Reads what an earlier run kept into the books.
    fn scan(&self, dir: &Path) -> std::io::Result<()> {
        let mut books = self.books();
        for entry in std::fs::read_dir(dir)?.flatten() {
            let Some(id) = entry.file_name().to_str().map(str::to_string) else { continue };
            let mut bytes = 0;
            let mut last = SystemTime::UNIX_EPOCH;
            for seg in segments(&entry.path()) {
                if let Ok(m) = std::fs::metadata(seg.path(&entry.path())) {
                    bytes += m.len();
                    last = last.max(m.modified().unwrap_or(last));
                }
            }
            books.total += bytes;
            books.sessions.insert(id, (bytes, last));
        }
        Ok(())
    }

    /// Removes the output of every session `keep` says no to (deleted while the server was
    /// down); returns how many.
    pub fn retain(&self, keep: impl Fn(&str) -> bool) -> usize {
        let gone: Vec<String> = self.books().sessions.keys().filter(|id| !keep(id)).cloned().collect();
        for id in &gone {
            self.remove(id);
        }
        gone.len()
    }

    /// Removes session `id`'s output (it was deleted); a writer of it writes nothing more.
    pub fn remove(&self, id: &str) {
        let mut books = self.books();
        if let Some(dropped) = books.writing.get_mut(id) {
            *dropped = true;
        }
        if let Some((bytes, _)) = books.sessions.remove(id) {
            books.total -= bytes;
        }
        drop(books);
        if let Ok(dir) = self.dir() {
            let _ = std::fs::remove_dir_all(dir.join(id));
        }
    }

    /// A writer appending to session `id`'s output, after what is kept of it.
    pub fn writer(&self, id: &str) -> Writer {
        self.books().writing.insert(id.to_string(), false);
        let end = self.kept(id).end;
        Writer::new(self.clone(), id, end)
    }

    /// A session's budget in bytes.
    pub fn session_max(&self) -> u64 {
        self.inner.session_max
    }

    /// Bytes before `offset` that were never received (a terminal's holder no longer had
    /// them): what is kept of session `id` goes, and its output continues at `offset`.
    pub fn skip_to(&self, id: &str, offset: u64) {
        self.remove(id);
        let Ok(dir) = self.dir() else { return };
        let dir = dir.join(id);
        let made = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir);
        let seg = made.and_then(|()| {
            std::fs::OpenOptions::new().append(true).create(true).mode(0o600).open(Segment(offset).path(&dir))
        });
        if let Err(e) = seg {
            tracing::warn!(session = id, error = %e, "cannot keep this terminal's output");
        }
    }

    /// Session `id`'s kept range (empty, at 0, when nothing is kept).
    pub fn kept(&self, id: &str) -> Kept {
        let Ok(dir) = self.dir() else { return Kept::default() };
        let dir = dir.join(id);
        kept(&dir, &segments(&dir))
    }

    /// Up to `limit` bytes of session `id`'s output from `offset` (from the first kept
    /// byte when that went; nothing when `offset` is at or past the end). Blocking I/O.
    pub fn read(&self, id: &str, offset: u64, limit: usize) -> std::io::Result<Chunk> {
        let dir = self.dir().map_err(std::io::Error::other)?.join(id);
        // A segment may go (the budget) between listing and opening: list again.
        for _ in 0..3 {
            let segs = segments(&dir);
            let kept = kept(&dir, &segs);
            let from = offset.clamp(kept.start, kept.end);
            let size = (kept.end - from).min(limit as u64) as usize;
            let mut out = Chunk { offset: from, bytes: Vec::with_capacity(size), kept };
            let mut at = from;
            let mut gone = false;
            for (i, seg) in segs.iter().enumerate() {
                let next = segs.get(i + 1).map_or(u64::MAX, |s| s.0);
                if next <= at || out.bytes.len() >= limit {
                    continue;
                }
                let mut f = match File::open(seg.path(&dir)) {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        gone = true;
                        break;
                    }
                    Err(e) => return Err(e),
                };
                f.seek(SeekFrom::Start(at - seg.0))?;
                let want = (limit - out.bytes.len()) as u64;
                f.take(want).read_to_end(&mut out.bytes)?;
                at = from + out.bytes.len() as u64;
            }
            if !gone {
                out.kept.end = out.kept.end.max(at);
                return Ok(out);
            }
        }
        Err(std::io::Error::other("the output changed while it was read; try again"))
    }

    /// Records `n` more bytes of session `id` and drops what is over the budgets: its
    /// oldest segments, then the sessions written least recently.
    fn account(&self, dir: &Path, id: &str, n: u64) {
        let mut guard = self.books();
        let books = &mut *guard;
        let now = SystemTime::now();
        let entry = books.sessions.entry(id.to_string()).or_insert((0, now));
        entry.0 += n;
        entry.1 = now;
        books.total += n;
        if entry.0 > self.inner.session_max {
            let sdir = dir.join(id);
            let segs = segments(&sdir);
            let mut held = entry.0;
            let mut freed = 0;
            for seg in &segs[..segs.len().saturating_sub(1)] {
                if held <= self.inner.session_max {
                    break;
                }
                let len = std::fs::metadata(seg.path(&sdir)).map(|m| m.len()).unwrap_or(0);
                if std::fs::remove_file(seg.path(&sdir)).is_ok() {
                    held -= len;
                    freed += len;
                }
            }
            entry.0 = held;
            books.total -= freed;
        }
        while books.total > self.inner.total_max {
            let oldest = books
                .sessions
                .iter()
                .filter(|(s, _)| !books.writing.contains_key(*s))
                .min_by_key(|(s, (_, at))| (*at, (*s).clone()))
                .map(|(s, _)| s.clone());
            let Some(old) = oldest else { break };
            let bytes = books.sessions.remove(&old).map_or(0, |(b, _)| b);
            books.total -= bytes;
            if let Err(e) = std::fs::remove_dir_all(dir.join(&old)) {
                tracing::warn!(session = old, error = %e, "cannot remove old terminal output");
            }
        }
    }
}

/// A segment: the absolute offset its name gives.
#[derive(Clone, Copy)]
struct Segment(u64);

impl Segment {
    fn path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("{:020}.out", self.0))
    }
}

/// A session directory's segments, in order.
fn segments(dir: &Path) -> Vec<Segment> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut segs: Vec<Segment> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".out")?.parse().ok().map(Segment))
        .collect();
    segs.sort_by_key(|s| s.0);
    segs
}

/// The range the segments `segs` of directory `dir` keep.
fn kept(dir: &Path, segs: &[Segment]) -> Kept {
    let (Some(first), Some(last)) = (segs.first(), segs.last()) else { return Kept::default() };
    let len = std::fs::metadata(last.path(dir)).map(|m| m.len()).unwrap_or(0);
    Kept { start: first.0, end: last.0 + len }
}

mod writer;
pub use writer::{Writer, BATCH};

#[cfg(test)]
mod tests;
