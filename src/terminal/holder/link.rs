//! The server's side of a holder (see the module above): starting one, connecting to one,
//! and the connection as the rest of `terminal` uses a PTY: its output in batches for
//! `process::read_output`, its input (sent at once when nothing waits ahead of it, else by
//! the writer thread), a resize, and a `Child` that has exited once the holder said so.

use super::{
    frame, read_frame, same_account, socket_path, u64_of, write_frame, Spec, BYE, EXIT, HELLO, INPUT, OUTPUT, RESIZE,
    START,
};
use bytes::Bytes;
use portable_pty::{Child, ChildKiller, ExitStatus, PtySize};
use std::io::{BufRead, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a holder may take to start or to answer a hello.
const ANSWER: Duration = Duration::from_secs(10);

/// What the server sends to one holder.
pub(crate) struct Link {
    tx: Mutex<Tx>,
    /// A size not sent yet: input to a program that does not read holds the socket, and a
    /// resize (from an async worker) must not wait for it; the writer sends it after.
    size: Mutex<Option<PtySize>>,
    /// Input chunks given to the writer thread and not yet sent: input typed meanwhile
    /// must not overtake them.
    queued: AtomicUsize,
}

struct Tx {
    sock: UnixStream,
    /// The end of a frame sent in part without waiting: it goes before anything else.
    rest: Vec<u8>,
}

impl Tx {
    /// Sends the end of a frame left behind, then `frame`, waiting as long as it takes.
    fn send(&mut self, frame: &[u8]) -> std::io::Result<()> {
        if !self.rest.is_empty() {
            self.sock.write_all(&self.rest)?;
            self.rest.clear();
        }
        self.sock.write_all(frame)
    }
}

/// What [`Link::try_input`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Sent {
    All,
    /// Part of it: the writer thread must send the rest ([`Link::write_queued`] of nothing).
    Part,
    None,
}

impl Link {
    fn tx(&self) -> std::sync::MutexGuard<'_, Tx> {
        self.tx.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn send(&self, kind: u8, payload: &[u8]) -> std::io::Result<()> {
        self.tx().send(&frame(kind, payload))
    }

    /// Never waits: sent now when the socket is free, else after the input being sent.
    pub(crate) fn resize(&self, size: PtySize) {
        *self.size.lock().unwrap_or_else(|e| e.into_inner()) = Some(size);
        if let Ok(mut tx) = self.tx.try_lock() {
            self.send_size(&mut tx);
        }
    }

    fn send_size(&self, tx: &mut Tx) {
        if let Some(size) = self.size.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let mut p = size.cols.to_be_bytes().to_vec();
            p.extend_from_slice(&size.rows.to_be_bytes());
            let _ = tx.send(&frame(RESIZE, &p));
        }
    }

    /// The exit was recorded: the holder may end.
    pub(crate) fn bye(&self) {
        let _ = self.send(BYE, &[]);
    }

    /// Input about to be given to the writer thread (see [`Link::try_input`]).
    pub(crate) fn queued(&self) {
        self.queued.fetch_add(1, Ordering::SeqCst);
    }

    /// The writer thread: sends a queued chunk (and what was left of a frame sent in part).
    pub(crate) fn write_queued(&self, chunk: &[u8]) -> std::io::Result<()> {
        let mut tx = self.tx();
        for piece in chunk.chunks(super::FRAME_MAX) {
            tx.send(&frame(INPUT, piece))?;
        }
        if chunk.is_empty() && !tx.rest.is_empty() {
            tx.send(&[])?;
        }
        self.send_size(&mut tx);
        self.queued.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }

    /// Sends input now, from an async worker, when nothing queued is ahead of it and the
    /// socket is free: as much as the socket takes without waiting (the holder's socket
    /// buffer is full only while its program reads nothing).
    pub(crate) fn try_input(&self, chunk: &[u8]) -> Sent {
        use nix::sys::socket::{send, MsgFlags};
        use std::os::fd::AsRawFd;
        let Ok(mut tx) = self.tx.try_lock() else { return Sent::None };
        if !tx.rest.is_empty() || self.queued.load(Ordering::SeqCst) > 0 || chunk.len() > super::FRAME_MAX {
            return Sent::None;
        }
        let f = frame(INPUT, chunk);
        let sent = loop {
            match send(tx.sock.as_raw_fd(), &f, MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => break other,
            }
        };
        match sent {
            Ok(k) if k == f.len() => {
                if self.size.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
                    self.send_size(&mut tx);
                }
                Sent::All
            }
            Ok(k) if k > 0 => {
                tx.rest = f[k..].to_vec();
                Sent::Part
            }
            // Nothing went (or the holder is gone, which the queued path finds out).
            _ => Sent::None,
        }
    }
}

