//! The REST API of workspaces against a real server process and a real repository: make
//! one for a task, an agent writes a file and `workspace:updated` reaches `/ws`, its files
//! and a diff, archive refused with uncommitted work and then forced, restore; and what
//! bad requests answer.

use super::{fixture, write};
use crate::common::{Maestro, Start};
use futures::StreamExt;
use maestro::model::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

pub(super) async fn call(server: &Maestro, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = server.http().request(method, format!("{}{path}", server.api));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub(super) async fn get(server: &Maestro, path: &str) -> (u16, Value) {
    call(server, reqwest::Method::GET, path, None).await
}

pub(super) async fn post(server: &Maestro, path: &str, body: Value) -> (u16, Value) {
    call(server, reqwest::Method::POST, path, Some(body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_made_over_rest_is_followed_live_archived_and_restored() {
    let f = fixture();
    let server = Start::default().run().await;
    let c = &server.client;
    let base_path = Some(f.repo.to_string_lossy().into_owned());
    let p = c.create_project(&NewProject { name: "Repo".into(), base_path, ..Default::default() }).await.unwrap();
    let t = c
        .create_task(&NewTask { project_id: p.id.clone(), title: "Fix the login".into(), ..Default::default() })
        .await
        .unwrap();
    let mut events = std::pin::pin!(c.watch(Some(c.health().await.unwrap().seq)));

    let (status, body) = post(&server, "/workspaces", json!({"taskId": t.id})).await;
    assert_eq!(status, 201, "{body}");
    let w: Workspace = serde_json::from_value(body).unwrap();
    assert!(w.branch.starts_with("maestro/fix-the-login-"), "{}", w.branch);
    assert_eq!(
        (w.task_id.as_str(), w.project_id.as_str(), w.status),
        (t.id.as_str(), p.id.as_str(), WorkspaceStatus::Active)
    );
    let dir = PathBuf::from(&w.path);
    assert!(dir.join("README.md").is_file());

    // An agent writes a file: `workspace:updated` with it reaches the event stream.
    write(dir.join("login.rs"), "fn login() {}\nfn logout() {}\n");
    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.next().await.expect("the event stream").expect("an event") {
                ServerMessage::Event(e) => match e.data {
                    EventData::WorkspaceUpdated(u) if u.id == w.id && u.changes.files == 1 => return u,
                    _ => {}
                },
                other => panic!("{other:?}"),
            }
        }
    })
    .await
    .expect("workspace:updated within 10 s of the write");
    assert_eq!((seen.changes.additions, seen.changes.dirty), (2, true));
    assert!(seen.version > w.version);

    let (status, files) = get(&server, &format!("/workspaces/{}/files", w.id)).await;
    assert_eq!(status, 200, "{files}");
    let files: WorkspaceFiles = serde_json::from_value(files).unwrap();
    assert_eq!(files.files.len(), 1);
    assert_eq!((files.files[0].path.as_str(), files.files[0].status), ("login.rs", FileStatus::Added));
    let (status, diff) = get(&server, &format!("/workspaces/{}/diff?path=login.rs", w.id)).await;
    assert_eq!(status, 200, "{diff}");
    assert_eq!(diff["kind"], "text");
    assert!(diff["diff"].as_str().unwrap().contains("+fn logout() {}"), "{diff}");
    for outside in ["../etc/passwd", "/etc/passwd", ".git/config"] {
        let (status, body) = get(&server, &format!("/workspaces/{}/diff?path={outside}", w.id)).await;
        assert_eq!(status, 400, "{outside}: {body}");
    }

    let (status, listed) = get(&server, &format!("/workspaces?taskId={}&status=active", t.id)).await;
    assert_eq!((status, listed[0]["id"].as_str()), (200, Some(w.id.as_str())));
    let (status, one) = get(&server, &format!("/workspaces/{}", w.id)).await;
    assert_eq!((status, one["branch"].as_str()), (200, Some(w.branch.as_str())));

    // Archiving would lose the new file: refused with why, then forced.
    let archive = format!("/workspaces/{}/archive", w.id);
    let (status, body) = post(&server, &archive, json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("login.rs"), "{body}");
    assert!(dir.join("login.rs").is_file(), "a refusal changes nothing");
    let (status, body) = post(&server, &archive, json!({"force": true})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("archived")), "{body}");
    assert!(!dir.exists());
    let (status, _) = get(&server, &format!("/workspaces/{}/files", w.id)).await;
    assert_eq!(status, 409, "an archived workspace has no files to read");

    let (status, body) = post(&server, &format!("/workspaces/{}/restore", w.id), json!(null)).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("active")), "{body}");
    assert!(dir.join("README.md").is_file() && !dir.join("login.rs").exists());
    let (status, _) = post(&server, &format!("/workspaces/{}/restore", w.id), json!(null)).await;
    assert_eq!(status, 409, "restoring an active workspace");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_workspace_requests_are_refused_with_4xx() {
    let f = fixture();
    let server = Start::default().run().await;
    let c = &server.client;
    let plain = c.create_project(&NewProject { name: "No dir".into(), ..Default::default() }).await.unwrap();
    let t = c.create_task(&NewTask { project_id: plain.id, title: "t".into(), ..Default::default() }).await.unwrap();
    let outside = f.repo.parent().unwrap().join("not-git");
    std::fs::create_dir_all(&outside).unwrap();
    let base_path = Some(outside.to_string_lossy().into_owned());
    let not_git =
        c.create_project(&NewProject { name: "Not git".into(), base_path, ..Default::default() }).await.unwrap();
    let u = c.create_task(&NewTask { project_id: not_git.id, title: "u".into(), ..Default::default() }).await.unwrap();

    for (body, want) in [
        (json!({"taskId": t.id}), 409),
        (json!({"taskId": u.id}), 409),
        (json!({"taskId": "task_missing"}), 404),
        (json!({"taskId": "bad id!"}), 400),
        (json!({"taskId": t.id, "extra": 1}), 400),
        (json!({"taskId": t.id, "base": null}), 400),
        (json!({}), 400),
    ] {
        let (status, answer) = post(&server, "/workspaces", body.clone()).await;
        assert_eq!(status, want, "{body}: {answer}");
        assert!(answer["error"]["code"].is_string(), "{answer}");
    }
    for path in ["/workspaces/ws_missing", "/workspaces/ws_missing/files", "/workspaces/ws_missing/diff?path=a.txt"] {
        assert_eq!(get(&server, path).await.0, 404, "{path}");
    }
    assert_eq!(get(&server, "/workspaces?status=lost").await.0, 400);
    assert_eq!(get(&server, "/workspaces/ws_missing/diff").await.0, 400, "a diff names its file");
    assert_eq!(post(&server, "/workspaces/ws_missing/archive", json!({"force": "yes"})).await.0, 400);
    assert_eq!(post(&server, "/workspaces/ws_missing/restore", json!(null)).await.0, 404);
    let (status, doc) = get(&server, "/openapi.json").await;
    assert_eq!(status, 200);
    for path in ["/workspaces", "/workspaces/{id}/diff", "/workspaces/{id}/archive", "/workspaces/{id}/restore"] {
        assert!(doc["paths"][path].is_object(), "{path} is in the API document");
    }
}

