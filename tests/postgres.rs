//! The server on PostgreSQL (`--database-url`), with real processes and a real database:
//! what it acknowledged survives `kill -9`, and a second server on the same database is
//! refused. Needs a PostgreSQL server: `scripts/test.sh` starts one and runs these with
//! `--ignored` and `MAESTRO_TEST_DATABASE_URL` set.

mod common;

use common::Start;
use maestro::model::*;

/// A fresh database on the test server; its URL.
fn database() -> String {
    let admin =
        std::env::var("MAESTRO_TEST_DATABASE_URL").expect("MAESTRO_TEST_DATABASE_URL (scripts/test.sh sets it)");
    let name = format!("maestro_serve_{}", std::process::id());
    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE); CREATE DATABASE {name}");
    let a = admin.clone();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&a, postgres::NoTls).unwrap();
        for s in sql.split("; ") {
            c.batch_execute(s).unwrap();
        }
    })
    .join()
    .unwrap();
    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn a_server_on_postgres_keeps_what_it_acknowledged_and_refuses_a_second_one() {
    let url = database();
    let args = ["--database-url", url.as_str()];
    let port = common::free_port();
    let srv = Start { port: Some(port), args: &args, ..Default::default() }.run().await;
    let p = srv.client.create_project(&NewProject { name: "On PG".into(), ..Default::default() }).await.unwrap();
    let nt = NewTask { project_id: p.id.clone(), title: "kept".into(), ..Default::default() };
    let t = srv.client.create_task(&nt).await.unwrap();

    // A second node on the same database is refused at start, with the reason.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["--addr", &format!("127.0.0.1:{}", common::free_port()), "--database-url", &url])
        .env_remove("MAESTRO_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("another Maestro server"), "{out:?}");

    drop(srv); // SIGKILL
    let srv = Start { port: Some(port), args: &args, ..Default::default() }.run().await;
    assert_eq!(srv.client.task(&t.id).await.unwrap(), t);
    assert_eq!(srv.client.health().await.unwrap().seq, 2);
    let events = srv.client.events(0, 100).await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
}
