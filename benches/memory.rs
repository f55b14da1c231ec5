//! `cargo bench --features ssr --bench memory`: what a client can make the server hold.
//! Prints the server's resident memory (RSS, from /proc) per idle `/ws` connection with
//! 2,000 of them open, and its peak RSS while one client that never reads is sent 10,000
//! large events (a task of ~180 KB edited 10,000 times), against the budget that client's
//! queue is cut off at, and the data directory's size after them. `BENCH_IDLE=N` and `BENCH_EVENTS=N` change the sizes;
//! `MAESTRO_BIN=path` measures another build.
//!
//! The server is the real `maestro` binary in its own process; the clients are plain
//! sockets in this one.

mod common;

use common::{open_ws, rss_bytes, start_server};
use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// RSS once it has stopped moving (the allocator settles after a burst).
fn settled_rss(pid: u32) -> u64 {
    let mut last = rss_bytes(pid);
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(100));
        let now = rss_bytes(pid);
        if now.abs_diff(last) < 64 * 1024 {
            return now;
        }
        last = now;
    }
    last
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn main() {
    let idle: usize = std::env::var("BENCH_IDLE").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let events: usize = std::env::var("BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start_server(dir.path());
    let pid = server.pid();
    println!("memory benchmark: maestro binary (durable store), clients in this process");

    // Idle connections.
    let before = settled_rss(pid);
    let conns: Vec<TcpStream> = (0..idle).map(|_| open_ws(addr)).collect();
    let after = settled_rss(pid);
    println!(
        "idle /ws clients: {idle}; server RSS {:.1} MiB -> {:.1} MiB: {:.1} KiB per connection",
        mib(before),
        mib(after),
        after.saturating_sub(before) as f64 / 1024.0 / idle as f64
    );
    drop(conns);

    // One client that never reads, while large events flow.
    let api = format!("http://{addr}/api");
    let http = common::http_blocking();
    let p: serde_json::Value =
        http.post(format!("{api}/projects")).json(&serde_json::json!({"name": "mem"})).send().unwrap().json().unwrap();
    let body = serde_json::json!({"projectId": p["id"], "title": "big", "prompt": "p".repeat(90_000)});
    let t: serde_json::Value = http.post(format!("{api}/tasks")).json(&body).send().unwrap().json().unwrap();
    let task = format!("{api}/tasks/{}", t["id"].as_str().unwrap());
    let mut silent = open_ws(addr);
    let base = settled_rss(pid);
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(base));
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(rss_bytes(pid), std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let started = Instant::now();
    let writers = 8;
    std::thread::scope(|s| {
        for w in 0..writers {
            let (http, task) = (http.clone(), task.clone());
            s.spawn(move || {
                let text = "d".repeat(90_000);
                for i in (w..events).step_by(writers) {
                    let patch = serde_json::json!({"description": format!("{text}{i}")});
                    let r = http.patch(&task).json(&patch).send().unwrap();
                    assert!(r.status().is_success(), "{}", r.status());
                }
            });
        }
    });
    let took = started.elapsed();
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    sampler.join().unwrap();
    // What the silent client finally finds: what fit, then a close with a reason.
    silent.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut ended = false;
    while let Ok(n) = silent.read(&mut buf) {
        if n == 0 {
            ended = true;
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    // A close frame: 0x88, its length, then the code (JSON text never holds byte 0x88).
    let closed = got.windows(4).any(|w| w[0] == 0x88 && w[2..4] == 4000u16.to_be_bytes());
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "one never-reading client, {events} events of ~180 KB ({:.0} MB) in {:.1} s: server RSS {:.1} MiB before, peak {:.1} MiB (+{:.1} MiB); the client read {:.1} MiB, then {}",
        events as f64 * 0.18,
        took.as_secs_f64(),
        mib(base),
        mib(peak),
        mib(peak.saturating_sub(base)),
        mib(got.len() as u64),
        match (closed, ended) {
            (true, _) => "a close frame (4000, too slow)",
            // Its close frame waited 10 s behind what it did not read; then it was dropped.
            (false, true) => "the end of the connection (it never read its close frame)",
            (false, false) => "nothing more, the connection still open",
        },
    );
    let file: u64 =
        std::fs::read_dir(dir.path()).unwrap().flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum();
    println!("data directory after them: {:.1} MiB (database and its WAL)", mib(file));
    println!(
        "budget: one client's queue <= {:.0} MiB ({} frames), one event <= {} KiB, a replay page <= {} KiB",
        mib(maestro::hub::HUB_QUEUE_BYTES as u64),
        maestro::hub::HUB_CAPACITY,
        maestro::store::EVENT_MAX_BYTES / 1024,
        maestro::store::PAGE_BYTES / 1024
    );
}
