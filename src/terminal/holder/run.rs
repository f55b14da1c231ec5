//! The holder process (`maestro __hold ID`, see the module above): reads its [`Spec`] on
//! stdin, leaves the server (a fork whose parent exits at once, so the server has nothing to
//! reap, and its own process group), starts the process on a PTY, says `ready HOLDER PID` (or
//! `error WHY`) on stdout, and then serves its socket.

use super::pty::{self, Reader, Typing};
use super::{
    boot_id, read_frame, record_path, same_account, socket_path, u64_of, write_frame, Record, Spec, BYE, EXIT,
    FRAME_MAX, HELLO, INPUT, ORPHAN_WAIT, OUTPUT, RESIZE, START,
};
use crate::terminal::group::{lower_priority, open_elsewhere, session_members, signal_session};
use portable_pty::{native_pty_system, CommandBuilder, MasterPty, PtySize};
use std::collections::VecDeque;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// After the process exits, output still arriving is passed on for this long (as before
/// holders: what it left behind may still be printing).
const DRAIN: Duration = Duration::from_millis(200);
/// How long the end of a process's output is waited for when nothing of its session is
/// left to keep the terminal open (its end comes then; this bounds a stuck reader).
const DRAIN_ALONE: Duration = Duration::from_secs(10);
/// How often the holder looks whether its socket is still there and its server gone.
const TICK: Duration = Duration::from_secs(1);
/// Ending the process: SIGHUP, then SIGTERM and SIGKILL after this long each.
const GRACE: Duration = Duration::from_secs(2);

/// What the threads share.
struct Held {
    ring: VecDeque<u8>,
    /// The offset of `ring[0]`.
    start: u64,
    keep: usize,
    /// The connected server, and which connection it is.
    conn: Option<(UnixStream, u64)>,
    /// Set once the process exited and what it left behind was read.
    exit: Option<u32>,
    pty_eof: bool,
    /// When the last server went (or the holder started).
    alone_since: Instant,
}

impl Held {
    fn end(&self) -> u64 {
        self.start + self.ring.len() as u64
    }

    /// Sends to the connected server; a server that cannot take it is gone.
    fn send(&mut self, kind: u8, payload: &[u8]) {
        self.sent(|c| write_frame(c, kind, payload));
    }

    /// Sends a whole frame, made by the caller.
    fn send_frame(&mut self, frame: &[u8]) {
        self.sent(|c| c.write_all(frame));
    }

    fn sent(&mut self, write: impl FnOnce(&mut UnixStream) -> std::io::Result<()>) {
        if let Some((c, _)) = self.conn.as_mut() {
            if write(c).is_err() {
                self.conn = None;
                self.alone_since = Instant::now();
            }
        }
    }
}

