//! Agents (SPEC §5) against the real binary: how the prompt is handed over (never parsed by
//! a shell, never too long to start), where prompt files live, a blocking `agents.toml`,
//! and what `GET /api/agents` tells.

use crate::common;
use crate::terminal::attach_as;
use maestro::model::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts the binary with `args` on `dir` expecting it to refuse: its exit status and
/// what it said.
fn refused_start(dir: &Path, args: &[&str]) -> String {
    let port = common::free_port().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["--addr", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server started instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(!status.success(), "{err}");
    err
}

#[test]
fn a_quoted_placeholder_is_refused_at_start_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    // The injection: the person's own quotes around {prompt} let a prompt's quote out.
    let err = refused_start(dir.path(), &["--agent", "sq=printf '[%s]\\n' '{prompt}'"]);
    assert!(err.contains("agent sq: {prompt} is inside quotes"), "{err}");
    assert!(err.contains("printf '[%s]\\n' {prompt}"), "{err}");
    std::fs::write(dir.path().join("agents.toml"), "[agents]\nsq = \"printf '[%s]\\n' '{prompt}'\"\n").unwrap();
    let err = refused_start(dir.path(), &[]);
    assert!(err.contains("agent sq: {prompt} is inside quotes"), "{err}");
}

/// A project in a fresh directory, and a session of `agent` on tasks with these prompts.
async fn session(c: &maestro::rest_client::Client, agent: &str, prompts: &[&str]) -> Session {
    let np = NewProject { name: "A".into(), ..Default::default() };
    let p = c.create_project(&np).await.unwrap();
    let mut ids = Vec::new();
    for (i, prompt) in prompts.iter().enumerate() {
        let nt = NewTask {
            project_id: p.id.clone(),
            title: format!("t{i}"),
            prompt: Some(prompt.to_string()),
            ..Default::default()
        };
        ids.push(c.create_task(&nt).await.unwrap().id);
    }
    let ns = NewSession { project_id: p.id, task_ids: ids, agent_id: Some(agent.into()), ..Default::default() };
    c.create_session(&ns).await.unwrap()
}

fn addr(srv: &common::Maestro) -> std::net::SocketAddr {
    format!("127.0.0.1:{}", srv.port).parse().unwrap()
}

