//! `cargo bench --profile dev --features ssr --bench terminal`: terminal streaming (issue
//! #32), the real `maestro` binary in its own process beside the bare pseudo-terminal
//! (`portable_pty` in this process, no server).
//!
//! - throughput: four agents' terminals each print `BENCH_MB` (32) MB of 64-byte lines at
//!   once (`yes … | head -c`), read by four WebSocket clients as fast as they can; MB/s in
//!   all, the server's CPU per MB (its and its terminals' holders' utime+stime from
//!   `/proc/PID/stat`, not the agents'; the holders' part apart), and the bytes that did
//!   not arrive; the bare PTY's printers run at the agents' priority (`MAESTRO_AGENT_NICE`,
//!   10 as the server's default), as a niced printer makes each read smaller;
//! - echo: one byte typed (and a carriage return) → its echo back at the client, p50/p99 of
//!   `BENCH_SAMPLES` (200), with every terminal quiet and while four others print without
//!   end (their clients reading).
//!
//! `BENCH_AB=path` measures another build too (e.g. main's), alternating with this one for
//! `BENCH_ROUNDS` (3) rounds, and prints each one's medians; `MAESTRO_BIN=path` measures
//! another build in place of this one. Built with the dev profile as the tests are (plain
//! `cargo bench` builds the release).

mod common;

use common::{http_blocking, start_server_alone, TOKEN};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use tungstenite::{client::IntoClientRequest, Message, WebSocket};

const TERMS: usize = 4;
/// 63 characters and a newline.
const LINE: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The agents: one that floods `bytes` when given a line, one that prints without end, one
/// that only reads (its terminal echoes).
fn agents(bytes: usize) -> [String; 3] {
    [
        format!("flood=stty -echo; echo READY; read _; yes {LINE} | head -c {bytes}; echo END; read _; : {{prompt}}"),
        format!("busy=stty -echo; echo READY; read _; yes {LINE}; : {{prompt}}"),
        "echo=echo READY; cat >/dev/null; : {prompt}".into(),
    ]
}

/// Server CPU seconds (user + system) so far.
fn cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let f: Vec<f64> = after.split_whitespace().map(|v| v.parse().unwrap_or(0.0)).collect();
    // In clock ticks: USER_HZ, 100 a second on Linux.
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

/// The CPU seconds so far of the server `pid` and of the holders (`maestro __hold`) of its
/// terminals, from their records in the data directory `dir`: they carry every byte too.
fn serving_cpu(pid: u32, dir: &std::path::Path) -> (f64, f64) {
    let records = std::fs::read_dir(dir.join("terminals")).into_iter().flatten().flatten();
    let holders = records
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| serde_json::from_slice::<serde_json::Value>(&std::fs::read(e.path()).ok()?).ok())
        .filter_map(|r| r["holder"].as_u64());
    (cpu(pid), holders.map(|h| cpu(h as u32)).sum::<f64>())
}

/// This process's CPU seconds so far.
fn own_cpu() -> f64 {
    use nix::sys::resource::{getrusage, UsageWho};
    let u = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let s = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    s(u.user_time()) + s(u.system_time())
}

/// A terminal client: its socket and the tail of what it read.
struct Term {
    ws: WebSocket<TcpStream>,
    got: u64,
    tail: Vec<u8>,
}

impl Term {
    fn open(addr: SocketAddr, id: &str) -> Term {
        let mut req = format!("ws://{addr}/terminals/{id}/ws?cols=120&rows=40").into_client_request().unwrap();
        req.headers_mut().insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        let (ws, _) = tungstenite::client(req, stream).expect("terminal socket");
        Term { ws, got: 0, tail: Vec::new() }
    }

    /// Reads until the output ends with `until`.
    fn until(&mut self, until: &[u8]) {
        while !self.tail.ends_with(until) {
            match self.ws.read().expect("terminal output") {
                Message::Binary(b) => {
                    self.got += b.len() as u64;
                    self.tail.extend_from_slice(&b[b.len().saturating_sub(16)..]);
                    let cut = self.tail.len().saturating_sub(16);
                    self.tail.drain(..cut);
                }
                // Control messages (`offset`, `gap`) of the newer server; none of the older.
                Message::Text(_) => {}
                _ => {}
            }
        }
    }

    fn input(&mut self, text: &str) {
        let msg = serde_json::json!({"type": "input", "data": text}).to_string();
        self.ws.send(Message::Text(msg.into())).unwrap();
    }
}

/// What one run of one build measured.
#[derive(Default, Clone)]
struct Run {
    mb_s: f64,
    cpu_ms_per_mb: f64,
    /// Of which the holders'.
    holders_ms_per_mb: f64,
    lost: u64,
    echo_idle: (f64, f64),
    echo_busy: (f64, f64),
}