/// The holder's output, read through a buffer: one `read` takes in every frame that has
/// arrived (a frame's header costs no syscall of its own), and the bytes of its `O` frames
/// come out in one batch. The stream ends after its `X` frame, whose code [`Ended`] then
/// gives, or when the holder goes.
pub(crate) struct Output {
    rx: UnixStream,
    /// Bytes read and not yet taken: `buf[lo..hi]`.
    buf: Box<[u8]>,
    lo: usize,
    hi: usize,
    /// Bytes of the current output frame not yet taken (some may be in `buf`).
    left: usize,
    /// The socket's read timeout, as last set.
    wait: Option<Duration>,
    /// A frame no holder of this build sends: the stream cannot be followed further.
    broken: bool,
    exit: Arc<Mutex<Option<u32>>>,
}

/// What [`Output::batch`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Batch {
    /// Output (all that had arrived, up to the most asked for).
    Data(Bytes),
    /// Nothing within the wait.
    Quiet,
    /// The holder said its process exited (after all its output), or went.
    End,
}

impl Output {
    fn new(rx: UnixStream, exit: Arc<Mutex<Option<u32>>>) -> Output {
        // Room for a whole control frame after a partial one.
        let buf = vec![0; 2 * (5 + super::FRAME_MAX)].into_boxed_slice();
        Output { rx, buf, lo: 0, hi: 0, left: 0, wait: None, broken: false, exit }
    }

    fn exited(&self) -> bool {
        self.broken || self.exit.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }

    /// The output that has arrived, at most `max` bytes, waiting up to `wait` for some when
    /// none has: at most one `read` (none when enough is buffered), so that output that
    /// arrives alone (an echo) goes on at once and a flood in batches of what piled up.
    pub(crate) fn batch(&mut self, max: usize, wait: Duration) -> Batch {
        loop {
            let ranges = self.take(max);
            let n: usize = ranges.iter().map(|r| r.len()).sum();
            if n > 0 {
                let mut out = Vec::with_capacity(n);
                ranges.into_iter().for_each(|r| out.extend_from_slice(&self.buf[r]));
                return Batch::Data(out.into());
            }
            if self.exited() {
                return Batch::End;
            }
            if self.lo > 0 {
                self.buf.copy_within(self.lo..self.hi, 0);
                (self.hi, self.lo) = (self.hi - self.lo, 0);
            }
            let wait = Some(wait.max(Duration::from_millis(1)));
            if self.wait != wait {
                if self.rx.set_read_timeout(wait).is_err() {
                    return Batch::End;
                }
                self.wait = wait;
            }
            match self.rx.read(&mut self.buf[self.hi..]) {
                Ok(0) => return Batch::End,
                Ok(k) => self.hi += k,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                    return Batch::Quiet
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Batch::End,
            }
        }
    }

    /// Takes the buffered frames: the places in `buf` of at most `max` bytes of output; an
    /// exit frame is recorded (nothing after it counts).
    fn take(&mut self, max: usize) -> Vec<std::ops::Range<usize>> {
        let mut ranges = Vec::new();
        let mut room = max;
        while !self.exited() {
            if self.left > 0 {
                let n = self.left.min(self.hi - self.lo).min(room);
                if n == 0 {
                    break;
                }
                ranges.push(self.lo..self.lo + n);
                (self.lo, self.left, room) = (self.lo + n, self.left - n, room - n);
                continue;
            }
            let Some(head) = self.buf.get(self.lo..self.hi).and_then(|b| b.get(..5)) else { break };
            let kind = head[0];
            let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
            if kind == OUTPUT {
                (self.lo, self.left) = (self.lo + 5, len);
                continue;
            }
            if len > super::FRAME_MAX {
                self.broken = true;
                break;
            }
            if self.hi - self.lo < 5 + len {
                break; // the rest of it has not arrived
            }
            let p = &self.buf[self.lo + 5..self.lo + 5 + len];
            if kind == EXIT {
                let code = p.get(..4).map_or(1, |c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
                *self.exit.lock().unwrap_or_else(|e| e.into_inner()) = Some(code);
            }
            self.lo += 5 + len;
        }
        ranges
    }
}

/// The held process as a `Child`: exited once its holder said so; a holder that went away
/// without saying so ended it too (its PTY hung up), which counts as a failure.
#[derive(Debug)]
pub(crate) struct Ended {
    exit: Arc<Mutex<Option<u32>>>,
    pid: Option<u32>,
}

impl Child for Ended {
    fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        Ok(self.exit.lock().unwrap_or_else(|e| e.into_inner()).map(ExitStatus::with_exit_code))
    }

    fn wait(&mut self) -> std::io::Result<ExitStatus> {
        Ok(ExitStatus::with_exit_code(self.exit.lock().unwrap_or_else(|e| e.into_inner()).unwrap_or(1)))
    }

    fn process_id(&self) -> Option<u32> {
        self.pid
    }
}

