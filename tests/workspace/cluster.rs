//! A workspace on one node of a cluster, asked of another (SPEC §8 "Where"): two server
//! processes on one PostgreSQL database, a workspace made on A; its files, a diff, refusals,
//! archive, restore, commit, a conflicting merge, push and a pull request asked of B (over REST and with
//! the CLI) are A's answers; with A gone B says so. Needs PostgreSQL, as `postgres.rs` (`scripts/test.sh` runs it with `--ignored`).

use super::functions::sfn;
use super::{fixture, write};
use crate::cli::cli_env;
use crate::common::{Maestro, Start};
use maestro::api::functions::workspaces::PullRequestsOffered;
use maestro::model::*;
use maestro::rest_client::ClientError;
use std::time::{Duration, Instant};

const TOKEN: &str = "workspace-cluster-token-0123456789abcdef";

/// What B answers for `w`'s files once it has seen A beat (it reads the `nodes` table every
/// second: until then A is "not answering").
async fn files_via(b: &Maestro, id: &str) -> Result<WorkspaceFiles, ClientError> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match b.client.workspace_files(id).await {
            Err(e) if e.to_string().contains("is not answering") && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            answer => return answer,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/test.sh runs it"]
async fn a_workspace_on_one_node_is_read_archived_and_restored_through_another() {
    let f = fixture();
    let (_, url) = crate::postgres::database("wsrelay");
    let (args, env) = (["--database-url", url.as_str()], [("MAESTRO_TOKEN", TOKEN)]);
    // B's `gh` is a stand-in that is logged in; A's runs nothing.
    let gh = f.repo.parent().unwrap().join("gh");
    write(gh.clone(), "#!/bin/sh\n[ \"$1 $2\" = 'auth status' ]\n");
    std::fs::set_permissions(&gh, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let a_env = [env[0], ("MAESTRO_GH", "/nonexistent/gh")];
    let b_env = [env[0], ("MAESTRO_GH", gh.to_str().unwrap())];
    let a = Start { args: &args, env: &a_env, ..Default::default() }.run().await;
    let b = Start { args: &args, env: &b_env, ..Default::default() }.run().await;
    let base_path = Some(f.repo.to_string_lossy().into_owned());
    let p =
        a.client.create_project(&NewProject { name: "Repo".into(), base_path, ..Default::default() }).await.unwrap();
    let t = a.client.create_task(&NewTask { project_id: p.id, title: "Relay".into(), ..Default::default() }).await;
    let w = a.client.create_workspace(&NewWorkspace { task_id: t.unwrap().id, base: None }).await.unwrap();
    assert_eq!(w.node, a.client.health().await.unwrap().node, "made on A's disk");
    let dir = std::path::PathBuf::from(&w.path);
    write(dir.join("login.rs"), "fn login() {}\nfn logout() {}\n");

    // Reads: B's answers are A's.
    let via_b = files_via(&b, &w.id).await.unwrap();
    assert_eq!(via_b, a.client.workspace_files(&w.id).await.unwrap());
    assert_eq!(via_b.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["login.rs"]);
    let diff = b.client.workspace_diff(&w.id, "login.rs", None).await.unwrap();
    assert_eq!(diff, a.client.workspace_diff(&w.id, "login.rs", None).await.unwrap());
    assert!(matches!(&diff, FileDiff::Text { diff } if diff.contains("+fn logout() {}")), "{diff:?}");
    let o = cli_env(&b.api, &["workspace", "diff", &w.id, "--stat"], &env);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "2\t0\tlogin.rs\n", "{}", String::from_utf8_lossy(&o.stderr));

    // A's refusals come back as they are: its status, code and words.
    match b.client.workspace_diff(&w.id, "../outside", None).await {
        Err(ClientError::Api { status: 400, code, message }) => {
            assert_eq!(code, "invalid");
            assert!(message.contains("leads out of the workspace"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match b.client.archive_workspace(&w.id, false).await {
        Err(ClientError::Api { status: 409, message, .. }) => assert!(message.contains("login.rs"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(dir.join("login.rs").is_file(), "a refusal changes nothing");

    // Mutations: done on A's disk, recorded once, seen by both.
    let archived = b.client.archive_workspace(&w.id, true).await.unwrap();
    assert_eq!(archived.status, WorkspaceStatus::Archived);
    assert!(!dir.exists(), "A's worktree is gone");
    let restored = b.client.restore_workspace(&w.id).await.unwrap();
    assert_eq!(restored.status, WorkspaceStatus::Active);
    assert!(dir.join("README.md").is_file());
    assert_eq!(a.client.workspace(&w.id).await.unwrap(), restored);

    // Landing through B: a commit on A's disk; a conflicting merge's files come back.
    write(dir.join("README.md"), "one\nTWO (agent)\nthree\n");
    let committed = b.client.commit_workspace(&w.id, Some("Shout".into())).await.unwrap();
    assert_eq!((committed.changes.ahead, committed.changes.dirty), (1, false));
    write(f.repo.join("README.md"), "one\nTWO (person)\nthree\n");
    super::git(&f.repo, &["commit", "-q", "-am", "person"]);
    let merge = b.http().post(format!("{}/workspaces/{}/merge", b.api, w.id)).json(&serde_json::json!({}));
    let res = merge.send().await.unwrap();
    assert_eq!(res.status().as_u16(), 409);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["files"], serde_json::json!(["README.md"]), "{body}");
    match b.client.push_workspace(&w.id).await {
        Err(ClientError::Api { status: 409, message, .. }) => assert!(message.contains("no remote"), "{message}"),
        other => panic!("{other:?}"),
    }
    // Asked where a push would go, A's repository says it has none, then its remote.
    assert!(b.client.pull_requests(&w.id).await.unwrap().push_refused.is_some_and(|r| r.contains("no remote")));
    let bare = f.repo.parent().unwrap().join("origin.git");
    super::git(f.repo.parent().unwrap(), &["init", "-q", "--bare", bare.to_str().unwrap()]);
    super::git(&f.repo, &["remote", "add", "origin", bare.to_str().unwrap()]);
    assert_eq!(b.client.pull_requests(&w.id).await.unwrap().remote.as_deref(), Some("origin"));
    // A pull request is A's to open as well: A's answer comes back (its `gh` is missing or
    // logged out here), not B's "ask that server".
    match b.client.open_pull_request(&w.id).await {
        Err(ClientError::Api { status: 409, message, .. }) => {
            assert!(message.contains("where the server runs"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // Whether one can be opened is A's answer too: B's own `gh` is logged in, A's is not,
    // so neither browser offers "Open pull request" for it.
    let asked = b.client.pull_requests(&w.id).await.unwrap();
    assert!(
        !asked.available && asked.reason.as_deref().is_some_and(|r| r.contains("where the server runs")),
        "{asked:?}"
    );
    let offered = async |node: &Maestro| {
        let (status, answer) = sfn::<PullRequestsOffered>(node, serde_json::json!({ "id": w.id })).await;
        (status, answer["available"].clone())
    };
    let no = (200, serde_json::json!(false));
    assert_eq!((offered(&b).await, offered(&a).await), (no.clone(), no));

    // A is gone: B says which node holds the workspace and that it cannot be reached; the
    // record itself is the shared database's and still reads.
    drop(a); // SIGKILL
    let err = b.client.workspace_files(&w.id).await.unwrap_err();
    assert_eq!(err.status(), Some(503), "{err}");
    let node = w.node.clone().unwrap();
    assert!(err.to_string().contains(&format!("workspace {} is on server node {node}", w.id)), "{err}");
    assert_eq!(b.client.archive_workspace(&w.id, true).await.unwrap_err().status(), Some(503));
    assert_eq!(b.client.workspace(&w.id).await.unwrap().status, WorkspaceStatus::Active);
}
