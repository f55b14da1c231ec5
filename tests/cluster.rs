//! Nodes on one database trust only each other (SPEC §6), tried as an attacker who can
//! write rows into the database or take over a dead node's address: real processes, a
//! real PostgreSQL (`scripts/test.sh` runs these with `--ignored`, like `postgres.rs`).

use crate::common::{self, Maestro, Start};
use crate::postgres::{read_until, Socket};
use futures::SinkExt;
use maestro::model::*;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

/// The token every node of these clusters shares.
const TOKEN: &str = "cluster-test-token-0123456789abcdef";

/// Statements run on the test database as its superuser, from a plain thread; the rows
/// of the last query, each column as text.
fn sql(url: &str, statements: &[String]) -> Vec<Vec<String>> {
    let (url, statements) = (url.to_string(), statements.to_vec());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut last = Vec::new();
        for s in statements {
            last = c.simple_query(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        last.into_iter()
            .filter_map(|m| match m {
                postgres::SimpleQueryMessage::Row(r) => {
                    Some((0..r.len()).map(|i| r.get(i).unwrap_or_default().to_string()).collect())
                }
                _ => None,
            })
            .collect()
    })
    .join()
    .unwrap()
}

/// A fresh database on the test server: its URL.
fn database(tag: &str) -> String {
    crate::postgres::database(tag).1
}

async fn node(url: &str, port: Option<u16>, token: &str) -> Maestro {
    let args = ["--database-url", url];
    Start { port, args: &args, env: &[("MAESTRO_TOKEN", token)], ..Default::default() }.run().await
}

/// Writes `event` (a real one's JSON, altered) into the log as the next `seq`, with its row,
/// as anyone with write access to the database could; then waits until `node` applied it.
async fn inject(url: &str, node: &Maestro, event: serde_json::Value, session: &serde_json::Value) {
    let next = inject_rows(url, &event, session);
    let deadline = Instant::now() + Duration::from_secs(15);
    while node.client.health().await.unwrap().seq < next {
        assert!(Instant::now() < deadline, "the node never applied the injected event");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The rows of [`inject`], as the next seq (read with the row locked, as a node's write
/// does: the node may commit meanwhile); that seq.
fn inject_rows(url: &str, event: &serde_json::Value, session: &serde_json::Value) -> u64 {
    let (url, mut event, row) = (url.to_string(), event.clone(), session.to_string());
    let id = session["id"].as_str().unwrap().to_string();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut tx = c.transaction().unwrap();
        let last: i64 = tx.query_one("SELECT value FROM meta WHERE key = 'last_seq' FOR UPDATE", &[]).unwrap().get(0);
        let next = last + 1;
        event["seq"] = next.into();
        tx.execute("INSERT INTO events (seq, data) VALUES ($1, $2)", &[&next, &event.to_string()]).unwrap();
        tx.execute(
            "INSERT INTO sessions (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            &[&id, &row],
        )
        .unwrap();
        tx.execute("UPDATE meta SET value = $1 WHERE key = 'last_seq'", &[&next]).unwrap();
        tx.commit().unwrap();
        c.batch_execute(&format!("NOTIFY maestro_commits, '{next}'")).unwrap();
        next as u64
    })
    .join()
    .unwrap()
}

/// The stored `session:created` event of session `id`, and the session's JSON.
fn created_event(url: &str, id: &str) -> serde_json::Value {
    let rows = sql(url, &["SELECT data FROM events ORDER BY seq".into()]);
    rows.iter()
        .map(|r| serde_json::from_str::<serde_json::Value>(&r[0]).unwrap())
        .find(|e| e["event"] == "session:created" && e["data"]["id"] == id)
        .expect("its session:created event")
}

/// A terminal socket on `node`, or the status and body it was refused with.
async fn terminal(node: &Maestro, id: &str) -> Result<Socket, (u16, String)> {
    let mut req = format!("ws://127.0.0.1:{}/terminals/{id}/ws", node.port).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {}", node.token).parse().unwrap());
    match tokio::time::timeout(Duration::from_secs(30), tokio_tungstenite::connect_async(req)).await {
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(tungstenite::Error::Http(r))) => {
            Err((r.status().as_u16(), String::from_utf8_lossy(r.body().as_deref().unwrap_or_default()).to_string()))
        }
        other => panic!("{other:?}"),
    }
}

