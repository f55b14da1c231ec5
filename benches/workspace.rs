//! `cargo bench --profile dev --features ssr --bench workspace`: how fast a workspace's changes
//! follow an agent's writes, on a generated repository of 10,000 files / 100 MB.
//! Prints the time to make the workspace (worktree and first summary) and to read its files
//! (`GET /workspaces/ID/files`); write → `workspace:updated` at a `/ws` client, one write at
//! a time (`BENCH_SAMPLES`, 100, after 5 warm-ups), p50/p90/p99/max; then the same while
//! files are written at `BENCH_RATE` (10) a second for `BENCH_LOAD_SECS` (30), with the
//! server's CPU over that time (itself and the git processes it ran).
//! `BENCH_FILES` and `BENCH_MB` size the repository; `MAESTRO_BIN=path` measures another build.
//!
//! The repository is generated once and kept under `target/tmp/` (Cargo's
//! `CARGO_TARGET_TMPDIR`), committed on `main` with its own user.name/email. Each write adds
//! exactly one line (a new one-line file, or a line at the end of a committed file), so the
//! write is seen when an event's summary has as many added lines as were written.
//!
//! The server is the real `maestro` binary in its own process; the writer and the client run
//! in this one, on the same cores.

mod common;

use common::start_server;
use futures::StreamExt;
use maestro::model::*;
use maestro::rest_client::Client;
use maestro::workspace::git::Git;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a write may wait for its event before the benchmark gives up.
const PATIENCE: Duration = Duration::from_secs(20);

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn git(dir: &Path, args: &[&str]) -> String {
    Git::new(dir).args(args).timeout(Duration::from_secs(900)).text().unwrap_or_else(|e| panic!("git {args:?}: {e}"))
}

/// A committed file of the tree: 10 files per directory, three levels of 10 directories.
fn tracked(i: usize) -> PathBuf {
    PathBuf::from(format!("d{}/d{}/d{}/f{}.txt", i / 1000 % 10, i / 100 % 10, i / 10 % 10, i % 10))
}

/// The generated repository (made when missing): `files` text files of `mb` MB in all.
fn repository(files: usize, mb: usize) -> PathBuf {
    let repo = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-workspace-{files}-{mb}mb"));
    let done = repo.join(".git/maestro-bench-complete");
    if done.exists() {
        // What earlier runs left: worktrees in data directories since deleted, their branches.
        git(&repo, &["worktree", "prune"]);
        for branch in git(&repo, &["for-each-ref", "--format=%(refname:short)", "refs/heads/maestro/"]).lines() {
            let _ = Git::new(&repo).args(["branch", "-q", "-D", branch]).run();
        }
        println!("repository: {} (cached)", repo.display());
        return repo;
    }
    let started = Instant::now();
    let _ = std::fs::remove_dir_all(&repo);
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Maestro Bench"]);
    git(&repo, &["config", "user.email", "bench@example.com"]);
    git(&repo, &["config", "commit.gpgsign", "false"]);
    // Text of varied words (xorshift), files between half and one and a half times the mean.
    const WORDS: [&str; 16] = [
        "let",
        "value",
        "fn",
        "return",
        "match",
        "self",
        "workspace",
        "=",
        "{",
        "}",
        "(",
        ")",
        "tree",
        "0x1f",
        "if",
        "else",
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mean = mb * 1_000_000 / files;
    for i in 0..files {
        let path = repo.join(tracked(i));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let size = mean / 2 + (next() as usize % mean.max(1));
        let mut text = String::with_capacity(size + 80);
        while text.len() < size {
            let indent = (next() % 4) as usize * 4;
            text.extend(std::iter::repeat_n(' ', indent));
            for w in 0..(4 + next() % 8) {
                if w > 0 {
                    text.push(' ');
                }
                text.push_str(WORDS[(next() % 16) as usize]);
            }
            text.push('\n');
        }
        std::fs::write(path, text).unwrap();
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "generated"]);
    std::fs::write(&done, "").unwrap();
    println!("repository: {} (generated in {:.1} s)", repo.display(), started.elapsed().as_secs_f64());
    repo
}

/// One write of one line; `k` picks which (even: a new file, odd: a committed file grows).
fn write_one(worktree: &Path, k: usize, files: usize) {
    if k.is_multiple_of(2) {
        let dir = tracked((k * 7919) % files);
        let path = worktree.join(dir.parent().unwrap()).join(format!("new-{k}.txt"));
        std::fs::write(path, format!("written by the benchmark, write {k}\n")).unwrap();
    } else {
        let path = worktree.join(tracked((k * 104_729) % files));
        let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        writeln!(f, "appended by the benchmark, write {k}").unwrap();
    }
}

/// A process's CPU time so far, itself and its reaped children (its git processes), in s.
fn cpu_seconds(pid: u32) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command's name (which is in parentheses): utime is the 12th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let f: Vec<f64> = after.split_whitespace().map(|v| v.parse().unwrap_or(0.0)).collect();
    // In clock ticks: USER_HZ, 100 a second on Linux.
    let at = |i: usize| f.get(i).copied().unwrap_or(0.0) / 100.0;
    (at(11) + at(12), at(13) + at(14))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `p50 … · p90 … · p99 … · max …` of `times` (nearest rank: of 100, p99 is the 99th).
fn percentiles(times: &mut [Duration]) -> String {
    times.sort();
    let at = |q: usize| times[(times.len() * q).div_ceil(100).clamp(1, times.len()) - 1];
    format!(
        "p50 {:.0} ms · p90 {:.0} ms · p99 {:.0} ms · max {:.0} ms",
        ms(at(50)),
        ms(at(90)),
        ms(at(99)),
        ms(times[times.len() - 1])
    )
}

