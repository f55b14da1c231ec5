//! Landing over the REST API of a real server process and a real repository: commit with
//! the task's title, push without and with a remote, a squash merge that brings the
//! person's clean checkout along (retried with its key: the first answer), a conflicting
//! merge and rebase refused with their `files` and nothing changed, and bad requests.

use super::api::{get, post};
use super::functions::sfn;
use super::{fixture, git, write};
use crate::common::{Maestro, Start};
use maestro::api::functions::workspaces::{OpenPullRequest, PullRequestsOffered};
use maestro::model::*;
use serde_json::{json, Value};
use std::path::PathBuf;

async fn workspace(server: &Maestro, task: &str) -> Workspace {
    let (status, body) = post(server, "/workspaces", json!({ "taskId": task })).await;
    assert_eq!(status, 201, "{body}");
    serde_json::from_value(body).unwrap()
}

async fn keyed(server: &Maestro, path: &str, key: &str, body: Value) -> (u16, Value) {
    let req = server.http().post(format!("{}{path}", server.api)).header("Idempotency-Key", key).json(&body);
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_is_committed_pushed_and_merged_over_rest() {
    let f = fixture();
    let server = Start::default().run().await;
    let c = &server.client;
    let base_path = Some(f.repo.to_string_lossy().into_owned());
    let p = c.create_project(&NewProject { name: "Repo".into(), base_path, ..Default::default() }).await.unwrap();
    let nt = NewTask { project_id: p.id.clone(), title: "Add dark mode".into(), ..Default::default() };
    let t = c.create_task(&nt).await.unwrap();
    let w = workspace(&server, &t.id).await;
    let dir = PathBuf::from(&w.path);
    write(dir.join("dark.css"), "body { background: black }\n");

    // Commit: everything, the task's title as the message.
    let (status, body) = post(&server, &format!("/workspaces/{}/commit", w.id), json!({})).await;
    assert_eq!(status, 200, "{body}");
    let committed: Workspace = serde_json::from_value(body).unwrap();
    assert_eq!((committed.changes.ahead, committed.changes.dirty, committed.changes.files), (1, false, 1));
    assert_eq!(git(&dir, &["log", "-1", "--format=%s"]), "Add dark mode");
    let (status, body) = post(&server, &format!("/workspaces/{}/commit", w.id), json!({"message": "again"})).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("nothing to commit"), "{body}");

    // Push: no remote is a refusal; then the branch reaches the bare remote.
    let push = format!("/workspaces/{}/push", w.id);
    let (status, body) = post(&server, &push, json!(null)).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("no remote"), "{body}");
    let bare = f.repo.parent().unwrap().join("origin.git");
    git(f.repo.parent().unwrap(), &["init", "-q", "--bare", bare.to_str().unwrap()]);
    git(&f.repo, &["remote", "add", "origin", bare.to_str().unwrap()]);
    let (status, body) = post(&server, &push, json!(null)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(git(&bare, &["rev-parse", &w.branch]), git(&dir, &["rev-parse", "HEAD"]));

    // A second attempt changes the same line as the person will.
    let other = workspace(&server, &t.id).await;
    let other_dir = PathBuf::from(&other.path);
    write(other_dir.join("README.md"), "one\nTWO (agent)\nthree\n");
    let (status, body) =
        post(&server, &format!("/workspaces/{}/commit", other.id), json!({"message": "Shout two"})).await;
    assert_eq!(status, 200, "{body}");

    // Squash merge; the person's checkout is on main and clean: it follows. A retry with
    // the same key gets the first answer.
    let merge = format!("/workspaces/{}/merge", w.id);
    let (status, body) = keyed(&server, &merge, "m-1", json!({"strategy": "squash"})).await;
    assert_eq!(status, 200, "{body}");
    let merged: Workspace = serde_json::from_value(body).unwrap();
    assert_eq!(merged.status, WorkspaceStatus::Merged);
    assert_eq!(git(&f.repo, &["log", "-1", "--format=%s", "main"]), "Add dark mode");
    assert!(f.repo.join("dark.css").is_file());
    let (status, again) = keyed(&server, &merge, "m-1", json!({"strategy": "squash"})).await;
    assert_eq!((status, again["version"].as_u64()), (200, Some(merged.version)), "{again}");
    let (status, _) = post(&server, &format!("/workspaces/{}/commit", w.id), json!({})).await;
    assert_eq!(status, 409, "a merged workspace is not committed to");
    assert_eq!(post(&server, &push, json!(null)).await.0, 200, "a merged workspace's branch may still be pushed");

    // The person changes the same line: merge and rebase refused with the file, nothing changed.
    write(f.repo.join("README.md"), "one\nTWO (person)\nthree\n");
    git(&f.repo, &["commit", "-q", "-am", "person"]);
    let refs = || git(&f.repo, &["for-each-ref", "--format=%(refname) %(objectname)"]);
    let before = refs();
    for route in ["merge", "rebase"] {
        let (status, body) = post(&server, &format!("/workspaces/{}/{route}", other.id), json!({})).await;
        assert_eq!(status, 409, "{route}: {body}");
        assert_eq!(body["error"]["files"], json!(["README.md"]), "{route}: {body}");
        assert_eq!(refs(), before, "{route}");
        assert_eq!(std::fs::read_to_string(other_dir.join("README.md")).unwrap(), "one\nTWO (agent)\nthree\n");
        assert_eq!(git(&f.repo, &["status", "--porcelain"]), "");
    }
    let (_, still) = get(&server, &format!("/workspaces/{}", other.id)).await;
    assert_eq!(still["status"], "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_landing_requests_are_refused_with_4xx() {
    let server = Start::default().run().await;
    for (route, body) in [
        ("merge", json!({"strategy": "octopus"})),
        ("merge", json!({"squash": true})),
        ("commit", json!({"message": ""})),
        ("commit", json!({"message": "  \n"})),
        ("commit", json!({"message": null})),
        ("commit", json!({"message": "a\u{1b}[31m"})),
        ("commit", json!({"message": 7})),
    ] {
        let (status, answer) = post(&server, &format!("/workspaces/ws_missing/{route}"), body.clone()).await;
        assert_eq!(status, 400, "{route} {body}: {answer}");
    }
    for route in ["commit", "merge", "rebase", "push", "pr"] {
        let (status, answer) = post(&server, &format!("/workspaces/ws_missing/{route}"), json!({})).await;
        assert_eq!(status, 404, "{route}: {answer}");
    }
    // A null strategy is the default, as the document says (a merge commit).
    let (status, answer) = post(&server, "/workspaces/ws_missing/merge", json!({"strategy": null})).await;
    assert_eq!(status, 404, "{answer}");
    let (_, doc) = get(&server, "/openapi.json").await;
    for route in ["commit", "merge", "rebase", "push", "pr"] {
        let path = format!("/workspaces/{{id}}/{route}");
        assert!(doc["paths"][&path]["post"]["responses"]["409"].is_object(), "{path} and its 409 are in the document");
    }
    assert!(doc["components"]["schemas"]["ErrorDetail"]["properties"]["files"].is_object(), "{doc}");
}

/// The project's merge strategy is what a merge that names none does; pull requests are
/// refused with the reason where the server has no `gh` (a name that runs nothing stands
/// in for it, whatever this machine has), and the server functions say they are not offered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_projects_strategy_is_the_default_and_no_gh_means_no_pull_requests() {
    let f = fixture();
    let server = Start { env: &[("MAESTRO_GH", "/nonexistent/gh")], ..Default::default() }.run().await;
    let c = &server.client;
    let base_path = Some(f.repo.to_string_lossy().into_owned());
    let p = c.create_project(&NewProject { name: "Repo".into(), base_path, ..Default::default() }).await.unwrap();
    assert_eq!(p.merge_strategy, MergeStrategy::Merge);
    let squash = ProjectPatch { merge_strategy: Some(MergeStrategy::Squash), ..Default::default() };
    assert_eq!(c.update_project(&p.id, &squash).await.unwrap().merge_strategy, MergeStrategy::Squash);
    let nt = NewTask { project_id: p.id.clone(), title: "Add a logo".into(), ..Default::default() };
    let t = c.create_task(&nt).await.unwrap();
    let w = workspace(&server, &t.id).await;
    write(PathBuf::from(&w.path).join("logo.svg"), "<svg/>\n");
    assert_eq!(post(&server, &format!("/workspaces/{}/commit", w.id), json!({})).await.0, 200);

    // No remote: neither a push nor a pull request, and asked, the answer says so first.
    let (status, body) = post(&server, &format!("/workspaces/{}/pr", w.id), json!(null)).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("no remote"), "{body}");
    let asked = c.pull_requests(&w.id).await.unwrap();
    let no_remote = |r: &Option<String>| r.as_deref().is_some_and(|r| r.contains("no remote"));
    assert!(!asked.available && no_remote(&asked.reason) && no_remote(&asked.push_refused), "{asked:?}");
    assert_eq!(asked.remote, None);
    // With one, a push would go there; a pull request still needs `gh`.
    let bare = f.repo.parent().unwrap().join("origin.git");
    git(f.repo.parent().unwrap(), &["init", "-q", "--bare", bare.to_str().unwrap()]);
    git(&f.repo, &["remote", "add", "origin", bare.to_str().unwrap()]);
    let (status, body) = post(&server, &format!("/workspaces/{}/pr", w.id), json!(null)).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("gh is not installed"), "{body}");
    let (status, offered) = sfn::<PullRequestsOffered>(&server, json!({"id": w.id})).await;
    assert_eq!(status, 200, "{offered}");
    assert_eq!((&offered["available"], &offered["remote"]), (&json!(false), &json!("origin")), "{offered}");
    assert!(offered.get("pushRefused").is_none(), "{offered}");
    let asked = c.pull_requests(&w.id).await.unwrap();
    assert!(
        !asked.available && asked.reason.as_deref().is_some_and(|r| r.contains("gh is not installed")),
        "{asked:?}"
    );
    assert_eq!(c.pull_requests("ws_missing").await.unwrap_err().status(), Some(404));
    let (status, body) = sfn::<OpenPullRequest>(&server, json!({"id": w.id})).await;
    assert_eq!(status, 409, "{body}");

    let (status, body) = post(&server, &format!("/workspaces/{}/merge", w.id), json!({})).await;
    assert_eq!(status, 200, "{body}");
    // Squashed: one commit on main, no merge commit.
    assert_eq!(git(&f.repo, &["log", "-1", "--format=%s %p", "main"]).split(' ').count(), 4, "one parent");
    assert_eq!(git(&f.repo, &["log", "-1", "--format=%s", "main"]), "Add a logo");
    assert_eq!(c.task(&t.id).await.unwrap().status, TaskStatus::Completed, "merging completes the task");
    // Merged, it is not proposed: asked, the answer says why, as opening one would.
    let asked = c.pull_requests(&w.id).await.unwrap();
    assert!(!asked.available && asked.reason.as_deref().is_some_and(|r| r.contains("only an active one")), "{asked:?}");
}
