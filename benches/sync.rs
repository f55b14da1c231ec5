//! `cargo bench --features ssr --bench sync`: N WebSocket clients listen while REST
//! mutations run against a durable store. Prints mutation→event latency, from sending the
//! REST request to the event reaching a client, to every client and to the last client,
//! after unmeasured warm-up mutations; the CPU time per event of the server and of the
//! clients; and mutations per second with many writers; for N = 10, 100, 1000.
//! `BENCH_CLIENTS=1000` picks the sizes; `BENCH_THREADS=1` also prints the server's CPU
//! time per event by thread; `MAESTRO_BIN=path` benchmarks another build of the server.
//!
//! The server is the real `maestro` binary in its own process, as deployed; the clients
//! and writers run in this process, on the same cores. An event "arrives" when it is in
//! a client's socket: the kernel's receive timestamp (SO_TIMESTAMPNS), the moment a
//! browser's machine would have it. The clients' own reads compete with the server for
//! the cores (remote browsers would not), so the time each client thread read the event
//! is printed too, as an upper bound.

mod common;

use common::start_server;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Reads `seq` from the front of an event (`{"seq":123,...`) without parsing the rest.
fn seq_of(text: &str) -> Option<u64> {
    let rest = text.strip_prefix("{\"seq\":")?;
    let end = rest.find(',')?;
    rest[..end].parse().ok()
}

/// When one client got each event, in nanoseconds since the Unix epoch (0: not yet).
struct Times {
    /// arrived[i]: when event base+1+i was in the client's socket.
    arrived: Vec<AtomicU64>,
    /// read[i]: when the client's thread read it.
    read: Vec<AtomicU64>,
}

struct Clients {
    times: Vec<Arc<Times>>,
    done: Arc<AtomicUsize>,
}

/// One listening client: a WebSocket read straight off a non-blocking socket. Server
/// frames are unmasked and small, so parsing them here costs next to nothing, where a
/// general WebSocket library (buffers, frame objects) doubled the clients' CPU time.
struct Listener {
    stream: std::net::TcpStream,
    /// Bytes read but not yet parsed (at most a partial frame).
    pending: Vec<u8>,
    times: Arc<Times>,
    got: usize,
}

/// A `/ws` client socket, non-blocking and with receive timestamps.
fn connect(addr: std::net::SocketAddr) -> std::net::TcpStream {
    let stream = common::open_ws(addr);
    stream.set_nonblocking(true).unwrap();
    nix::sys::socket::setsockopt(&stream, nix::sys::socket::sockopt::ReceiveTimestampns, &true).unwrap();
    stream
}

/// Nanoseconds since the Unix epoch: the clock of the kernel's receive timestamps.
fn wall_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// Reads into `buf`: how many bytes, and when the kernel received the last of them.
fn recv_stamped(stream: &std::net::TcpStream, buf: &mut [u8]) -> nix::Result<(usize, Option<u64>)> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, SockaddrStorage};
    use std::os::fd::AsRawFd;
    let mut space = nix::cmsg_space!(nix::sys::time::TimeSpec);
    let mut iov = [std::io::IoSliceMut::new(buf)];
    let msg = recvmsg::<SockaddrStorage>(stream.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::empty())?;
    let stamp = msg.cmsgs().find_map(|c| match c {
        ControlMessageOwned::ScmTimestampns(t) => Some(t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64),
        _ => None,
    });
    Ok((msg.bytes, stamp))
}

impl Listener {
    /// Reads what the socket holds and records each event; false once every event is in.
    fn read(&mut self, buf: &mut [u8], base: u64, events: usize) -> bool {
        use std::io::Write;
        loop {
            let (n, arrived) = match recv_stamped(&self.stream, buf) {
                Ok((0, _)) => panic!("server closed the connection"),
                Ok(got) => got,
                Err(nix::errno::Errno::EAGAIN) => return self.got < events,
                Err(e) => panic!("client socket failed: {e}"),
            };
            let read = wall_ns();
            let arrived = arrived.expect("no receive timestamp: the arrival times need SO_TIMESTAMPNS");
            self.pending.extend_from_slice(&buf[..n]);
            let mut at = 0;
            while let Some((opcode, payload)) = frame(&self.pending[at..]) {
                let len = payload.len();
                match opcode {
                    1 => {
                        let seq = std::str::from_utf8(payload).ok().and_then(seq_of);
                        // Events up to `base` (warm-up) are not measured.
                        let i = seq.and_then(|s| s.checked_sub(base + 1)).map(|i| i as usize);
                        if let Some(i) = i.filter(|&i| i < events) {
                            self.times.arrived[i].store(arrived, Ordering::Relaxed);
                            self.times.read[i].store(read, Ordering::Relaxed);
                            self.got += 1;
                        }
                    }
                    // A ping: answer with a pong (client frames are masked; a zero key
                    // leaves the payload as it is).
                    9 => {
                        let mut pong = vec![0x8a, 0x80 | len as u8, 0, 0, 0, 0];
                        pong.extend_from_slice(payload);
                        self.stream.write_all(&pong).expect("pong");
                    }
                    8 => panic!("server closed the WebSocket"),
                    _ => {}
                }
                at += header_len(len) + len;
            }
            self.pending.drain(..at);
            // A short read emptied the socket: the next data raises a new edge.
            if n < buf.len() {
                return self.got < events;
            }
        }
    }
}

