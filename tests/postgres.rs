//! The server on PostgreSQL (`--database-url`), with real processes and a real database:
//! what it acknowledged survives `kill -9`; two nodes on one database give every client of
//! either the one `seq` order through node kills, a terminated listener and a database
//! restart; a terminal is reached from either node; a dead node's sessions fail. Needs a
//! PostgreSQL server: `scripts/test.sh` starts one and runs these with `--ignored`,
//! `--test-threads=1` (one test restarts the database) and `MAESTRO_TEST_DATABASE_URL` set.

use crate::common;

use common::Start;
use futures::{SinkExt, StreamExt};
use maestro::model::ServerMessage;
use maestro::model::*;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite;

/// The token every node of these clusters shares (nodes with other access settings are
/// refused: see `cluster.rs`).
const TOKEN: &str = "postgres-test-token-0123456789abcdef";
const SHARED: &[(&str, &str)] = &[("MAESTRO_TOKEN", TOKEN)];

/// A WebSocket request to `url` with the token.
fn ws_request(url: String) -> tungstenite::handshake::client::Request {
    use tungstenite::client::IntoClientRequest;
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    req
}

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
pub(crate) fn database(tag: &str) -> (String, String) {
    let name = format!("maestro_{tag}_{}", std::process::id());
    admin(&[format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), format!("CREATE DATABASE {name}")]);
    let base = std::env::var("MAESTRO_TEST_DATABASE_URL").unwrap();
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    (name, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn a_server_on_postgres_keeps_what_it_acknowledged() {
    let (_, url) = database("serve");
    let args = ["--database-url", url.as_str()];
    let port = common::free_port();
    let srv = Start { port: Some(port), args: &args, env: SHARED, ..Default::default() }.run().await;
    let p = srv.client.create_project(&NewProject { name: "On PG".into(), ..Default::default() }).await.unwrap();
    let nt = NewTask { project_id: p.id.clone(), title: "kept".into(), ..Default::default() };
    let t = srv.client.create_task(&nt).await.unwrap();

    drop(srv); // SIGKILL
    let srv = Start { port: Some(port), args: &args, env: SHARED, ..Default::default() }.run().await;
    assert_eq!(srv.client.task(&t.id).await.unwrap(), t);
    assert_eq!(srv.client.health().await.unwrap().seq, 2);
    let events = srv.client.events(0, 100).await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn while_the_database_is_away_writes_answer_503_reads_go_on_then_it_reconnects() {
    let (name, url) = database("away");
    let srv = Start { args: &["--database-url", &url], env: SHARED, ..Default::default() }.run().await;
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
    let health = common::http(TOKEN).get(format!("{}/health", srv.api)).send().await.unwrap();
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

/// Every `seq` one WebSocket client receives, resuming with `?since=` from whichever node
/// `target` names (as a load balancer would send it elsewhere once its node is gone).
struct Watcher {
    seqs: Arc<Mutex<Vec<u64>>>,
    target: Arc<Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl Watcher {
    fn start(node: &common::Maestro) -> Watcher {
        let seqs = Arc::new(Mutex::new(Vec::new()));
        let target = Arc::new(Mutex::new(ws_of(node)));
        let (s, t) = (seqs.clone(), target.clone());
        let task = tokio::spawn(async move {
            loop {
                let since = s.lock().unwrap().last().copied().unwrap_or(0);
                let url = format!("{}?since={since}", t.lock().unwrap().clone());
                let Ok((mut socket, _)) = tokio_tungstenite::connect_async(ws_request(url)).await else {
                    tokio::time::sleep(Duration::from_millis(50)).await; // reconnect backoff
                    continue;
                };
                while let Some(Ok(msg)) = socket.next().await {
                    if let tungstenite::Message::Text(text) = msg {
                        match ServerMessage::parse(&text).unwrap() {
                            ServerMessage::Event(e) => s.lock().unwrap().push(e.seq),
                            ServerMessage::Resync { .. } => panic!("a resync: events were lost"),
                        }
                    }
                }
            }
        });
        Watcher { seqs, target, task }
    }

    fn move_to(&self, node: &common::Maestro) {
        *self.target.lock().unwrap() = ws_of(node);
    }

    fn last(&self) -> u64 {
        self.seqs.lock().unwrap().last().copied().unwrap_or(0)
    }
}

fn ws_of(node: &common::Maestro) -> String {
    format!("ws://127.0.0.1:{}/ws", node.port)
}

/// A mutation with its own `Idempotency-Key`, retried with that key on whichever node of
/// `apis` answers (503 and dropped connections are retried; anything else is a bug).
async fn post<T: serde::de::DeserializeOwned>(apis: &[String], path: &str, body: serde_json::Value, key: &str) -> T {
    let http = common::http(TOKEN);
    let deadline = Instant::now() + Duration::from_secs(60);
    for attempt in 0usize.. {
        let api = &apis[attempt % apis.len()];
        let sent = http.post(format!("{api}{path}")).header("idempotency-key", key).json(&body).send().await;
        match sent {
            Ok(r) if r.status().is_success() => return r.json().await.unwrap(),
            Ok(r) if r.status() == 503 => {}
            Ok(r) => panic!("{path}: {} {}", r.status(), r.text().await.unwrap_or_default()),
            Err(_) => {}
        }
        assert!(Instant::now() < deadline, "{path} was never acknowledged");
        tokio::time::sleep(Duration::from_millis(50)).await; // retry backoff
    }
    unreachable!()
}

/// `writers` concurrent writers, each making `n` tasks (and a session on every third),
/// first on the node it is given and then on any that answers: what was acknowledged.
async fn write(apis: &[String], project: &str, tag: &str, writers: usize, n: usize) -> Vec<Task> {
    let mut all = Vec::new();
    let mut running = Vec::new();
    for w in 0..writers {
        let mut order = apis.to_vec();
        order.rotate_left(w % apis.len());
        let (project, tag) = (project.to_string(), tag.to_string());
        running.push(tokio::spawn(async move {
            let mut made = Vec::new();
            for i in 0..n {
                let key = format!("{tag}-{w}-{i}");
                let body = serde_json::json!({"projectId": project, "title": key});
                let t: Task = post(&order, "/tasks", body, &key).await;
                if i % 3 == 0 {
                    let body = serde_json::json!({"projectId": project, "taskIds": [t.id], "name": key});
                    let _: Session = post(&order, "/sessions", body, &format!("{key}-s")).await;
                }
                made.push(t);
            }
            made
        }));
    }
    for r in running {
        all.extend(r.await.unwrap());
    }
    all
}

/// Waits until both nodes and every watcher have reached the same last `seq`.
async fn settle(nodes: &[&common::Maestro], watchers: &[&Watcher]) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut seqs = Vec::new();
        for n in nodes {
            seqs.push(n.client.health().await.map(|h| h.seq).unwrap_or(0));
        }
        seqs.extend(watchers.iter().map(|w| w.last()));
        if seqs.iter().all(|s| *s == seqs[0]) && seqs[0] > 0 {
            return seqs[0];
        }
        assert!(Instant::now() < deadline, "nodes and clients did not converge: {seqs:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn two_nodes_give_every_client_every_seq_once_in_order_through_kills_and_restarts() {
    let restart = std::env::var("MAESTRO_TEST_PG_RESTART").expect("MAESTRO_TEST_PG_RESTART (scripts/pg.sh sets it)");
    let (_, url) = database("two");
    let args = ["--database-url", url.as_str()];
    let port_a = common::free_port();
    let a = Start { port: Some(port_a), args: &args, env: SHARED, ..Default::default() }.run().await;
    let b = Start { args: &args, env: SHARED, ..Default::default() }.run().await;
    let project = a.client.create_project(&NewProject { name: "Shared".into(), ..Default::default() }).await.unwrap();
    // Sent to the other node right after the write (nothing sticky), a read finds it.
    assert_eq!(b.client.project(&project.id).await.unwrap(), project);
    let watchers = [Watcher::start(&a), Watcher::start(&a), Watcher::start(&b), Watcher::start(&b)];

    // Concurrent writers on both nodes; node A is killed while they write.
    let apis = [a.api.clone(), b.api.clone()];
    let writing = tokio::spawn({
        let (apis, p) = (apis.clone(), project.id.clone());
        async move { write(&apis, &p, "one", 8, 12).await }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while b.client.health().await.unwrap().seq < 40 {
        assert!(Instant::now() < deadline, "no progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(a); // SIGKILL
    for w in &watchers[..2] {
        w.move_to(&b);
    }
    let mut acknowledged = writing.await.unwrap();

    // The other node's listener connection is terminated; a restarted A writes, and B
    // must still hear of it (the listener reconnects and catches up, the poll backs it up).
    admin(&["SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'maestro-listen%'"
        .to_string()]);
    let a = Start { port: Some(port_a), args: &args, env: SHARED, ..Default::default() }.run().await;
    let late = Watcher::start(&a);
    acknowledged.extend(write(std::slice::from_ref(&a.api), &project.id, "two", 2, 10).await);
    settle(&[&a, &b], &[&watchers[0], &watchers[1], &watchers[2], &watchers[3], &late]).await;

    // PostgreSQL itself restarts under both nodes, writers on both.
    let apis = [a.api.clone(), b.api.clone()];
    let writing = tokio::spawn({
        let (apis, p) = (apis.clone(), project.id.clone());
        async move { write(&apis, &p, "three", 4, 10).await }
    });
    let out = std::process::Command::new("sh").args(["-c", &restart]).output().unwrap();
    assert!(out.status.success(), "restarting PostgreSQL: {out:?}");
    acknowledged.extend(writing.await.unwrap());

    // The same Idempotency-Key sent to both nodes at once applies once.
    let body = serde_json::json!({"name": "Once"});
    let (one, two): (Project, Project) = tokio::join!(
        post(&apis[..1], "/projects", body.clone(), "idem-1"),
        post(&apis[1..], "/projects", body, "idem-1")
    );
    assert_eq!(one, two);

    let last = settle(&[&a, &b], &[&watchers[0], &watchers[1], &watchers[2], &watchers[3], &late]).await;
    for w in watchers.iter().chain([&late]) {
        let seqs = w.seqs.lock().unwrap().clone();
        assert_eq!(seqs, (1..=last).collect::<Vec<_>>(), "every seq exactly once, in order");
        w.task.abort();
    }

    // Both nodes hold the same state, equal to what the log says and to what was
    // acknowledged, and every link is recorded on both sides (SPEC §1).
    let (tasks_a, tasks_b) =
        (a.client.tasks(&Default::default()).await.unwrap(), b.client.tasks(&Default::default()).await.unwrap());
    let (sessions_a, sessions_b) =
        (a.client.sessions(&Default::default()).await.unwrap(), b.client.sessions(&Default::default()).await.unwrap());
    assert_eq!(tasks_a, tasks_b);
    assert_eq!(sessions_a, sessions_b);
    assert_eq!(a.client.projects().await.unwrap(), b.client.projects().await.unwrap());
    assert_eq!(a.client.projects().await.unwrap().iter().filter(|p| p.name == "Once").count(), 1);
    // ...and to the log replayed from empty.
    let mut replayed = maestro::store::state::State::default();
    let mut since = 0;
    loop {
        let page = b.client.events(since, 1000).await.unwrap();
        let Some(last) = page.last() else { break };
        since = last.seq;
        page.iter().for_each(|e| replayed.apply(&e.data));
    }
    assert_eq!(since, last);
    let mut from_log: Vec<Task> = replayed.tasks.into_values().collect();
    from_log.sort_by(Task::newest_first);
    assert_eq!(from_log, tasks_a);
    let titles: std::collections::HashSet<&str> = tasks_a.iter().map(|t| t.title.as_str()).collect();
    for t in &acknowledged {
        assert!(titles.contains(t.title.as_str()), "acknowledged {} is lost", t.title);
    }
    assert_eq!(tasks_a.len(), acknowledged.len(), "each write applied once (idempotency keys across nodes)");
    let by_id: std::collections::HashMap<&str, &Task> = tasks_a.iter().map(|t| (t.id.as_str(), t)).collect();
    for s in &sessions_a {
        for t in &s.task_ids {
            assert!(by_id[t.as_str()].session_ids.contains(&s.id), "{} ↔ {t}", s.id);
        }
    }
    let linked: usize = tasks_a.iter().map(|t| t.session_ids.len()).sum();
    assert_eq!(linked, sessions_a.iter().map(|s| s.task_ids.len()).sum::<usize>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn a_terminal_is_reached_from_either_node_and_a_dead_nodes_sessions_fail() {
    let (_, url) = database("terms");
    let args = ["--database-url", url.as_str()];
    let a = Start { args: &args, env: SHARED, ..Default::default() }.run().await;
    let b = Start { args: &args, env: SHARED, ..Default::default() }.run().await;
    let p = b.client.create_project(&NewProject { name: "T".into(), ..Default::default() }).await.unwrap();
    let s = b.client.create_session(&NewSession { project_id: p.id.clone(), ..Default::default() }).await.unwrap();

    // Opened on A first, the terminal runs there; B relays to it.
    let mut on_a = terminal(&a, &s.id).await;
    let mut via_b = terminal(&b, &s.id).await;
    // (B knows the owner: it relayed there.)
    let owner = b.client.session(&s.id).await.unwrap().node.expect("the owning node is recorded");
    assert_eq!(a.client.health().await.unwrap().node, Some(owner.clone()), "the node that opened it first");
    assert_eq!(a.client.session(&s.id).await.unwrap().node.as_deref(), Some(owner.as_str()));
    let input = serde_json::json!({"type": "input", "data": "echo relayed-$((6*7))\n"}).to_string();
    via_b.send(tungstenite::Message::Text(input.into())).await.unwrap();
    read_until(&mut via_b, "relayed-42").await;
    read_until(&mut on_a, "relayed-42").await;

    // Closed through B, the terminal ends on A.
    let closed = common::http(TOKEN).delete(format!("http://127.0.0.1:{}/terminals/{}", b.port, s.id)).send().await;
    assert_eq!(closed.unwrap().status(), 200);
    let ended = tokio::time::timeout(Duration::from_secs(20), async { while let Some(Ok(_)) = on_a.next().await {} });
    ended.await.expect("the terminal on A ended");
    drop(via_b);

    // A dies with a terminal running: B notices its silence and fails that session.
    let s = b.client.create_session(&NewSession { project_id: p.id.clone(), ..Default::default() }).await.unwrap();
    let on_a = terminal(&a, &s.id).await;
    assert_eq!(a.client.session(&s.id).await.unwrap().node, Some(owner));
    drop(on_a);
    drop(a); // SIGKILL
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = b.client.session(&s.id).await.unwrap();
        if now.status == SessionStatus::Failed {
            break;
        }
        assert!(Instant::now() < deadline, "the dead node's session is still {:?}", now.status);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Its terminal is not started again anywhere.
    let err =
        tokio_tungstenite::connect_async(ws_request(format!("ws://127.0.0.1:{}/terminals/{}/ws", b.port, s.id))).await;
    match err {
        Err(tungstenite::Error::Http(r)) => assert_eq!(r.status(), 409),
        other => panic!("expected 409, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn a_sessions_kept_output_is_read_from_either_node() {
    let (_, url) = database("output");
    let args = ["--database-url", url.as_str(), "--agent", "say=printf 'kept-%s\\n' 42; : {prompt}"];
    let a = Start { args: &args, env: SHARED, ..Default::default() }.run().await;
    let b = Start { args: &args, env: SHARED, ..Default::default() }.run().await;
    let p = b.client.create_project(&NewProject { name: "O".into(), ..Default::default() }).await.unwrap();
    let mut events = std::pin::pin!(b.client.watch(Some(b.client.health().await.unwrap().seq)));

    // Made through A, its agent runs there, and A keeps what it printed on its disk.
    let ns = NewSession { project_id: p.id.clone(), agent_id: Some("say".into()), ..Default::default() };
    let s = a.client.create_session(&ns).await.unwrap();
    crate::terminal::until_event(
        &mut events,
        |e| matches!(e, EventData::SessionUpdated(x) if x.id == s.id && x.status != SessionStatus::Running),
    )
    .await;
    let owner = b.client.session(&s.id).await.unwrap().node;
    assert_eq!(owner, a.client.health().await.unwrap().node, "it ran on A");

    // Read through B, it is A's answer: the same bytes at the same offsets, piece by piece.
    let whole = a.client.session_output(&s.id, 0, 1 << 20).await.unwrap();
    assert!(String::from_utf8_lossy(&whole.bytes).contains("kept-42"), "{:?}", whole.bytes);
    let via_b = b.client.session_output(&s.id, 0, 1 << 20).await.unwrap();
    assert_eq!((via_b.offset, via_b.start, via_b.end), (whole.offset, whole.start, whole.end));
    assert_eq!(via_b.bytes, whole.bytes, "what B relays is what A kept");
    let piece = b.client.session_output(&s.id, 3, 5).await.unwrap();
    assert_eq!((piece.offset, piece.bytes.as_slice()), (3, &whole.bytes[3..8]));
    // A bad limit is refused on B as on A.
    assert_eq!(b.client.session_output(&s.id, 0, 0).await.unwrap_err().status(), Some(400));

    // A gone, B says so (503) rather than pretending nothing was kept.
    drop(a); // SIGKILL
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match b.client.session_output(&s.id, 0, 10).await {
            Err(e) if e.status() == Some(503) => break,
            other => assert!(Instant::now() < deadline, "with A dead, B answered {:?}", other.map(|p| p.bytes)),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(crate) type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn terminal(node: &common::Maestro, id: &str) -> Socket {
    let url = format!("ws://127.0.0.1:{}/terminals/{id}/ws", node.port);
    match tokio_tungstenite::connect_async(ws_request(url)).await {
        Ok((socket, _)) => socket,
        Err(tungstenite::Error::Http(r)) => {
            panic!("{}: {}", r.status(), String::from_utf8_lossy(r.body().as_deref().unwrap_or_default()))
        }
        Err(e) => panic!("{e}"),
    }
}

/// Reads a terminal until its output holds `want`; all it read.
pub(crate) async fn read_until(socket: &mut Socket, want: &str) -> String {
    let mut seen = Vec::new();
    let read = async {
        while let Some(Ok(msg)) = socket.next().await {
            if let tungstenite::Message::Binary(b) = msg {
                seen.extend_from_slice(&b);
                if String::from_utf8_lossy(&seen).contains(want) {
                    return String::from_utf8_lossy(&seen).to_string();
                }
            }
        }
        panic!("the terminal closed before {want:?}");
    };
    tokio::time::timeout(Duration::from_secs(20), read).await.unwrap_or_else(|_| panic!("no {want:?}"))
}

/// The state's byte budget is each node's check on its own requests: what another node
/// committed is applied whatever this node's budget says (refusing it would split the
/// nodes' views), while this node refuses to grow the state further and lets it shrink.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn another_nodes_commits_are_applied_past_this_nodes_state_budget() {
    let (_, url) = database("budget");
    let big = Start { args: &["--database-url", &url], env: SHARED, ..Default::default() }.run().await;
    let small =
        Start { args: &["--database-url", &url, "--max-state-bytes", "65536"], env: SHARED, ..Default::default() }
            .run()
            .await;
    let p = big.client.create_project(&NewProject { name: "P".into(), ..Default::default() }).await.unwrap();
    let task = |i: usize| NewTask {
        project_id: p.id.clone(),
        title: format!("t{i}"),
        description: Some("d".repeat(10_000)),
        ..Default::default()
    };
    let mut made = Vec::new();
    for i in 0..8 {
        made.push(big.client.create_task(&task(i)).await.unwrap().id);
    }
    // ~80 KB: past the small node's budget, and every task is there.
    for id in &made {
        small.client.task(id).await.unwrap();
    }
    let err = small.client.create_task(&task(8)).await.unwrap_err();
    assert_eq!(err.status(), Some(409), "{err}");
    small.client.delete_task(&made[0]).await.unwrap();
    let last = big.client.create_task(&task(9)).await.unwrap();
    assert_eq!(small.client.task(&last.id).await.unwrap(), last);
    assert_eq!(small.client.health().await.unwrap().status, "ok");
    assert_eq!(small.client.tasks(&Default::default()).await.unwrap().len(), 8);
}

/// What one writer of [`churn`] was told exists at the end: its project, its tasks, and
/// its sessions with their tasks.
#[derive(Default)]
struct Acknowledged {
    project: String,
    tasks: Vec<String>,
    sessions: Vec<(String, Vec<String>)>,
}

/// A mutation with its own `Idempotency-Key`, sent to the first node of `apis` and retried
/// with that key on the next while refused (a node down, 503, a connection dropped before
/// the answer): the answer, or what went wrong (any other status is a bug).
async fn mutate<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    apis: &[String],
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
    key: &str,
) -> Result<T, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    for attempt in 0usize.. {
        let api = &apis[attempt % apis.len()];
        let mut req = http.request(method.clone(), format!("{api}{path}")).header("idempotency-key", key);
        if let Some(b) = &body {
            req = req.json(b);
        }
        if let Ok(r) = req.send().await {
            let status = r.status();
            // A body cut off by a kill is retried like a refused connection.
            if let Ok(bytes) = r.bytes().await {
                if status.is_success() {
                    return serde_json::from_slice(&bytes).map_err(|e| format!("{method} {path}: {e}"));
                }
                if status != 503 {
                    return Err(format!("{method} {path}: {status} {}", String::from_utf8_lossy(&bytes)));
                }
            }
        }
        if Instant::now() > deadline {
            return Err(format!("{method} {path} was never acknowledged"));
        }
        if attempt % apis.len() == apis.len() - 1 {
            tokio::time::sleep(Duration::from_millis(20)).await; // every node refused: back off
        }
    }
    unreachable!()
}

/// One writer until `stop`: in a project of its own, creates tasks and sessions, links,
/// unlinks, updates and deletes them (each with an `Idempotency-Key`), nodes in the order
/// given; returns what it was told exists at the end.
async fn churn(apis: Vec<String>, w: usize, stop: Arc<std::sync::atomic::AtomicBool>) -> Result<Acknowledged, String> {
    use reqwest::Method;
    let mut auth = reqwest::header::HeaderMap::new();
    auth.insert(reqwest::header::AUTHORIZATION, format!("Bearer {TOKEN}").parse().unwrap());
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).default_headers(auth).build().unwrap();
    use serde_json::json;
    let (body, spare_body) = (json!({"name": format!("w{w}")}), json!({"name": format!("w{w} spare")}));
    let p: Project = mutate(&http, &apis, Method::POST, "/projects", Some(body), &format!("{w}-p")).await?;
    let spare: Project = mutate(&http, &apis, Method::POST, "/projects", Some(spare_body), &format!("{w}-q")).await?;
    let mut made = Acknowledged { project: p.id.clone(), ..Default::default() };
    for i in 0..5000 {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        let key = format!("{w}-{i}");
        match i % 8 {
            0..=2 => {
                let body = json!({"projectId": p.id, "title": key});
                let t: Task = mutate(&http, &apis, Method::POST, "/tasks", Some(body), &key).await?;
                made.tasks.push(t.id);
            }
            3 => {
                let tasks: Vec<&String> = made.tasks.last().into_iter().collect();
                let body = json!({"projectId": p.id, "taskIds": tasks, "name": key});
                let s: Session = mutate(&http, &apis, Method::POST, "/sessions", Some(body), &key).await?;
                made.sessions.push((s.id, s.task_ids));
            }
            4 => {
                // The newest session takes on the oldest task it does not have.
                let Some((sid, linked)) = made.sessions.last_mut() else { continue };
                let Some(tid) = made.tasks.iter().find(|t| !linked.contains(t)) else { continue };
                let path = format!("/sessions/{sid}/tasks/{tid}");
                let s: Session = mutate(&http, &apis, Method::POST, &path, None, &key).await?;
                *linked = s.task_ids;
            }
            5 => {
                let Some((sid, linked)) = made.sessions.iter_mut().find(|(_, l)| !l.is_empty()) else { continue };
                let path = format!("/sessions/{sid}/tasks/{}", linked[0]);
                let s: Session = mutate(&http, &apis, Method::DELETE, &path, None, &key).await?;
                *linked = s.task_ids;
            }
            6 => {
                let Some(tid) = made.tasks.last() else { continue };
                let status = if i % 16 == 6 { "in_progress" } else { "completed" };
                let body = json!({"status": status});
                let path = format!("/tasks/{tid}");
                let _: Task = mutate(&http, &apis, Method::PATCH, &path, Some(body), &format!("{key}-t")).await?;
                let body = json!({"name": format!("w{w} spare {i}")});
                let path = format!("/projects/{}", spare.id);
                let _: Project = mutate(&http, &apis, Method::PATCH, &path, Some(body), &format!("{key}-p")).await?;
            }
            _ if i % 16 == 7 && made.tasks.len() > 4 => {
                // Its sessions lose it too.
                let tid = made.tasks.remove(0);
                let _: serde_json::Value =
                    mutate(&http, &apis, Method::DELETE, &format!("/tasks/{tid}"), None, &key).await?;
                made.sessions.iter_mut().for_each(|(_, l)| l.retain(|t| *t != tid));
            }
            _ if made.sessions.len() > 2 => {
                let (sid, _) = made.sessions.remove(0);
                let _: serde_json::Value =
                    mutate(&http, &apis, Method::DELETE, &format!("/sessions/{sid}"), None, &key).await?;
            }
            _ => {}
        }
    }
    let _: serde_json::Value =
        mutate(&http, &apis, Method::DELETE, &format!("/projects/{}", spare.id), None, &format!("{w}-q-gone")).await?;
    Ok(made)
}

/// What one WebSocket client built from the events it was sent: it drops its connection
/// every few dozen events and resumes with `?since=` on the other node (or whichever is up).
#[derive(Default)]
struct Heard {
    last: u64,
    state: maestro::store::state::State,
    /// Gaps, duplicates, resyncs, unreadable messages.
    faults: Vec<String>,
    resumed: usize,
}

fn listen_and_drop(ports: [u16; 2], n: usize) -> (Arc<Mutex<Heard>>, tokio::task::JoinHandle<()>) {
    let heard = Arc::new(Mutex::new(Heard::default()));
    let h = heard.clone();
    let task = tokio::spawn(async move {
        for turn in n.. {
            let since = h.lock().unwrap().last;
            let url = format!("ws://127.0.0.1:{}/ws?since={since}", ports[turn % 2]);
            let Ok((mut socket, _)) = tokio_tungstenite::connect_async(ws_request(url)).await else {
                tokio::time::sleep(Duration::from_millis(20)).await; // both may be down a moment
                continue;
            };
            let quota = 10 + (n * 7 + turn * 13) % 50;
            let mut got = 0;
            while let Some(Ok(msg)) = socket.next().await {
                let tungstenite::Message::Text(text) = msg else { continue };
                let mut guard = h.lock().unwrap();
                let h = &mut *guard;
                match ServerMessage::parse(&text) {
                    Ok(ServerMessage::Event(e)) if e.seq == h.last + 1 => {
                        h.state.apply(&e.data);
                        h.last = e.seq;
                    }
                    Ok(ServerMessage::Event(e)) => {
                        let fault = format!("seq {} after {}", e.seq, h.last);
                        h.faults.push(fault);
                        h.last = h.last.max(e.seq);
                    }
                    Ok(ServerMessage::Resync { seq }) => h.faults.push(format!("resync to {seq} after {}", h.last)),
                    Err(e) => h.faults.push(format!("unreadable: {e}")),
                }
                got += 1;
                if got >= quota {
                    h.resumed += 1;
                    break;
                }
            }
        }
    });
    (heard, task)
}

/// A node's state as its REST API lists it.
async fn rest_state(c: &maestro::rest_client::Client) -> maestro::store::state::State {
    maestro::store::state::State {
        projects: c.projects().await.unwrap().into_iter().map(|p| (p.id.clone(), p)).collect(),
        tasks: c.tasks(&Default::default()).await.unwrap().into_iter().map(|t| (t.id.clone(), t)).collect(),
        sessions: c.sessions(&Default::default()).await.unwrap().into_iter().map(|s| (s.id.clone(), s)).collect(),
        ..Default::default()
    }
}

/// Where two states differ, by record (the first few).
fn differences(a: &maestro::store::state::State, b: &maestro::store::state::State) -> Vec<String> {
    fn by_id<T: PartialEq>(
        kind: &str,
        a: &std::collections::HashMap<String, T>,
        b: &std::collections::HashMap<String, T>,
        out: &mut Vec<String>,
    ) {
        for (id, x) in a {
            match b.get(id) {
                None => out.push(format!("{kind} {id} only in the first")),
                Some(y) if x != y => out.push(format!("{kind} {id} differs")),
                Some(_) => {}
            }
        }
        out.extend(b.keys().filter(|id| !a.contains_key(*id)).map(|id| format!("{kind} {id} only in the second")));
    }
    let mut out = Vec::new();
    by_id("project", &a.projects, &b.projects, &mut out);
    by_id("task", &a.tasks, &b.tasks, &mut out);
    by_id("session", &a.sessions, &b.sessions, &mut out);
    out.sort();
    out
}

/// A node that starts while the other commits must load one moment of the database: kill
/// -9 and restart one node again and again while eight writers go on through both (through
/// it too while it is up) and twelve WebSocket clients drop and resume on either node. Then
/// both nodes, the log replayed from empty and every client's event-built state must be
/// the same state, hold SPEC §1's invariant, and be what the writers were told.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn a_node_restarted_again_and_again_under_writes_agrees_with_the_other_the_log_and_every_client() {
    const RESTARTS: usize = 10;
    let (_, url) = database("restarts");
    let args = ["--database-url", url.as_str()];
    let a = Start { args: &args, env: SHARED, ..Default::default() }.run().await;
    let port_b = common::free_port();
    let mut b = Start { port: Some(port_b), args: &args, env: SHARED, ..Default::default() }.run().await;
    let listeners: Vec<_> = (0..12).map(|n| listen_and_drop([a.port, port_b], n)).collect();

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let mut apis = vec![a.api.clone(), b.api.clone()];
            apis.rotate_left(w % 2);
            tokio::spawn(churn(apis, w, stop.clone()))
        })
        .collect();
    // Each round B takes writes, dies in the middle of them and starts again at once,
    // loading while A's writers commit. After the last, B takes writes once more.
    for round in 0..=RESTARTS {
        let from = a.client.health().await.unwrap().seq;
        let deadline = Instant::now() + Duration::from_secs(20);
        while a.client.health().await.unwrap().seq < from + 80 {
            assert!(Instant::now() < deadline, "round {round}: the writers made no progress");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if round < RESTARTS {
            drop(b); // SIGKILL
            b = Start { port: Some(port_b), args: &args, env: SHARED, ..Default::default() }.run().await;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut made = Vec::new();
    for w in writers {
        made.push(w.await.unwrap());
    }

    // Both nodes and every client come to the same last seq.
    let deadline = Instant::now() + Duration::from_secs(30);
    let last = loop {
        let mut seqs = vec![a.client.health().await.unwrap().seq, b.client.health().await.unwrap().seq];
        seqs.extend(listeners.iter().map(|(h, _)| h.lock().unwrap().last));
        if seqs.iter().all(|s| *s == seqs[0]) {
            break seqs[0];
        }
        assert!(Instant::now() < deadline, "nodes and clients did not converge: {seqs:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    let (on_a, on_b) = (rest_state(&a.client).await, rest_state(&b.client).await);
    let mut replayed = maestro::store::state::State::default();
    let mut since = 0;
    loop {
        let page = a.client.events(since, 1000).await.unwrap();
        let Some(e) = page.last() else { break };
        since = e.seq;
        page.iter().for_each(|e| replayed.apply(&e.data));
    }
    assert_eq!(since, last, "the log ends at the nodes' seq");
    for (name, st) in [("A", &on_a), ("B", &on_b), ("the log", &replayed)] {
        st.check_invariant().unwrap_or_else(|e| panic!("{name} breaks SPEC §1: {e}"));
    }
    let d = differences(&on_a, &on_b);
    assert!(d.is_empty(), "A and B differ at {} records: {:?}", d.len(), &d[..d.len().min(5)]);
    let d = differences(&replayed, &on_a);
    assert!(d.is_empty(), "the log and the nodes differ at {} records: {:?}", d.len(), &d[..d.len().min(5)]);
    for (n, (heard, task)) in listeners.iter().enumerate() {
        task.abort();
        let h = heard.lock().unwrap();
        assert!(h.faults.is_empty(), "client {n}: {:?}", h.faults);
        assert!(h.resumed >= RESTARTS, "client {n} resumed only {} times", h.resumed);
        let d = differences(&h.state, &on_a);
        assert!(d.is_empty(), "client {n} and the nodes differ at {} records: {:?}", d.len(), &d[..d.len().min(5)]);
    }

    // What each writer was told is what there is: every acknowledged write applied once.
    for (w, made) in made.into_iter().enumerate() {
        let made = made.unwrap_or_else(|e| panic!("writer {w}: {e}"));
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        let tasks = on_a.tasks.values().filter(|t| t.project_id == made.project).map(|t| t.id.clone()).collect();
        assert_eq!(sorted(tasks), sorted(made.tasks), "writer {w}'s tasks");
        let sessions: Vec<(String, Vec<String>)> = on_a
            .sessions
            .values()
            .filter(|s| s.project_id == made.project)
            .map(|s| (s.id.clone(), sorted(s.task_ids.clone())))
            .collect();
        let told: Vec<_> = made.sessions.into_iter().map(|(s, t)| (s, sorted(t))).collect();
        assert_eq!(sorted_pairs(sessions), sorted_pairs(told), "writer {w}'s sessions and their tasks");
    }
    assert_eq!(on_a.projects.len(), 8, "each writer's project, its spare deleted");
}

fn sorted_pairs(mut v: Vec<(String, Vec<String>)>) -> Vec<(String, Vec<String>)> {
    v.sort();
    v
}
