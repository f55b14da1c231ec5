//! Agents you can leave running (SPEC §9) against the real binary: a session started from
//! the CLI runs its agent with no browser open; everything its terminal printed is kept,
//! with its exit code, and read back with the CLI and REST after it ended and after a
//! restart; the byte budgets keep the newest bytes at their right offsets.

use crate::common::{Maestro, Start};
use crate::terminal::until_event;
use maestro::model::*;
use maestro::rest_client::Client;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fake-agent.sh");

/// `maestro ARGS` against `srv`, as a person on the same machine runs it.
fn cli(srv: &Maestro, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maestro"));
    cmd.args(args).stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("MAESTRO_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("MAESTRO_API_URL", &srv.api).env("MAESTRO_TOKEN", &srv.token);
    let out = cmd.output().expect("run maestro");
    assert!(out.status.success(), "maestro {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A project in a fresh directory with one task of `prompt`.
async fn task(c: &Client, dir: &Path, prompt: &str) -> Task {
    let np = NewProject { name: "U".into(), base_path: Some(dir.to_string_lossy().into()), ..Default::default() };
    let p = c.create_project(&np).await.unwrap();
    let nt = NewTask { project_id: p.id, title: "t".into(), prompt: Some(prompt.into()), ..Default::default() };
    c.create_task(&nt).await.unwrap()
}

/// A session on task `t` running `agent` (a shell, not started, without one).
async fn session_of(c: &Client, t: &Task, agent: Option<&str>) -> Session {
    let ns = NewSession {
        project_id: t.project_id.clone(),
        task_ids: vec![t.id.clone()],
        agent_id: agent.map(Into::into),
        ..Default::default()
    };
    c.create_session(&ns).await.unwrap()
}

/// Everything kept of session `id`'s output, read a piece at a time; and where it starts.
async fn output(c: &Client, id: &str) -> (u64, Vec<u8>) {
    let mut piece = c.session_output(id, 0, 4096).await.unwrap();
    let (start, end) = (piece.start, piece.end);
    assert_eq!(piece.offset, start, "an offset before the first kept byte reads from it");
    let mut all = Vec::new();
    loop {
        all.extend_from_slice(&piece.bytes);
        let next = piece.offset + piece.bytes.len() as u64;
        if next >= end {
            break;
        }
        piece = c.session_output(id, next, 4096).await.unwrap();
        assert_eq!(piece.offset, next);
    }
    assert_eq!(start + all.len() as u64, end);
    (start, all)
}

/// Waits (on the event stream) until session `id` has ended; the session then.
async fn ended(c: &Client, id: &str, since: u64) -> Session {
    let mut events = std::pin::pin!(c.watch(Some(since)));
    if c.session(id).await.unwrap().status == SessionStatus::Running {
        until_event(
            &mut events,
            |e| matches!(e, EventData::SessionUpdated(x) if x.id == id && x.status != SessionStatus::Running),
        )
        .await;
    }
    c.session(id).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_started_from_the_cli_runs_with_no_browser_and_its_output_outlives_it_and_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // The fake agent, waiting for the person (its stdin here a pipe that gives a line), and
    // the same failing with code 3.
    let done = format!("done=echo | sh {SCRIPT} {{prompt}}");
    let fail = format!("fail=echo | FAKE_AGENT_EXIT=3 sh {SCRIPT} {{prompt}}");
    let wait = format!("agent=sh {SCRIPT} {{prompt}}");
    let args = ["--agent", &wait, "--agent", &done, "--agent", &fail];
    let srv = Start { dir: Some(data.path()), args: &args, ..Default::default() }.run().await;
    let c = &srv.client;
    let t = task(c, work.path(), "Fix the bug").await;
    let seq = c.health().await.unwrap().seq;
    let mut events = std::pin::pin!(c.watch(Some(seq)));

    // No agent named: the first offered (by name). Nothing opens its terminal, and still it runs: it
    // moves its task along with the CLI.
    let out = cli(&srv, &["session", "start", "--task", &t.id, "--json"]);
    let s: Session = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((s.agent_id.as_deref(), s.task_ids.clone()), (Some("agent"), vec![t.id.clone()]));
    until_event(&mut events, |e| matches!(e, EventData::TaskUpdated(x) if x.status == TaskStatus::InProgress)).await;

    // One that finishes: completed, exit code 0, every word it said kept.
    let out = cli(&srv, &["session", "start", "--task", &t.id, "--agent", "done", "--json"]);
    let ok: Session = serde_json::from_slice(&out.stdout).unwrap();
    let ok = ended(c, &ok.id, seq).await;
    assert_eq!((ok.status, ok.exit_code), (SessionStatus::Completed, Some(0)));
    let (start, said) = output(c, &ok.id).await;
    let said = String::from_utf8(said).unwrap();
    assert_eq!(start, 0);
    assert!(said.starts_with("prompt file: Fix the bug"), "{said}");
    assert!(said.contains("fake agent: done"), "{said}");

    // One that fails: its code recorded, and shown by the CLI.
    let out = cli(&srv, &["session", "start", "--task", &t.id, "--agent", "fail", "--json"]);
    let bad: Session = serde_json::from_slice(&out.stdout).unwrap();
    let bad = ended(c, &bad.id, seq).await;
    assert_eq!((bad.status, bad.exit_code), (SessionStatus::Failed, Some(3)));
    let shown = String::from_utf8(cli(&srv, &["session", "get", &bad.id]).stdout).unwrap();
    assert!(shown.contains("exit code\t3") || shown.contains("exit code") && shown.contains('3'), "{shown}");

    // The CLI prints it raw, the same bytes REST gives.
    let printed = cli(&srv, &["session", "log", &ok.id, "--output"]).stdout;
    assert_eq!(printed, said.as_bytes());

    // After a restart (the server killed), the same, from disk.
    let (before_bad, port) = (output(c, &bad.id).await, srv.port);
    drop(srv);
    let srv = Start { dir: Some(data.path()), port: Some(port), args: &args, ..Default::default() }.run().await;
    assert_eq!(output(&srv.client, &ok.id).await, (0, said.clone().into_bytes()));
    assert_eq!(output(&srv.client, &bad.id).await, before_bad);
    assert_eq!(cli(&srv, &["session", "log", &ok.id, "--output"]).stdout, said.as_bytes());
    assert_eq!(srv.client.session(&bad.id).await.unwrap().exit_code, Some(3));

    // Deleting a session deletes its output; asking for it then is 404.
    srv.client.delete_session(&ok.id).await.unwrap();
    assert_eq!(srv.client.session_output(&ok.id, 0, 10).await.unwrap_err().status(), Some(404));
    let bad_limit = srv.client.session_output(&bad.id, 0, 0).await.unwrap_err();
    assert_eq!(bad_limit.status(), Some(400));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_printing_more_than_its_budget_keeps_the_newest_bytes_at_their_offsets() {
    let work = tempfile::tempdir().unwrap();
    // 40,000 numbered lines (228,894 bytes with the terminal's \r\n) against 64 KiB.
    let agent = "lines=seq 1 40000; : {prompt}";
    let env = [("MAESTRO_OUTPUT_SESSION_BYTES", "65536")];
    let srv = Start { args: &["--agent", agent], env: &env, ..Default::default() }.run().await;
    let c = &srv.client;
    let t = task(c, work.path(), "count").await;
    let seq = c.health().await.unwrap().seq;
    let s = session_of(c, &t, Some("lines")).await;
    let s = ended(c, &s.id, seq).await;
    assert_eq!(s.exit_code, Some(0));
    let all: String = (1..=40000).map(|i| format!("{i}\r\n")).collect();
    let (start, kept) = output(c, &s.id).await;
    assert!(start > 0, "nothing was dropped");
    assert!(kept.len() <= 65536 && kept.len() >= 65536 * 7 / 8, "{} bytes kept", kept.len());
    assert_eq!(kept, all.as_bytes()[start as usize..], "the kept bytes are not the newest at their offsets");
    // Asking from inside what was kept gives exactly the bytes from there.
    let at = start + 1000;
    let piece = c.session_output(&s.id, at, 10).await.unwrap();
    assert_eq!((piece.offset, piece.bytes.as_slice()), (at, &all.as_bytes()[at as usize..at as usize + 10]));
    // Past the end: nothing, and where the end is.
    let past = c.session_output(&s.id, 1 << 40, 10).await.unwrap();
    assert_eq!((past.offset, past.bytes.len(), past.end), (all.len() as u64, 0, all.len() as u64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_asking_through_the_cli_needs_the_person_with_its_question() {
    let work = tempfile::tempdir().unwrap();
    // It works, asks, and waits for the answer; then, answered, says it is working again.
    let agent = "ask=maestro session state working; maestro session state needs-input 'Which database?'; read _; \
                 maestro session state working; : {prompt}";
    let srv = Start { args: &["--agent", agent], ..Default::default() }.run().await;
    let c = &srv.client;
    let t = task(c, work.path(), "pick one").await;
    let seq = c.health().await.unwrap().seq;
    let mut events = std::pin::pin!(c.watch(Some(seq)));
    let s = session_of(c, &t, Some("ask")).await;
    until_event(
        &mut events,
        |e| matches!(e, EventData::SessionUpdated(x) if x.state == Some(SessionState::NeedsInput)),
    )
    .await;
    let now = c.session(&s.id).await.unwrap();
    assert_eq!((now.state, now.state_message.as_deref()), (Some(SessionState::NeedsInput), Some("Which database?")));
    assert!(now.state_at.is_some());

    // The attention list (what the browser's ⚑ and notifications come from) has it.
    let attention = attention(&srv).await;
    assert!(attention["sessions"].as_array().unwrap().iter().any(|x| x["id"] == s.id.as_str()), "{attention}");

    // Saying the same again changes nothing; an ended session is doing nothing (409); a bad
    // word is a usage error.
    let again = SessionStateUpdate { state: SessionState::NeedsInput, message: Some("Which database?".into()) };
    assert_eq!(c.set_session_state(&s.id, &again).await.unwrap().version, now.version);
    let bad = Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["session", "state", "sleeping", "--session", &s.id])
        .env("MAESTRO_API_URL", &srv.api)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", String::from_utf8_lossy(&bad.stderr));
    c.update_session(&s.id, &SessionPatch { status: Some(SessionStatus::Completed), ..Default::default() })
        .await
        .unwrap();
    let ended = c.set_session_state(&s.id, &again).await.unwrap_err();
    assert_eq!(ended.status(), Some(409));
}

/// The browser's attention list, from its server function.
async fn attention(srv: &Maestro) -> serde_json::Value {
    let base = srv.api.trim_end_matches("/api");
    let path = <maestro::api::functions::ListAttention as leptos::server_fn::ServerFn>::PATH;
    let res = srv.http().post(format!("{base}{path}")).header("content-type", "application/json").body("{}");
    res.send().await.unwrap().json().await.unwrap()
}

/// `maestro hook claude` with `json` on stdin, inside session `id` (as Claude Code runs its
/// hooks in the session's terminal); its exit code.
fn hook(srv: &Maestro, id: &str, json: &str) -> Option<i32> {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maestro"));
    cmd.args(["hook", "claude"]).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null());
    cmd.env("MAESTRO_API_URL", &srv.api).env("MAESTRO_TOKEN", &srv.token).env("MAESTRO_SESSION_ID", id);
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(json.as_bytes()).unwrap();
    child.wait().unwrap().code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_codes_hooks_with_its_documented_json_on_stdin_say_what_it_is_doing() {
    let srv = Start::default().run().await;
    let c = &srv.client;
    let work = tempfile::tempdir().unwrap();
    let t = task(c, work.path(), "hooked").await;
    let s = session_of(c, &t, None).await;
    let state = |s: Session| (s.state, s.state_message);
    // The JSON Claude Code's documentation gives for each hook (common fields first).
    let common = r#""session_id":"abc123","transcript_path":"/tmp/t.jsonl","cwd":"/tmp""#;
    let prompt = format!(r#"{{{common},"hook_event_name":"UserPromptSubmit","prompt":"Write a function"}}"#);
    assert_eq!(hook(&srv, &s.id, &prompt), Some(0));
    assert_eq!(state(c.session(&s.id).await.unwrap()), (Some(SessionState::Working), None));
    let note = format!(
        r#"{{{common},"hook_event_name":"Notification","message":"Claude needs your permission to use Bash","notification_type":"permission_prompt"}}"#
    );
    assert_eq!(hook(&srv, &s.id, &note), Some(0));
    let asks = Some("Claude needs your permission to use Bash".to_string());
    assert_eq!(state(c.session(&s.id).await.unwrap()), (Some(SessionState::NeedsInput), asks));
    let permission = format!(
        r#"{{{common},"hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{{"command":"rm -rf node_modules"}}}}"#
    );
    assert_eq!(hook(&srv, &s.id, &permission), Some(0));
    let asks = Some("May it use Bash?".to_string());
    assert_eq!(state(c.session(&s.id).await.unwrap()), (Some(SessionState::NeedsInput), asks));
    let stop = format!(r#"{{{common},"hook_event_name":"Stop","stop_hook_active":false}}"#);
    assert_eq!(hook(&srv, &s.id, &stop), Some(0));
    assert_eq!(state(c.session(&s.id).await.unwrap()), (Some(SessionState::Idle), None));
    // Whatever it cannot use — another event, not JSON, no server — never stops the agent.
    let before = c.session(&s.id).await.unwrap().version;
    assert_eq!(hook(&srv, &s.id, &format!(r#"{{{common},"hook_event_name":"SessionStart"}}"#)), Some(0));
    assert_eq!(hook(&srv, &s.id, "not json"), Some(0));
    assert_eq!(c.session(&s.id).await.unwrap().version, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn for_an_agent_that_says_nothing_the_terminal_tells_working_after_input_and_idle_when_quiet() {
    use futures::StreamExt;
    let work = tempfile::tempdir().unwrap();
    let agent = "quiet=echo started; read _; echo answered; read _; : {prompt}";
    // Quiet for 300 ms is idle here (30 s by default).
    let srv = Start { args: &["--agent", agent], env: &[("MAESTRO_IDLE_MS", "300")], ..Default::default() }.run().await;
    let c = &srv.client;
    let t = task(c, work.path(), "say nothing").await;
    let mut events = std::pin::pin!(c.watch(Some(c.health().await.unwrap().seq)));
    let s = session_of(c, &t, Some("quiet")).await;
    // The states its updates carry, in order, until `n` of them.
    let mut states = Vec::new();
    let mut next_states = async |n: usize, states: &mut Vec<Option<SessionState>>| {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while states.len() < n {
            let m = tokio::time::timeout_at(deadline, events.next()).await.expect("the state within 10 s");
            if let Some(Ok(ServerMessage::Event(e))) = m {
                if let EventData::SessionUpdated(x) = e.data {
                    if x.id == s.id {
                        states.push(x.state);
                    }
                }
            }
        }
    };
    // Started with its prompt and printing: working; then quiet: idle.
    next_states(2, &mut states).await;
    assert_eq!(states, [Some(SessionState::Working), Some(SessionState::Idle)]);
    // The person answers: output after input is working again, then idle again.
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", srv.port).parse().unwrap();
    let mut ws = crate::terminal::attach_as(addr, &s.id, &srv.token).await;
    ws.input("\r").await;
    ws.read_until("answered").await;
    next_states(4, &mut states).await;
    assert_eq!(states[2..], [Some(SessionState::Working), Some(SessionState::Idle)]);
}

/// An agent that says nothing and stops at "Proceed? [y/N]" needs the person, with that
/// line as its question; the answer (input, then output) moves it on, and the answer's echo
/// on the question's line is not asked again while the agent works on quietly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_stopped_at_a_y_n_question_needs_input_until_answered() {
    use futures::StreamExt;
    let work = tempfile::tempdir().unwrap();
    let agent = "yn=echo checking; printf 'Proceed? [y/N] '; read a; sleep 1; echo \"got $a\"; read _; : {prompt}";
    // Quiet for 300 ms after a question is waiting here (2 s by default).
    let env = [("MAESTRO_ASKING_MS", "300")];
    let srv = Start { args: &["--agent", agent], env: &env, ..Default::default() }.run().await;
    let c = &srv.client;
    let t = task(c, work.path(), "ask y/n").await;
    let mut events = std::pin::pin!(c.watch(Some(c.health().await.unwrap().seq)));
    let s = session_of(c, &t, Some("yn")).await;
    // The session's states as its updates move them, until an event at `until` or after, or
    // `n` of them.
    let mut said = Vec::new();
    let mut next = async |n: usize, until: u64, said: &mut Vec<(Option<SessionState>, Option<String>)>| {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while said.len() < n {
            let m = tokio::time::timeout_at(deadline, events.next()).await.expect("the state within 10 s");
            if let Some(Ok(ServerMessage::Event(e))) = m {
                if let EventData::SessionUpdated(x) = &e.data {
                    if x.id == s.id && said.last().map(|l| &l.0) != Some(&x.state) {
                        said.push((x.state, x.state_message.clone()));
                    }
                }
                if e.seq >= until {
                    return;
                }
            }
        }
    };
    next(2, u64::MAX, &mut said).await;
    let asks = Some("Proceed? [y/N]".to_string());
    assert_eq!(said, [(Some(SessionState::Working), None), (Some(SessionState::NeedsInput), asks)]);
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", srv.port).parse().unwrap();
    let mut ws = crate::terminal::attach_as(addr, &s.id, &srv.token).await;
    ws.input("y\r").await;
    ws.read_until("got y").await;
    // Everything up to a change made now: working since the answer, and nothing asked again.
    let patch = TaskPatch { title: Some("marker".into()), ..Default::default() };
    c.update_task(&t.id, &patch).await.unwrap();
    next(usize::MAX, c.health().await.unwrap().seq, &mut said).await;
    assert_eq!(said[2..], [(Some(SessionState::Working), None)]);
}

/// What an agent says itself outranks the terminal's guess: an agent whose first output is
/// its own words as it asks (the CLI prints the session it set) still needs the person after
/// that output, until an answer (input, then output) moves it on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agents_question_is_not_taken_back_by_its_first_output_only_by_an_answer() {
    use futures::StreamExt;
    let work = tempfile::tempdir().unwrap();
    let agent = "asks=maestro session state needs-input 'Which one?'; read _; echo answered; read _; : {prompt}";
    let srv = Start { args: &["--agent", agent], ..Default::default() }.run().await;
    let c = &srv.client;
    let t = task(c, work.path(), "ask first").await;
    let mut events = std::pin::pin!(c.watch(Some(c.health().await.unwrap().seq)));
    let s = session_of(c, &t, Some("asks")).await;
    // The session's updates, in order, until one that `done` says is the last wanted.
    let mut updates = async |done: &dyn Fn(&Session) -> bool| {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let m = tokio::time::timeout_at(deadline, events.next()).await.expect("the update within 10 s");
            if let Some(Ok(ServerMessage::Event(e))) = m {
                if let EventData::SessionUpdated(x) = e.data {
                    if x.id == s.id {
                        let last = done(&x);
                        seen.push(x.state);
                        if last {
                            return seen;
                        }
                    }
                }
            }
        }
    };
    let asked = updates(&|x| x.state == Some(SessionState::NeedsInput)).await;
    assert_eq!(asked.last(), Some(&Some(SessionState::NeedsInput)));
    // Its output after asking (the CLI's print of the session) reached the server ...
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", srv.port).parse().unwrap();
    let mut ws = crate::terminal::attach_as(addr, &s.id, &srv.token).await;
    ws.read_until("Which one?").await;
    // ... and up to a later update (a line in its timeline) it still asks.
    c.log_session(&s.id, "looked").await.unwrap();
    let after = updates(&|x| x.timeline.iter().any(|l| l.text == "looked")).await;
    assert_eq!(after, vec![Some(SessionState::NeedsInput); after.len()], "the question was taken back");
    // The person answers: input, then output, is working.
    ws.input("\r").await;
    ws.read_until("answered").await;
    let answered = updates(&|x| x.state == Some(SessionState::Working)).await;
    assert_eq!(answered.last(), Some(&Some(SessionState::Working)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_marked_with_claude_hooks_gets_a_private_settings_file_whose_hooks_say_its_state() {
    use std::os::unix::fs::PermissionsExt;
    let (data, work, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // A stand-in for Claude Code: it says its command line after its prompt, and waits for
    // the person.
    let script = work.path().join("fake-claude.sh");
    std::fs::write(&script, "shift\nmaestro session state working \"args: $*\"\nread -r _\n").unwrap();
    let toml = format!("[agents.claude]\ncommand = \"sh {} {{prompt}}\"\nhooks = \"claude\"\n", script.display());
    std::fs::write(data.path().join("agents.toml"), toml).unwrap();
    let env = [("HOME", home.path().to_str().unwrap())];
    let srv = Start { dir: Some(data.path()), env: &env, ..Default::default() }.run().await;
    let c = &srv.client;
    let t = task(c, work.path(), "hooked").await;
    let seq = c.health().await.unwrap().seq;
    let mut events = std::pin::pin!(c.watch(Some(seq)));
    let s = session_of(c, &t, Some("claude")).await;
    until_event(&mut events, |e| matches!(e, EventData::SessionUpdated(x) if x.state_message.is_some())).await;

    // `--settings FILE` on its command line, after its prompt; the file its session's own.
    let said = c.session(&s.id).await.unwrap().state_message.unwrap();
    let file = said.strip_prefix("args: --settings ").unwrap_or_else(|| panic!("{said}"));
    let file = Path::new(file);
    assert!(file.starts_with(data.path()), "{} is not in the data directory", file.display());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(file), mode(file.parent().unwrap())), (0o600, 0o700));
    let settings: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let hooks = settings["hooks"].as_object().unwrap();
    let events: Vec<&str> = hooks.keys().map(String::as_str).collect();
    assert_eq!(events, ["Notification", "PostToolUse", "Stop", "UserPromptSubmit"]);

    // Each hook's command, run as Claude Code runs it (`sh -c`, its JSON on stdin), says
    // what the agent is doing.
    let run = |event: &str, json: &str| {
        use std::io::Write;
        let command = hooks[event][0]["hooks"][0]["command"].as_str().unwrap();
        assert_eq!(hooks[event][0]["hooks"][0]["type"], "command");
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", command]).stdin(Stdio::piped()).stdout(Stdio::null());
        cmd.env("MAESTRO_API_URL", &srv.api).env("MAESTRO_TOKEN", &srv.token).env_remove("MAESTRO_SESSION_ID");
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(json.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success());
    };
    let common = r#""session_id":"abc123","transcript_path":"/tmp/t.jsonl","cwd":"/tmp""#;
    let state = || async { c.session(&s.id).await.map(|s| (s.state, s.state_message)).unwrap() };
    run(
        "Notification",
        &format!(
            r#"{{{common},"hook_event_name":"Notification","message":"Claude needs your permission to use Bash"}}"#
        ),
    );
    let asks = Some("Claude needs your permission to use Bash".to_string());
    assert_eq!(state().await, (Some(SessionState::NeedsInput), asks));
    run("PostToolUse", &format!(r#"{{{common},"hook_event_name":"PostToolUse","tool_name":"Bash"}}"#));
    assert_eq!(state().await, (Some(SessionState::Working), None));
    run("Stop", &format!(r#"{{{common},"hook_event_name":"Stop","stop_hook_active":false}}"#));
    assert_eq!(state().await, (Some(SessionState::Idle), None));
    run("UserPromptSubmit", &format!(r#"{{{common},"hook_event_name":"UserPromptSubmit","prompt":"go on"}}"#));
    assert_eq!(state().await, (Some(SessionState::Working), None));

    // The person's own ~/.claude is never touched; the session's directory goes when it ends.
    assert!(!home.path().join(".claude").exists());
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", srv.port).parse().unwrap();
    let mut ws = crate::terminal::attach_as(addr, &s.id, &srv.token).await;
    ws.input("\r").await;
    assert_eq!(ended(c, &s.id, seq).await.exit_code, Some(0));
    assert!(!file.parent().unwrap().exists(), "{} outlived its session", file.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sessions_own_prompt_reaches_its_agent_after_the_tasks() {
    let work = tempfile::tempdir().unwrap();
    let done = format!("done=echo | sh {SCRIPT} {{prompt}}");
    let srv = Start { args: &["--agent", &done], ..Default::default() }.run().await;
    let c = &srv.client;
    let t = task(c, work.path(), "Fix the bug").await;
    let seq = c.health().await.unwrap().seq;
    let ns = NewSession {
        project_id: t.project_id.clone(),
        task_ids: vec![t.id.clone()],
        agent_id: Some("done".into()),
        prompt: Some("src/a.rs:3 use a Vec".into()),
        ..Default::default()
    };
    let s = c.create_session(&ns).await.unwrap();
    assert_eq!(s.prompt.as_deref(), Some("src/a.rs:3 use a Vec"));
    let s = ended(c, &s.id, seq).await;
    let said = String::from_utf8(output(c, &s.id).await.1).unwrap();
    // In the file and the argument alike: the task's prompt, then the session's own.
    assert!(said.starts_with("prompt file: Fix the bug\r\n\r\nsrc/a.rs:3 use a Vec\r\n"), "{said}");
    assert!(said.contains("prompt argument: Fix the bug\r\n\r\nsrc/a.rs:3 use a Vec\r\n"), "{said}");

    // Over its byte cap, or with escape sequences: refused, with the reason.
    let long = NewSession { prompt: Some("é".repeat(limits::SESSION_PROMPT_MAX / 2 + 1)), ..ns.clone() };
    let e = c.create_session(&long).await.unwrap_err();
    assert_eq!(e.status(), Some(400), "{e}");
    let escape = NewSession { prompt: Some("\x1b[2J".into()), ..ns };
    assert_eq!(c.create_session(&escape).await.unwrap_err().status(), Some(400));
}