/// Waits until an event's summary has `additions` added lines: when it arrived.
fn heard(events: &mpsc::Receiver<(u64, Instant)>, additions: u64) -> Instant {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(wait) {
            Ok((seen, at)) if seen >= additions => return at,
            Ok(_) => {}
            Err(e) => panic!("no workspace:updated with {additions} added lines within {PATIENCE:?}: {e}"),
        }
    }
}

fn main() {
    let (files, mb) = (env_or("BENCH_FILES", 10_000), env_or("BENCH_MB", 100));
    let samples = env_or("BENCH_SAMPLES", 100);
    let (rate, load_secs) = (env_or("BENCH_RATE", 10).max(1), env_or("BENCH_LOAD_SECS", 30));
    println!("workspace benchmark: maestro binary, a repository of {files} files / {mb} MB");
    let repo = repository(files, mb);
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start_server(dir.path());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let client = Client::new(&format!("http://{addr}/api"), Some(common::TOKEN.into()));
    let http = common::http_blocking();
    let api = format!("http://{addr}/api");

    let base_path = Some(repo.to_string_lossy().into_owned());
    let new = NewProject { name: "Bench".into(), base_path, ..Default::default() };
    let project = rt.block_on(client.create_project(&new)).unwrap();
    let new = NewTask { project_id: project.id, title: "Write files".into(), ..Default::default() };
    let task = rt.block_on(client.create_task(&new)).unwrap();

    let started = Instant::now();
    let res = http.post(format!("{api}/workspaces")).json(&serde_json::json!({"taskId": task.id})).send().unwrap();
    assert_eq!(res.status().as_u16(), 201, "{}", res.text().unwrap_or_default());
    let w: Workspace = res.json().unwrap();
    println!("POST /workspaces (worktree of {files} files, first summary): {:.2} s", started.elapsed().as_secs_f64());
    let read_files = || {
        let started = Instant::now();
        let res = http.get(format!("{api}/workspaces/{}/files", w.id)).send().unwrap();
        assert!(res.status().is_success(), "{}", res.status());
        let listed: WorkspaceFiles = res.json().unwrap();
        (started.elapsed(), listed.files.len())
    };
    let (took, n) = read_files();
    println!("GET /workspaces/ID/files: {:.0} ms ({n} changed files)", ms(took));

    // The client: every workspace:updated of this workspace, with when it arrived.
    let (tx, events) = mpsc::channel();
    let seq = rt.block_on(client.health()).unwrap().seq;
    let stream = client.watch(Some(seq));
    let id = w.id.clone();
    rt.spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(m) = stream.next().await {
            if let Ok(ServerMessage::Event(e)) = m {
                if let EventData::WorkspaceUpdated(u) = e.data {
                    if u.id == id && tx.send((u.changes.additions, Instant::now())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    let worktree = PathBuf::from(&w.path);

    // One write at a time, each once the previous one was heard (and a pause).
    let warm = 5;
    let mut times = Vec::new();
    for k in 0..samples + warm {
        std::thread::sleep(Duration::from_millis(100));
        let wrote = Instant::now();
        write_one(&worktree, k, files);
        let at = heard(&events, k as u64 + 1);
        if k >= warm {
            times.push(at - wrote);
        }
    }
    println!("write → workspace:updated, one write at a time ({samples} writes): {}", percentiles(&mut times));

    // An agent writing `rate` files a second.
    let first = samples + warm;
    let writes = rate * load_secs;
    let (cpu_before, wall) = (cpu_seconds(server.pid()), Instant::now());
    let writer = {
        let worktree = worktree.clone();
        std::thread::spawn(move || {
            let every = Duration::from_secs_f64(1.0 / rate as f64);
            let start = Instant::now();
            let mut wrote = Vec::with_capacity(writes);
            for i in 0..writes {
                let at = start + every * i as u32;
                std::thread::sleep(at.saturating_duration_since(Instant::now()));
                wrote.push(Instant::now());
                write_one(&worktree, first + i, files);
            }
            wrote
        })
    };
    // Every event until the last write is heard: (added lines, when).
    let mut seen = Vec::new();
    let last = (first + writes) as u64;
    while seen.last().is_none_or(|(a, _)| *a < last) {
        match events.recv_timeout(PATIENCE + Duration::from_secs(load_secs as u64)) {
            Ok(e) => seen.push(e),
            Err(e) => panic!("the load's last write was not heard: {e}"),
        }
    }
    let wall = wall.elapsed().as_secs_f64();
    let cpu_after = cpu_seconds(server.pid());
    let wrote = writer.join().unwrap();
    let mut times: Vec<Duration> = wrote
        .iter()
        .enumerate()
        .map(|(i, at)| {
            let needed = (first + i + 1) as u64;
            let (_, heard) = seen.iter().find(|(a, _)| *a >= needed).expect("every write heard");
            *heard - *at
        })
        .collect();
    let (own, children) = (cpu_after.0 - cpu_before.0, cpu_after.1 - cpu_before.1);
    println!(
        "{rate} writes/s for {load_secs} s ({writes} writes, {} events): write → workspace:updated {}",
        seen.len(),
        percentiles(&mut times)
    );
    println!(
        "  server CPU meanwhile: {:.0}% of one core ({:.0}% itself, {:.0}% the git processes it ran), over {wall:.1} s: {:.0} ms per event",
        (own + children) / wall * 100.0,
        own / wall * 100.0,
        children / wall * 100.0,
        (own + children) * 1e3 / seen.len() as f64
    );
    let (took, n) = read_files();
    println!("GET /workspaces/ID/files after them: {:.0} ms ({n} changed files)", ms(took));
    drop(server);
}