/// A server started again follows the active workspaces it has: what an agent wrote while
/// it was down is recorded at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_while_the_server_was_down_are_recorded_at_start() {
    let f = fixture();
    let data = tempfile::tempdir().unwrap();
    let server = Start { dir: Some(data.path()), ..Default::default() }.run().await;
    let c = &server.client;
    let base_path = Some(f.repo.to_string_lossy().into_owned());
    let p = c.create_project(&NewProject { name: "Repo".into(), base_path, ..Default::default() }).await.unwrap();
    let t = c.create_task(&NewTask { project_id: p.id, title: "t".into(), ..Default::default() }).await.unwrap();
    let (status, body) = post(&server, "/workspaces", json!({"taskId": t.id})).await;
    assert_eq!(status, 201, "{body}");
    let w: Workspace = serde_json::from_value(body).unwrap();
    assert!(w.path.starts_with(&data.path().canonicalize().unwrap().join("worktrees").to_string_lossy().into_owned()));
    drop(server);

    write(PathBuf::from(&w.path).join("while-down.txt"), "a\nb\nc\n");
    let server = Start { dir: Some(data.path()), ..Default::default() }.run().await;
    let c = &server.client;
    let mut events = std::pin::pin!(c.watch(Some(0)));
    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let ServerMessage::Event(e) = events.next().await.expect("the event stream").expect("an event") {
                if let EventData::WorkspaceUpdated(u) = e.data {
                    if u.id == w.id && u.changes.files == 1 {
                        return u;
                    }
                }
            }
        }
    })
    .await
    .expect("workspace:updated within 10 s of the start");
    assert_eq!(seen.changes.additions, 3);
}
