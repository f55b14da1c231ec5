//! `cargo bench --features ssr --bench store`: store mutations per second with durable
//! (fsynced) commits, for one writer and for many concurrent writers.

use maestro::model::{NewProject, NewTask};
use maestro::store::{Command, Outcome, Store, StoreConfig};
use std::time::Instant;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let n: usize = std::env::var("BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(4000);
    println!("store benchmark: {n} task creations per run, durable commits (WAL, synchronous=FULL)");
    for writers in [1usize, 8, 64] {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::open(StoreConfig { path: Some(dir.path().join("bench.db")), ..StoreConfig::memory() }).unwrap();
        let rate = rt.block_on(async {
            let Ok(Outcome::Project(p)) = store
                .execute(
                    Command::CreateProject { project: NewProject { name: "bench".into(), ..Default::default() } },
                    None,
                )
                .await
            else {
                panic!("project")
            };
            let start = Instant::now();
            let handles: Vec<_> = (0..writers)
                .map(|w| {
                    let (store, pid) = (store.clone(), p.id.clone());
                    tokio::spawn(async move {
                        for i in 0..n / writers {
                            let t =
                                NewTask { project_id: pid.clone(), title: format!("t{w}-{i}"), ..Default::default() };
                            store.execute(Command::CreateTask { task: t }, None).await.unwrap();
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
            (n / writers * writers) as f64 / start.elapsed().as_secs_f64()
        });
        println!("  {writers:>3} concurrent writer(s): {rate:>9.0} mutations/s");
    }
}
