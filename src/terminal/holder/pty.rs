//! The holder's end of its terminal, the PTY's master, non-blocking: its output read in
//! frames ([`Reader`]), its input written by whichever thread finds the program ready for
//! it ([`Typing`]).
//!
//! Input goes to the PTY from the thread that read it off the server's socket when nothing
//! waits ahead of it (a keystroke's echo crosses one thread fewer); what the program does
//! not take at once waits in a bounded queue that a thread of its own writes as the
//! program reads, so that a program that reads nothing holds up neither resizes nor the
//! bye.

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags};
use std::collections::VecDeque;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// While output streams (the frame before was at least [`STREAM_MIN`] bytes and went out
/// less than [`STREAMING`] before this one's first byte), a frame waits up to this long for
/// more (a flood then costs the holder's socket, the server and the browser a frame per
/// ~`LINGER` rather than one per few KiB the PTY gives); output after a pause, an echo,
/// goes out at once.
const LINGER: Duration = Duration::from_millis(2);
const STREAMING: Duration = Duration::from_millis(5);
const STREAM_MIN: usize = 1024;
/// While a frame lingers, the holder reads again after this long rather than on each of
/// the agent's writes: fewer wake-ups per MB (the agent's writes are a few KiB each).
const PACE: Duration = Duration::from_micros(500);
/// Input chunks that may wait for the program before the server's socket is no longer
/// read (the server then holds the rest: backpressure).
const QUEUED_MAX: usize = 16;

/// Makes the master's descriptor non-blocking (for both directions: one open file).
pub(super) fn nonblocking(fd: RawFd) -> std::io::Result<()> {
    // SAFETY: fcntl on a descriptor this process owns, flags read then written.
    let flags = unsafe { nix::libc::fcntl(fd, nix::libc::F_GETFL) };
    if flags < 0 || unsafe { nix::libc::fcntl(fd, nix::libc::F_SETFL, flags | nix::libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Waits until `fd` is ready for `what` or `until` passed (`None`: no limit).
fn wait(fd: RawFd, what: PollFlags, until: Option<Instant>) {
    // SAFETY: the master's descriptor, open as long as the holder runs.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let timeout = until.map(|u| nix::sys::time::TimeSpec::from_duration(u.saturating_duration_since(Instant::now())));
    let _ = nix::poll::ppoll(&mut [PollFd::new(fd, what)], timeout, None);
}

/// Reads the terminal's output in frames.
pub(super) struct Reader {
    fd: RawFd,
    /// When the last frame was made, and its size.
    last: Option<(Instant, usize)>,
}

impl Reader {
    pub(super) fn new(fd: RawFd) -> Reader {
        Reader { fd, last: None }
    }

    /// Reads into `buf` what the terminal has: waits for the first bytes, then takes what
    /// else is ready (a flood comes in pieces of at most a few KiB) and, while output
    /// streams, what comes within [`LINGER`] of the first. How many bytes, and whether the
    /// terminal ended.
    pub(super) fn frame(&mut self, buf: &mut [u8]) -> (usize, bool) {
        let mut n = 0;
        let mut until: Option<Instant> = None;
        loop {
            loop {
                match nix::unistd::read(self.fd, &mut buf[n..]) {
                    Ok(0) => return self.made(n, true),
                    Ok(k) => n += k,
                    Err(Errno::EINTR) => continue,
                    Err(Errno::EAGAIN) => break,
                    // EIO: every process of the terminal closed it.
                    Err(_) => return self.made(n, true),
                }
                if n == buf.len() {
                    return self.made(n, false);
                }
            }
            if n > 0 {
                let streaming = self.last.is_some_and(|(at, size)| size >= STREAM_MIN && at.elapsed() < STREAMING);
                let until =
                    *until.get_or_insert_with(|| Instant::now() + if streaming { LINGER } else { Duration::ZERO });
                if Instant::now() >= until {
                    return self.made(n, false);
                }
            }
            match until {
                // Lingering (streaming): what comes meanwhile is read in one go.
                Some(u) => std::thread::sleep(PACE.min(u.saturating_duration_since(Instant::now()))),
                None => wait(self.fd, PollFlags::POLLIN, None),
            }
        }
    }

    fn made(&mut self, n: usize, eof: bool) -> (usize, bool) {
        if n > 0 {
            self.last = Some((Instant::now(), n));
        }
        (n, eof)
    }
}

/// Input on its way to the program.
pub(super) struct Typing {
    fd: RawFd,
    queue: Mutex<Queue>,
    /// Input queued, or room made in the queue.
    changed: Condvar,
}

#[derive(Default)]
struct Queue {
    chunks: VecDeque<Vec<u8>>,
    /// Bytes of the first chunk already written.
    done: usize,
    /// The terminal is gone: input has nowhere to go.
    closed: bool,
}

impl Typing {
    pub(super) fn new(fd: RawFd) -> Typing {
        Typing { fd, queue: Mutex::new(Queue::default()), changed: Condvar::new() }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What of `bytes` the program took without waiting (`Err`: the terminal is gone).
    fn write_now(&self, bytes: &[u8]) -> Result<usize, ()> {
        // SAFETY: the master's descriptor, open as long as the holder runs.
        let fd = unsafe { BorrowedFd::borrow_raw(self.fd) };
        loop {
            match nix::unistd::write(fd, bytes) {
                Ok(k) => return Ok(k),
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Ok(0),
                Err(_) => return Err(()),
            }
        }
    }

    /// Types `bytes`: written now when nothing waits ahead of them and the program takes
    /// them, else queued (waiting while the queue is full). False once the terminal is gone.
    pub(super) fn send(&self, bytes: Vec<u8>) -> bool {
        let mut q = self.queue();
        while q.chunks.len() >= QUEUED_MAX && !q.closed {
            q = self.changed.wait(q).unwrap_or_else(|e| e.into_inner());
        }
        if q.closed {
            return false;
        }
        if q.chunks.is_empty() {
            match self.write_now(&bytes) {
                Ok(k) if k == bytes.len() => return true,
                // The rest waits, first in line.
                Ok(k) => q.done = k,
                Err(()) => {
                    q.closed = true;
                    return false;
                }
            }
        }
        q.chunks.push_back(bytes);
        self.changed.notify_all();
        true
    }

    /// The writer thread: writes what is queued as the program reads it, until the
    /// terminal is gone.
    pub(super) fn write_queued(&self) {
        let mut q = self.queue();
        loop {
            if q.closed {
                return;
            }
            let Some(first) = q.chunks.front() else {
                q = self.changed.wait(q).unwrap_or_else(|e| e.into_inner());
                continue;
            };
            match self.write_now(&first[q.done..]) {
                Ok(0) => {
                    // The program reads nothing now: wait for room without the lock, so
                    // that input can still be queued (up to the bound).
                    drop(q);
                    wait(self.fd, PollFlags::POLLOUT, Some(Instant::now() + Duration::from_millis(100)));
                    q = self.queue();
                }
                Ok(k) => {
                    let len = first.len();
                    q.done += k;
                    if q.done == len {
                        q.chunks.pop_front();
                        q.done = 0;
                        self.changed.notify_all();
                    }
                }
                Err(()) => {
                    q.closed = true;
                    q.chunks.clear();
                    self.changed.notify_all();
                }
            }
        }
    }
}