async fn status_becomes(c: &maestro::rest_client::Client, id: &str, want: SessionStatus) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.session(id).await.unwrap().status != want {
        assert!(Instant::now() < deadline, "session {id} did not become {want:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_prompt_reaches_the_agent_literally_and_one_too_long_fails_the_session() {
    let agent = "lit=printf '[%s]\\n' {prompt}";
    let srv = common::Start { args: &["--agent", agent], ..Default::default() }.run().await;
    let c = &srv.client;
    let prompt = "'; id; echo ' $(id) `id` \"; id; \" \\";
    // It starts when made (SPEC §9) and is over before anyone looks: its kept output says it.
    let s = session(c, "lit", &[prompt]).await;
    status_becomes(c, &s.id, SessionStatus::Completed).await;
    let out = kept(c, &s.id).await;
    // The task's prompt first, then how to report (SPEC §8), all one argument.
    assert!(out.contains(&format!("[{prompt}\r\n\r\nReport to Maestro")), "{out}");
    assert!(out.contains("`maestro session state working` when you resume.]"), "{out}");
    assert!(!out.contains("uid="), "a shell ran part of the prompt: {out}");

    // Three tasks of 70,000 bytes: 205 KiB, more than one argument can carry.
    let long = "x".repeat(70_000);
    let s = session(c, "lit", &[&long, &long, &long]).await;
    status_becomes(c, &s.id, SessionStatus::Failed).await;
    let out = kept(c, &s.id).await;
    assert!(out.contains("is too long to hand to agent lit on its command line"), "{out}");
    assert!(out.contains("Use {prompt_file}"), "{out}");
    assert!(!out.contains("[xxx"), "the agent ran: {out}");
    assert_eq!(c.session(&s.id).await.unwrap().exit_code, Some(1));
}

/// What session `id`'s terminal printed (all of it: less than a piece).
async fn kept(c: &maestro::rest_client::Client, id: &str) -> String {
    String::from_utf8_lossy(&c.session_output(id, 0, 1 << 20).await.unwrap().bytes).into_owned()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompt_files_are_private_and_what_a_killed_server_left_is_removed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let agent = "wait=cat {prompt_file}; read _";
    let srv = common::Start { dir: Some(dir.path()), args: &["--agent", agent], ..Default::default() }.run().await;
    let s = session(&srv.client, "wait", &["the secret plan"]).await;
    let mut ws = attach_as(addr(&srv), &s.id, &srv.token).await;
    ws.read_until("the secret plan").await;
    let prompts = dir.path().join("prompts");
    let file = prompts.join(format!("{}.md", s.id));
    // The task's prompt, then how to report (SPEC §8).
    let told = std::fs::read_to_string(&file).unwrap();
    assert!(told.starts_with("the secret plan\n\n") && told.contains("maestro session state"), "{told}");
    assert_eq!(mode(&prompts), 0o700);
    assert_eq!(mode(&file), 0o600);
    std::fs::write(prompts.join("left-over.md"), "old").unwrap();
    drop(ws);
    drop(srv); // SIGKILL: nothing is cleaned up
    assert!(file.exists());

    let again = common::Start { dir: Some(dir.path()), ..Default::default() }.run().await;
    // Its agent outlived the server (SPEC §9) and may still read its prompt; the rest goes.
    let left: Vec<_> = std::fs::read_dir(&prompts).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(left.iter().collect::<Vec<_>>(), [&file], "an earlier run's prompt files are left");
    assert_eq!(mode(&prompts), 0o700);
    drop(again);
    common::kill_holders(dir.path());

    // In memory: a private temporary directory, where one a killed server left goes too.
    let runtime = tempfile::tempdir().unwrap();
    let abandoned = runtime.path().join("maestro-prompts-2147483646-x");
    std::fs::create_dir(&abandoned).unwrap();
    let env = [("XDG_RUNTIME_DIR", runtime.path().to_str().unwrap())];
    let srv = common::Start { args: &["--in-memory", "--agent", agent], env: &env, ..Default::default() }.run().await;
    let s = session(&srv.client, "wait", &["in memory"]).await;
    let mut ws = attach_as(addr(&srv), &s.id, &srv.token).await;
    ws.read_until("in memory").await;
    // (Beside it, the terminals' holders' directory.)
    let made: Vec<_> = std::fs::read_dir(runtime.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_str().unwrap().starts_with("maestro-holders-"))
        .collect();
    assert_eq!(made.len(), 1, "{made:?}");
    assert!(made[0].file_name().unwrap().to_str().unwrap().starts_with("maestro-prompts-"), "{made:?}");
    assert_eq!(mode(&made[0]), 0o700);
    assert_eq!(mode(&made[0].join(format!("{}.md", s.id))), 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_as_agents_toml_is_refused_at_start_and_blocks_nothing_later() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agents.toml");
    let mkfifo = |p: &Path| assert!(Command::new("mkfifo").arg(p).status().unwrap().success());
    mkfifo(&file);
    let err = refused_start(dir.path(), &[]);
    assert!(err.contains("agents.toml: not a regular file"), "{err}");

    std::fs::remove_file(&file).unwrap();
    std::fs::write(&file, "[agents]\na = \"a {prompt}\"\n").unwrap();
    let srv = common::Start { dir: Some(dir.path()), ..Default::default() }.run().await;
    std::fs::remove_file(&file).unwrap();
    mkfifo(&file);
    // Over several of the file's checks (one a second), every request answers at once,
    // with the last good agents.
    let mut auth = reqwest::header::HeaderMap::new();
    auth.insert(reqwest::header::AUTHORIZATION, format!("Bearer {}", srv.token).parse().unwrap());
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).default_headers(auth).build().unwrap();
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        let agents: Vec<Agent> = http.get(format!("{}/agents", srv.api)).send().await.unwrap().json().await.unwrap();
        assert_eq!(agents, [Agent { id: "a".into() }]);
        assert!(http.get(format!("{}/health", srv.api)).send().await.unwrap().status().is_success());
    }
    // A plain file again is read again.
    std::fs::remove_file(&file).unwrap();
    std::fs::write(&file, "[agents]\nb = \"b {prompt}\"\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let agents: Vec<Agent> = http.get(format!("{}/agents", srv.api)).send().await.unwrap().json().await.unwrap();
        if agents == [Agent { id: "b".into() }] {
            break;
        }
        assert!(Instant::now() < deadline, "the new file was not read: {agents:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agents_list_tells_names_never_commands() {
    let agent = "claude=claude --api-key sk-SECRET-42 {prompt}";
    let srv = common::Start { args: &["--agent", agent], ..Default::default() }.run().await;
    let http = srv.http();
    let body = http.get(format!("{}/agents", srv.api)).send().await.unwrap().text().await.unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap(), serde_json::json!([{"id": "claude"}]));
    // The browser's server function and the API document neither.
    let base = srv.api.trim_end_matches("/api");
    let res = http
        .post(format!("{base}{}", <maestro::api::functions::ListAgents as leptos::server_fn::ServerFn>::PATH))
        .header("content-type", "application/json")
        .body(r#"{"project_id":""}"#)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{res:?}");
    let sfn = res.text().await.unwrap();
    assert!(sfn.contains("claude"), "{sfn}");
    let doc = http.get(format!("{}/openapi.json", srv.api)).send().await.unwrap().text().await.unwrap();
    for text in [&body, &sfn, &doc] {
        assert!(!text.contains("sk-SECRET"), "{text}");
        assert!(!text.contains("--api-key"), "{text}");
    }
}
