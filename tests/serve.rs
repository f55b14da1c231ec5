//! The real binary: off loopback too it requires an access token, generated and printed
//! when none is given; Ctrl-C/SIGTERM shut it down cleanly.

use crate::common::free_port;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_loopback_a_token_is_generated_printed_and_required() {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["--addr", &format!("0.0.0.0:{port}"), "--in-memory"])
        .env("RUST_LOG", "warn")
        .env_remove("MAESTRO_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The link to open: reachable from here (not the wildcard address it listens on).
    let link = crate::access::printed_link(&mut child);
    let token = link.strip_prefix(&format!("http://127.0.0.1:{port}/?token=")).expect(&link).to_string();
    assert!(token.len() >= 32);
    let base = format!("http://127.0.0.1:{port}/api/health");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        match client.get(&base).send().await {
            Ok(r) => break r.status(),
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(status, 401);
    let ok = client.get(&base).bearer_auth(&token).send().await.unwrap();
    assert_eq!(ok.status(), 200);

    // SIGTERM: a clean exit.
    kill_term(child.id());
    let code = child.wait().unwrap();
    assert!(code.success(), "exit status {code:?}");
}

fn kill_term(pid: u32) {
    let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_terminals_and_exits_cleanly() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let port = free_port();
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let token = "serve-test-token-0123456789abcdef";
    let mut child = Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["--addr", &format!("127.0.0.1:{port}"), "--in-memory"])
        .env("RUST_LOG", "warn")
        .env("MAESTRO_TOKEN", token)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut req = format!("ws://127.0.0.1:{port}/terminals/term_shutdown/ws").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut ws = loop {
        match tokio_tungstenite::connect_async(req.clone()).await {
            Ok((ws, _)) => break ws,
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(e) => panic!("{e}"),
        }
    };
    let input = serde_json::json!({"type": "input", "data": "echo pid=$$=\r"}).to_string();
    ws.send(Message::Text(input.into())).await.unwrap();
    let mut seen = String::new();
    let pid = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("no output") {
            Some(Ok(Message::Binary(b))) => seen.push_str(&String::from_utf8_lossy(&b)),
            Some(Ok(Message::Text(_))) => {} // where the output starts
            other => panic!("{other:?}"),
        }
        // The echoed command shows `pid=$$=`; the output shows digits.
        if let Some(p) = seen.split("pid=").filter_map(|s| s.split('=').next()).find_map(|s| s.parse::<u32>().ok()) {
            break p;
        }
    };
    kill_term(child.id());
    let code = child.wait().unwrap();
    assert!(code.success(), "exit status {code:?}");
    // The shell is gone too (not left behind as an orphan).
    let alive = Command::new("kill").args(["-0", &pid.to_string()]).stderr(Stdio::null()).status().unwrap();
    assert!(!alive.success(), "shell {pid} survived the server");
}
