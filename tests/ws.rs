//! WebSocket tests with real clients on a real socket: order and every event kind, resume
//! with no gap and no duplicate, resync, a slow client closed with a reason, shutdown.

use futures::{SinkExt, StreamExt};
use maestro::model::ServerMessage;
use maestro::model::*;
use maestro::store::{Command, Outcome, Store, StoreConfig};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

use crate::common;

async fn server(config: StoreConfig) -> common::InProcess {
    common::in_process(config, |_| {}).await
}

/// A server whose hub pings (and reads what clients sent) every `interval`.
async fn server_pinging(config: StoreConfig, interval: std::time::Duration) -> common::InProcess {
    common::in_process(config, |state| state.hub = state.hub.clone().with_ping_interval(interval)).await
}

async fn connect(addr: std::net::SocketAddr, since: Option<u64>) -> Client {
    let url = match since {
        Some(s) => format!("ws://{addr}/ws?since={s}"),
        None => format!("ws://{addr}/ws"),
    };
    connect_async(url).await.unwrap().0
}

/// The next server message (skipping pings).
async fn next(c: &mut Client) -> ServerMessage {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), c.next())
            .await
            .expect("no message within 10 s")
            .expect("stream ended")
            .expect("socket error");
        match msg {
            Message::Text(t) => return ServerMessage::parse(&t).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

async fn next_event(c: &mut Client) -> Event {
    match next(c).await {
        ServerMessage::Event(e) => *e,
        other => panic!("expected an event, got {other:?}"),
    }
}

async fn run(store: &Store, cmd: Command) -> Outcome {
    store.execute(cmd, None).await.unwrap()
}

fn project(name: &str) -> Command {
    Command::CreateProject { project: NewProject { name: name.into(), ..Default::default() } }
}

/// A script that produces every event kind; returns how many events it committed.
async fn every_kind(store: &Store) -> u64 {
    let before = store.last_seq();
    let Outcome::Project(p) = run(store, project("P")).await else { panic!() };
    run(
        store,
        Command::UpdateProject {
            id: p.id.clone(),
            patch: ProjectPatch { name: Some("P2".into()), ..Default::default() },
        },
    )
    .await;
    let nt = NewTask { project_id: p.id.clone(), title: "t".into(), ..Default::default() };
    let Outcome::Task(t) = run(store, Command::CreateTask { task: nt.clone() }).await else { panic!() };
    let Outcome::Task(u) = run(store, Command::CreateTask { task: nt }).await else { panic!() };
    let ns = NewSession { project_id: p.id.clone(), task_ids: vec![t.id.clone()], ..Default::default() };
    let Outcome::Session(s) = run(store, Command::CreateSession { session: ns }).await else { panic!() };
    run(store, Command::LinkTask { session_id: s.id.clone(), task_id: u.id.clone() }).await;
    run(store, Command::UnlinkTask { session_id: s.id.clone(), task_id: u.id.clone() }).await;
    run(
        store,
        Command::UpdateSession {
            id: s.id.clone(),
            patch: SessionPatch { status: Some(SessionStatus::Completed), ..Default::default() },
        },
    )
    .await;
    run(store, Command::DeleteTask { id: u.id.clone() }).await;
    run(store, Command::DeleteTask { id: t.id.clone() }).await;
    run(store, Command::DeleteSession { id: s.id.clone() }).await;
    run(store, Command::DeleteProject { id: p.id.clone() }).await;
    store.last_seq() - before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_events_arrive_in_order_for_every_kind_and_every_client() {
    let srv = server(StoreConfig::memory()).await;
    let mut a = connect(srv.addr, None).await;
    let mut b = connect(srv.addr, Some(0)).await;
    let n = every_kind(&srv.store).await;
    let log = srv.store.events_since(0, 1000).await.unwrap();
    assert_eq!(log.len() as u64, n);
    let mut kinds = std::collections::BTreeSet::new();
    for want in &log {
        assert_eq!(next_event(&mut a).await, want.event);
        assert_eq!(next_event(&mut b).await, want.event);
        kinds.insert(want.event.data.name());
    }
    assert_eq!(kinds.len(), 13, "every event kind was seen: {kinds:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_a_dropped_connection_has_no_gap_and_no_duplicate() {
    let srv = server(StoreConfig::memory()).await;
    let mut c = connect(srv.addr, None).await;
    for i in 0..5 {
        run(&srv.store, project(&format!("a{i}"))).await;
    }
    let mut last = 0;
    for _ in 0..3 {
        last = next_event(&mut c).await.seq;
    }
    drop(c); // two events were sent but never read
    for i in 0..5 {
        run(&srv.store, project(&format!("b{i}"))).await;
    }
    let mut c = connect(srv.addr, Some(last)).await;
    // Live events keep coming while the replay is read.
    let writer = {
        let store = srv.store.clone();
        tokio::spawn(async move {
            for i in 0..20 {
                run(&store, project(&format!("c{i}"))).await;
            }
        })
    };
    let mut seqs = Vec::new();
    while seqs.len() < 27 {
        seqs.push(next_event(&mut c).await.seq);
    }
    writer.await.unwrap();
    assert_eq!(seqs, (last + 1..=30).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_old_or_foreign_since_gets_resync() {
    let srv = server(StoreConfig { retain_events: 10, ..StoreConfig::memory() }).await;
    for i in 0..1100 {
        run(&srv.store, project(&format!("p{i}"))).await;
    }
    let mut c = connect(srv.addr, Some(1)).await;
    assert_eq!(next(&mut c).await, ServerMessage::Resync { seq: 1100 });
    run(&srv.store, project("after")).await;
    assert_eq!(next_event(&mut c).await.seq, 1101, "live events follow the resync");
    let mut c = connect(srv.addr, Some(5000)).await;
    assert_eq!(next(&mut c).await, ServerMessage::Resync { seq: 1101 });
    let recent = connect(srv.addr, Some(1095)).await;
    let mut recent = recent;
    assert_eq!(next_event(&mut recent).await.seq, 1096);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_too_slow_to_read_is_closed_with_a_reason() {
    let srv = server(StoreConfig::memory()).await;
    let mut slow = connect(srv.addr, None).await;
    let mut fast = connect(srv.addr, None).await;
    let big = "x".repeat(4000); // ~48 MB in all: more than loopback socket buffers hold
    let total = maestro::hub::HUB_CAPACITY as u64 + 4000;
    let reader = tokio::spawn(async move {
        let mut n = 0u64;
        while n < total {
            next_event(&mut fast).await;
            n += 1;
        }
        n
    });
    let Outcome::Project(p) = run(&srv.store, project("P")).await else { panic!() };
    let Outcome::Task(t) = run(
        &srv.store,
        Command::CreateTask { task: NewTask { project_id: p.id, title: "t".into(), ..Default::default() } },
    )
    .await
    else {
        panic!()
    };
    // Concurrent writers so that commits group and events outrun the slow reader.
    let mut writers = Vec::new();
    for w in 0..8u64 {
        let (store, id, big) = (srv.store.clone(), t.id.clone(), big.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..(total - 2) / 8 + 1 {
                let patch = TaskPatch { description: Some(format!("{big}{w}-{i}")), ..Default::default() };
                store.execute(Command::UpdateTask { id: id.clone(), patch }, None).await.unwrap();
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    assert!(reader.await.unwrap() >= total, "a fast client gets everything");
    // Now the slow client reads: it finds what fit in the pipe, then a close with a reason.
    let mut got = 0u64;
    let close = loop {
        let m = tokio::time::timeout(std::time::Duration::from_secs(10), slow.next()).await;
        if m.is_err() {
            eprintln!("timed out after {got} frames");
        }
        match m.unwrap() {
            Some(Ok(Message::Text(_))) => got += 1,
            Some(Ok(Message::Close(f))) => break f.expect("a close frame with a reason"),
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert!(got < total);
    assert_eq!(u16::from(close.code), maestro::hub::CLOSE_LAGGING);
    assert!(close.reason.contains("since="), "{}", close.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_large_events_is_cut_off_by_bytes_not_count() {
    let srv = server(StoreConfig::memory()).await;
    let mut slow = connect(srv.addr, None).await;
    let Outcome::Project(p) = run(&srv.store, project("P")).await else { panic!() };
    let prompt = Some("p".repeat(90_000));
    let nt = NewTask { project_id: p.id, title: "t".into(), prompt, ..Default::default() };
    let Outcome::Task(t) = run(&srv.store, Command::CreateTask { task: nt }).await else { panic!() };
    // 150 events of ~180 KB (27 MB): far fewer than HUB_CAPACITY frames, far more than
    // the queue's byte budget plus what loopback sockets buffer.
    let big = "x".repeat(90_000);
    let total = 150u64;
    assert!(total < maestro::hub::HUB_CAPACITY as u64);
    for i in 0..total {
        let patch = TaskPatch { description: Some(format!("{big}{i}")), ..Default::default() };
        srv.store.execute(Command::UpdateTask { id: t.id.clone(), patch }, None).await.unwrap();
    }
    let mut got = 0u64;
    let close = loop {
        let m = tokio::time::timeout(std::time::Duration::from_secs(10), slow.next()).await;
        match m.expect("the server neither sent nor closed") {
            Some(Ok(Message::Text(_))) => got += 1,
            Some(Ok(Message::Close(f))) => break f.expect("a close frame with a reason"),
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert!(got < total, "got all {got}");
    assert_eq!(u16::from(close.code), maestro::hub::CLOSE_LAGGING);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_clients_with_going_away_and_pongs_keep_them() {
    let srv = server(StoreConfig::memory()).await;
    let mut c = connect(srv.addr, None).await;
    c.send(Message::Text("hello, ignored".into())).await.unwrap();
    run(&srv.store, project("P")).await;
    assert_eq!(next_event(&mut c).await.seq, 1);
    srv.stop.send(true).unwrap();
    let close = loop {
        match c.next().await {
            Some(Ok(Message::Close(f))) => break f.unwrap(),
            Some(Ok(_)) => {}
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(u16::from(close.code), 1001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_upgrades_from_a_foreign_origin_are_refused() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let srv = server(StoreConfig::memory()).await;
    let mut req = format!("ws://{}/ws", srv.addr).into_client_request().unwrap();
    req.headers_mut().insert("origin", "http://evil.example".parse().unwrap());
    match connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!("expected 403, got {other:?}"),
    }
    let mut req = format!("ws://{}/ws", srv.addr).into_client_request().unwrap();
    req.headers_mut().insert("origin", format!("http://{}", srv.addr).parse().unwrap());
    assert!(connect_async(req).await.is_ok(), "the server's own pages may connect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_keep_live_clients_and_drop_silent_ones() {
    use std::time::Duration;
    let common::InProcess { store, addr, .. } = server_pinging(StoreConfig::memory(), Duration::from_millis(100)).await;

    // A client that reads answers pings (tungstenite replies to them as it reads).
    let mut live = connect(addr, None).await;
    // A client that never reads never answers.
    let silent = connect(addr, None).await;
    let mut pings = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(800);
    while tokio::time::Instant::now() < deadline {
        if let Ok(Some(Ok(Message::Ping(_)))) = tokio::time::timeout_at(deadline, live.next()).await {
            pings += 1;
        }
    }
    assert!(pings >= 3, "pings arrive every interval ({pings} in 800 ms)");
    // The silent one was dropped; the live one still gets events.
    let mut silent = silent;
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(5), silent.next()).await.expect("silent client never dropped") {
            Some(Ok(Message::Ping(_))) | Some(Ok(Message::Text(_))) => continue,
            other => break other,
        }
    };
    assert!(!matches!(ended, Some(Ok(Message::Close(Some(_))))), "dropped without ceremony: {ended:?}");
    run(&store, project("after")).await;
    assert_eq!(next_event(&mut live).await.seq, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_joining_while_events_flow_get_every_later_event_once_in_order() {
    // Clients are spread over the hub's shards and hand over from their own replay to
    // the shard mid-stream: neither step may lose or repeat an event.
    let srv = server(StoreConfig::memory()).await;
    let total = 400u64;
    let writer = {
        let store = srv.store.clone();
        tokio::spawn(async move {
            for i in 0..total {
                run(&store, project(&format!("p{i}"))).await;
                if i % 20 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let mut readers = Vec::new();
    for c in 0..40u64 {
        // Half resume from a seq (replay, then live), half start live.
        let since = (c % 2 == 0).then(|| srv.store.last_seq().saturating_sub(c));
        let mut client = connect(srv.addr, since).await;
        readers.push(tokio::spawn(async move {
            let mut expected = since.map(|s| s + 1);
            loop {
                let seq = next_event(&mut client).await.seq;
                if let Some(want) = expected {
                    assert_eq!(seq, want, "client {c} (since {since:?}): gap or duplicate");
                }
                expected = Some(seq + 1);
                if seq == total + 1 {
                    return;
                }
            }
        }));
    }
    writer.await.unwrap();
    // Every client is subscribed by now (even one that connected after the writer was
    // done): one more event tells them all that the stream is over.
    run(&srv.store, project("last")).await;
    for r in readers {
        r.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_to_ws_that_are_not_websocket_upgrades_get_a_clear_error() {
    let srv = server(StoreConfig::memory()).await;
    let http = reqwest::Client::new();
    let url = format!("http://{}/ws", srv.addr);
    let res = http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 426);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "upgrade_required", "{body}");
    let res = http
        .get(&url)
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("sec-websocket-version", "8")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("13"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_pinging_while_events_flow_gets_pongs_and_every_event_intact() {
    use std::time::Duration;
    // The hub reads what clients send once per ping interval: keep it short.
    let common::InProcess { store, addr, .. } = server_pinging(StoreConfig::memory(), Duration::from_millis(20)).await;

    let mut c = connect(addr, None).await;
    let total = 200u64;
    let writer = tokio::spawn(async move {
        for i in 0..total {
            run(&store, project(&format!("p{i}"))).await;
            if i % 5 == 0 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    });
    // The server's pongs go out between its event frames, never inside one: the stream
    // stays valid and every event arrives once, in order.
    let (mut expected, mut pongs) = (1u64, 0);
    while expected <= total || pongs == 0 {
        let msg = tokio::time::timeout(Duration::from_secs(10), c.next())
            .await
            .expect("nothing within 10 s")
            .expect("stream ended")
            .expect("invalid stream");
        match msg {
            Message::Text(t) => {
                let ServerMessage::Event(e) = ServerMessage::parse(&t).unwrap() else { panic!("resync") };
                assert_eq!(e.seq, expected);
                expected += 1;
                if expected % 4 == 0 {
                    c.send(Message::Ping(format!("{expected}").into())).await.unwrap();
                }
            }
            Message::Pong(_) => pongs += 1,
            Message::Ping(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    writer.await.unwrap();
}
