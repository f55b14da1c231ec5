//! What the test binaries share: a real `maestro` process on a loopback port.

#![allow(dead_code)] // each test binary uses its own part of this

use maestro::client::Client;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server; killed (SIGKILL) when dropped, so a failed assertion leaves nothing.
pub struct Maestro {
    pub child: Child,
    pub port: u16,
    /// `http://127.0.0.1:PORT/api`.
    pub api: String,
    /// A client of it, with the token the server was started with.
    pub client: Client,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Maestro {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// How to start one.
#[derive(Default)]
pub struct Start<'a> {
    /// A fixed port (to restart on the same one); a free one otherwise.
    pub port: Option<u16>,
    /// The data directory; a fresh temporary one otherwise.
    pub dir: Option<&'a Path>,
    pub args: &'a [&'a str],
    pub env: &'a [(&'a str, &'a str)],
}

impl Start<'_> {
    /// Starts the binary (shell `/bin/sh`, no inherited `MAESTRO_TOKEN`) and waits until
    /// `/api/health` answers.
    pub async fn run(self) -> Maestro {
        let port = self.port.unwrap_or_else(free_port);
        let (dir, owned): (PathBuf, _) = match self.dir {
            Some(d) => (d.to_path_buf(), None),
            None => {
                let t = tempfile::tempdir().unwrap();
                (t.path().to_path_buf(), Some(t))
            }
        };
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_maestro"));
        cmd.args(["--addr", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(&dir)
            .args(self.args)
            .env("RUST_LOG", "warn")
            .env("SHELL", "/bin/sh")
            .env_remove("MAESTRO_TOKEN")
            .stdout(Stdio::null());
        for (k, v) in self.env {
            cmd.env(k, v);
        }
        let token = self.env.iter().find(|(k, _)| *k == "MAESTRO_TOKEN").map(|(_, v)| v.to_string());
        let api = format!("http://127.0.0.1:{port}/api");
        let client = Client::new(&api, token);
        let server = Maestro { child: cmd.spawn().expect("start maestro"), port, api, client, _dir: owned };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.client.health().await.is_err() {
            assert!(Instant::now() < deadline, "maestro did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server
    }
}

impl Start<'_> {
    /// The same from synchronous code (or from inside another runtime).
    pub fn run_blocking(self) -> Maestro {
        let mut server = std::thread::scope(|s| {
            s.spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(self.run())
            })
            .join()
            .unwrap()
        });
        // Its pooled connections belonged to the runtime that just ended.
        let token = server.client.token().map(str::to_string);
        server.client = Client::new(&server.api, token);
        server
    }
}

/// A server in this process, on a loopback port, served as `maestro serve` serves.
pub struct InProcess {
    pub store: maestro::store::Store,
    pub addr: std::net::SocketAddr,
    /// Flipping it to true closes every event socket ("going away").
    pub stop: tokio::sync::watch::Sender<bool>,
}

/// Starts one on `config`'s store; `tune` adjusts the state first (a shorter ping, a
/// lower terminal cap).
pub async fn in_process(
    config: maestro::store::StoreConfig,
    tune: impl FnOnce(&mut maestro::server::AppState),
) -> InProcess {
    use maestro::server::{app, leptos_options, listener, AppState, Limits};
    let store = maestro::store::Store::open(config).unwrap();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut state = AppState::new(store.clone(), leptos_options(addr, "target/site"), stopped);
    tune(&mut state);
    tokio::spawn(listener::run(tcp, app(state), Limits::default(), std::future::pending()));
    InProcess { store, addr, stop }
}
