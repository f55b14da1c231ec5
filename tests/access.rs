//! The access token (SPEC §6), tried as another account on the machine and as a person
//! starting Maestro for the first time: a real `maestro` process each time.

use crate::common::{self, free_port, Start};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Every kind of route, as raw requests with no credential: a page, an API read and
/// write, a server function, the event socket, a terminal socket and its DELETE.
const PROBE: &str = r#"
import socket, sys
port = int(sys.argv[1])
upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
routes = [("GET", "/", ""), ("GET", "/projects/p1", ""), ("GET", "/api/projects", ""), ("GET", "/api/health", ""),
          ("POST", "/api/projects", '{"name":"owned"}'), ("POST", "/sfn/list_projects_page", "{}"),
          ("GET", "/ws", upgrade), ("GET", "/terminals/term_owned/ws", upgrade), ("DELETE", "/terminals/term_owned", "")]
for method, path, extra in routes:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    body = extra if extra.startswith("{") else ""
    head = extra if not body else "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    s.sendall(("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%sConnection: close\r\n\r\n%s" % (method, path, port, head, body)).encode())
    print(method, path, s.recv(100).decode().split(" ")[1])
    s.close()
try:
    open(sys.argv[2]).read()
    print("token file: read")
except PermissionError:
    print("token file: refused")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_account_gets_401_on_every_route_kind_and_cannot_read_the_token() {
    use std::os::unix::fs::MetadataExt;
    if std::fs::metadata("/proc/self").map(|m| m.uid()).ok() != Some(0) {
        // Only root can act as another account here; CI runs as root.
        eprintln!("skipped: needs root to run a client as nobody");
        return;
    }
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    // Only the file's own mode keeps the token: the directory is open to everyone.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let srv = Start { dir: Some(dir.path()), ..Default::default() }.run().await;
    let file = maestro::auth::token::path(dir.path());
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let out = Command::new("python3")
        .args(["-c", PROBE, &srv.port.to_string(), file.to_str().unwrap()])
        .uid(65534)
        .gid(65534)
        .current_dir("/")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 10, "{text}");
    for line in &lines[..9] {
        assert!(line.ends_with(" 401"), "as nobody: {line}");
    }
    assert_eq!(lines[9], "token file: refused");
    // Nothing was written and no shell started.
    assert!(srv.client.projects().await.unwrap().is_empty());
    let res = srv.http().delete(format!("http://127.0.0.1:{}/terminals/term_owned", srv.port)).send().await.unwrap();
    assert_eq!(res.status(), 404, "the refused upgrade must not have started a shell");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_prints_the_link_and_the_cli_here_needs_no_set_up() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["--addr", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .env_remove("MAESTRO_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _kill = Kill(child.id());
    let link = printed_link(&mut child);
    let token = link.split("?token=").nth(1).unwrap().to_string();
    assert!(link.starts_with(&format!("http://127.0.0.1:{port}/?token=")), "{link}");
    assert!(token.len() >= 32);
    let file = maestro::auth::token::path(dir.path());
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), token);
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);

    // The link, opened as a browser does: a cookie that is not the token, then the page.
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = browser.get(&link).send().await.unwrap();
    assert!(res.status().is_redirection());
    let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    assert!(!cookie.contains(&token), "{cookie}");
    let page = browser.get(format!("http://127.0.0.1:{port}/")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(page.status(), 200);

    // The CLI on this machine, with no MAESTRO_TOKEN: it reads the data directory's file.
    let cli = |args: &[&str], api: &str| {
        Command::new(env!("CARGO_BIN_EXE_maestro"))
            .args(args)
            .env_remove("MAESTRO_TOKEN")
            .env("MAESTRO_DATA_DIR", dir.path())
            .env("MAESTRO_API_URL", api)
            .output()
            .unwrap()
    };
    let api = format!("http://127.0.0.1:{port}/api");
    let o = cli(&["project", "create", "from the cli"], &api);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = cli(&["project", "list"], &api.replace("127.0.0.1", "localhost"));
    assert!(String::from_utf8_lossy(&o.stdout).contains("from the cli"));

    // ...and never hands that token to a server that is not this machine's loopback.
    let listener = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    let other = format!("http://127.0.0.2:{}/api", listener.local_addr().unwrap().port());
    let seen = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = s.write_all(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        String::from_utf8_lossy(&head).to_ascii_lowercase()
    });
    let o = cli(&["project", "list"], &other);
    assert_eq!(o.status.code(), Some(4));
    let head = seen.join().unwrap();
    assert!(head.starts_with("get /api/projects"), "{head}");
    assert!(!head.contains("authorization"), "the local token went to another host: {head}");
}

#[test]
fn short_tokens_are_refused_at_start() {
    let o = Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["--addr", &format!("127.0.0.1:{}", free_port()), "--in-memory"])
        .env("MAESTRO_TOKEN", "s3cret")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("MAESTRO_TOKEN is 6 characters long") && err.contains("at least 32"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_tokens_are_rate_limited_and_the_right_one_still_gets_in() {
    let srv = Start::default().run().await;
    let url = format!("{}/projects", srv.api);
    let wrong = common::http(&"x".repeat(64));
    let mut statuses = Vec::new();
    for _ in 0..maestro::auth::FAILURES_MAX + 2 {
        statuses.push(wrong.get(&url).send().await.unwrap().status().as_u16());
    }
    let limit = maestro::auth::FAILURES_MAX as usize;
    assert!(statuses[..limit].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[limit..].iter().all(|s| *s == 429), "{statuses:?}");
    // Forged cookies count too; the person's own token is never locked out.
    let forged = reqwest::Client::new().get(&url).header("cookie", format!("maestro_session_{}=1.2.3", srv.port));
    assert_eq!(forged.send().await.unwrap().status(), 429);
    assert_eq!(srv.http().get(&url).send().await.unwrap().status(), 200);
}

/// Reads the server's stderr until it prints the link to open, and returns it.
pub(crate) fn printed_link(child: &mut std::process::Child) -> String {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    // On a thread, so a server that never prints fails the test, not hangs it.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    loop {
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("the server printed no link");
        if let Some(rest) = line.split("open ").nth(1).filter(|r| r.contains("?token=")) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    }
}

/// Kills a process when dropped (a failed assertion leaves nothing running).
struct Kill(u32);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.0 as i32), nix::sys::signal::SIGKILL);
    }
}
