//! `cargo bench --features ssr --bench sync`: N WebSocket clients listen while REST
//! mutations run against a durable store. Prints mutation→event latency (from sending the
//! REST request to a client receiving the event) to every client and to the last client,
//! and mutations per second with many writers, for N = 10, 100, 1000.
//!
//! The server is the real `maestro` binary in its own process, as deployed; the clients
//! and writers run in this process. Both share this machine's cores, so the numbers are
//! pessimistic for the server alone.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::Message;

/// Reads `seq` from the front of an event (`{"seq":123,...`) without parsing the rest.
fn seq_of(text: &str) -> Option<u64> {
    let rest = text.strip_prefix("{\"seq\":")?;
    let end = rest.find(',')?;
    rest[..end].parse().ok()
}

struct Clients {
    /// received[c][i] = nanoseconds since `epoch` when client c got event base+1+i.
    received: Vec<Arc<Vec<AtomicU64>>>,
    done: Arc<AtomicUsize>,
}

/// One listening client: a plain tungstenite WebSocket on a non-blocking socket.
struct Listener {
    ws: tungstenite::WebSocket<std::net::TcpStream>,
    slots: Arc<Vec<AtomicU64>>,
    got: usize,
}

/// Connects `n` clients, split over `CLIENT_THREADS` threads that each wait on their
/// sockets with epoll (mio) and record when each of `events` events (after `base`)
/// arrives. Lean on purpose: browsers are elsewhere, and the cost of simulating them
/// on the server's cores should disturb the numbers as little as possible.
fn start_clients(addr: std::net::SocketAddr, n: usize, base: u64, events: usize, epoch: Instant) -> Clients {
    const CLIENT_THREADS: usize = 2;
    let done = Arc::new(AtomicUsize::new(0));
    let mut received = Vec::with_capacity(n);
    let mut groups: Vec<Vec<Listener>> = (0..CLIENT_THREADS).map(|_| Vec::new()).collect();
    for c in 0..n {
        let slots: Arc<Vec<AtomicU64>> = Arc::new((0..events).map(|_| AtomicU64::new(0)).collect());
        received.push(slots.clone());
        let stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).unwrap();
        // tungstenite zeroes its whole read buffer (128 KiB by default) before each
        // read; a small one keeps the clients' own cost out of the numbers.
        let config = WebSocketConfig::default().read_buffer_size(4096);
        let (ws, _) =
            tungstenite::client::client_with_config(format!("ws://{addr}/ws"), stream, Some(config)).expect("upgrade");
        ws.get_ref().set_nonblocking(true).unwrap();
        groups[c % CLIENT_THREADS].push(Listener { ws, slots, got: 0 });
    }
    for mut group in groups {
        let done = done.clone();
        std::thread::spawn(move || {
            use std::os::fd::AsRawFd;
            let mut poll = mio::Poll::new().unwrap();
            for (i, l) in group.iter().enumerate() {
                let fd = l.ws.get_ref().as_raw_fd();
                poll.registry()
                    .register(&mut mio::unix::SourceFd(&fd), mio::Token(i), mio::Interest::READABLE)
                    .unwrap();
            }
            let mut ready = mio::Events::with_capacity(1024);
            let mut left = group.len();
            while left > 0 {
                poll.poll(&mut ready, Some(Duration::from_secs(1))).unwrap();
                for e in ready.iter() {
                    let l = &mut group[e.token().0];
                    // Edge-triggered: read until the socket is empty.
                    while l.got < events {
                        match l.ws.read() {
                            Ok(Message::Text(t)) => {
                                let Some(seq) = seq_of(&t) else { continue };
                                let i = (seq - base - 1) as usize;
                                if i < events {
                                    l.slots[i].store(epoch.elapsed().as_nanos() as u64, Ordering::Relaxed);
                                    l.got += 1;
                                    if l.got == events {
                                        done.fetch_add(1, Ordering::Release);
                                        left -= 1;
                                    }
                                }
                            }
                            Ok(_) => {}
                            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                            Err(e) => panic!("client socket failed: {e}"),
                        }
                    }
                }
            }
        });
    }
    Clients { received, done }
}