/// A session of `agent` in `project`.
fn session(addr: SocketAddr, project: &str, agent: &str) -> String {
    let http = http_blocking();
    let s: serde_json::Value = http
        .post(format!("http://{addr}/api/sessions"))
        .json(&serde_json::json!({"projectId": project, "agentId": agent}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    s["id"].as_str().expect("a session").to_string()
}

/// p50 and p99 in ms of `n` echoes on `t` (a byte and a carriage return; the echo ends in \n).
fn echoes(t: &mut Term, n: usize) -> (f64, f64) {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        t.tail.clear();
        let at = Instant::now();
        t.input("x\r");
        t.until(b"\n");
        times.push(at.elapsed().as_secs_f64() * 1e3);
        std::thread::sleep(Duration::from_millis(5));
    }
    times.sort_by(f64::total_cmp);
    (times[n / 2], times[(n * 99).div_ceil(100) - 1])
}

fn measure(bin: &std::ffi::OsStr, bytes: usize, samples: usize) -> Run {
    std::env::set_var("MAESTRO_BIN", bin);
    let dir = tempfile::tempdir().unwrap();
    let [flood, busy, echo] = agents(bytes);
    let (server, addr) = start_server_alone(dir.path(), &["--agent", &flood, "--agent", &busy, "--agent", &echo]);
    let http = http_blocking();
    let p: serde_json::Value = http
        .post(format!("http://{addr}/api/projects"))
        .json(&serde_json::json!({"name": "bench", "basePath": dir.path()}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let project = p["id"].as_str().unwrap().to_string();
    let mut run = Run::default();

    // Echo with every terminal quiet.
    let mut e = Term::open(addr, &session(addr, &project, "echo"));
    e.until(b"READY\r\n");
    run.echo_idle = echoes(&mut e, samples);

    // Four floods at once.
    let mut floods: Vec<Term> = (0..TERMS).map(|_| Term::open(addr, &session(addr, &project, "flood"))).collect();
    floods.iter_mut().for_each(|t| t.until(b"READY\r\n"));
    let (cpu0, t0) = (serving_cpu(server.pid(), dir.path()), Instant::now());
    let readers: Vec<_> = floods
        .into_iter()
        .map(|mut t| {
            std::thread::spawn(move || {
                let from = t.got;
                t.input("go\r");
                t.until(b"END\r\n");
                t.got - from
            })
        })
        .collect();
    let got: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    let (secs, cpu1) = (t0.elapsed().as_secs_f64(), serving_cpu(server.pid(), dir.path()));
    // What they printed: each line's \n became \r\n, then END.
    let printed = (TERMS * (bytes + bytes / 64 + 5)) as f64;
    run.mb_s = printed / 1e6 / secs;
    run.cpu_ms_per_mb = (cpu1.0 + cpu1.1 - cpu0.0 - cpu0.1) * 1e3 / (printed / 1e6);
    run.holders_ms_per_mb = (cpu1.1 - cpu0.1) * 1e3 / (printed / 1e6);
    run.lost = (printed as u64).saturating_sub(got);

    // Echo while four terminals print without end, their clients reading.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let busy: Vec<_> = (0..TERMS)
        .map(|_| {
            let mut t = Term::open(addr, &session(addr, &project, "busy"));
            let stop = stop.clone();
            std::thread::spawn(move || {
                t.until(b"READY\r\n");
                t.input("go\r");
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if t.ws.read().is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    // Printing, all four (each has sent more than a megabyte) before measuring.
    std::thread::sleep(Duration::from_millis(500));
    run.echo_busy = echoes(&mut e, samples);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    // The readers end with the server's sockets; the terminals' holders, when the data
    // directory goes.
    drop(server);
    for b in busy {
        let _ = b.join();
    }
    run
}

/// The same without a server: `portable_pty` read directly, 64 KiB at a time.
fn bare(bytes: usize, samples: usize) -> Run {
    use portable_pty::{native_pty_system, CommandBuilder, PtySize};
    let spawn = |cmd: &str| {
        let pair = native_pty_system().openpty(PtySize { rows: 40, cols: 120, ..Default::default() }).unwrap();
        let mut b = CommandBuilder::new("/bin/sh");
        b.args(["-c", cmd]);
        let child = pair.slave.spawn_command(b).unwrap();
        drop(pair.slave);
        (pair.master, child)
    };
    let mut run = Run::default();
    // The agents' priority, as the server gives theirs (`MAESTRO_AGENT_NICE`).
    let nice = match env_or("MAESTRO_AGENT_NICE", 10) {
        0 => String::new(),
        n => format!("echo {n} >/proc/self/autogroup; renice -n {n} $$ >/dev/null; "),
    };
    let (cpu0, t0) = (own_cpu(), Instant::now());
    let readers: Vec<_> = (0..TERMS)
        .map(|_| {
            let (master, mut child) = spawn(&format!("{nice}yes {LINE} | head -c {bytes}"));
            std::thread::spawn(move || {
                let mut r = master.try_clone_reader().unwrap();
                let mut buf = vec![0u8; 64 * 1024];
                let mut n = 0u64;
                while let Ok(k @ 1..) = r.read(&mut buf) {
                    n += k as u64;
                }
                let _ = child.wait();
                n
            })
        })
        .collect();
    let got: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    let (secs, cpu_s) = (t0.elapsed().as_secs_f64(), own_cpu() - cpu0);
    let printed = (TERMS * (bytes + bytes / 64)) as f64;
    run.mb_s = printed / 1e6 / secs;
    run.cpu_ms_per_mb = cpu_s * 1e3 / (printed / 1e6);
    run.lost = (printed as u64).saturating_sub(got);

    // Echo: typed into the master, read back from it.
    let echo_pty = || {
        let (master, child) = spawn("cat >/dev/null");
        let mut r = master.try_clone_reader().unwrap();
        let mut w = master.take_writer().unwrap();
        let mut times = Vec::with_capacity(samples);
        let mut buf = [0u8; 256];
        for _ in 0..samples {
            let at = Instant::now();
            w.write_all(b"x\r").unwrap();
            loop {
                let k = r.read(&mut buf).unwrap();
                if buf[..k].contains(&b'\n') {
                    break;
                }
            }
            times.push(at.elapsed().as_secs_f64() * 1e3);
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(child);
        times.sort_by(f64::total_cmp);
        (times[samples / 2], times[(samples * 99).div_ceil(100) - 1])
    };
    run.echo_idle = echo_pty();
    let mut busy = Vec::new();
    let mut children = Vec::new();
    for _ in 0..TERMS {
        let (master, child) = spawn(&format!("yes {LINE}"));
        let mut r = master.try_clone_reader().unwrap();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(1..) = r.read(&mut buf) {}
        });
        busy.push(master);
        children.push(child);
    }
    std::thread::sleep(Duration::from_millis(500));
    run.echo_busy = echo_pty();
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
    run
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    let bytes = env_or("BENCH_MB", 32) << 20;
    let samples = env_or("BENCH_SAMPLES", 200);
    let rounds = env_or("BENCH_ROUNDS", 3);
    let this = std::env::var_os("MAESTRO_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_maestro").into());
    let mut builds = vec![("this build".to_string(), Some(this.clone()))];
    if let Some(other) = std::env::var_os("BENCH_AB") {
        builds.insert(0, (format!("BENCH_AB ({})", other.to_string_lossy()), Some(other)));
    }
    builds.push(("bare PTY".into(), None));
    println!("{TERMS} terminals × {} MB each; echo of {samples} keys; medians of {rounds} rounds\n", bytes >> 20);
    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); builds.len()];
    for round in 0..rounds {
        for (i, (name, bin)) in builds.iter().enumerate() {
            let r = match bin {
                Some(b) => measure(b, bytes, samples),
                None => bare(bytes, samples),
            };
            println!(
                "round {round}: {name:<40} {:>7.1} MB/s  {:>6.2} ms CPU/MB (holders {:.2})  lost {:>10} B  echo idle p50/p99 {:.2}/{:.2} ms  busy {:.2}/{:.2} ms",
                r.mb_s, r.cpu_ms_per_mb, r.holders_ms_per_mb, r.lost, r.echo_idle.0, r.echo_idle.1, r.echo_busy.0, r.echo_busy.1
            );
            runs[i].push(r);
        }
    }
    println!("\nmedians                                          MB/s    CPU ms/MB (holders)   lost B      echo idle p50/p99   busy p50/p99");
    for ((name, _), rs) in builds.iter().zip(&runs) {
        let m = |f: fn(&Run) -> f64| median(rs.iter().map(f).collect());
        println!(
            "{name:<48} {:>7.1}  {:>8.2} ({:>5.2})   {:>10}   {:>6.2}/{:<6.2} ms    {:>6.2}/{:<6.2} ms",
            m(|r| r.mb_s),
            m(|r| r.cpu_ms_per_mb),
            m(|r| r.holders_ms_per_mb),
            m(|r| r.lost as f64),
            m(|r| r.echo_idle.0),
            m(|r| r.echo_idle.1),
            m(|r| r.echo_busy.0),
            m(|r| r.echo_busy.1),
        );
    }
    // The machine's speed moves between hours; what a build adds to the bare PTY, round by
    // round, moves less.
    let bare = runs.last().cloned().unwrap_or_default();
    for ((name, bin), rs) in builds.iter().zip(&runs) {
        if bin.is_some() {
            let over = median(rs.iter().zip(&bare).map(|(r, b)| r.cpu_ms_per_mb - b.cpu_ms_per_mb).collect());
            println!("{name:<48} CPU over the bare PTY's in the same round: {over:+.2} ms/MB (median)");
        }
    }
}
