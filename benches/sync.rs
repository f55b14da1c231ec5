//! `cargo bench --features ssr --bench sync`: N WebSocket clients listen while REST
//! mutations run against a durable store. Prints mutation→event latency (from sending the
//! REST request to a client receiving the event) to every client and to the last client,
//! and mutations per second with many writers, for N = 10, 100, 1000.
//!
//! Everything (server, clients, writers) shares this machine's cores, so the numbers are
//! pessimistic for the server alone.

use futures::StreamExt;
use maestro::server::{app, leptos_options, AppState};
use maestro::store::{Store, StoreConfig};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

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

async fn start_clients(addr: std::net::SocketAddr, n: usize, base: u64, events: usize, epoch: Instant) -> Clients {
    let done = Arc::new(AtomicUsize::new(0));
    let mut received = Vec::with_capacity(n);
    for _ in 0..n {
        let slots: Arc<Vec<AtomicU64>> = Arc::new((0..events).map(|_| AtomicU64::new(0)).collect());
        received.push(slots.clone());
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await.expect("connect");
        let done = done.clone();
        tokio::spawn(async move {
            let mut got = 0;
            while let Some(Ok(msg)) = ws.next().await {
                if let Message::Text(t) = msg {
                    if let Some(seq) = seq_of(&t) {
                        let i = (seq - base - 1) as usize;
                        if i < events {
                            slots[i].store(epoch.elapsed().as_nanos() as u64, Ordering::Relaxed);
                            got += 1;
                            if got == events {
                                done.fetch_add(1, Ordering::Release);
                                break;
                            }
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
    let pause_ms: u64 = std::env::var("BENCH_PAUSE_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    let throughput_events = 3000;
    let writers = 32;
    println!("sync benchmark: durable store (WAL, synchronous=FULL), server + clients + writers on this machine");
    println!("latency: one writer, {pause_ms} ms between mutations; throughput: {writers} writers, {throughput_events} mutations");
    println!(
        "{:>7} | {:>22} | {:>22} | {:>14}",
        "clients", "every client p50/p99", "last client p50/p99", "mutations/s"
    );
    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(StoreConfig { path: Some(dir.path().join("b.db")), ..StoreConfig::memory() }).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        let state = AppState::new(store.clone(), leptos_options(addr, "target/site"), stopped);
        tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });
        let http = reqwest::Client::new();
        let api = format!("http://{addr}/api");
        let p: serde_json::Value = http
            .post(format!("{api}/projects"))
            .json(&serde_json::json!({"name": "bench"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let t: serde_json::Value = http
            .post(format!("{api}/tasks"))
            .json(&serde_json::json!({"projectId": p["id"], "title": "bench"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let task_url = format!("{api}/tasks/{}", t["id"].as_str().unwrap());

        // Latency: one writer, one mutation (one event) at a time, so event i has seq base+1+i.
        let epoch = Instant::now();
        let base = store.last_seq();
        let clients = start_clients(addr, n, base, latency_events, epoch).await;
        tokio::time::sleep(Duration::from_millis(200)).await; // let every subscription settle
        let mut sent = Vec::with_capacity(latency_events);
        for i in 0..latency_events {
            sent.push(epoch.elapsed().as_nanos() as u64);
            let r = http.patch(&task_url).json(&serde_json::json!({"title": format!("m{i}")})).send().await.unwrap();
            assert!(r.status().is_success());
            tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        }
        wait_all(&clients, n).await;
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
        let base = store.last_seq();
        let epoch = Instant::now();
        let clients = start_clients(addr, n, base, throughput_events, epoch).await;
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
            "{n:>7} | {:>9.2} / {:>7.2} ms | {:>9.2} / {:>7.2} ms | {rate:>14.0}",
            percentile(&every, 0.5),
            percentile(&every, 0.99),
            percentile(&last, 0.5),
            percentile(&last, 0.99),
        );
    }
}
