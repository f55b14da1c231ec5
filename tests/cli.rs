//! The `maestro` command-line client against a real server process: every command in
//! both output modes (piped, and on a real terminal), `--json` round trips, every exit
//! code, a session's defaults, and `watch` across a server restart. Every `MAESTRO_*`
//! variable of the test's own environment is cleared first.

use crate::common;

use common::{free_port, Maestro, Start};
use maestro::model::*;
use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, Output, Stdio};

/// `maestro ARGS` as a script runs it (stdout a pipe), against `api`, with `env` added.
pub(crate) fn cli_env(api: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maestro"));
    cmd.args(args).stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("MAESTRO_") || k == "NO_COLOR" {
            cmd.env_remove(k);
        }
    }
    cmd.env("MAESTRO_API_URL", api);
    // A person on the same machine: the CLI reads the server's token file.
    if let Some(dir) = common::data_dir_of(api) {
        cmd.env("MAESTRO_DATA_DIR", dir);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run maestro")
}

pub(crate) fn cli(api: &str, args: &[&str]) -> Output {
    cli_env(api, args, &[])
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Runs it and expects success, returning stdout.
#[track_caller]
pub(crate) fn ok(api: &str, args: &[&str]) -> String {
    let o = cli(api, args);
    assert_eq!(o.status.code(), Some(0), "maestro {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
    stdout(&o)
}

#[track_caller]
pub(crate) fn json<T: serde::de::DeserializeOwned>(api: &str, args: &[&str]) -> T {
    let mut a = args.to_vec();
    a.push("--json");
    serde_json::from_str(&ok(api, &a)).unwrap()
}

/// `maestro ARGS` on a real terminal (a PTY), as a person types it; returns what it
/// printed and its exit code.
pub(crate) fn on_terminal(api: &str, args: &[&str], env: &[(&str, &str)]) -> (String, u32) {
    use portable_pty::{native_pty_system, CommandBuilder, PtySize};
    let pair = native_pty_system().openpty(PtySize { rows: 50, cols: 200, pixel_width: 0, pixel_height: 0 }).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_maestro"));
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("MAESTRO_") || k == "NO_COLOR" {
            cmd.env_remove(k);
        }
    }
    cmd.env("MAESTRO_API_URL", api);
    if let Some(dir) = common::data_dir_of(api) {
        cmd.env("MAESTRO_DATA_DIR", dir);
    }
    cmd.env("TERM", "xterm-256color");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let out = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        // Until the terminal closes (EIO once the child has exited).
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&all).replace("\r\n", "\n")
    });
    let code = child.wait().unwrap().exit_code();
    drop(pair.master);
    (out.join().unwrap(), code)
}

fn server() -> Maestro {
    Start::default().run_blocking()
}

