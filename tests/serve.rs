//! The real binary: off loopback it requires an access token, generated and printed when
//! none is given; Ctrl-C/SIGTERM shut it down cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

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
    // Read stderr on a thread, so a server that never prints fails the test, not hangs it.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let token = loop {
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("the server printed no token");
        if let Some(t) = line.split("access token: ").nth(1) {
            break t.trim().to_string();
        }
    };
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