/// `maestro __hold ID`: never returns.
pub fn main() -> ! {
    close_inherited();
    let spec: Spec = match serde_json::from_reader(std::io::stdin()) {
        Ok(s) => s,
        Err(e) => fail(&format!("bad spec: {e}")),
    };
    // SAFETY: nothing but this thread runs yet (no runtime was started for `__hold`).
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Parent { .. }) => std::process::exit(0),
        Ok(nix::unistd::ForkResult::Child) => {}
        Err(e) => fail(&format!("fork: {e}")),
    }
    // A process group of its own, not a session: the server's terminal's ^C and hang-up do
    // not reach it, and the kernel schedules it within the server's group (autogroup), not
    // as one more group as heavy as the whole server (docs/PERF.md).
    let _ = nix::unistd::setpgid(nix::unistd::Pid::from_raw(0), nix::unistd::Pid::from_raw(0));
    // SAFETY: no other thread runs yet; the process's own start resets it (portable-pty).
    unsafe {
        let _ = nix::sys::signal::signal(nix::sys::signal::SIGHUP, nix::sys::signal::SigHandler::SigIgn);
    }
    // The socket is made 0600 from the start; the process gets the server's umask.
    let umask = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o177));
    let sock = socket_path(&spec.dir, &spec.id);
    let _ = std::fs::remove_file(&sock);
    let listener = super::bind(&sock).unwrap_or_else(|e| fail(&format!("{}: {e}", sock.display())));
    nix::sys::stat::umask(umask);
    let inode = std::fs::metadata(&sock).map(|m| m.ino()).unwrap_or(0);
    let size = PtySize { cols: spec.cols, rows: spec.rows, ..Default::default() };
    let pair = native_pty_system().openpty(size).unwrap_or_else(|e| fail(&format!("cannot open a terminal: {e}")));
    let mut cmd = CommandBuilder::from_argv(spec.argv.iter().map(Into::into).collect());
    cmd.env_clear();
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    if let Some(d) = &spec.cwd {
        cmd.cwd(d);
    }
    let mut child = pair.slave.spawn_command(cmd).unwrap_or_else(|e| fail(&format!("cannot start the shell: {e}")));
    drop(pair.slave);
    let pid = child.process_id().map_or(0, |p| p as i32);
    if spec.nice > 0 && pid > 0 {
        lower_priority(pid, spec.nice);
    }
    let record = Record {
        id: spec.id.clone(),
        holder: std::process::id() as i32,
        pid,
        boot: boot_id(),
        base: spec.base,
        exit: None,
    };
    if let Err(e) = record.save(&spec.dir) {
        signal_session(pid, nix::sys::signal::SIGKILL);
        fail(&format!("cannot write its record: {e}"));
    }
    let fd = pair.master.as_raw_fd().unwrap_or_else(|| fail("the terminal has no descriptor"));
    if let Err(e) = pty::nonblocking(fd) {
        signal_session(pid, nix::sys::signal::SIGKILL);
        fail(&format!("the terminal: {e}"));
    }
    println!("ready {} {pid}", std::process::id());
    let _ = std::io::stdout().flush();
    quiet_stdio();

    let notice = spec.notice.clone().unwrap_or_default().into_bytes();
    let held = Arc::new((
        Mutex::new(Held {
            ring: notice.into(),
            start: 0,
            keep: spec.keep.max(FRAME_MAX),
            conn: None,
            exit: None,
            pty_eof: false,
            alone_since: Instant::now(),
        }),
        Condvar::new(),
    ));
    let tty = pair.master.tty_name();
    let master = Arc::new(Mutex::new(pair.master));
    let input = Arc::new(Typing::new(fd));
    let typing = input.clone();
    std::thread::spawn(move || typing.write_queued());
    let h = held.clone();
    std::thread::spawn(move || read_pty(Reader::new(fd), &h));
    let (h, dir) = (held.clone(), spec.dir.clone());
    std::thread::spawn(move || {
        let code = child.wait().map(|s| s.exit_code()).unwrap_or(1);
        // With nothing of its session left, the terminal ends as soon as the reader has read
        // what is left (however busy the machine); what a background job keeps printing is
        // passed on for DRAIN only.
        // A job that left the session (`setsid`) may still hold the terminal: not alone.
        let alone = session_members(pid).is_empty() && tty.as_deref().is_some_and(|t| !open_elsewhere(t));
        let (lock, eof) = &*h;
        let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
        let until = Instant::now() + if alone { DRAIN_ALONE } else { DRAIN };
        while !g.pty_eof && Instant::now() < until {
            g = eof.wait_timeout(g, until - Instant::now()).unwrap_or_else(|e| e.into_inner()).0;
        }
        g.exit = Some(code);
        let _ = Record { exit: Some(code), ..record }.save(&dir);
        g.send(EXIT, &code.to_be_bytes());
    });
    serve(listener, &spec, inode, pid, &held, &master, input)
}

/// Closes what the server inherited and let through (a supervisor's pipe, say): a holder
/// lives long and holds only its own.
fn close_inherited() {
    let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default();
    for fd in fds.into_iter().filter(|fd| *fd > 2) {
        // SAFETY: nothing in this process uses these yet (the directory's own is gone by now,
        // and closing it again fails harmlessly).
        unsafe { nix::libc::close(fd) };
    }
}

/// Says why it could not start (the server reads it) and exits.
fn fail(why: &str) -> ! {
    println!("error {}", why.replace('\n', " "));
    std::process::exit(1)
}

/// Stdio goes to `/dev/null`: the server's pipes close, and nothing can stop on a terminal.
fn quiet_stdio() {
    use std::os::fd::AsRawFd;
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors, which this process owns.
            unsafe { nix::libc::dup2(null.as_raw_fd(), fd) };
        }
    }
}

/// Keeps what the process prints (the newest `keep` bytes) and passes it to the server, a
/// frame for what the terminal has ready (see [`Reader::frame`]).
fn read_pty(mut r: Reader, held: &(Mutex<Held>, Condvar)) {
    // The frame is made in place: its header, then the bytes read.
    let mut frame = vec![0u8; 5 + FRAME_MAX];
    loop {
        let (n, eof) = r.frame(&mut frame[5..]);
        let mut g = held.0.lock().unwrap_or_else(|e| e.into_inner());
        // After the exit was said, nothing more is part of the session.
        if n > 0 && g.exit.is_none() {
            g.ring.extend(&frame[5..5 + n]);
            let over = g.ring.len().saturating_sub(g.keep);
            g.ring.drain(..over);
            g.start += over as u64;
            frame[0] = OUTPUT;
            frame[1..5].copy_from_slice(&(n as u32).to_be_bytes());
            g.send_frame(&frame[..5 + n]);
        }
        if eof {
            g.pty_eof = true;
            held.1.notify_all();
            return;
        }
    }
}

