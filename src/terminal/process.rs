//! A terminal's running process: its output read, its input written (each on a thread of
//! its own, so nothing blocks the server's async workers). Starting it is `launch`'s;
//! signalling its whole session, `group`'s.

use super::activity::Activity;
use super::holder::link::{Batch, Ended, Link, Output, Sent};
use super::output::Writer;
use super::Term;
use bytes::Bytes;
use portable_pty::Child;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Output that keeps coming is written to disk at least this often.
const FLUSH_EVERY: Duration = Duration::from_millis(250);
/// The most output read into one batch.
const BATCH_MAX: usize = 64 * 1024;
/// Nothing read for this long, the terminal is quiet (its kept output goes to disk).
const QUIET: Duration = Duration::from_millis(100);

/// The writer thread: hands queued input to the program as it reads it. It may block
/// on a program that does not read; only this thread waits then.
pub(super) fn write_input(link: Arc<Link>, mut queued: mpsc::Receiver<Bytes>) {
    while let Some(chunk) = queued.blocking_recv() {
        if link.write_queued(&chunk).is_err() {
            break;
        }
    }
}

impl Term {
    /// Input sent to the holder at once, from the socket's task, when nothing is queued
    /// ahead of it and the holder's socket takes it without waiting (a keystroke crosses
    /// no thread of the server's); false: queue it for the writer thread (after
    /// [`Link::queued`]).
    pub(super) fn type_now(&self, chunk: &[u8]) -> bool {
        match self.link.try_input(chunk) {
            Sent::All => true,
            Sent::Part => {
                // The rest of its frame goes with the writer thread's next send.
                self.link.queued();
                let _ = self.input.try_send(Bytes::new());
                true
            }
            Sent::None => false,
        }
    }

    /// Gives input to the writer thread in the queue slot `room`, counted first (see
    /// [`Link::queued`]): input typed meanwhile must not overtake it.
    pub(super) fn queue(&self, room: mpsc::Permit<'_, Bytes>, chunk: Bytes) {
        self.link.queued();
        room.send(chunk);
    }
}

/// The reader thread: passes output on until the holder says the process exited (after
/// all its output: what it left behind had its time to finish there) or goes, or the
/// terminal closed. Returns the exit code.
/// The end is the process's exit, not the terminal's: a background job that keeps the
/// terminal open does not keep the session running.
///
/// Each batch is what has arrived (up to [`BATCH_MAX`]), kept and passed on once: output
/// that comes alone (an echo) goes on at once, a flood in batches of what piled up meanwhile;
/// nothing waits for more to come.
pub(super) fn read_output(
    t: &Term,
    mut output: Output,
    mut child: Ended,
    mut kept: Option<Writer>,
    mut activity: Option<Activity>,
) -> u32 {
    let mut flushed = Instant::now();
    loop {
        let quiet = match output.batch(BATCH_MAX, QUIET) {
            Batch::Data(b) => {
                publish(t, b, kept.as_mut(), activity.as_mut());
                false
            }
            Batch::Quiet => {
                if let Some(a) = activity.as_mut() {
                    a.quiet();
                }
                true
            }
            Batch::End => break,
        };
        // Kept output reaches the disk when the terminal goes quiet, or every so often.
        if quiet || flushed.elapsed() >= FLUSH_EVERY {
            if let Some(k) = kept.as_mut() {
                k.flush();
                t.recent.settle(k.settled());
            }
            flushed = Instant::now();
        }
    }
    // All of it on disk before anyone is told the process ended.
    drop(kept);
    child.wait().map(|s| s.exit_code()).unwrap_or(1)
}

/// One batch of output: kept on disk, in memory for the sockets (shared, not copied), and
/// seen by the activity.
fn publish(t: &Term, batch: Bytes, kept: Option<&mut Writer>, activity: Option<&mut Activity>) {
    let settled = kept.map_or(u64::MAX, |k| {
        k.keep(batch.clone());
        k.settled()
    });
    if let Some(a) = activity {
        if t.typed.swap(false, std::sync::atomic::Ordering::Relaxed) {
            a.input();
        }
        a.output(&batch);
    }
    t.recent.push(batch, settled);
}