#[test]
fn projects_tasks_and_subtasks_piped_and_as_json() {
    let s = server();
    let api = &s.api;
    // Piped: `key<TAB>value` for one record, one tab-separated row per list item.
    let made = ok(api, &["project", "create", "Alpha", "--base-path", "/tmp"]);
    let fields: HashMap<&str, &str> = made.lines().filter_map(|l| l.split_once('\t')).collect();
    assert_eq!(fields["name"], "Alpha");
    assert_eq!(fields["base path"], "/tmp");
    let pid = fields["id"].to_string();
    assert_eq!(ok(api, &["project", "list"]), format!("{pid}\tAlpha\t/tmp\n"));

    // --json is the API's JSON: it round-trips into the model and equals a fetch.
    let p: Project = json(api, &["project", "update", &pid, "--name", "Beta", "--no-base-path"]);
    assert_eq!((p.name.as_str(), p.base_path.as_deref()), ("Beta", None));
    assert_eq!(json::<Project>(api, &["project", "get", &pid]), p);
    assert_eq!(json::<Vec<Project>>(api, &["project", "list"]), vec![p.clone()]);

    let t: Task =
        json(api, &["task", "create", "Write docs", "--project", &pid, "--prompt", "Explain it", "--priority", "high"]);
    assert_eq!((t.priority, t.prompt.as_str()), (Priority::High, "Explain it"));
    assert_eq!(ok(api, &["task", "list", "--project", &pid]), format!("{}\tpending\thigh\t0\tWrite docs\n", t.id));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let fetched = rt.block_on(s.client.task(&t.id)).unwrap();
    assert_eq!(json::<Task>(api, &["task", "get", &t.id]), fetched);
    let listed: Vec<Task> = json(api, &["task", "list", "--project", &pid, "--status", "pending"]);
    assert_eq!(listed, vec![fetched]);
    assert!(json::<Vec<Task>>(api, &["task", "list", "--project", &pid, "--status", "completed"]).is_empty());

    let t: Task = json(api, &["task", "update", &t.id, "--status", "in_progress", "--title", "Docs"]);
    assert_eq!((t.status, t.title.as_str()), (TaskStatus::InProgress, "Docs"));

    // Subtasks: add, tick, untick, delete (the task named with --task).
    let t: Task = json(api, &["task", "subtask", "add", "Outline", "--task", &t.id]);
    let sub = t.subtasks[0].id.clone();
    let t: Task = json(api, &["task", "subtask", "done", &sub, "--task", &t.id]);
    assert_eq!(t.subtasks[0].status, SubtaskStatus::Completed);
    let t: Task = json(api, &["task", "subtask", "done", &sub, "--task", &t.id, "--undo"]);
    assert_eq!(t.subtasks[0].status, SubtaskStatus::Pending);
    let t: Task = json(api, &["task", "subtask", "delete", &sub, "--task", &t.id]);
    assert!(t.subtasks.is_empty());

    // Deleting: quiet when piped, the API's answer with --json.
    assert_eq!(ok(api, &["task", "delete", &t.id]), "");
    assert_eq!(json::<serde_json::Value>(api, &["project", "delete", &pid]), serde_json::json!({"success": true}));
    assert_eq!(ok(api, &["project", "list"]), "");
}

#[test]
fn a_projects_workspace_settings_are_set_and_cleared() {
    let s = server();
    let api = &s.api;
    let args = ["project", "create", "W", "--isolation", "off", "--base-branch", "dev", "--setup", "make setup"];
    let made = ok(api, &args);
    let fields: HashMap<&str, &str> = made.lines().filter_map(|l| l.split_once('\t')).collect();
    assert_eq!((fields["isolation"], fields["base branch"], fields["setup"]), ("off", "dev", "make setup"));
    let id = fields["id"];
    let p: Project = json(api, &["project", "update", id, "--isolation", "on", "--no-base-branch", "--no-setup"]);
    assert_eq!((p.isolation, p.base_branch, p.setup_command), (true, None, None));
    let p: Project = json(api, &["project", "update", id, "--base-branch", "release/2", "--setup", "./go"]);
    assert_eq!((p.base_branch.as_deref(), p.setup_command.as_deref()), (Some("release/2"), Some("./go")));
    // A word it does not know, and a branch name git would refuse: nothing changes.
    let o = cli(api, &["project", "update", id, "--isolation", "maybe"]);
    assert_eq!(o.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&o.stderr).contains("expected one of: on, off"));
    assert_eq!(cli(api, &["project", "update", id, "--base-branch", "a..b"]).status.code(), Some(1));
    assert_eq!(json::<Project>(api, &["project", "get", id]), p);
}

