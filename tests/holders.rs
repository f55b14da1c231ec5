//! Terminals that outlive the server (SPEC §9): a real server process killed (`-9`) or
//! stopped (SIGTERM) while a ticking agent runs, restarted on the same data directory; a
//! process that exits while no server runs; the holders' socket and another account; and
//! `maestro attach` in a real PTY.

use crate::common;
use crate::terminal::attach_as;
use maestro::model::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// Ends the holders a test's servers left, however the test ends.
pub(crate) struct Holders<'a>(pub(crate) &'a Path);

impl Drop for Holders<'_> {
    fn drop(&mut self) {
        common::kill_holders(self.0);
    }
}

async fn start(dir: &Path, port: u16, agent: &str) -> common::Maestro {
    common::Start { port: Some(port), dir: Some(dir), args: &["--agent", agent], ..Default::default() }.run().await
}

/// A project in a fresh directory and a session running agent `agent` in it.
pub(crate) async fn session(srv: &common::Maestro, agent: &str) -> Session {
    let np = NewProject { name: "H".into(), ..Default::default() };
    let p = srv.client.create_project(&np).await.unwrap();
    let ns = NewSession { project_id: p.id, agent_id: Some(agent.into()), ..Default::default() };
    srv.client.create_session(&ns).await.unwrap()
}

/// Everything the session's terminal printed, as kept.
pub(crate) async fn output(srv: &common::Maestro, id: &str) -> String {
    let r = srv.http().get(format!("{}/sessions/{id}/output?offset=0&limit=4194304", srv.api)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    String::from_utf8_lossy(&r.bytes().await.unwrap()).into_owned()
}

/// Waits (up to 20 s) until the kept output satisfies `ok`; returns it.
pub(crate) async fn output_until(srv: &common::Maestro, id: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = output(srv, id).await;
        if ok(&out) {
            return out;
        }
        assert!(Instant::now() < deadline, "not within 20 s; output: {out:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The ticks printed, in order.
pub(crate) fn ticks(out: &str) -> Vec<u64> {
    out.split("tick ").skip(1).filter_map(|t| t.split_once("\r\n")?.0.parse().ok()).collect()
}

pub(crate) fn pid_of(out: &str) -> i32 {
    out.split("pid ").nth(1).and_then(|r| r.split_once("\r\n")).and_then(|(p, _)| p.parse().ok()).expect("a pid")
}

/// Waits (up to 60 s) until `done` holds, saying `what` did not happen otherwise.
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) fn alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

/// Every tick from 1 to the last, once each, in order; the last.
pub(crate) fn continuous(out: &str) -> u64 {
    let t = ticks(out);
    let want: Vec<u64> = (1..=t.len() as u64).collect();
    assert_eq!(t, want, "ticks missing or repeated");
    t.len() as u64
}

pub(crate) const TICKER: &str = r#"tick=echo "pid $$"; i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.05; done & while read l; do echo "got $l"; done"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticking_agent_outlives_kill_9_and_sigterm_with_no_byte_missing_or_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let _holders = Holders(dir.path());
    let port = common::free_port();
    let mut srv = start(dir.path(), port, TICKER).await;
    let s = session(&srv, "tick").await;
    let out = output_until(&srv, &s.id, |o| ticks(o).len() >= 5).await;
    let pid = pid_of(&out);

    for stop in ["KILL", "TERM"] {
        let before = continuous(&output(&srv, &s.id).await);
        let signal = if stop == "KILL" { nix::sys::signal::SIGKILL } else { nix::sys::signal::SIGTERM };
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(srv.child.id() as i32), signal).unwrap();
        let status = srv.child.wait().unwrap();
        if stop == "TERM" {
            assert!(status.success(), "SIGTERM: {status:?}");
        }
        assert!(alive(pid), "the agent {pid} died with the server (SIG{stop})");
        srv = start(dir.path(), port, TICKER).await;
        // What it printed while no server ran is there, then more: nothing missing or twice.
        let out = output_until(&srv, &s.id, |o| ticks(o).len() as u64 >= before + 20).await;
        continuous(&out);
        assert_eq!(pid_of(&out), pid, "the same process");
        assert!(alive(pid));
        assert_eq!(srv.client.session(&s.id).await.unwrap().status, SessionStatus::Running);
        // Input reaches it again, through a socket attached after the restart.
        let addr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut ws = attach_as(addr, &s.id, &srv.token).await;
        ws.input(&format!("hello {stop}\r")).await;
        ws.read_until(&format!("got hello {stop}")).await;
    }
    continuous(&output(&srv, &s.id).await);
    // Deleting the session still ends its process.
    srv.client.delete_session(&s.id).await.unwrap();
    until("the agent outlived its deleted session", || !alive(pid)).await;
}

