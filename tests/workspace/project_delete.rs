//! A project deleted with everything of it, against a real server process and a real
//! repository: over REST (`DELETE /api/projects/:id?cascade=true`) refused while a session
//! runs and while a worktree holds uncommitted work, then everything goes in one step —
//! the worktree removed, its branch and the project's own files kept — and with the CLI
//! (`maestro project delete ID --with-tasks`).

use super::api::{call, get, post};
use super::sessions::{project, start};
use super::{fixture, git, write};
use crate::cli::{cli, json, ok};
use crate::common::Start;
use maestro::model::*;
use serde_json::json;
use std::path::PathBuf;

fn message(body: &serde_json::Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_goes_with_its_tasks_sessions_and_clean_worktrees_and_nothing_else() {
    let f = fixture();
    write(f.repo.join("notes.txt"), "the person's own, never committed\n");
    let server = Start::default().run().await;
    let (p, t) = project(&server, &f.repo).await;
    let other = server.client.create_project(&NewProject { name: "Other".into(), ..Default::default() }).await.unwrap();
    let s = start(&server, &p, &t, json!({"workspace": "none"})).await;
    let (status, body) = post(&server, "/workspaces", json!({"taskId": t.id})).await;
    assert_eq!(status, 201, "{body}");
    let w: Workspace = serde_json::from_value(body).unwrap();
    let dir = PathBuf::from(&w.path);
    let delete = |query: &'static str| {
        let path = format!("/projects/{}{query}", p.id);
        let server = &server;
        async move { call(server, reqwest::Method::DELETE, &path, None).await }
    };

    // Without `cascade` a project with tasks stays, as scripts relied on.
    let (status, body) = delete("").await;
    assert_eq!(status, 409, "{body}");
    assert!(message(&body).contains("with everything of it"), "{body}");
    assert_eq!(delete("?cascade=maybe").await.0, 400);
    // A running session: refused, naming it and the way out.
    let (status, body) = delete("?cascade=true").await;
    assert_eq!(status, 409, "{body}");
    assert!(message(&body).contains(&s.id) && message(&body).contains("end them first"), "{body}");
    let (status, body) =
        call(&server, reqwest::Method::PATCH, &format!("/sessions/{}", s.id), Some(json!({"status": "completed"})))
            .await;
    assert_eq!(status, 200, "{body}");
    // Uncommitted work in the worktree: refused, naming the workspace and the file; nothing changed.
    write(dir.join("half-done.rs"), "fn half() {}\n");
    let (status, body) = delete("?cascade=true").await;
    assert_eq!(status, 409, "{body}");
    assert!(message(&body).contains(&w.branch) && message(&body).contains("half-done.rs"), "{body}");
    assert!(dir.join("half-done.rs").is_file());
    assert_eq!(get(&server, &format!("/workspaces/{}", w.id)).await.1["status"], "active");

    // Committed: the project goes with everything of it, in one step.
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "half"]);
    let with_key = |key: &str| {
        server.http().delete(format!("{}/projects/{}?cascade=true", server.api, p.id)).header("Idempotency-Key", key)
    };
    let res = with_key("gone-1").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap(), json!({"success": true}));
    assert!(!dir.exists(), "the worktree is removed");
    assert!(git(&f.repo, &["branch", "--list", &w.branch]).contains(&w.branch), "its branch stays");
    assert!(f.repo.join("notes.txt").is_file() && f.repo.join("README.md").is_file(), "the project's files stay");
    for gone in [
        format!("/projects/{}", p.id),
        format!("/tasks/{}", t.id),
        format!("/sessions/{}", s.id),
        format!("/workspaces/{}", w.id),
    ] {
        assert_eq!(get(&server, &gone).await.0, 404, "{gone}");
    }
    assert_eq!(get(&server, &format!("/projects/{}", other.id)).await.0, 200);
    // A retry with the same key answers as the first; without one the project is not found.
    assert_eq!(with_key("gone-1").send().await.unwrap().status(), 200);
    assert_eq!(delete("?cascade=true").await.0, 404);
}

#[test]
fn the_cli_deletes_a_project_with_its_tasks_when_told() {
    let s = Start::default().run_blocking();
    let api = &s.api;
    let p: Project = json(api, &["project", "create", "P"]);
    let t: Task = json(api, &["task", "create", "t", "--project", &p.id]);
    let o = cli(api, &["project", "delete", &p.id]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("maestro project delete {} --with-tasks", p.id)), "{err}");
    assert_eq!(ok(api, &["project", "delete", &p.id, "--with-tasks"]), "");
    assert_eq!(cli(api, &["task", "get", &t.id]).status.code(), Some(3));
    assert_eq!(cli(api, &["project", "get", &p.id]).status.code(), Some(3));
}
