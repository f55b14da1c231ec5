//! A terminal's running process: its output read, its input written (each on a thread of
//! its own, so nothing blocks the server's async workers), and ending it with its whole
//! session. Starting it is `launch`'s.

use super::activity::Activity;
use super::output::Writer;
use super::{Term, SCROLLBACK};
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

/// Sends `sig` to the terminal's process group and to every other process of its session
/// (shells put background jobs in groups of their own).
pub(super) fn signal_session(leader: i32, sig: nix::sys::signal::Signal) {
    use nix::unistd::Pid;
    let _ = nix::sys::signal::killpg(Pid::from_raw(leader), sig);
    #[cfg(target_os = "linux")]
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse::<i32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            // Fields after the command name (which may hold spaces) in parentheses:
            // state ppid pgrp session …
            let session = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(3));
            if session.and_then(|s| s.parse::<i32>().ok()) == Some(leader) {
                let _ = nix::sys::signal::kill(Pid::from_raw(pid), sig);
            }
        }
    }
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
pub(super) fn read_output(
    t: &Term,
    mut reader: Box<dyn Read + Send>,
    fd: Option<std::os::fd::RawFd>,
    mut child: Box<dyn Child + Send + Sync>,
    mut kept: Option<Writer>,
    mut activity: Option<Activity>,
) -> u32 {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::BorrowedFd;
    let mut buf = [0u8; 8192];
    let mut code = None;
    let mut drain_until = None;
    let mut flushed = Instant::now();
    loop {
        let readable = match fd {
            // SAFETY: the master (which owns `fd`) lives in `t` for as long as this runs.
            Some(fd) => {
                let mut fds = [PollFd::new(unsafe { BorrowedFd::borrow_raw(fd) }, PollFlags::POLLIN)];
                poll(&mut fds, PollTimeout::from(100u16)).map(|n| n > 0).unwrap_or(true)
            }
            None => true,
        };
        if readable {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let chunk = Bytes::copy_from_slice(&buf[..n]);
                    {
                        let mut sb = t.scrollback.lock().unwrap_or_else(|e| e.into_inner());
                        sb.extend(chunk.iter());
                        let excess = sb.len().saturating_sub(SCROLLBACK);
                        sb.drain(..excess);
                    }
                    if let Some(k) = kept.as_mut() {
                        k.write(&chunk);
                    }
                    if let Some(a) = activity.as_mut() {
                        if t.typed.swap(false, std::sync::atomic::Ordering::Relaxed) {
                            a.input();
                        }
                        a.output();
                    }
                    let _ = t.output.send(chunk);
                }
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
        if code.is_none() {
            if let Ok(Some(status)) = child.try_wait() {
                code = Some(status.exit_code());
                drain_until = Some(Instant::now() + DRAIN);
            }
        }
        if drain_until.is_some_and(|d| Instant::now() >= d) {
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
