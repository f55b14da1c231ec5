//! `bash scripts/bench-scale.sh` (or `cargo bench --features ssr --bench scale` with
//! `MAESTRO_TEST_DATABASE_URL` naming a PostgreSQL server to make databases on): for the
//! embedded SQLite store, one node on PostgreSQL and two nodes sharing one PostgreSQL
//! database, prints mutations/s with 32 concurrent writers (spread over the nodes) and the
//! latency from sending a write to node A to its event reaching a WebSocket client of node
//! B (the last node; of the same node when there is one), p50 and p99; then the two nodes
//! again while 8 clients flood node A with `DELETE /terminals/<unknown id>`.
//! `BENCH_MUTATIONS` (default 3200) and `BENCH_SAMPLES` (default 300) set the sizes.
//!
//! The servers are the real `maestro` binary, one process per node, on this machine's
//! cores together with PostgreSQL and the benchmark's clients.

mod common;

use common::{start_server_with, Server};
use futures::StreamExt;
use maestro::model::ServerMessage;
use maestro::model::*;
use maestro::rest_client::Client;
use std::time::{Duration, Instant};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A fresh database on the PostgreSQL server `admin` names: its URL.
fn database(admin: &str, name: &str) -> String {
    let (url, name2) = (admin.to_string(), name.to_string());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect to PostgreSQL");
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name2} WITH (FORCE)")).unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name2}")).unwrap();
    })
    .join()
    .unwrap();
    format!("{}/{name}", admin.rsplit_once('/').expect("URL ends in /DATABASE").0)
}

struct Row {
    label: String,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

async fn measure(label: &str, nodes: &[(Server, std::net::SocketAddr)]) -> Row {
    let clients: Vec<Client> =
        nodes.iter().map(|(_, a)| Client::new(&format!("http://{a}/api"), Some(common::TOKEN.into()))).collect();
    let project = clients[0].create_project(&NewProject { name: "Bench".into(), ..Default::default() }).await.unwrap();

    // Throughput: 32 writers, each on one node in turn, until all have written theirs.
    let (writers, total) = (32, env_or("BENCH_MUTATIONS", 3200));
    let started = Instant::now();
    let mut running = Vec::new();
    for w in 0..writers {
        let (c, p) = (clients[w % clients.len()].clone(), project.id.clone());
        running.push(tokio::spawn(async move {
            for i in 0..total / writers {
                let t = NewTask { project_id: p.clone(), title: format!("w{w}-{i}"), ..Default::default() };
                c.create_task(&t).await.unwrap();
            }
        }));
    }
    for r in running {
        r.await.unwrap();
    }
    let per_second = (total / writers * writers) as f64 / started.elapsed().as_secs_f64();

    // Latency: one write at a time to the first node, heard by a client of the last.
    // From the seq it has now, so that nothing is missed while the socket opens.
    let listener = &clients[clients.len() - 1];
    let mut events = Box::pin(listener.watch(Some(listener.health().await.unwrap().seq)));
    let (tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(m)) = events.next().await {
            if let ServerMessage::Event(e) = m {
                if let EventData::TaskCreated(t) = e.data {
                    let _ = tx.send((t.id, Instant::now()));
                }
            }
        }
    });
    let samples = env_or("BENCH_SAMPLES", 300);
    // 20 unmeasured warm-ups.
    let mut times = Vec::new();
    for i in 0..samples + 20 {
        let sent = Instant::now();
        let t = NewTask { project_id: project.id.clone(), title: format!("lat-{i}"), ..Default::default() };
        let t = clients[0].create_task(&t).await.unwrap();
        let at = loop {
            let (id, at) = tokio::time::timeout(Duration::from_secs(10), heard.recv()).await.unwrap().unwrap();
            if id == t.id {
                break at;
            }
        };
        if i >= 20 {
            times.push(at - sent);
        }
    }
    times.sort();
    Row {
        label: label.into(),
        per_second,
        p50: times[times.len() / 2],
        p99: times[(times.len() * 99 / 100).min(times.len() - 1)],
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let admin = std::env::var("MAESTRO_TEST_DATABASE_URL").ok();
    let mut rows = Vec::new();
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    {
        let nodes = [start_server_with(dirs[0].path(), &[])];
        rows.push(rt.block_on(measure("SQLite, 1 node", &nodes)));
    }
    match &admin {
        None => eprintln!(
            "MAESTRO_TEST_DATABASE_URL is not set: PostgreSQL rows skipped (scripts/bench-scale.sh starts one)"
        ),
        Some(admin) => {
            let url = database(admin, "maestro_bench_one");
            let nodes = [start_server_with(dirs[1].path(), &["--database-url", &url])];
            rows.push(rt.block_on(measure("PostgreSQL, 1 node", &nodes)));
            drop(nodes);
            let url = database(admin, "maestro_bench_two");
            let nodes = [
                start_server_with(dirs[2].path(), &["--database-url", &url]),
                start_server_with(dirs[3].path(), &["--database-url", &url]),
            ];
            rows.push(rt.block_on(measure("PostgreSQL, 2 nodes (write A, client on B)", &nodes)));
            // The same while 8 clients close terminals A never had, as fast as A answers:
            // answered from memory, they must not slow A's writer.
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flood: Vec<_> = (0..8)
                .map(|n| {
                    let (stop, addr) = (stop.clone(), nodes[0].1);
                    rt.spawn(async move {
                        let http = common::http();
                        for i in 0u64.. {
                            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                                return i;
                            }
                            let url = format!("http://{addr}/terminals/sess_unknown_{n}_{i}");
                            let _ = http.delete(url).send().await;
                        }
                        0
                    })
                })
                .collect();
            rows.push(rt.block_on(measure("  … A flooded with DELETE /terminals/unknown", &nodes)));
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            let sent: u64 = flood.into_iter().map(|f| rt.block_on(f).unwrap()).sum();
            eprintln!("the flood sent {sent} DELETEs");
        }
    }
    println!("{:<44} {:>12} {:>10} {:>10}", "store", "mutations/s", "p50", "p99");
    for r in rows {
        println!(
            "{:<44} {:>12.0} {:>8.2}ms {:>8.2}ms",
            r.label,
            r.per_second,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3
        );
    }
}
