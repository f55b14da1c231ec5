//! What the test binaries share: a real `maestro` process on a loopback port.

#![allow(dead_code)] // each test binary uses its own part of this

use maestro::rest_client::Client;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server; killed (SIGKILL) when dropped, so a failed assertion leaves nothing.
pub struct Maestro {
    pub child: Child,
    pub port: u16,
    /// `http://127.0.0.1:PORT/api`.
    pub api: String,
    /// A client of it, with the server's access token.
    pub client: Client,
    /// That token: `MAESTRO_TOKEN` when the test gave one, else the one the server made in
    /// its data directory (read from the file, as the CLI on this machine does).
    pub token: String,
    _dir: Option<tempfile::TempDir>,
    /// The copy of the binary another account may run.
    _bin: Option<tempfile::TempDir>,
}

impl Maestro {
    /// An HTTP client sending the server's token, as a script with `MAESTRO_TOKEN` would.
    pub fn http(&self) -> reqwest::Client {
        http(&self.token)
    }
}

/// An HTTP client sending `token` as a Bearer token on every request.
pub fn http(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    reqwest::Client::builder().default_headers(headers).build().unwrap()
}

/// The data directory of the server at `api` started by this test binary: the CLI on the
/// same machine finds the token there (`MAESTRO_DATA_DIR`).
pub fn data_dir_of(api: &str) -> Option<PathBuf> {
    DATA_DIRS.lock().unwrap().get(api).cloned()
}

static DATA_DIRS: std::sync::Mutex<std::collections::BTreeMap<String, PathBuf>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

impl Drop for Maestro {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Its terminals outlive it (SPEC §9); with its own data directory they go too.
        if let Some(d) = &self._dir {
            kill_holders(d.path());
        }
    }
}

/// The records of the terminals held for data directory `dir` (`terminals/*.json`: the
/// process's `pid`, its `holder`, ...).
pub fn terminal_records(dir: &Path) -> Vec<serde_json::Value> {
    let entries = std::fs::read_dir(dir.join("terminals")).into_iter().flatten().flatten();
    entries
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok())
        .collect()
}

/// Ends the terminal holders (and their processes) a server left in data directory `dir`.
pub fn kill_holders(dir: &Path) {
    use nix::sys::signal::{kill, killpg, SIGKILL};
    use nix::unistd::Pid;
    for rec in terminal_records(dir) {
        for (key, group) in [("pid", true), ("holder", false)] {
            let Some(pid) = rec[key].as_i64().filter(|p| *p > 1) else { continue };
            let pid = Pid::from_raw(pid as i32);
            let _ = if group { killpg(pid, SIGKILL) } else { kill(pid, SIGKILL) };
        }
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
    /// Run as this account (root only): the binary is copied where it may read it, and a
    /// fresh data directory is made its own.
    pub uid: Option<u32>,
    /// In a process group of its own, as a shell runs a command: what a terminal's hang-up
    /// sends to that group reaches the server and whatever stayed in its group.
    pub job: bool,
}

impl Start<'_> {
    /// Starts the binary (shell `/bin/sh`, no inherited `MAESTRO_TOKEN`) and waits until
    /// `/api/health` answers to its token.
    pub async fn run(self) -> Maestro {
        let port = self.port.unwrap_or_else(free_port);
        let (dir, owned): (PathBuf, _) = match self.dir {
            Some(d) => (d.to_path_buf(), None),
            None => {
                let t = tempfile::tempdir().unwrap();
                (t.path().to_path_buf(), Some(t))
            }
        };
        let mut bin_dir = None;
        let mut cmd = match self.uid {
            None => Command::new(env!("CARGO_BIN_EXE_maestro")),
            Some(uid) => {
                use std::os::unix::{fs::PermissionsExt, process::CommandExt};
                let t = tempfile::tempdir().unwrap();
                std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
                let bin = t.path().join("maestro");
                std::fs::copy(env!("CARGO_BIN_EXE_maestro"), &bin).unwrap();
                if owned.is_some() {
                    std::os::unix::fs::chown(&dir, Some(uid), Some(uid)).unwrap();
                }
                let mut cmd = Command::new(bin);
                cmd.uid(uid).gid(uid).env("HOME", &dir);
                bin_dir = Some(t);
                cmd
            }
        };
        if self.job {
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        }
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
        let mut given = self.env.iter().find(|(k, _)| *k == "MAESTRO_TOKEN").map(|(_, v)| v.to_string());
        if given.is_none() && self.args.contains(&"--in-memory") {
            // Kept nowhere in memory: given, as a script would.
            let t = maestro::auth::token::generate();
            cmd.env("MAESTRO_TOKEN", &t);
            given = Some(t);
        }
        let api = format!("http://127.0.0.1:{port}/api");
        let mut child = cmd.spawn().expect("start maestro");
        let token_file = maestro::auth::token::path(&dir);
        let deadline = Instant::now() + Duration::from_secs(30);
        let token = match given {
            Some(t) => t,
            None => loop {
                // Written before the server listens; a half-written file is read again.
                if let Some(t) = std::fs::read_to_string(&token_file).ok().filter(|t| t.ends_with('\n')) {
                    break t.trim().to_string();
                }
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("maestro exited with {status} before making its token");
                }
                if Instant::now() >= deadline {
                    // Not yet owned by a `Maestro` that would kill it when dropped.
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("maestro made no token file");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            },
        };
        DATA_DIRS.lock().unwrap().insert(api.clone(), dir.clone());
        let client = Client::new(&api, Some(token.clone()));
        let server = Maestro { child, port, api, client, token, _dir: owned, _bin: bin_dir };
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
        server.client = Client::new(&server.api, Some(server.token.clone()));
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
    // Terminals' holders are the `maestro` binary, not this test binary.
    state.terminals = state.terminals.clone().with_holder_bin(env!("CARGO_BIN_EXE_maestro"));
    tune(&mut state);
    tokio::spawn(listener::run(tcp, app(state), Limits::default(), std::future::pending()));
    InProcess { store, addr, stop }
}
