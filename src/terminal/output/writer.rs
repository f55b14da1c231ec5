//! Appending to one session's kept output: the [`Writer`] its terminal's output thread
//! holds, in batches of pieces shared with the recent output in memory.

use super::{segments, Outputs, Segment};
use bytes::Bytes;
use std::fs::File;
use std::io::{IoSlice, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

/// A writer writes when it holds this many bytes (or when flushed): fewer writes cost less
/// per MB than 64 KiB ones; 1 MiB ones were no cheaper and hold a core longer (docs/PERF.md).
pub const BATCH: usize = 256 << 10;
/// ... or this many pieces (a program printing a byte at a time makes many small ones).
const PIECES_MAX: usize = 256;

/// Appends to one session's output; made by [`Outputs::writer`], used by one thread.
pub struct Writer {
    outputs: Outputs,
    id: String,
    /// Pieces given and not yet written, and their bytes.
    pending: Vec<Bytes>,
    held: usize,
    /// The offset after the last byte written to disk.
    end: u64,
    /// The open last segment and where it starts.
    file: Option<(File, u64)>,
    /// Writing failed once (said in the log), or the session's output was removed: the rest
    /// is not kept.
    failed: bool,
}

impl Writer {
    /// Appending to session `id`'s output after `end` (see [`Outputs::writer`]).
    pub(super) fn new(outputs: Outputs, id: &str, end: u64) -> Writer {
        Writer { outputs, id: id.to_string(), pending: Vec::new(), held: 0, end, file: None, failed: false }
    }

    /// The offset after the last byte written to disk.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The offset before which every byte given is on disk or never will be (not kept):
    /// what the recent output in memory may drop, as a reader behind it reads the disk.
    pub fn settled(&self) -> u64 {
        if self.failed {
            u64::MAX
        } else {
            self.end
        }
    }

    /// Adds output (copied: for a few bytes of the server's own).
    pub fn write(&mut self, bytes: &[u8]) {
        self.keep(Bytes::copy_from_slice(bytes));
    }

    /// Adds output, shared; written when [`BATCH`] bytes wait.
    pub fn keep(&mut self, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        self.held += bytes.len();
        self.pending.push(bytes);
        if self.held >= BATCH || self.pending.len() >= PIECES_MAX {
            self.flush();
        }
    }

    /// Writes what waits, starting a new segment wherever one is full.
    pub fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let pieces = std::mem::take(&mut self.pending);
        self.held = 0;
        if self.failed || self.outputs.books().writing.get(&self.id).copied().unwrap_or(true) {
            self.failed = true;
            return;
        }
        if let Err(e) = self.append(&pieces) {
            self.failed = true;
            tracing::warn!(session = self.id, error = %e, "cannot keep this terminal's output");
        }
        self.pending = pieces;
        self.pending.clear();
    }

    fn append(&mut self, pieces: &[Bytes]) -> Result<(), String> {
        let base = self.outputs.dir()?.to_path_buf();
        let dir = base.join(&self.id);
        let seg_max = self.outputs.inner.session_max / 8;
        let mut rest: std::collections::VecDeque<&[u8]> = pieces.iter().map(|p| &p[..]).collect();
        while !rest.is_empty() {
            let full = self.file.as_ref().is_none_or(|(_, start)| self.end - start >= seg_max);
            if full {
                std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(|e| e.to_string())?;
                // After a restart the last segment may have room: continue it.
                let start = match segments(&dir).last() {
                    Some(s) if self.file.is_none() && self.end - s.0 < seg_max => s.0,
                    _ => self.end,
                };
                let f = std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .mode(0o600)
                    .open(Segment(start).path(&dir))
                    .map_err(|e| e.to_string())?;
                self.file = Some((f, start));
            }
            let Some((f, start)) = self.file.as_mut() else { return Ok(()) };
            // What fits in this segment, in one write.
            let mut room = (seg_max - (self.end - *start)) as usize;
            let mut now = Vec::with_capacity(rest.len());
            while room > 0 {
                let Some(p) = rest.pop_front() else { break };
                let (this, more) = p.split_at(room.min(p.len()));
                now.push(IoSlice::new(this));
                room -= this.len();
                if !more.is_empty() {
                    rest.push_front(more);
                }
            }
            let n: usize = now.iter().map(|s| s.len()).sum();
            write_all(f, &mut now).map_err(|e| e.to_string())?;
            self.end += n as u64;
            self.outputs.account(&base, &self.id, n as u64);
        }
        Ok(())
    }
}

/// Writes every slice (`Write::write_all_vectored` is not stable yet).
fn write_all(f: &mut File, mut bufs: &mut [IoSlice<'_>]) -> std::io::Result<()> {
    while !bufs.is_empty() {
        match f.write_vectored(bufs) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.flush();
        self.outputs.books().writing.remove(&self.id);
    }
}