/// Header length of an unmasked server frame with a payload of `len` bytes.
fn header_len(len: usize) -> usize {
    match len {
        0..=125 => 2,
        126..=65535 => 4,
        _ => 10,
    }
}

/// The first complete frame in `data`: its opcode and payload (server frames are unmasked).
fn frame(data: &[u8]) -> Option<(u8, &[u8])> {
    let (&b0, &b1) = (data.first()?, data.get(1)?);
    let (len, start) = match b1 & 0x7f {
        126 => (u16::from_be_bytes(data.get(2..4)?.try_into().ok()?) as usize, 4),
        127 => (u64::from_be_bytes(data.get(2..10)?.try_into().ok()?) as usize, 10),
        n => (n as usize, 2),
    };
    Some((b0 & 0x0f, data.get(start..start + len)?))
}

/// Connects `n` clients, split over `CLIENT_THREADS` threads that each wait on their
/// sockets with epoll (mio) and record when each of `events` events (after `base`)
/// arrives. Lean on purpose: browsers are elsewhere, and the cost of simulating them
/// on the server's cores should disturb the numbers as little as possible.
fn start_clients(addr: std::net::SocketAddr, n: usize, base: u64, events: usize) -> Clients {
    const CLIENT_THREADS: usize = 2;
    let done = Arc::new(AtomicUsize::new(0));
    let mut times = Vec::with_capacity(n);
    let mut groups: Vec<Vec<Listener>> = (0..CLIENT_THREADS).map(|_| Vec::new()).collect();
    for c in 0..n {
        let zeros = || (0..events).map(|_| AtomicU64::new(0)).collect();
        let t = Arc::new(Times { arrived: zeros(), read: zeros() });
        times.push(t.clone());
        let listener = Listener { stream: connect(addr), pending: Vec::with_capacity(4096), times: t, got: 0 };
        groups[c % CLIENT_THREADS].push(listener);
    }
    for mut group in groups {
        let done = done.clone();
        std::thread::spawn(move || {
            use std::os::fd::AsRawFd;
            let mut poll = mio::Poll::new().unwrap();
            for (i, l) in group.iter().enumerate() {
                let fd = l.stream.as_raw_fd();
                poll.registry()
                    .register(&mut mio::unix::SourceFd(&fd), mio::Token(i), mio::Interest::READABLE)
                    .unwrap();
            }
            let mut ready = mio::Events::with_capacity(1024);
            let mut buf = vec![0u8; 4096];
            let mut left = group.len();
            while left > 0 {
                poll.poll(&mut ready, Some(Duration::from_secs(1))).unwrap();
                for e in ready.iter() {
                    let l = &mut group[e.token().0];
                    // Edge-triggered: read until the socket is empty.
                    if l.got < events && !l.read(&mut buf, base, events) {
                        done.fetch_add(1, Ordering::Release);
                        left -= 1;
                    }
                }
            }
        });
    }
    Clients { times, done }
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

/// CPU time used so far by each thread of process `pid`, by thread name: the scheduler's
/// nanosecond count (`/proc/PID/task/TID/schedstat`), where `/proc/PID/stat` counts 10 ms
/// ticks. The server's threads live as long as it does, so nothing is lost in between.
fn cpu_by_thread(pid: u32) -> Vec<(String, Duration)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Vec::new() };
    tasks
        .filter_map(|t| {
            let dir = t.ok()?.path();
            let ns = std::fs::read_to_string(dir.join("schedstat")).ok()?.split_whitespace().next()?.parse().ok()?;
            let name = std::fs::read_to_string(dir.join("comm")).ok()?.trim().to_string();
            Some((name, Duration::from_nanos(ns)))
        })
        .collect()
}

/// CPU time each group of threads (one name, its number dropped) used between two readings.
fn cpu_spent(before: &[(String, Duration)], after: &[(String, Duration)]) -> Vec<(String, Duration)> {
    let group = |name: &str| name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-').to_string();
    let total = |list: &[(String, Duration)], g: &str| -> Duration {
        list.iter().filter(|(n, _)| group(n) == g).map(|(_, t)| *t).sum()
    };
    let mut groups: Vec<(String, Duration)> = Vec::new();
    for (name, _) in after {
        let g = group(name);
        if !groups.iter().any(|(n, _)| *n == g) {
            let spent = total(after, &g).saturating_sub(total(before, &g));
            groups.push((g, spent));
        }
    }
    groups
}

