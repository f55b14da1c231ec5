//! A terminal's output stream by byte offset: the recent output in memory ([`Recent`]),
//! written once per batch by the reader thread and shared (not copied) by every socket,
//! and what a socket sends next from where it is ([`next`]): from memory, else from the
//! session's kept output on disk (`output.rs`), else a gap that says exactly which bytes
//! went over the budgets. A socket never holds more than one frame of its own.
//!
//! Offsets are those of the kept output: counted from the first byte the terminal's
//! session ever printed (a plain terminal's from 0).

use super::output::{Outputs, Writer};
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::watch;

/// Bytes of recent output kept in memory per terminal, at least; more while the kept
/// output's writer holds them (at most its batch, `output::BATCH`, more), so that a socket
/// behind memory finds them on disk. A new socket without `offset` starts from its first
/// byte.
pub const RECENT: usize = 256 * 1024;
/// The most one frame to a socket carries.
pub const FRAME_MAX: usize = 64 * 1024;
/// Pieces shorter than this are joined to the one before them (so that typing's one-byte
/// echoes do not cost an allocation each for as long as they are kept).
const SMALL: usize = 4096;
/// What a piece costs beyond its bytes (its allocation and place in the queue).
const OVERHEAD: usize = 64;

/// A terminal's recent output, by offset.
pub(super) struct Recent {
    ring: Mutex<Ring>,
    /// The offset after the last byte, for sockets to wait on.
    end: watch::Sender<u64>,
}

struct Ring {
    pieces: VecDeque<Bytes>,
    /// Offset of the first byte held.
    start: u64,
    /// Bytes held plus [`OVERHEAD`] per piece.
    cost: usize,
}

impl Ring {
    /// The oldest piece goes only when what remains still holds the budget (with batches of
    /// up to 64 KiB, dropping whenever over it would keep as little as 3/4 of it) and when
    /// it is settled.
    fn trim(&mut self, settled: u64) {
        while let Some(old) = self.pieces.front() {
            let len = old.len();
            if self.cost - (len + OVERHEAD) < RECENT || self.start + len as u64 > settled {
                break;
            }
            self.pieces.pop_front();
            self.cost -= len + OVERHEAD;
            self.start += len as u64;
        }
    }
}

/// What a socket sends next.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// Nothing yet: it is at the end.
    Nothing,
    /// These bytes, at the socket's offset.
    Data(Bytes),
    /// Bytes `from..to` are gone (over the budgets): the socket goes on at `to`.
    Gap { from: u64, to: u64 },
}

impl Recent {
    /// Empty, at offset `start` (where the session's kept output ends).
    pub(super) fn new(start: u64) -> Recent {
        let ring = Ring { pieces: VecDeque::new(), start, cost: 0 };
        Recent { ring: Mutex::new(ring), end: watch::channel(start).0 }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends a batch and tells the sockets; drops the oldest pieces not needed to hold
    /// [`RECENT`] that end at or before `settled` (on disk, or never to be: see
    /// `Writer::settled`).
    pub(super) fn push(&self, batch: Bytes, settled: u64) {
        if batch.is_empty() {
            return;
        }
        let n = batch.len() as u64;
        let mut r = self.ring();
        match r.pieces.back_mut() {
            Some(last) if last.len() + batch.len() <= SMALL => {
                let mut joined = BytesMut::with_capacity(last.len() + batch.len());
                joined.extend_from_slice(last);
                joined.extend_from_slice(&batch);
                *last = joined.freeze();
                r.cost += batch.len();
            }
            _ => {
                r.cost += batch.len() + OVERHEAD;
                r.pieces.push_back(batch);
            }
        }
        r.trim(settled);
        let end = self.end.borrow().saturating_add(n);
        drop(r);
        self.end.send_replace(end);
    }

    /// Drops what [`Recent::push`] would have, now that more is `settled`.
    pub(super) fn settle(&self, settled: u64) {
        self.ring().trim(settled);
    }

    /// Every byte held, in one piece (for a look at what the program said last).
    pub(super) fn held(&self) -> Vec<u8> {
        self.ring().pieces.iter().flat_map(|p| p.iter().copied()).collect()
    }

    /// The offset of the first byte held and of the end.
    pub(super) fn bounds(&self) -> (u64, u64) {
        let r = self.ring();
        (r.start, *self.end.borrow())
    }

    /// Wakes on every batch.
    pub(super) fn subscribe(&self) -> watch::Receiver<u64> {
        self.end.subscribe()
    }

    /// Up to `limit` bytes from `from` (one piece's part without copying); `Err(start)`
    /// when `from` is before the first byte held.
    fn read(&self, from: u64, limit: usize) -> Result<Option<Bytes>, u64> {
        let r = self.ring();
        if from < r.start {
            return Err(r.start);
        }
        let mut at = r.start;
        let mut parts: Vec<Bytes> = Vec::new();
        let mut have = 0;
        for p in &r.pieces {
            let len = p.len() as u64;
            if at + len > from {
                let skip = from.saturating_sub(at) as usize;
                let part = p.slice(skip..p.len().min(skip.saturating_add(limit - have)));
                have += part.len();
                parts.push(part);
                if have >= limit {
                    break;
                }
            }
            at += len;
        }
        Ok(match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => {
                let mut joined = BytesMut::with_capacity(have);
                parts.iter().for_each(|p| joined.extend_from_slice(p));
                Some(joined.freeze())
            }
        })
    }
}

