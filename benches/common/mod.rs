//! What the benchmarks share: the server process they measure.

#![allow(dead_code)] // each benchmark uses its own part of this

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The access token of the servers measured (a script sets `MAESTRO_TOKEN`).
pub const TOKEN: &str = "bench-token-0123456789abcdef0123456789";

/// A blocking HTTP client that sends it.
pub fn http_blocking() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().default_headers(auth()).build().unwrap()
}

/// An async HTTP client that sends it.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().default_headers(auth()).build().unwrap()
}

fn auth() -> reqwest::header::HeaderMap {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(reqwest::header::AUTHORIZATION, format!("Bearer {TOKEN}").parse().unwrap());
    h
}

/// The server; killed when dropped.
pub struct Server(pub Child);

impl Server {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `maestro` on a free loopback port with its database in `dir`.
pub fn start_server(dir: &std::path::Path) -> (Server, std::net::SocketAddr) {
    start_server_with(dir, &[])
}

/// The same with more flags (`--database-url ...`).
pub fn start_server_with(dir: &std::path::Path, args: &[&str]) -> (Server, std::net::SocketAddr) {
    start(dir, args, false)
}

/// The same in a session of its own, as a service runs: the kernel then schedules it as a
/// group of its own (autogroup), not among this benchmark's threads.
pub fn start_server_alone(dir: &std::path::Path, args: &[&str]) -> (Server, std::net::SocketAddr) {
    start(dir, args, true)
}

fn start(dir: &std::path::Path, args: &[&str], alone: bool) -> (Server, std::net::SocketAddr) {
    use std::os::unix::process::CommandExt;
    // MAESTRO_BIN runs another build (to compare two), this crate's by default.
    let bin = std::env::var_os("MAESTRO_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_maestro").into());
    let mut cmd = Command::new(bin);
    if alone {
        // SAFETY: setsid only, between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                nix::libc::setsid();
                Ok(())
            })
        };
    }
    let mut child = cmd
        .args(["--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(args)
        .env("RUST_LOG", "warn,maestro::server=info")
        .env("NO_COLOR", "1")
        .env("MAESTRO_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start maestro");
    let out = BufReader::new(child.stdout.take().unwrap());
    let server = Server(child);
    let mut lines = out.lines();
    for line in lines.by_ref() {
        let line = line.expect("server output");
        if let Some(at) = line.split("listening on http://").nth(1) {
            let addr = at.trim().parse().expect("server address");
            // Keep reading its output so that its logging never meets a closed pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return (server, addr);
        }
    }
    panic!("maestro exited before listening");
}

/// A process's resident memory, in bytes.
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Opens `/ws` with a plain HTTP/1.1 upgrade and returns the socket once the server
/// answered 101 (it sends nothing else until an event is committed).
pub fn open_ws(addr: std::net::SocketAddr) -> std::net::TcpStream {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).unwrap();
    write!(
        stream,
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Authorization: Bearer {TOKEN}\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    // Byte by byte, so that nothing after the response's head is consumed.
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("upgrade answer");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "upgrade refused: {}", String::from_utf8_lossy(&head));
    stream
}