/// CPU time this process has used so far, threads that ended included (the clients'
/// threads end once they have every event).
fn own_cpu_time() -> Duration {
    use nix::sys::resource::{getrusage, UsageWho};
    let usage = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let micros = |t: nix::sys::time::TimeVal| Duration::from_micros(t.tv_sec() as u64 * 1_000_000 + t.tv_usec() as u64);
    micros(usage.user_time()) + micros(usage.system_time())
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
    let warm_up = 50;
    // Pause between latency-phase mutations (a steady stream, not a burst).
    let pause_ms: u64 = std::env::var("BENCH_PAUSE_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let throughput_events = 3000;
    let writers = 32;
    println!(
        "sync benchmark: maestro binary (durable store: WAL, synchronous=FULL); clients + writers in this process"
    );
    println!(
        "latency: one writer, {latency_events} mutations {pause_ms} ms apart after {warm_up} unmeasured; \
         throughput: {writers} writers, {throughput_events} mutations"
    );
    println!(
        "{:>7} | {:>25} | {:>25} | {:>21} | {:>24} | {:>11}",
        "clients",
        "arrived: every p50/p99",
        "arrived: last p50/p99",
        "read: every p50/p99",
        "CPU/event server/clients",
        "mutations/s"
    );
    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        let (server, addr) = start_server(dir.path());
        let http = common::http();
        let api = format!("http://{addr}/api");
        let p = json(http.post(format!("{api}/projects")).json(&serde_json::json!({"name": "bench"}))).await;
        let t =
            json(http.post(format!("{api}/tasks")).json(&serde_json::json!({"projectId": p["id"], "title": "bench"})))
                .await;
        let task_url = format!("{api}/tasks/{}", t["id"].as_str().unwrap());

        // Latency: one writer, one mutation (one event) at a time, so event i has seq base+1+i.
        // The first `warm_up` events are not measured: fresh connections, buffers and caches
        // make them slower than the steady state that a running server is in.
        let base = last_seq(&http, &api).await + warm_up as u64;
        let clients = start_clients(addr, n, base, latency_events);
        tokio::time::sleep(Duration::from_millis(200)).await; // let every subscription settle
        let mut sent = Vec::with_capacity(latency_events);
        let mut cpu_before = (Vec::new(), Duration::ZERO);
        for i in 0..warm_up + latency_events {
            if i == warm_up {
                cpu_before = (cpu_by_thread(server.pid()), own_cpu_time());
            }
            if i >= warm_up {
                sent.push(wall_ns());
            }
            let r = http.patch(&task_url).json(&serde_json::json!({"title": format!("m{i}")})).send().await.unwrap();
            assert!(r.status().is_success());
            tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        }
        wait_all(&clients, n).await;
        let per_event = |cpu: Duration| cpu.as_secs_f64() * 1e3 / latency_events as f64;
        let server_threads = cpu_spent(&cpu_before.0, &cpu_by_thread(server.pid()));
        let server_cpu_per_event = per_event(server_threads.iter().map(|(_, t)| *t).sum());
        let clients_cpu_per_event = per_event(own_cpu_time() - cpu_before.1);
        // Milliseconds from each request to each client's time, every client and the last.
        let latencies = |time: fn(&Times) -> &Vec<AtomicU64>| {
            let mut every = Vec::with_capacity(n * latency_events);
            let mut last = Vec::with_capacity(latency_events);
            for (i, &s) in sent.iter().enumerate() {
                let mut worst = 0f64;
                for c in &clients.times {
                    let ms = time(c)[i].load(Ordering::Relaxed).saturating_sub(s) as f64 / 1e6;
                    every.push(ms);
                    worst = worst.max(ms);
                }
                last.push(worst);
            }
            every.sort_by(f64::total_cmp);
            last.sort_by(f64::total_cmp);
            (every, last)
        };
        let (every, last) = latencies(|t| &t.arrived);
        let (read, _) = latencies(|t| &t.read);

        // Throughput: many writers as fast as they can; ends when every client has every event.
        let base = last_seq(&http, &api).await;
        let clients = start_clients(addr, n, base, throughput_events);
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
            "{n:>7} | {:>12.2} / {:>6.2} ms | {:>12.2} / {:>6.2} ms | {:>8.2} / {:>6.2} ms | {:>9.2} / {:>7.2} ms | {rate:>11.0}",
            percentile(&every, 0.5),
            percentile(&every, 0.99),
            percentile(&last, 0.5),
            percentile(&last, 0.99),
            percentile(&read, 0.5),
            percentile(&read, 0.99),
            server_cpu_per_event,
            clients_cpu_per_event,
        );
        if std::env::var_os("BENCH_THREADS").is_some() {
            let by_thread: Vec<String> =
                server_threads.iter().map(|(name, t)| format!("{name} {:.2}", per_event(*t))).collect();
            println!("        server CPU ms/event by thread: {}", by_thread.join(", "));
        }
    }
}
