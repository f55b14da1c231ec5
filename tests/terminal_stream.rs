//! Terminal output by byte offset (SPEC §9, issue #32) against the real binary: a paced
//! reader of a flood gets every byte in order; a socket that fell behind catches up from
//! the kept output; one that reconnects with `?offset=` gets no byte twice and none missing;
//! one whose bytes went over the budget is told exactly which.

use crate::common::{Maestro, Start};
use futures::{SinkExt, StreamExt};
use maestro::model::*;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// An agent that says READY (its echo off), floods `seq 1 N` when given a line, says END
/// and waits.
fn flood(lines: u32) -> String {
    format!("flood=stty -echo; echo READY; read _; seq 1 {lines}; echo END; read _; : {{prompt}}")
}

/// Everything it prints, as the terminal turns its newlines into \r\n.
fn expected(lines: u32) -> Vec<u8> {
    let mut all = b"READY\r\n".to_vec();
    for i in 1..=lines {
        all.extend_from_slice(format!("{i}\r\n").as_bytes());
    }
    all.extend_from_slice(b"END\r\n");
    all
}

/// A server whose sessions keep `budget` bytes of output, running a flood agent of
/// `lines`; its session's id, and what it prints.
async fn flooding(lines: u32, budget: &str) -> (Maestro, String, Vec<u8>) {
    let agent = flood(lines);
    let env = [("MAESTRO_OUTPUT_SESSION_BYTES", budget)];
    let srv = Start { args: &["--agent", &agent], env: &env, ..Default::default() }.run().await;
    let id = session(&srv).await.id;
    (srv, id, expected(lines))
}

/// A socket on terminal `id` with `query`, read until the agent is READY.
async fn ready(srv: &Maestro, id: &str, query: &str) -> (Socket, Got) {
    let mut ws = open(srv, id, query).await;
    let mut got = Got::default();
    got.read(&mut ws, b"READY\r\n", false, None).await;
    (ws, got)
}

/// A running session of the flood agent.
async fn session(srv: &Maestro) -> Session {
    let c = &srv.client;
    let dir = std::env::temp_dir().to_string_lossy().into_owned();
    let np = NewProject { name: "F".into(), base_path: Some(dir), ..Default::default() };
    let p = c.create_project(&np).await.unwrap();
    let ns = NewSession { project_id: p.id, agent_id: Some("flood".into()), ..Default::default() };
    c.create_session(&ns).await.unwrap()
}

async fn open(srv: &Maestro, id: &str, query: &str) -> Socket {
    let url = format!("ws://127.0.0.1:{}/terminals/{id}/ws?cols=100&rows=40&{query}", srv.port);
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {}", srv.token).parse().unwrap());
    connect_async(req).await.unwrap().0
}

/// What a reader got: where its bytes start, the bytes, and the gaps it was told of (with
/// how many bytes it had when told).
#[derive(Default)]
struct Got {
    start: Option<u64>,
    bytes: Vec<u8>,
    gaps: Vec<(u64, u64, usize)>,
    acked: u64,
}

impl Got {
    fn end(&self) -> u64 {
        self.start.unwrap_or(0) + self.bytes.len() as u64 + self.gaps.iter().map(|(f, t, _)| t - f).sum::<u64>()
    }

    /// Reads until its bytes end with `until`: acknowledging each frame when `ack`, at
    /// most `rate` bytes a second when given.
    async fn read(&mut self, ws: &mut Socket, until: &[u8], ack: bool, rate: Option<f64>) {
        let began = Instant::now();
        let read_from = self.bytes.len();
        while !self.bytes.ends_with(until) {
            self.frame(ws).await;
            if ack && self.end() > self.acked {
                self.ack(ws).await;
            }
            if let Some(rate) = rate {
                let due = Duration::from_secs_f64((self.bytes.len() - read_from) as f64 / rate);
                tokio::time::sleep(due.saturating_sub(began.elapsed())).await;
            }
        }
    }

    /// Reads one message. Panics after 60 s without one.
    async fn frame(&mut self, ws: &mut Socket) {
        let msg = tokio::time::timeout(Duration::from_secs(60), ws.next()).await.expect("output within 60 s");
        match msg {
            Some(Ok(Message::Binary(b))) => self.bytes.extend_from_slice(&b),
            Some(Ok(Message::Text(t))) => {
                let m: serde_json::Value = serde_json::from_str(&t).unwrap();
                match m["type"].as_str() {
                    Some("offset") => {
                        assert!(self.start.is_none(), "a second offset: {t}");
                        self.start = m["offset"].as_u64();
                    }
                    Some("gap") => {
                        let (from, to) = (m["from"].as_u64().unwrap(), m["to"].as_u64().unwrap());
                        assert_eq!(from, self.end(), "a gap not where the output was");
                        self.gaps.push((from, to, self.bytes.len()));
                    }
                    _ => panic!("unexpected {t}"),
                }
            }
            Some(Ok(_)) => {}
            other => panic!("the socket ended: {other:?}"),
        }
    }

