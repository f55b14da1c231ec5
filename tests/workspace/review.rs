//! Review comments (SPEC §8 "Review") against a real server process and a real repository:
//! written, edited and listed over REST with their events; "Send to agent" typing the
//! drafts into the running fake agent's terminal (which reads a line and repeats it), and
//! starting a session with them as its prompt when none runs; `maestro review` inside a
//! session.

use super::api::{call, get, post};
use super::{fixture, write};
use crate::cli::{cli_env, stdout};
use crate::common::{Maestro, Start};
use crate::terminal::until_event;
use maestro::model::*;
use reqwest::Method;
use serde_json::json;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fake-agent.sh");

/// Waits (on the event stream from `since`) until session `id` has ended; what it printed.
async fn printed_when_ended(s: &Maestro, id: &str, since: u64) -> String {
    let mut events = std::pin::pin!(s.client.watch(Some(since)));
    if s.client.session(id).await.unwrap().status == SessionStatus::Running {
        until_event(
            &mut events,
            |e| matches!(e, EventData::SessionUpdated(x) if x.id == id && x.status != SessionStatus::Running),
        )
        .await;
    }
    let out = s.client.session_output(id, 0, 65536).await.unwrap();
    String::from_utf8_lossy(&out.bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_are_kept_sent_to_the_running_agent_and_start_one_when_none_runs() {
    let f = fixture();
    let wait = format!("agent=sh {SCRIPT} {{prompt}}");
    let done = format!("done=echo | sh {SCRIPT} {{prompt}}");
    let s = Start { args: &["--agent", &wait, "--agent", &done], ..Default::default() }.run().await;
    let c = &s.client;
    let np = NewProject { name: "R".into(), base_path: Some(f.repo.to_string_lossy().into()), ..Default::default() };
    let p = c.create_project(&np).await.unwrap();
    let t = c.create_task(&NewTask { project_id: p.id.clone(), title: "Greet".into(), ..Default::default() }).await;
    let t = t.unwrap();
    let seq = c.health().await.unwrap().seq;
    let mut events = std::pin::pin!(c.watch(Some(seq)));

    // The agent waits in its workspace for a line.
    let ns = NewSession {
        project_id: p.id.clone(),
        task_ids: vec![t.id.clone()],
        agent_id: Some("agent".into()),
        ..Default::default()
    };
    let session = c.create_session(&ns).await.unwrap();
    let ws = session.workspace_id.clone().expect("a git project's session runs in a workspace");
    write(std::path::Path::new(&c.workspace(&ws).await.unwrap().path).join("src/lib.rs"), "fn main() { hi() }\n");

    // Two drafts (one on a range), an edit; each an event.
    let (status, a) =
        post(&s, &format!("/workspaces/{ws}/comments"), json!({"path": "src/lib.rs", "line": 1, "body": "Say hello."}))
            .await;
    assert_eq!(status, 201, "{a}");
    let a: ReviewComment = serde_json::from_value(a).unwrap();
    until_event(&mut events, |e| matches!(e, EventData::CommentCreated(x) if x.id == a.id)).await;
    let nc = NewComment {
        path: "README.md".into(),
        line: 1,
        end_line: Some(2),
        body: "Shorter.".into(),
        ..Default::default()
    };
    let b = c.create_comment(&ws, &nc).await.unwrap();
    let patch = CommentPatch { body: Some("Say hello, politely.".into()), ..Default::default() };
    let a = c.update_comment(&a.id, &patch).await.unwrap();
    until_event(&mut events, |e| matches!(e, EventData::CommentUpdated(x) if x.id == a.id && x.version == 2)).await;
    let mut listed = c.comments(&ws).await.unwrap();
    listed.sort_by(ReviewComment::in_order);
    assert_eq!(listed, vec![b.clone(), a.clone()]);

    // Refusals: a bad line, an unknown field, a missing workspace, a body too long.
    let bad = [
        json!({"path": "a", "line": 0, "body": "x"}),
        json!({"path": "a", "line": 1, "body": "x", "colour": "red"}),
        json!({"path": "a", "line": 1, "body": "x".repeat(limits::COMMENT_MAX + 1)}),
    ];
    for body in bad {
        assert_eq!(post(&s, &format!("/workspaces/{ws}/comments"), body).await.0, 400);
    }
    assert_eq!(post(&s, "/workspaces/ws_missing/comments", json!({"path": "a", "line": 1, "body": "x"})).await.0, 404);
    assert_eq!(get(&s, "/workspaces/ws_missing/comments").await.0, 404);
    assert_eq!(post(&s, "/workspaces/ws_missing/comments/send", json!({})).await.0, 404);

    // `maestro review` inside the session: its workspace's comments, by place.
    let env = [("MAESTRO_SESSION_ID", session.id.as_str())];
    let o = cli_env(&s.api, &["review", "--json"], &env);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let shown: Vec<ReviewComment> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(shown, listed);
    let text = stdout(&cli_env(&s.api, &["review"], &env));
    assert!(text.contains("README.md:1-2  draft  ") && text.contains("\n    Shorter.\n"), "{text}");
    assert!(text.find("README.md").unwrap() < text.find("src/lib.rs:1").unwrap(), "{text}");

    // Sent: typed into the waiting agent as one line, which it repeats; both become sent.
    let (status, sent) = post(&s, &format!("/workspaces/{ws}/comments/send"), json!({})).await;
    assert_eq!(status, 200, "{sent}");
    let sent: CommentsSent = serde_json::from_value(sent).unwrap();
    assert_eq!((sent.session_id.as_str(), sent.started), (session.id.as_str(), false));
    assert!(sent.comments.iter().all(|x| x.status == CommentStatus::Sent), "{sent:?}");
    let said = printed_when_ended(&s, &session.id, seq).await;
    let heard = "fake agent: heard: Review comments on your changes; please address each: README.md:1-2 Shorter. \
                 src/lib.rs:1 Say hello, politely.\r\n";
    assert!(said.contains(heard), "{said}");
    // Nothing left to send: 409.
    assert_eq!(post(&s, &format!("/workspaces/{ws}/comments/send"), json!({})).await.0, 409);
    // A sent comment keeps its words, and is resolved.
    let (status, _) = call(&s, Method::PATCH, &format!("/comments/{}", a.id), Some(json!({"body": "other"}))).await;
    assert_eq!(status, 409);
    let resolved = stdout(&cli_env(&s.api, &["review", "resolve", &a.id], &[]));
    assert!(resolved.contains("resolved"), "{resolved}");

    // No session runs in it now: one is started on it, with the drafts as its prompt.
    let nc =
        NewComment { path: "src/lib.rs".into(), line: 1, body: "Add a test.\nIn tests/.".into(), ..Default::default() };
    c.create_comment(&ws, &nc).await.unwrap();
    let since = c.health().await.unwrap().seq;
    let sent = c.send_comments(&ws, &SendComments { agent_id: Some("done".into()) }).await.unwrap();
    assert!(sent.started);
    let started = c.session(&sent.session_id).await.unwrap();
    assert_eq!((started.workspace_id.as_deref(), started.task_ids.clone()), (Some(ws.as_str()), vec![t.id.clone()]));
    let said = printed_when_ended(&s, &started.id, since).await;
    assert!(
        said.contains("prompt argument: Greet\r\n\r\nReview comments on your changes; please address each:\r\n\r\nsrc/lib.rs:1\r\nAdd a test.\r\nIn tests/.\r\n"),
        "{said}"
    );

    // Deleted: gone from the list, an event.
    c.delete_comment(&b.id).await.unwrap();
    until_event(&mut events, |e| matches!(e, EventData::CommentDeleted(x) if x.id == b.id)).await;
    assert!(!c.comments(&ws).await.unwrap().iter().any(|x| x.id == b.id));
}

/// A shell running in the workspace is never typed the comments (it would run them as
/// commands): an agent's session is started with them instead, or, with no agent to start,
/// the send is refused and they stay drafts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_are_never_typed_into_a_shell() {
    let f = fixture();
    let done = format!("done=echo | sh {SCRIPT} {{prompt}}");
    for agents in [&[][..], &["--agent", done.as_str()][..]] {
        let s = Start { args: agents, ..Default::default() }.run().await;
        let c = &s.client;
        let np =
            NewProject { name: "R".into(), base_path: Some(f.repo.to_string_lossy().into()), ..Default::default() };
        let p = c.create_project(&np).await.unwrap();
        let nt = NewTask { project_id: p.id.clone(), title: format!("Shell {}", agents.len()), ..Default::default() };
        let t = c.create_task(&nt).await.unwrap();
        let ns = NewSession { project_id: p.id.clone(), task_ids: vec![t.id.clone()], ..Default::default() };
        let shell = c.create_session(&ns).await.unwrap();
        let ws = shell.workspace_id.clone().expect("a git project's session runs in a workspace");
        let nc =
            NewComment { path: "README.md".into(), line: 1, body: "Run `touch pwned`.".into(), ..Default::default() };
        let draft = c.create_comment(&ws, &nc).await.unwrap();
        let (status, answer) = post(&s, &format!("/workspaces/{ws}/comments/send"), json!({})).await;
        if agents.is_empty() {
            assert_eq!(status, 409, "{answer}");
            assert!(answer["error"]["message"].as_str().unwrap().contains("no agent runs in workspace"), "{answer}");
            assert_eq!(c.comments(&ws).await.unwrap(), vec![draft]);
        } else {
            assert_eq!(status, 200, "{answer}");
            let sent: CommentsSent = serde_json::from_value(answer).unwrap();
            assert!(sent.started && sent.session_id != shell.id, "{sent:?}");
            assert_eq!(c.session(&sent.session_id).await.unwrap().agent_id.as_deref(), Some("done"));
        }
        assert_eq!(c.session(&shell.id).await.unwrap().status, SessionStatus::Running);
    }
}