#[test]
fn every_exit_code() {
    let s = server();
    let api = &s.api;
    let code = |o: Output| (o.status.code(), String::from_utf8_lossy(&o.stderr).to_string(), o.stdout.is_empty());
    let p: Project = json(api, &["project", "create", "P"]);
    json::<Task>(api, &["task", "create", "t", "--project", &p.id]);

    // 1: the server refused (a project with tasks cannot go; a bad name).
    let (c, err, quiet) = code(cli(api, &["project", "delete", &p.id]));
    assert_eq!(c, Some(1));
    assert!(err.starts_with("maestro: ") && err.contains("task"), "{err}");
    assert!(quiet, "errors go to stderr only");
    assert_eq!(cli(api, &["project", "create", " "]).status.code(), Some(1));
    // 2: usage (clap's, and ours: nothing to change, no session to default to).
    assert_eq!(cli(api, &["task", "frobnicate"]).status.code(), Some(2));
    assert_eq!(cli(api, &["task", "list", "--status", "done-ish"]).status.code(), Some(2));
    let (c, err, _) = code(cli(api, &["task", "update", "task_x"]));
    assert_eq!(c, Some(2));
    assert!(err.contains("nothing to change"), "{err}");
    let (c, err, _) = code(cli(api, &["session", "complete"]));
    assert_eq!(c, Some(2));
    assert!(err.contains("MAESTRO_SESSION_ID"), "{err}");
    // 3: not found.
    let (c, err, _) = code(cli(api, &["task", "get", "task_nope"]));
    assert_eq!(c, Some(3));
    assert!(err.contains("not found"), "{err}");
    assert_eq!(cli(api, &["session", "delete", "sess_nope"]).status.code(), Some(3));
    // 5: nothing listens there.
    let gone = format!("http://127.0.0.1:{}/api", free_port());
    let (c, err, _) = code(cli(&gone, &["project", "list"]));
    assert_eq!(c, Some(5));
    assert!(err.contains("cannot reach"), "{err}");

    // 4: without the token (no MAESTRO_TOKEN, a data directory without the file), with a
    // wrong one, and with the right one: fine.
    let elsewhere = tempfile::tempdir().unwrap();
    let no_token = [("MAESTRO_DATA_DIR", elsewhere.path().to_str().unwrap())];
    let (c, err, _) = code(cli_env(api, &["project", "list"], &no_token));
    assert_eq!(c, Some(4));
    assert!(err.contains("MAESTRO_TOKEN"), "{err}");
    let wrong = "w".repeat(40);
    assert_eq!(cli_env(api, &["project", "list"], &[("MAESTRO_TOKEN", &wrong)]).status.code(), Some(4));
    let o = cli_env(api, &["project", "list"], &[("MAESTRO_TOKEN", &s.token)]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn on_a_terminal_tables_align_and_colour_obeys_no_color() {
    let s = server();
    let api = &s.api;
    let p: Project = json(api, &["project", "create", "P"]);
    json::<Task>(api, &["task", "create", "A short one", "--project", &p.id]);
    let long: Task = json(api, &["task", "create", "A much longer title", "--project", &p.id, "--status", "completed"]);

    let (plain, code) = on_terminal(api, &["task", "list", "--project", &p.id], &[("NO_COLOR", "1")]);
    assert_eq!(code, 0);
    assert!(!plain.contains('\x1b'), "NO_COLOR: no escapes at all: {plain:?}");
    let lines: Vec<&str> = plain.lines().collect();
    assert!(lines[0].starts_with("ID") && lines[0].contains("STATUS") && lines[0].contains("TITLE"), "{plain}");
    // Columns line up: every row's STATUS starts where the header's does.
    let col = lines[0].find("STATUS").unwrap();
    assert_eq!(lines.len(), 3, "{plain}");
    assert!(lines[1..].iter().all(|l| l[col..].starts_with("completed") || l[col..].starts_with("pending")), "{plain}");
    assert!(lines[1].contains(&long.id), "newest first: {plain}");

    let (coloured, _) = on_terminal(api, &["task", "list", "--project", &p.id], &[]);
    assert!(coloured.contains("\x1b[32mcompleted\x1b[0m"), "{coloured:?}");
    let piped = ok(api, &["task", "list", "--project", &p.id]);
    assert!(!piped.contains('\x1b') && !piped.starts_with("ID"), "piped: no colour, no header: {piped:?}");

    // Errors, on a terminal too, say what went wrong.
    let (err, code) = on_terminal(api, &["task", "get", "task_nope"], &[("NO_COLOR", "1")]);
    assert_eq!(code, 3);
    assert!(err.contains("maestro: task task_nope not found"), "{err}");
}

#[test]
fn inside_a_session_its_variables_are_the_defaults() {
    let s = server();
    let api = &s.api;
    let p: Project = json(api, &["project", "create", "P"]);
    let t1: Task = json(api, &["task", "create", "One", "--project", &p.id, "--prompt", "Do the first thing"]);
    let t2: Task = json(api, &["task", "create", "Two", "--project", &p.id, "--prompt", "Then the second"]);
    let body =
        NewSession { project_id: p.id.clone(), task_ids: vec![t1.id.clone(), t2.id.clone()], ..Default::default() };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let session = rt.block_on(s.client.create_session(&body)).unwrap();
    // What the session's terminal starts with.
    let env: Vec<(&str, &str)> = session.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let run = |args: &[&str]| cli_env(api, args, &env);

    let o = run(&["task", "get", "--json"]);
    let mine: Vec<Task> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(mine.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), [t1.id.as_str(), t2.id.as_str()]);
    let (shown, code) = on_terminal(api, &["task", "get"], &[env.as_slice(), &[("NO_COLOR", "1")]].concat());
    assert_eq!(code, 0);
    assert!(shown.contains("Do the first thing") && shown.contains("Then the second"), "prompts shown: {shown}");
    // The project defaults too.
    let o = run(&["task", "list", "--json"]);
    assert_eq!(serde_json::from_slice::<Vec<Task>>(&o.stdout).unwrap().len(), 2);

    // Updating with no id updates this session's tasks; completing completes it.
    let o = run(&["task", "update", "--status", "completed"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let tasks = rt.block_on(s.client.tasks(&Default::default())).unwrap();
    assert!(tasks.iter().all(|t| t.status == TaskStatus::Completed), "{tasks:?}");
    // Links made later count: the session's tasks are asked of the server.
    let t3: Task = json(api, &["task", "create", "Three", "--project", &p.id]);
    assert_eq!(run(&["session", "add-task", &t3.id]).status.code(), Some(0));
    let o = run(&["task", "get", "--json"]);
    assert_eq!(serde_json::from_slice::<Vec<Task>>(&o.stdout).unwrap().len(), 3);
    // A subtask needs one task: with three, the CLI asks which.
    let o = run(&["task", "subtask", "add", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--task"));
    assert_eq!(run(&["session", "remove-task", &t3.id]).status.code(), Some(0));

    // Its timeline: a line added, shown by `log` alone and by `get`; a bad line is refused.
    let o = run(&["session", "log", "ran the tests: 3 failed"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    run(&["session", "log", "fixed them", "--session", &session.id]);
    let shown = stdout(&run(&["session", "log"]));
    let lines: Vec<&str> = shown.lines().map(|l| l.split_once("  ").map_or(l, |(_, t)| t)).collect();
    assert_eq!(lines, ["ran the tests: 3 failed", "fixed them"], "{shown}");
    assert!(stdout(&run(&["session", "get"])).contains("Z  fixed them"), "the timeline with the session");
    let o = run(&["session", "log", "--json"]);
    let timeline: Vec<TimelineLine> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(timeline.len(), 2);
    let o = run(&["session", "log", "bad\u{7}bell"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    // `log ID --output` still reads a session's output (a shell's, here, never opened: none).
    let o = run(&["session", "log", &session.id, "--output"]);
    assert_eq!((o.status.code(), o.stdout.len()), (Some(0), 0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(run(&["session", "log", &session.id, "--session", &session.id, "--output"]).status.code(), Some(2));

    let o = run(&["session", "complete", "--json"]);
    let done: Session = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((done.id.as_str(), done.status), (session.id.as_str(), SessionStatus::Completed));
    let o = run(&["session", "get"]);
    assert!(stdout(&o).contains("status\tcompleted"), "{}", stdout(&o));
    let listed = ok(api, &["session", "list", "--project", &p.id]);
    assert_eq!(listed, format!("{}\tcompleted\tshell\t2\t{}\n", session.id, session.name));

    let o = run(&["status", "--json"]);
    let st: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(st["tasks"]["completed"], 2);
    assert_eq!(st["tasks"]["pending"], 1);
    assert_eq!(st["health"]["status"], "ok");
    assert_eq!(st["projectId"], p.id.as_str());
}

#[test]
fn watch_prints_events_in_order_and_resumes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let start = || Start { port: Some(port), dir: Some(dir.path()), ..Default::default() }.run_blocking();
    let s = start();
    let api = s.api.clone();
    ok(&api, &["project", "create", "before"]);
    let mut watch = Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["watch", "--since", "0", "--count", "4", "--json", "--event", "project"])
        .env("MAESTRO_API_URL", &api)
        .env("MAESTRO_DATA_DIR", dir.path())
        .env_remove("MAESTRO_TOKEN")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(watch.stdout.take().unwrap()));
    let first: Event = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!((first.seq, first.data.name()), (1, "project:created"));
    let p: Project = json(&api, &["project", "create", "second"]);
    json::<Task>(&api, &["task", "create", "filtered out", "--project", &p.id]);
    let second: Event = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(second.seq, 2);
    drop(s); // SIGKILL: the watcher's socket drops
    let s = start();
    ok(&s.api, &["project", "create", "third"]);
    ok(&s.api, &["project", "update", &p.id, "--name", "renamed"]);
    let rest: Vec<Event> = lines.map(|l| serde_json::from_str(&l.unwrap()).unwrap()).collect();
    assert_eq!(
        rest.iter().map(|e| (e.seq, e.data.name())).collect::<Vec<_>>(),
        [(4, "project:created"), (5, "project:updated")]
    );
    assert!(watch.wait().unwrap().success(), "--count 4 ends it");

    // Piped without --json: one tab-separated line per event.
    let o = cli(&s.api, &["watch", "--since", "3", "--count", "1"]);
    let line = stdout(&o);
    let cells: Vec<&str> = line.trim_end().split('\t').collect();
    assert_eq!((cells[0], cells[2], cells[4]), ("4", "project:created", "third"), "{line}");
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let o = cli("http://127.0.0.1:9/api", &["completions", shell]);
        assert_eq!(o.status.code(), Some(0));
        let script = stdout(&o);
        assert!(script.contains("maestro") && script.contains("subtask"), "{shell}: {script:.200}");
    }
    assert_eq!(cli("http://127.0.0.1:9/api", &["completions", "tcsh"]).status.code(), Some(2));
}

/// A proxy to `upstream` that, on its first connection, passes the request on and then
/// drops the connection instead of answering: the request was applied, its answer lost.
fn lossy_proxy(upstream: u16) -> u16 {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let Ok(mut client) = conn else { continue };
            std::thread::spawn(move || {
                let mut server = std::net::TcpStream::connect(("127.0.0.1", upstream)).unwrap();
                // As a reverse proxy does: the upstream's own Host.
                let request = String::from_utf8(read_message(&mut client)).unwrap();
                let request = request.replace(&format!("127.0.0.1:{port}"), &format!("127.0.0.1:{upstream}"));
                server.write_all(request.as_bytes()).unwrap();
                let answer = read_message(&mut server);
                if n > 0 {
                    let _ = client.write_all(&answer);
                }
                // The first answer never arrives: the connection just closes.
            });
        }
    });
    port
}

/// One HTTP/1.1 message: its header and `Content-Length` bytes of body.
fn read_message(s: &mut std::net::TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).unwrap_or(0) == 0 {
            return buf;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    buf.extend(body);
    buf
}

#[test]
fn a_retry_after_a_lost_answer_applies_once() {
    let s = server();
    let proxy = format!("http://127.0.0.1:{}/api", lossy_proxy(s.port));
    let o = cli_env(&proxy, &["project", "create", "Once", "--json"], &[("MAESTRO_TOKEN", &s.token)]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let made: Project = serde_json::from_slice(&o.stdout).unwrap();
    // Sent twice with one Idempotency-Key: one project, and the retry got the first answer.
    let all: Vec<Project> = json(&s.api, &["project", "list"]);
    assert_eq!(all, vec![made]);
}