impl ChildKiller for Ended {
    fn kill(&mut self) -> std::io::Result<()> {
        if let Some(pid) = self.pid {
            crate::terminal::group::signal_session(pid as i32, nix::sys::signal::SIGKILL);
        }
        Ok(())
    }

    fn clone_killer(&self) -> Box<dyn ChildKiller + Send + Sync> {
        Box::new(Ended { exit: self.exit.clone(), pid: self.pid })
    }
}

/// A connected holder: where its stream starts (`at`), and its parts.
pub(crate) struct Held {
    pub(crate) link: Arc<Link>,
    pub(crate) output: Output,
    pub(crate) child: Ended,
    pub(crate) at: u64,
    /// The held process (leader of its own session).
    pub(crate) pid: i32,
}

/// Starts a holder with `spec` (the `maestro` binary at `bin`); its process's pid.
pub(crate) fn spawn(bin: &Path, spec: &Spec) -> Result<i32, String> {
    use std::process::{Command, Stdio};
    let mut holder = Command::new(bin)
        .args(["__hold", &spec.id])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start a terminal holder ({}): {e}", bin.display()))?;
    let said = (|| {
        let mut stdin = holder.stdin.take().ok_or("no stdin")?;
        serde_json::to_writer(&mut stdin, spec).map_err(|e| e.to_string())?;
        drop(stdin);
        let mut line = String::new();
        let out = holder.stdout.take().ok_or("no stdout")?;
        std::io::BufReader::new(out).read_line(&mut line).map_err(|e| e.to_string())?;
        Ok::<_, String>(line)
    })();
    // The first process exits as soon as it forked the holder.
    let _ = holder.wait();
    let line = said?;
    match line.trim_end().split(' ').collect::<Vec<_>>()[..] {
        ["ready", _, pid] => pid.parse().map_err(|_| format!("a terminal holder said {line:?}")),
        _ => Err(line.trim_end().strip_prefix("error ").unwrap_or("the terminal holder did not start").to_string()),
    }
}

/// Connects to terminal `id`'s holder in `dir`, asking for its output from `from`.
pub(crate) fn connect(dir: &Path, id: &str, from: u64, pid: i32) -> std::io::Result<Held> {
    let mut s = super::connect_to(&socket_path(dir, id))?;
    if !same_account(&s) {
        return Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, "the holder runs as another user"));
    }
    s.set_read_timeout(Some(ANSWER))?;
    write_frame(&mut s, HELLO, &from.to_be_bytes())?;
    let at = match read_frame(&mut s)? {
        (START, p) => u64_of(&p).unwrap_or(from),
        _ => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "the holder did not answer")),
    };
    s.set_read_timeout(None)?;
    let exit = Arc::new(Mutex::new(None));
    let tx = Tx { sock: s.try_clone()?, rest: Vec::new() };
    let link = Arc::new(Link { tx: Mutex::new(tx), size: Mutex::new(None), queued: AtomicUsize::new(0) });
    let child = Ended { exit: exit.clone(), pid: u32::try_from(pid).ok().filter(|p| *p > 0) };
    Ok(Held { link, output: Output::new(s, exit), child, at, pid })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_frames_cut_anywhere_come_out_whole_in_order_and_nothing_after_the_exit() {
        let (mut holder, server) = UnixStream::pair().unwrap();
        let exit = Arc::new(Mutex::new(None));
        let mut output = Output::new(server, exit.clone());
        assert_eq!(output.batch(1000, Duration::from_millis(10)), Batch::Quiet);
        let text: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let mut wire = Vec::new();
        for (i, piece) in text.chunks(super::super::FRAME_MAX - 7).enumerate() {
            write_frame(&mut wire, OUTPUT, piece).unwrap();
            if i == 1 {
                write_frame(&mut wire, b'?', b"a kind to skip").unwrap();
            }
        }
        write_frame(&mut wire, EXIT, &7u32.to_be_bytes()).unwrap();
        write_frame(&mut wire, OUTPUT, b"after the exit").unwrap();
        // Sent in pieces that cut headers and frames anywhere.
        let sender = std::thread::spawn(move || wire.chunks(3001).for_each(|p| holder.write_all(p).unwrap()));
        let mut got = Vec::new();
        loop {
            match output.batch(10_000, Duration::from_secs(30)) {
                Batch::Data(b) => {
                    assert!(!b.is_empty() && b.len() <= 10_000);
                    got.extend_from_slice(&b);
                }
                Batch::Quiet => panic!("the output stopped after {} bytes", got.len()),
                Batch::End => break,
            }
        }
        sender.join().unwrap();
        assert!(got == text, "{} bytes of {}", got.len(), text.len());
        assert_eq!(*exit.lock().unwrap(), Some(7));
        assert_eq!(output.batch(10, Duration::from_millis(10)), Batch::End);
    }
}