/// The holder of the terminal whose process is `pid`, from its record.
fn holder_of(dir: &Path, pid: i32) -> i32 {
    let record = common::terminal_records(dir).into_iter().find(|r| r["pid"].as_i64() == Some(pid.into()));
    record.and_then(|r| r["holder"].as_i64()).expect("the terminal's record") as i32
}

/// Whether process `pid` ignores SIGHUP (`/proc/PID/status`).
fn ignores_hang_up(pid: i32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let mask = status.lines().find_map(|l| l.strip_prefix("SigIgn:")).expect("SigIgn");
    u64::from_str_radix(mask.trim(), 16).unwrap() & 1 != 0
}

/// Holders run in process groups of their own inside the server's session: the kernel
/// schedules them within the server's group (autogroup), not each as one more group as heavy
/// as the whole server, and a hang-up of the server's terminal (SIGHUP to the server's process
/// group) stops the server cleanly and leaves the terminals running. Their processes still
/// take SIGHUP (how a terminal is closed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hang_up_of_the_servers_terminal_stops_it_and_leaves_the_terminals_in_its_scheduling_group() {
    use nix::unistd::{getpgid, getsid, Pid};
    let dir = tempfile::tempdir().unwrap();
    let _holders = Holders(dir.path());
    let port = common::free_port();
    let args = ["--agent", TICKER];
    let job = common::Start { port: Some(port), dir: Some(dir.path()), args: &args, job: true, ..Default::default() };
    let mut srv = job.run().await;
    let s = session(&srv, "tick").await;
    let out = output_until(&srv, &s.id, |o| ticks(o).len() >= 2).await;
    let (pid, server) = (pid_of(&out), srv.child.id() as i32);
    let holder = holder_of(dir.path(), pid);
    let (h, srv_pid) = (Some(Pid::from_raw(holder)), Some(Pid::from_raw(server)));
    assert_eq!(getsid(h).unwrap(), getsid(srv_pid).unwrap(), "the holder is in the server's session");
    assert_ne!(getpgid(h).unwrap(), getpgid(srv_pid).unwrap(), "the holder is in the server's process group");
    let group = |p: i32| std::fs::read_to_string(format!("/proc/{p}/autogroup")).ok();
    assert_eq!(group(holder), group(server), "the holder is scheduled apart from the server");
    assert!(ignores_hang_up(holder));
    assert!(!ignores_hang_up(pid), "the terminal's process ignores SIGHUP");

    let before = continuous(&output(&srv, &s.id).await);
    nix::sys::signal::killpg(Pid::from_raw(server), nix::sys::signal::SIGHUP).unwrap();
    let status = srv.child.wait().unwrap();
    assert!(status.success(), "SIGHUP: {status:?}");
    assert!(alive(holder) && alive(pid), "the terminal ended with the server's terminal");
    srv = start(dir.path(), port, TICKER).await;
    let out = output_until(&srv, &s.id, |o| ticks(o).len() as u64 >= before + 5).await;
    continuous(&out);
    assert_eq!(pid_of(&out), pid);
    assert_eq!(srv.client.session(&s.id).await.unwrap().status, SessionStatus::Running);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_that_exits_while_the_server_is_down_fails_its_session_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let _holders = Holders(dir.path());
    let go = dir.path().join("go");
    let agent = format!(
        r#"quit=echo "pid $$"; while [ ! -e '{}' ]; do sleep 0.05; done; echo "said while away"; exit 3"#,
        go.display()
    );
    let port = common::free_port();
    let mut srv = start(dir.path(), port, &agent).await;
    let s = session(&srv, "quit").await;
    let pid = pid_of(&output_until(&srv, &s.id, |o| o.contains("pid ") && o.contains("\r\n")).await);
    srv.child.kill().unwrap();
    srv.child.wait().unwrap();
    std::fs::write(&go, "").unwrap();
    until("the agent did not exit", || !alive(pid)).await;
    let srv = start(dir.path(), port, &agent).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let ended = loop {
        let now = srv.client.session(&s.id).await.unwrap();
        if now.status != SessionStatus::Running {
            break now;
        }
        assert!(Instant::now() < deadline, "the session still runs");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((ended.status, ended.exit_code), (SessionStatus::Failed, Some(3)));
    assert!(output(&srv, &s.id).await.contains("said while away"));
    // Its holder goes, with its socket and record, once the exit was recorded.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left: Vec<_> =
            std::fs::read_dir(dir.path().join("terminals")).unwrap().flatten().map(|e| e.path()).collect();
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "left behind: {left:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Connects to `sock` as user `nobody` (a forked child that changed its user) and says
/// hello: 0 when the holder closed the connection unanswered, 1 when it answered, 2 when
/// the connection itself was refused.
fn hello_as_nobody(sock: &Path) -> i32 {
    use std::io::{Read, Write};
    let hello = [b'H', 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0];
    // SAFETY: the child only makes system calls, then `_exit`s.
    match unsafe { nix::unistd::fork() }.unwrap() {
        nix::unistd::ForkResult::Child => {
            let code = (|| {
                // SAFETY: plain system calls.
                if unsafe { nix::libc::setgid(65534) } != 0 || unsafe { nix::libc::setuid(65534) } != 0 {
                    return 3;
                }
                let Ok(mut s) = std::os::unix::net::UnixStream::connect(sock) else { return 2 };
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let _ = s.write_all(&hello);
                let mut b = [0u8; 16];
                match s.read(&mut b) {
                    Ok(0) | Err(_) => 0,
                    Ok(_) => 1,
                }
            })();
            // SAFETY: ends the forked child without running the parent's destructors.
            unsafe { nix::libc::_exit(code) }
        }
        nix::unistd::ForkResult::Parent { child } => match nix::sys::wait::waitpid(child, None).unwrap() {
            nix::sys::wait::WaitStatus::Exited(_, code) => code,
            other => panic!("{other:?}"),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_holders_socket_refuses_another_account() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { nix::libc::geteuid() } != 0 {
        eprintln!("skipped: only root can connect as another account");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let _holders = Holders(dir.path());
    let srv = start(dir.path(), common::free_port(), TICKER).await;
    let s = session(&srv, "tick").await;
    output_until(&srv, &s.id, |o| ticks(o).len() >= 2).await;
    let holders = dir.path().join("terminals");
    assert_eq!(std::fs::metadata(&holders).unwrap().permissions().mode() & 0o777, 0o700);
    let sock = std::fs::read_dir(&holders)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "sock"))
        .expect("a holder's socket");
    assert_eq!(std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(hello_as_nobody(&sock), 2, "the private directory keeps another account out");
    // Were the directory and socket opened to all, the holder still answers only its own.
    std::fs::set_permissions(&holders, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert_eq!(hello_as_nobody(&sock), 0, "the holder answered another account");
    // And its own server still has it.
    let n = ticks(&output(&srv, &s.id).await).len();
    output_until(&srv, &s.id, |o| ticks(o).len() > n + 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_shares_a_sessions_terminal_and_detaches_with_its_key() {
    use portable_pty::{native_pty_system, CommandBuilder, PtySize};
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let _holders = Holders(dir.path());
    let port = common::free_port();
    let mut srv = start(dir.path(), port, TICKER).await;
    let p = srv.client.create_project(&NewProject { name: "A".into(), ..Default::default() }).await.unwrap();
    let s = srv.client.create_session(&NewSession { project_id: p.id, ..Default::default() }).await.unwrap();
    let pair = native_pty_system().openpty(PtySize { rows: 30, cols: 100, ..Default::default() }).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_maestro"));
    cmd.args(["attach", &s.id]);
    cmd.env("MAESTRO_API_URL", &srv.api);
    cmd.env("MAESTRO_TOKEN", &srv.token);
    cmd.env_remove("MAESTRO_SESSION_ID");
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let mut keys = pair.master.take_writer().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = reader.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    let mut see = |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !seen.contains(want) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(b) => seen.push_str(&String::from_utf8_lossy(&b)),
                Err(_) => panic!("no {want:?}; saw {seen:?}"),
            }
        }
    };
    see("Detach: Ctrl-] then d");
    // What is typed here runs there, and a browser on the same terminal sees it too.
    let addr = format!("127.0.0.1:{}", srv.port).parse().unwrap();
    let mut browser = attach_as(addr, &s.id, &srv.token).await;
    keys.write_all(b"echo attached-$((40+2))\r").unwrap();
    see("attached-42");
    browser.read_until("attached-42").await;
    browser.input("echo from-the-browser\r").await;
    see("from-the-browser");
    // The server restarts: attach attaches again by itself.
    drop(browser);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(srv.child.id() as i32), nix::sys::signal::SIGTERM).unwrap();
    srv.child.wait().unwrap();
    see("attaching again");
    srv = start(dir.path(), port, TICKER).await;
    keys.write_all(b"echo after-$((6*7))\r").unwrap();
    see("after-42");
    let mut browser = attach_as(addr, &s.id, &srv.token).await;
    keys.write_all(&[0x1d, b'd']).unwrap();
    see("detached");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    // The session's shell keeps running.
    browser.input("echo still-here\r").await;
    browser.read_until("still-here").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_machine_restart_its_sessions_fail_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let _holders = Holders(dir.path());
    let port = common::free_port();
    let mut srv = start(dir.path(), port, TICKER).await;
    let s = session(&srv, "tick").await;
    let pid = pid_of(&output_until(&srv, &s.id, |o| ticks(o).len() >= 2).await);
    srv.child.kill().unwrap();
    srv.child.wait().unwrap();
    // As a reboot leaves it: the record of a holder that ran under another boot.
    let holders = dir.path().join("terminals");
    let record = std::fs::read_dir(&holders)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a holder's record");
    let mut rec: serde_json::Value = serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    rec["boot"] = "a-boot-before".into();
    std::fs::write(&record, rec.to_string()).unwrap();
    let srv = start(dir.path(), port, TICKER).await;
    let now = srv.client.session(&s.id).await.unwrap();
    assert_eq!(now.status, SessionStatus::Failed);
    output_until(&srv, &s.id, |o| o.contains("the machine restarted")).await;
    // (Here the process did survive: its holder, no longer reachable, ends it.)
    until("a holder nobody can reach kept its process", || !alive(pid)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_a_holder_keeps_while_the_server_is_down_is_counted_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let _holders = Holders(dir.path());
    let (go, done) = (dir.path().join("go"), dir.path().join("done"));
    let agent = format!(
        r#"flood=echo "pid $$"; while [ ! -e '{}' ]; do sleep 0.05; done; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); printf 'line %06d\n' $i; done; touch '{}'; read _"#,
        go.display(),
        done.display()
    );
    let port = common::free_port();
    let env = [("MAESTRO_OUTPUT_SESSION_BYTES", "65536")];
    let args = ["--agent", agent.as_str()];
    let run =
        || common::Start { port: Some(port), dir: Some(dir.path()), args: &args, env: &env, ..Default::default() };
    let mut srv = run().run().await;
    let s = session(&srv, "flood").await;
    let pid = pid_of(&output_until(&srv, &s.id, |o| o.contains("pid ") && o.contains("\r\n")).await);
    srv.child.kill().unwrap();
    srv.child.wait().unwrap();
    std::fs::write(&go, "").unwrap();
    until("the flood did not finish", || done.exists()).await;
    let srv = run().run().await;
    let lines: String = (1..=20000).map(|i| format!("line {i:06}\r\n")).collect();
    let total = format!("pid {pid}\r\n").len() + lines.len();
    let deadline = Instant::now() + Duration::from_secs(20);
    let (start, end, body) = loop {
        let r = srv.http().get(format!("{}/sessions/{}/output?offset=0", srv.api, s.id)).send().await.unwrap();
        let header = |k: &str| r.headers()[k].to_str().unwrap().parse::<usize>().unwrap();
        let (start, end) = (header("Output-Start"), header("Output-End"));
        let body = r.bytes().await.unwrap();
        if end >= total {
            break (start, end, body);
        }
        assert!(Instant::now() < deadline, "only {end} of {total} bytes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Every byte is counted at its offset: what was lost is a gap before `start`, and what
    // is kept is exactly the stream's end.
    assert_eq!(end, total, "bytes counted");
    assert!(start > 0 && end - start <= 65536, "kept {start}..{end}");
    assert_eq!(&body[..], &lines.as_bytes()[lines.len() - (end - start)..]);
    assert!(alive(pid));
}

/// A terminal socket's output by offset: where it starts (its first message), its bytes.
struct Resumed {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    start: Option<u64>,
    bytes: Vec<u8>,
}

impl Resumed {
    async fn open(port: u16, id: &str, token: &str, more: &str) -> Resumed {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("ws://127.0.0.1:{port}/terminals/{id}/ws?cols=100&rows=40{more}");
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
        let ws = tokio_tungstenite::connect_async(req).await.unwrap().0;
        Resumed { ws, start: None, bytes: Vec::new() }
    }

    fn end(&self) -> u64 {
        self.start.unwrap_or(0) + self.bytes.len() as u64
    }

    /// Reads until `ok(what came before, what it read)`; no gap may be said.
    async fn until(&mut self, before: &[u8], ok: impl Fn(&str) -> bool) {
        use futures::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        while !ok(&String::from_utf8_lossy(&[before, &self.bytes].concat())) {
            let msg = tokio::time::timeout(Duration::from_secs(20), self.ws.next()).await.expect("output within 20 s");
            match msg {
                Some(Ok(Message::Binary(b))) => self.bytes.extend_from_slice(&b),
                Some(Ok(Message::Text(t))) => {
                    let m: serde_json::Value = serde_json::from_str(&t).unwrap();
                    assert_eq!(m["type"], "offset", "only where it starts: {t}");
                    assert!(self.start.is_none(), "a second offset: {t}");
                    self.start = m["offset"].as_u64();
                }
                Some(Ok(_)) => {}
                other => panic!("the socket ended: {other:?}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_resumes_by_offset_across_a_kill_9_with_no_byte_missing_or_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let _holders = Holders(dir.path());
    let port = common::free_port();
    let mut srv = start(dir.path(), port, TICKER).await;
    let s = session(&srv, "tick").await;
    // What the socket showed may be more than the server had written to disk when killed.
    let mut a = Resumed::open(port, &s.id, &srv.token, "").await;
    a.until(&[], |o| ticks(o).len() >= 10).await;
    assert_eq!(a.start, Some(0));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(srv.child.id() as i32), nix::sys::signal::SIGKILL).unwrap();
    srv.child.wait().unwrap();
    srv = start(dir.path(), port, TICKER).await;
    let mut b = Resumed::open(port, &s.id, &srv.token, &format!("&offset={}", a.end())).await;
    let before = ticks(&String::from_utf8_lossy(&a.bytes)).len();
    b.until(&a.bytes, |o| ticks(o).len() >= before + 20).await;
    assert_eq!(b.start, Some(a.end()), "it goes on where it was");
    continuous(&String::from_utf8_lossy(&[a.bytes, b.bytes].concat()));
}

/// A data directory deeper than a unix socket's path may be (108 bytes) still holds its
/// terminals, and a restarted server finds them there again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_directory_deeper_than_a_socket_path_allows_keeps_its_terminals() {
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("a-data-directory-as-deep-as-some-peoples-home-directories-are".repeat(2));
    assert!(dir.join("terminals/0123456789abcdef01234567.sock").as_os_str().len() > 108);
    let _holders = Holders(&dir);
    let port = common::free_port();
    let mut srv = start(&dir, port, TICKER).await;
    let s = session(&srv, "tick").await;
    let pid = pid_of(&output_until(&srv, &s.id, |o| ticks(o).len() >= 3).await);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(srv.child.id() as i32), nix::sys::signal::SIGKILL).unwrap();
    srv.child.wait().unwrap();
    let srv = start(&dir, port, TICKER).await;
    let before = ticks(&output(&srv, &s.id).await).len() as u64;
    let out = output_until(&srv, &s.id, |o| ticks(o).len() as u64 >= before + 5).await;
    assert_eq!(pid_of(&out), pid, "the same process, re-adopted");
    assert_eq!(srv.client.session(&s.id).await.unwrap().status, SessionStatus::Running);
}
