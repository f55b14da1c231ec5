//! The server on PostgreSQL (`--database-url`), with real processes and a real database:
//! what it acknowledged survives `kill -9`, and a second server on the same database is
//! refused. Needs a PostgreSQL server: `scripts/test.sh` starts one and runs these with
//! `--ignored` and `MAESTRO_TEST_DATABASE_URL` set.

mod common;

use common::Start;
use maestro::model::*;

/// Statements run on the test server as its superuser, from a plain thread (the client
/// blocks).
fn admin(sql: &[String]) {
    let url = std::env::var("MAESTRO_TEST_DATABASE_URL").expect("MAESTRO_TEST_DATABASE_URL (scripts/test.sh sets it)");
    let sql = sql.to_vec();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        for s in sql {
            c.batch_execute(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
    })
    .join()
    .unwrap();
}

/// A fresh database on the test server: its name and URL.
fn database(tag: &str) -> (String, String) {
    let name = format!("maestro_{tag}_{}", std::process::id());
    admin(&[format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), format!("CREATE DATABASE {name}")]);
    let base = std::env::var("MAESTRO_TEST_DATABASE_URL").unwrap();
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    (name, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn a_server_on_postgres_keeps_what_it_acknowledged_and_refuses_a_second_one() {
    let (_, url) = database("serve");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn while_the_database_is_away_writes_answer_503_reads_go_on_then_it_reconnects() {
    let (name, url) = database("away");
    let srv = Start { args: &["--database-url", &url], ..Default::default() }.run().await;
    let c = &srv.client;
    let np = |n: &str| NewProject { name: n.into(), ..Default::default() };
    c.create_project(&np("before")).await.unwrap();

    // The database refuses new connections and drops the server's.
    admin(&[
        format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"),
        format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"),
    ]);
    // The first write finds its connection gone; the next ones cannot make a new one.
    for _ in 0..3 {
        let err = c.create_project(&np("while away")).await.unwrap_err();
        assert_eq!(err.status(), Some(503), "{err}");
        assert!(err.to_string().contains("nothing was changed"), "a clear message: {err}");
    }
    let health = reqwest::get(format!("{}/health", srv.api)).await.unwrap();
    assert_eq!(health.status(), 503);
    assert_eq!(c.projects().await.unwrap().len(), 1, "reads go on from memory");

    admin(&[format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")]);
    // The next write a second or more later reconnects.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let p = loop {
        match c.create_project(&np("after")).await {
            Ok(p) => break p,
            Err(e) if e.status() == Some(503) && std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await
            }
            Err(e) => panic!("not back: {e}"),
        }
    };
    assert_eq!(p.name, "after");
    assert_eq!(c.health().await.unwrap().status, "ok");
    let seqs: Vec<u64> = c.events(0, 100).await.unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2], "no gap for the refused write");
}