    /// Says everything received is shown.
    async fn ack(&mut self, ws: &mut Socket) {
        self.acked = self.end();
        let msg = serde_json::json!({"type": "ack", "offset": self.acked}).to_string();
        ws.send(Message::Text(msg.into())).await.unwrap();
    }
}

async fn input(ws: &mut Socket, text: &str) {
    let msg = serde_json::json!({"type": "input", "data": text}).to_string();
    ws.send(Message::Text(msg.into())).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paced_reader_of_a_flood_gets_every_byte_a_socket_behind_catches_up_and_a_reconnect_resumes() {
    // 3,000,000 lines: 25.9 MB, all kept (the budget raised for it).
    let (srv, id, all) = flooding(3_000_000, "67108864").await;

    // One reader that falls behind: its window (64 KiB) full, it acknowledges nothing
    // until the flood is over.
    let (mut behind_ws, mut behind) = ready(&srv, &id, "offset=0&window=65536").await;

    // A reader at 5 MB/s, acknowledging as a browser does, from the first byte.
    let (mut paced_ws, mut paced) = ready(&srv, &id, "offset=0&window=1048576").await;
    input(&mut paced_ws, "go\r").await;
    paced.read(&mut paced_ws, b"END\r\n", true, Some(5e6)).await;
    assert_eq!((paced.start, paced.gaps.len(), paced.bytes.len()), (Some(0), 0, all.len()));
    assert!(paced.bytes == all, "the paced reader's bytes differ from what the agent printed");

    // The one behind, 25 MB behind, catches up from the kept output.
    behind.ack(&mut behind_ws).await;
    behind.read(&mut behind_ws, b"END\r\n", true, None).await;
    assert_eq!((behind.start, behind.gaps.len()), (Some(0), 0));
    assert!(behind.bytes == all, "the reader that fell behind did not catch up byte for byte");

    // A reader that leaves after 5 MB and comes back with ?offset=: nothing twice, nothing missed.
    let mut first_ws = open(&srv, &id, "offset=0").await;
    let mut first = Got::default();
    while first.bytes.len() < 5_000_000 {
        first.frame(&mut first_ws).await;
    }
    drop(first_ws);
    let mut again_ws = open(&srv, &id, &format!("offset={}", first.bytes.len())).await;
    let mut again = Got::default();
    again.read(&mut again_ws, b"END\r\n", false, None).await;
    assert_eq!(again.start, Some(first.bytes.len() as u64));
    first.bytes.extend_from_slice(&again.bytes);
    assert!(first.bytes == all, "resuming by offset repeated or missed bytes");

    // Without an offset, a socket starts with the recent output, and says where that is.
    let mut recent_ws = open(&srv, &id, "").await;
    let mut recent = Got::default();
    recent.read(&mut recent_ws, b"END\r\n", false, None).await;
    let start = recent.start.unwrap() as usize;
    assert!(start > 0 && recent.bytes == all[start..]);
}

/// `got` has every byte of `all` from offset 0 in order, but for the gaps it was told of.
fn exact(got: &Got, all: &[u8]) {
    let (mut at, mut had) = (0, 0);
    for &(from, to, upto) in &got.gaps {
        assert!(got.bytes[had..upto] == all[at..from as usize], "the bytes before the gap at {from}");
        (at, had) = (to as usize, upto);
    }
    assert!(got.bytes[had..] == all[at..], "the bytes after the last gap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_whose_bytes_went_over_the_budget_is_told_exactly_which_and_goes_on() {
    // 300,000 lines (2.3 MB) against a budget of 64 KiB on disk and 256 KiB in memory.
    let (srv, id, all) = flooding(300_000, "65536").await;

    let (mut slow_ws, mut slow) = ready(&srv, &id, "offset=0&window=65536").await;
    // A reader that reads as fast as it can sees the flood end (every byte, unless the test's
    // load held it back longer than the server keeps: then told exactly which); the slow
    // one acknowledged nothing meanwhile.
    let (mut fast_ws, mut fast) = ready(&srv, &id, "offset=0").await;
    input(&mut fast_ws, "go\r").await;
    fast.read(&mut fast_ws, b"END\r\n", false, None).await;
    exact(&fast, &all);

    slow.ack(&mut slow_ws).await;
    slow.read(&mut slow_ws, b"END\r\n", true, None).await;
    let [(from, to, had)] = slow.gaps[..] else { panic!("gaps: {:?}", slow.gaps) };
    assert!(from < to && to < all.len() as u64, "gap {from}..{to}");
    // Before the gap, the bytes up to it; after it, every byte from its end.
    assert_eq!(from as usize, had);
    assert!(slow.bytes[..had] == all[..had]);
    assert!(slow.bytes[had..] == all[to as usize..], "after the gap the bytes are not those from its end");

    // Asking for bytes gone already: told so first, then the rest.
    let mut late_ws = open(&srv, &id, "offset=0").await;
    let mut late = Got::default();
    late.read(&mut late_ws, b"END\r\n", false, None).await;
    let [(0, to, 0)] = late.gaps[..] else { panic!("gaps: {:?}", late.gaps) };
    assert!(late.bytes == all[to as usize..]);
}