/// Accepts servers (of this account only) until the holder ends.
fn serve(
    listener: UnixListener,
    spec: &Spec,
    inode: u64,
    pid: i32,
    held: &Arc<(Mutex<Held>, Condvar)>,
    master: &Arc<Mutex<Box<dyn MasterPty + Send>>>,
    input: Arc<Typing>,
) -> ! {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let sock = socket_path(&spec.dir, &spec.id);
    let mut served = 0u64;
    loop {
        let ready = {
            let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
            poll(&mut fds, PollTimeout::from(TICK.as_millis() as u16)).unwrap_or(0) > 0
        };
        if ready {
            if let Ok((s, _)) = listener.accept() {
                if !same_account(&s) {
                    continue; // dropped unanswered
                }
                served += 1;
                let (h, m, i, n) = (held.clone(), master.clone(), input.clone(), served);
                let dir = spec.dir.clone();
                let id = spec.id.clone();
                std::thread::spawn(move || connection(s, n, &h, &m, &i, &dir, &id));
            }
            continue;
        }
        let g = held.0.lock().unwrap_or_else(|e| e.into_inner());
        if g.conn.is_some() {
            continue;
        }
        let gone = std::fs::metadata(&sock).map(|m| m.ino()).ok() != Some(inode);
        if gone || (!spec.outlive && served > 0) {
            // No server can reach it again: the process ends with it.
            drop(g);
            end(pid, held);
            let _ = std::fs::remove_file(record_path(&spec.dir, &spec.id));
            std::process::exit(0);
        }
        if g.exit.is_some() && g.alone_since.elapsed() >= ORPHAN_WAIT {
            std::process::exit(0); // the record keeps the exit code
        }
    }
}

/// SIGHUP, SIGTERM, SIGKILL to the process's session until it exited.
fn end(pid: i32, held: &(Mutex<Held>, Condvar)) {
    for sig in [nix::sys::signal::SIGHUP, nix::sys::signal::SIGTERM, nix::sys::signal::SIGKILL] {
        signal_session(pid, sig);
        let until = Instant::now() + GRACE;
        let mut g = held.0.lock().unwrap_or_else(|e| e.into_inner());
        while g.exit.is_none() && Instant::now() < until {
            g = held.1.wait_timeout(g, Duration::from_millis(50)).unwrap_or_else(|e| e.into_inner()).0;
        }
        if g.exit.is_some() {
            return;
        }
    }
}

/// One server: its hello, answered with what it missed, then its input until it goes.
fn connection(
    mut s: UnixStream,
    n: u64,
    held: &(Mutex<Held>, Condvar),
    master: &Mutex<Box<dyn MasterPty + Send>>,
    input: &Typing,
    dir: &std::path::Path,
    id: &str,
) {
    let from = match read_frame(&mut s) {
        Ok((HELLO, p)) => u64_of(&p).unwrap_or(0),
        _ => return,
    };
    let Ok(out) = s.try_clone() else { return };
    {
        let mut g = held.0.lock().unwrap_or_else(|e| e.into_inner());
        let at = from.clamp(g.start, g.end());
        // The newest server is the one served; an older connection is let go.
        if let Some((old, _)) = g.conn.replace((out, n)) {
            let _ = old.shutdown(std::net::Shutdown::Both);
        }
        g.send(START, &at.to_be_bytes());
        let skip = (at - g.start) as usize;
        let pending: Vec<u8> = g.ring.iter().skip(skip).copied().collect();
        for piece in pending.chunks(FRAME_MAX) {
            g.send(OUTPUT, piece);
        }
        if let Some(code) = g.exit {
            g.send(EXIT, &code.to_be_bytes());
        }
    }
    loop {
        match read_frame(&mut s) {
            Ok((INPUT, b)) => {
                if !input.send(b) {
                    break;
                }
            }
            Ok((RESIZE, p)) if p.len() == 4 => {
                let size = PtySize {
                    cols: u16::from_be_bytes([p[0], p[1]]).clamp(2, 1000),
                    rows: u16::from_be_bytes([p[2], p[3]]).clamp(2, 1000),
                    ..Default::default()
                };
                let _ = master.lock().unwrap_or_else(|e| e.into_inner()).resize(size);
            }
            Ok((BYE, _)) => {
                if held.0.lock().unwrap_or_else(|e| e.into_inner()).exit.is_some() {
                    let _ = std::fs::remove_file(socket_path(dir, id));
                    let _ = std::fs::remove_file(record_path(dir, id));
                    std::process::exit(0);
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let mut g = held.0.lock().unwrap_or_else(|e| e.into_inner());
    if g.conn.as_ref().is_some_and(|(_, m)| *m == n) {
        g.conn = None;
        g.alone_since = Instant::now();
    }
}