/// What a socket at `at` sends next, at most `limit` bytes: from memory, else from terminal
/// `id`'s kept output (read on a blocking thread), else a gap up to what is still there.
pub(super) async fn next(recent: &Recent, outputs: &Outputs, id: &str, at: u64, limit: usize) -> Next {
    let start = match recent.read(at, limit) {
        Ok(Some(b)) => return Next::Data(b),
        Ok(None) => return Next::Nothing,
        Err(start) => start,
    };
    let (outputs, id) = (outputs.clone(), id.to_string());
    let kept = tokio::task::spawn_blocking(move || outputs.read(&id, at, limit)).await;
    match kept {
        Ok(Ok(c)) if c.offset == at && !c.bytes.is_empty() => Next::Data(c.bytes.into()),
        // Dropped from disk too: from the first byte still kept, on disk or in memory.
        Ok(Ok(c)) if c.offset > at && !c.bytes.is_empty() => Next::Gap { from: at, to: c.offset.min(start) },
        _ => Next::Gap { from: at, to: start },
    }
}

impl super::Terminals {
    /// A writer keeping a session's output (none for a plain terminal) and the terminal's
    /// recent output, at the same offsets. A terminal `readopted` (its holder's output from
    /// that offset on) shows who attaches the end of what was kept first; a plain one's
    /// offsets are its holder's (nothing on disk counts them).
    pub(super) fn keep_output(&self, session: bool, id: &str, readopted: Option<u64>) -> (Option<Writer>, Recent) {
        let Some(w) = session.then(|| self.outputs.writer(id)) else {
            return (None, Recent::new(readopted.unwrap_or(0)));
        };
        let end = w.end();
        let tail = readopted
            .and_then(|_| self.outputs.read(id, end.saturating_sub(RECENT as u64), RECENT).ok())
            .filter(|c| c.offset + c.bytes.len() as u64 == end)
            .map(|c| c.bytes)
            .unwrap_or_default();
        let recent = Recent::new(end - tail.len() as u64);
        recent.push(tail.into(), end);
        (Some(w), recent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(r: &Recent, from: u64, limit: usize) -> Vec<u8> {
        r.read(from, limit).unwrap().map(|b| b.to_vec()).unwrap_or_default()
    }

    #[test]
    fn recent_output_is_read_by_offset_across_pieces_and_the_oldest_goes_over_its_budget() {
        let r = Recent::new(1000);
        let text: Vec<u8> = (0..(RECENT as u32 * 2)).map(|i| b'a' + (i % 26) as u8).collect();
        // Small pieces are joined; large ones kept as they are.
        for piece in text[..10].chunks(1) {
            r.push(Bytes::copy_from_slice(piece), u64::MAX);
        }
        assert_eq!(r.ring().pieces.len(), 1);
        assert_eq!(bytes(&r, 1003, 4), &text[3..7]);
        for piece in text[10..].chunks(30_000) {
            r.push(Bytes::copy_from_slice(piece), u64::MAX);
        }
        let (start, end) = r.bounds();
        assert_eq!(end, 1000 + text.len() as u64);
        assert!(start > 1000 && end - start < (RECENT + 30_000) as u64 && end - start >= (RECENT - 64 * 20) as u64);
        // Across pieces, up to the limit; at the end nothing; before the start, where it is.
        let at = start + 29_990;
        assert_eq!(bytes(&r, at, 100), &text[(at - 1000) as usize..(at - 1000) as usize + 100]);
        assert_eq!(bytes(&r, start, usize::MAX), &text[(start - 1000) as usize..]);
        assert_eq!(r.read(end, 10), Ok(None));
        assert_eq!(r.read(start - 1, 10), Err(start));
    }

    #[tokio::test]
    async fn a_socket_behind_memory_reads_the_kept_output_and_is_told_what_went_from_both() {
        let dir = tempfile::tempdir().unwrap();
        let outputs = Outputs::temporary().at(dir.path()).unwrap();
        let text: Vec<u8> = (0..550_000u32).map(|i| b'0' + (i % 10) as u8).collect();
        let r = Recent::new(0);
        let mut w = outputs.writer("s");
        for piece in text.chunks(50_000) {
            let piece = Bytes::copy_from_slice(piece);
            w.keep(piece.clone());
            r.push(piece, w.settled());
            // What memory dropped is on disk; what the writer holds is still in memory.
            assert!(r.bounds().0 <= w.end(), "{:?} against {}", r.bounds(), w.end());
        }
        assert!(w.end() < 550_000, "the writer holds the last pieces");
        w.flush();
        r.settle(w.settled());
        drop(w);
        let (start, _) = r.bounds();
        assert!(start > 0);
        assert_eq!(next(&r, &outputs, "s", 5, 10).await, Next::Data(Bytes::copy_from_slice(&text[5..15])));
        assert_eq!(
            next(&r, &outputs, "s", start, 3).await,
            Next::Data(Bytes::copy_from_slice(&text[start as usize..][..3]))
        );
        // A plain terminal (nothing on disk) behind memory: the gap up to memory's start.
        assert_eq!(next(&r, &outputs, "term_x", 5, 10).await, Next::Gap { from: 5, to: start });
    }

    #[tokio::test]
    async fn a_slow_socket_gets_every_byte_of_a_flood_while_the_writer_holds_a_batch() {
        let dir = tempfile::tempdir().unwrap();
        let outputs = Outputs::temporary().at(dir.path()).unwrap();
        let text: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let r = Recent::new(0);
        let mut w = outputs.writer("s");
        let mut got = Vec::new();
        for piece in text.chunks(40_000) {
            let piece = Bytes::copy_from_slice(piece);
            w.keep(piece.clone());
            r.push(piece, w.settled());
            // A reader taking a quarter of what comes: memory's start passes it.
            match next(&r, &outputs, "s", got.len() as u64, 10_000).await {
                Next::Data(b) => got.extend_from_slice(&b),
                other => panic!("at {}: {other:?}", got.len()),
            }
        }
        let (start, end) = r.bounds();
        assert!(start > got.len() as u64, "the reader fell behind memory ({start})");
        assert!(end - start <= (RECENT + crate::terminal::output::BATCH + 40_000) as u64);
        while got.len() < text.len() {
            match next(&r, &outputs, "s", got.len() as u64, 64 * 1024).await {
                Next::Data(b) => got.extend_from_slice(&b),
                other => panic!("at {}: {other:?}", got.len()),
            }
        }
        assert!(got == text);
    }
}
