//! A terminal's running process: its output read, its input written (each on a thread of
//! its own, so nothing blocks the server's async workers), and ending it with its whole
//! session. Starting it is `launch`'s.

use super::activity::Activity;
use super::output::Writer;
use super::Term;
use bytes::Bytes;
use portable_pty::Child;
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// After the process exits, output still arriving (from what it left behind) is passed on
/// for this long.
const DRAIN: Duration = Duration::from_millis(200);
/// Output that keeps coming is written to disk at least this often.
const FLUSH_EVERY: Duration = Duration::from_millis(250);
/// The most output read into one batch.
const BATCH_MAX: usize = 64 * 1024;
/// Output flowing, the process's exit is looked for this often...
const CHECK_EVERY: Duration = Duration::from_millis(100);
/// ...and whenever it is quiet this long.
const QUIET_MS: u16 = 100;

/// Sends `sig` to the terminal's process group and to every other process of its session
/// (shells put background jobs in groups of their own).
pub(super) fn signal_session(leader: i32, sig: nix::sys::signal::Signal) {
    use nix::unistd::Pid;
    let _ = nix::sys::signal::killpg(Pid::from_raw(leader), sig);
    for pid in session_members(leader) {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), sig);
    }
}

/// The live processes (not zombies) of the session `leader` started.
pub(super) fn session_members(leader: i32) -> Vec<i32> {
    let mut found = Vec::new();
    #[cfg(target_os = "linux")]
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse::<i32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            // Fields after the command name (which may hold spaces) in parentheses:
            // state ppid pgrp session …
            let mut fields = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace()).into_iter().flatten();
            let state = fields.next();
            let session = fields.nth(2).and_then(|s| s.parse::<i32>().ok());
            if session == Some(leader) && state != Some("Z") {
                found.push(pid);
            }
        }
    }
    found
}

/// The writer thread: hands queued input to the program as it reads it. It may block
/// on a program that does not read; only this thread waits then.
pub(super) fn write_input(mut writer: Box<dyn Write + Send>, mut queued: mpsc::Receiver<Bytes>) {
    while let Some(chunk) = queued.blocking_recv() {
        if writer.write_all(&chunk).and_then(|()| writer.flush()).is_err() {
            break;
        }
    }
}

/// The reader thread: passes output on until the process has exited (and what it left
/// behind has had [`DRAIN`] to finish), or the terminal closed. Returns the exit code.
/// The end is the process's exit, not the terminal's: a background job that keeps the
/// terminal open does not keep the session running.
///
/// Reads are coalesced: after the first, what else is ready at once is read into the same
/// batch (up to [`BATCH_MAX`]), which is then kept and passed on once. The process's exit
/// is looked for when the output ends or goes quiet, and every [`CHECK_EVERY`] while it flows.
pub(super) fn read_output(
    t: &Term,
    mut reader: Box<dyn Read + Send>,
    fd: Option<std::os::fd::RawFd>,
    mut child: Box<dyn Child + Send + Sync>,
    mut kept: Option<Writer>,
    mut activity: Option<Activity>,
) -> u32 {
    let mut buf = vec![0u8; BATCH_MAX];
    let mut code = None;
    let mut drain_until = None;
    let mut flushed = Instant::now();
    let mut checked = Instant::now();
    loop {
        let readable = fd.is_none_or(|fd| ready(fd, QUIET_MS));
        let mut ended = false;
        if readable {
            let mut n = 0;
            while n < BATCH_MAX {
                match reader.read(&mut buf[n..]) {
                    Ok(0) | Err(_) => {
                        ended = true;
                        break;
                    }
                    Ok(k) => n += k,
                }
                if !fd.is_some_and(|fd| ready(fd, 0)) {
                    break;
                }
            }
            if n > 0 {
                publish(t, Bytes::copy_from_slice(&buf[..n]), kept.as_mut(), activity.as_mut());
            }
        }
        // Kept output reaches the disk when the terminal goes quiet, or every so often.
        if let (false, Some(a)) = (readable, activity.as_mut()) {
            a.quiet();
        }
        if !readable || flushed.elapsed() >= FLUSH_EVERY {
            if let Some(k) = kept.as_mut() {
                k.flush();
            }
            flushed = Instant::now();
        }
        if code.is_none() && (ended || !readable || checked.elapsed() >= CHECK_EVERY) {
            checked = Instant::now();
            if let Ok(Some(status)) = child.try_wait() {
                code = Some(status.exit_code());
                drain_until = Some(Instant::now() + DRAIN);
            }
        }
        if ended || drain_until.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    // All of it on disk before anyone is told the process ended.
    drop(kept);
    match code {
        Some(c) => c,
        None => child.wait().map(|s| s.exit_code()).unwrap_or(1),
    }
}

/// Whether `fd` has something to read within `ms` milliseconds (an error says yes: the
/// read then says what it is).
fn ready(fd: std::os::fd::RawFd, ms: u16) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    // SAFETY: `fd` is the reader's (the holder's socket), which lives as long as this runs.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    poll(&mut fds, PollTimeout::from(ms)).map(|n| n > 0).unwrap_or(true)
}

/// One batch of output: kept on disk, in memory for the sockets (shared, not copied), and
/// seen by the activity.
fn publish(t: &Term, batch: Bytes, kept: Option<&mut Writer>, activity: Option<&mut Activity>) {
    if let Some(k) = kept {
        k.write(&batch);
    }
    if let Some(a) = activity {
        if t.typed.swap(false, std::sync::atomic::Ordering::Relaxed) {
            a.input();
        }
        a.output();
    }
    t.recent.push(batch);
}