async fn wait_all(c: &Clients, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while c.done.load(Ordering::Acquire) < n {
        assert!(Instant::now() < deadline, "clients did not receive every event");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Kills the server when the benchmark is done with it.
struct Server(Child);

impl Server {
    /// CPU time the server process has used so far (user + system).
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.0.id())).unwrap_or_default();
        // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
        let ticks: u64 = fields.get(11..13).map_or(0, |f| f.iter().filter_map(|x| x.parse::<u64>().ok()).sum());
        Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `maestro` on a free loopback port with its database in `dir`.
fn start_server(dir: &std::path::Path) -> (Server, std::net::SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn,maestro::server=info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start maestro");
    let out = BufReader::new(child.stdout.take().unwrap());
    let server = Server(child);
    let mut lines = out.lines();
    for line in lines.by_ref() {
        let line = line.expect("server output");
        if let Some(at) = line.split("listening on http://").nth(1) {
            let addr = at.trim().parse().expect("server address");
            // Keep reading its output so that its logging never meets a closed pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return (server, addr);
        }
    }
    panic!("maestro exited before listening");
}

/// Sends a request and returns its JSON answer.
async fn json(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// The newest event's sequence number: event i of a phase is `last_seq + 1 + i`.
async fn last_seq(http: &reqwest::Client, api: &str) -> u64 {
    json(http.get(format!("{api}/health"))).await["seq"].as_u64().expect("seq in /api/health")
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run());
}

async fn run() {
    let sizes: Vec<usize> = std::env::var("BENCH_CLIENTS")
        .map(|v| v.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|_| vec![10, 100, 1000]);
    let latency_events = 300;
    // Pause between latency-phase mutations (a steady stream, not a burst).
    let pause_ms: u64 = std::env::var("BENCH_PAUSE_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let throughput_events = 3000;
    let writers = 32;
    println!(
        "sync benchmark: maestro binary (durable store: WAL, synchronous=FULL); clients + writers in this process"
    );
    println!("latency: one writer, {pause_ms} ms between mutations; throughput: {writers} writers, {throughput_events} mutations");
    println!(
        "{:>7} | {:>22} | {:>22} | {:>16} | {:>11}",
        "clients", "every client p50/p99", "last client p50/p99", "server CPU/event", "mutations/s"
    );
    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        let (server, addr) = start_server(dir.path());
        let http = reqwest::Client::new();
        let api = format!("http://{addr}/api");
        let p = json(http.post(format!("{api}/projects")).json(&serde_json::json!({"name": "bench"}))).await;
        let t =
            json(http.post(format!("{api}/tasks")).json(&serde_json::json!({"projectId": p["id"], "title": "bench"})))
                .await;
        let task_url = format!("{api}/tasks/{}", t["id"].as_str().unwrap());

        // Latency: one writer, one mutation (one event) at a time, so event i has seq base+1+i.
        let epoch = Instant::now();
        let base = last_seq(&http, &api).await;
        let clients = start_clients(addr, n, base, latency_events, epoch);
        tokio::time::sleep(Duration::from_millis(200)).await; // let every subscription settle
        let mut sent = Vec::with_capacity(latency_events);
        let cpu_before = server.cpu();
        for i in 0..latency_events {
            sent.push(epoch.elapsed().as_nanos() as u64);
            let r = http.patch(&task_url).json(&serde_json::json!({"title": format!("m{i}")})).send().await.unwrap();
            assert!(r.status().is_success());
            tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        }
        wait_all(&clients, n).await;
        let server_cpu_per_event = (server.cpu() - cpu_before).as_secs_f64() * 1e3 / latency_events as f64;
        let mut every = Vec::with_capacity(n * latency_events);
        let mut last = Vec::with_capacity(latency_events);
        for (i, &s) in sent.iter().enumerate() {
            let mut worst = 0f64;
            for c in &clients.received {
                let ms = (c[i].load(Ordering::Relaxed).saturating_sub(s)) as f64 / 1e6;
                every.push(ms);
                worst = worst.max(ms);
            }
            last.push(worst);
        }
        every.sort_by(f64::total_cmp);
        last.sort_by(f64::total_cmp);

        // Throughput: many writers as fast as they can; ends when every client has every event.
        let base = last_seq(&http, &api).await;
        let epoch = Instant::now();
        let clients = start_clients(addr, n, base, throughput_events, epoch);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let start = Instant::now();
        let next = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..writers)
            .map(|_| {
                let (http, url, next) = (http.clone(), task_url.clone(), next.clone());
                tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= throughput_events {
                            break;
                        }
                        let r =
                            http.patch(&url).json(&serde_json::json!({"title": format!("w{i}")})).send().await.unwrap();
                        assert!(r.status().is_success());
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        wait_all(&clients, n).await;
        let rate = throughput_events as f64 / start.elapsed().as_secs_f64();
        println!(
            "{n:>7} | {:>9.2} / {:>7.2} ms | {:>9.2} / {:>7.2} ms | {:>13.3} ms | {rate:>11.0}",
            percentile(&every, 0.5),
            percentile(&every, 0.99),
            percentile(&last, 0.5),
            percentile(&last, 0.99),
            server_cpu_per_event,
        );
    }
}
