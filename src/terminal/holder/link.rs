//! The server's side of a holder (see the module above): starting one, connecting to one,
//! and the connection as the rest of `terminal` uses a PTY: a `Read` of its output for
//! `process::read_output`, a `Write` of input, a resize, and a `Child` that has exited once
//! the holder said so.

use super::{
    read_frame, same_account, socket_path, u64_of, write_frame, Spec, BYE, EXIT, HELLO, INPUT, OUTPUT, RESIZE, START,
};
use portable_pty::{Child, ChildKiller, ExitStatus, PtySize};
use std::io::{BufRead, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a holder may take to start or to answer a hello.
const ANSWER: Duration = Duration::from_secs(10);

/// What the server sends to one holder.
pub(crate) struct Link {
    tx: Mutex<UnixStream>,
    /// A size not sent yet: input to a program that does not read holds the socket, and a
    /// resize (from an async worker) must not wait for it; the writer sends it after.
    size: Mutex<Option<PtySize>>,
}

impl Link {
    fn send(&self, kind: u8, payload: &[u8]) -> std::io::Result<()> {
        write_frame(&mut *self.tx.lock().unwrap_or_else(|e| e.into_inner()), kind, payload)
    }

    /// Never waits: sent now when the socket is free, else after the input being sent.
    pub(crate) fn resize(&self, size: PtySize) {
        *self.size.lock().unwrap_or_else(|e| e.into_inner()) = Some(size);
        if let Ok(mut tx) = self.tx.try_lock() {
            self.send_size(&mut tx);
        }
    }

    fn send_size(&self, tx: &mut UnixStream) {
        if let Some(size) = self.size.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let mut p = size.cols.to_be_bytes().to_vec();
            p.extend_from_slice(&size.rows.to_be_bytes());
            let _ = write_frame(tx, RESIZE, &p);
        }
    }

    /// The exit was recorded: the holder may end.
    pub(crate) fn bye(&self) {
        let _ = self.send(BYE, &[]);
    }
}

/// Input, as the writer thread writes it.
pub(crate) struct Input(pub(crate) Arc<Link>);

impl Write for Input {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(super::FRAME_MAX);
        let mut tx = self.0.tx.lock().unwrap_or_else(|e| e.into_inner());
        write_frame(&mut *tx, INPUT, &buf[..n])?;
        self.0.send_size(&mut tx);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The holder's output: the bytes of its `O` frames, read straight into the caller's
/// buffer (so that polling the socket tells whether more is there); end of file after
/// its `X` frame, whose code [`Ended`] then gives.
pub(crate) struct Output {
    rx: UnixStream,
    /// Bytes of the current output frame not yet read.
    left: usize,
    /// The next frame's header, `got` bytes of it read.
    head: [u8; 5],
    got: usize,
    exit: Arc<Mutex<Option<u32>>>,
}

impl Output {
    pub(crate) fn fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.rx)
    }
}

impl Read for Output {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.exit.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
                return Ok(0);
            }
            if self.left > 0 {
                let want = self.left.min(buf.len());
                let n = self.rx.read(&mut buf[..want])?;
                if n == 0 {
                    return Ok(0);
                }
                self.left -= n;
                return Ok(n);
            }
            // A header read in parts keeps its part (a non-blocking reader may be told
            // `WouldBlock` in between).
            while self.got < 5 {
                match self.rx.read(&mut self.head[self.got..])? {
                    0 => return Ok(0),
                    n => self.got += n,
                }
            }
            self.got = 0;
            let head = self.head;
            let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
            match head[0] {
                OUTPUT => self.left = len,
                kind => {
                    if len > super::FRAME_MAX {
                        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "frame too large"));
                    }
                    let mut p = vec![0; len];
                    self.rx.read_exact(&mut p)?;
                    if kind == EXIT {
                        let code = p.get(..4).map_or(1, |c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
                        *self.exit.lock().unwrap_or_else(|e| e.into_inner()) = Some(code);
                    }
                }
            }
        }
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
            crate::terminal::process::signal_session(pid as i32, nix::sys::signal::SIGKILL);
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
    let link = Arc::new(Link { tx: Mutex::new(s.try_clone()?), size: Mutex::new(None) });
    let child = Ended { exit: exit.clone(), pid: u32::try_from(pid).ok().filter(|p| *p > 0) };
    Ok(Held { link, output: Output { rx: s, left: 0, head: [0; 5], got: 0, exit }, child, at, pid })
}