/// The refusal of terminal `id` on `node` once `node` knows the owner's address (it reads
/// the `nodes` table every second; until then the owner is "not answering").
async fn refusal(node: &Maestro, id: &str) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match terminal(node, id).await {
            Ok(_) => panic!("terminal {id} opened"),
            Err((_, body)) if body.contains("is not answering") && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(refused) => return refused,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn a_crafted_event_in_the_table_changes_no_terminals_environment() {
    let url = database("crafted");
    let mut a = node(&url, None, TOKEN).await;
    let me = a.client.health().await.unwrap().node.unwrap();
    let p = a.client.create_project(&NewProject { name: "P".into(), ..Default::default() }).await.unwrap();
    let real = a.client.create_session(&NewSession { project_id: p.id.clone(), ..Default::default() }).await.unwrap();
    // A session "created" by a row, naming node A as its terminal's owner, with the values
    // a terminal would take from it pointed elsewhere.
    let mut event = created_event(&url, &real.id);
    event["data"]["id"] = "sess_crafted".into();
    event["data"]["env"]["MAESTRO_API_URL"] = "http://evil.example/api".into();
    event["data"]["env"]["MAESTRO_SESSION_ID"] = "sess_someone_else".into();
    event["data"]["node"] = me.clone().into();
    let session = event["data"].clone();
    inject(&url, &a, event, &session).await;
    let stored = a.client.session("sess_crafted").await.unwrap();
    assert_eq!(stored.env["MAESTRO_API_URL"], "http://evil.example/api");

    let mut t = terminal(&a, "sess_crafted").await.expect("its terminal opens");
    let input = serde_json::json!({"type": "input", "data": "echo api=[$MAESTRO_API_URL] sid=[$MAESTRO_SESSION_ID]\n"});
    t.send(tungstenite::Message::Text(input.to_string().into())).await.unwrap();
    let out = read_until(&mut t, "sid=[sess_crafted]").await;
    assert!(!out.contains("evil.example"), "the stored env reached the terminal: {out}");
    assert!(out.contains(&format!("api=[http://127.0.0.1:{}/api]", a.port)), "{out}");
    drop(t);

    // One whose env sets what no server sets (HOME, with a prepared profile) is not data
    // this node applies: it stops, saying why, and runs nothing.
    let evil_home = tempfile::tempdir().unwrap();
    std::fs::write(evil_home.path().join(".profile"), "echo OWNED-BY-THE-DATABASE\n").unwrap();
    let mut event = created_event(&url, &real.id);
    event["data"]["id"] = "sess_crafted2".into();
    event["data"]["env"]["HOME"] = evil_home.path().to_str().unwrap().into();
    event["data"]["node"] = me.into();
    let session = event["data"].clone();
    inject_rows(&url, &event, &session);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = a.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the node applied an event with a foreign env");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn a_listener_on_a_dead_nodes_port_gets_no_credential() {
    let url = database("impostor");
    let a = node(&url, None, TOKEN).await;
    let b_port = common::free_port();
    let b = node(&url, Some(b_port), TOKEN).await;
    let p = a.client.create_project(&NewProject { name: "P".into(), ..Default::default() }).await.unwrap();
    let s = a.client.create_session(&NewSession { project_id: p.id.clone(), ..Default::default() }).await.unwrap();
    drop(terminal(&b, &s.id).await.expect("opened on B first: B runs it"));
    drop(b); // SIGKILL: for ~10 s the others still take B for alive

    // A process takes B's port and accepts whatever comes, as a WebSocket server would.
    let impostor = tokio::net::TcpListener::bind(("127.0.0.1", b_port)).await.unwrap();
    let heard = tokio::spawn(async move {
        let (tcp, _) = impostor.accept().await.unwrap();
        let mut head = String::new();
        // tungstenite's callback type returns its whole error response by value.
        #[allow(clippy::result_large_err)]
        let record = |req: &tungstenite::handshake::server::Request, res| {
            head = format!("{:?}", req.headers()).to_ascii_lowercase();
            Ok(res)
        };
        let _ = tokio_tungstenite::accept_hdr_async(tcp, record).await;
        head
    });
    assert_eq!(
        terminal(&a, &s.id).await.err().map(|e| e.0),
        Some(502),
        "A must not relay to what cannot prove it is B"
    );
    let head = heard.await.unwrap();
    assert!(head.contains("x-maestro-node"), "the relay reached the impostor: {head}");
    assert!(!head.contains("authorization") && !head.contains(&TOKEN.to_ascii_lowercase()), "{head}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn a_stale_node_address_is_refused_by_the_id_check_and_no_relay_loops() {
    let url = database("stale");
    let a = node(&url, None, TOKEN).await;
    let c = node(&url, None, TOKEN).await;
    let p = a.client.create_project(&NewProject { name: "P".into(), ..Default::default() }).await.unwrap();
    // Two nodes that are not running: one at C's address (rewritten in the table, or a
    // successor with a new id on a restarted node's port), one at A's own address.
    let far = "(extract(epoch from clock_timestamp()) * 1000)::BIGINT + 3600000";
    sql(
        &url,
        &[
            format!(
                "INSERT INTO nodes (id, url, heartbeat_at) VALUES ('node_gone', 'http://127.0.0.1:{}', {far})",
                c.port
            ),
            format!(
                "INSERT INTO nodes (id, url, heartbeat_at) VALUES ('node_self', 'http://127.0.0.1:{}', {far})",
                a.port
            ),
        ],
    );
    for (owner, want) in [("node_gone", "is not node node_gone"), ("node_self", "whose address is now this server's")] {
        let real =
            a.client.create_session(&NewSession { project_id: p.id.clone(), ..Default::default() }).await.unwrap();
        let mut event = created_event(&url, &real.id);
        event["data"]["id"] = format!("sess_{owner}").into();
        event["data"]["node"] = owner.into();
        let session = event["data"].clone();
        inject(&url, &a, event, &session).await;
        let (status, body) = refusal(&a, &format!("sess_{owner}")).await;
        assert!(status >= 500 && body.contains(want), "owner {owner}: {status} {body}");
    }
    // C refused the proof meant for another node: it started nothing.
    assert_eq!(c.client.health().await.unwrap().status, "ok");
    let closed = c.http().delete(format!("http://127.0.0.1:{}/terminals/sess_node_gone", c.port)).send().await.unwrap();
    assert_eq!(closed.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn a_node_with_other_access_settings_is_refused() {
    let url = database("access");
    let _a = node(&url, None, TOKEN).await;
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["--addr", &format!("127.0.0.1:{}", common::free_port()), "--in-memory", "--database-url", &url])
        .env("MAESTRO_TOKEN", "another-cluster-token-0123456789abcdef")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("use another MAESTRO_TOKEN or MAESTRO_NODE_SECRET"), "{err}");
}

/// A node keeps its id in its data directory: stopped and started again (an upgrade), it is
/// the same node, re-adopts its agent (the same process, its output continuous) and the
/// other node still reaches it there; a second node on the same directory is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn a_node_restarted_on_its_data_directory_keeps_its_agents_running() {
    use crate::holders::{alive, continuous, output, output_until, pid_of, session, ticks, Holders, TICKER};
    let url = database("restart");
    let dir = tempfile::tempdir().unwrap();
    let _holders = Holders(dir.path());
    let port = common::free_port();
    let args = ["--database-url", url.as_str(), "--agent", TICKER];
    let env = [("MAESTRO_TOKEN", TOKEN)];
    let start =
        || Start { port: Some(port), dir: Some(dir.path()), args: &args, env: &env, ..Default::default() }.run();
    let mut a = start().await;
    let b = node(&url, None, TOKEN).await;
    let s = session(&a, "tick").await;
    let pid = pid_of(&output_until(&a, &s.id, |o| ticks(o).len() >= 5).await);

    let twin = std::process::Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["--addr", &format!("127.0.0.1:{}", common::free_port()), "--database-url", &url, "--data-dir"])
        .arg(dir.path())
        .env("MAESTRO_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!twin.status.success());
    let err = String::from_utf8_lossy(&twin.stderr);
    assert!(err.contains("another maestro node uses the data directory"), "{err}");

    let before = continuous(&output(&a, &s.id).await);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(a.child.id() as i32), nix::sys::signal::SIGTERM).unwrap();
    assert!(a.child.wait().unwrap().success());
    assert!(alive(pid), "the agent {pid} died with its node");
    a = start().await;
    let out = output_until(&a, &s.id, |o| ticks(o).len() as u64 >= before + 20).await;
    continuous(&out);
    assert_eq!(pid_of(&out), pid, "the same process");
    for n in [&a, &b] {
        assert_eq!(n.client.session(&s.id).await.unwrap().status, SessionStatus::Running);
    }
    // Typed at the other node, relayed to the restarted one.
    let mut ws = crate::terminal::attach_as(format!("127.0.0.1:{}", b.port).parse().unwrap(), &s.id, TOKEN).await;
    ws.input("hello again\r").await;
    ws.read_until("got hello again").await;
}
