//! The browser's way to a workspace's changes — the server functions the Changes tab calls
//! — against a real server process and repository: the same answers and refusals as REST.

use super::{fixture, write};
use crate::common::Start;
use leptos::server_fn::ServerFn;
use maestro::api::functions::workspaces::{GetWorkspaceFiles, GetWorkspaces, ListWorkspacesPage, WorkspaceDiff};
use maestro::model::*;
use serde_json::{json, Value};
use std::path::PathBuf;

/// Calls server function `F` (its path carries a hash: taken from the function itself).
pub(super) async fn sfn<F: ServerFn>(server: &crate::common::Maestro, body: Value) -> (u16, Value) {
    let url = format!("{}{}", server.api.trim_end_matches("/api"), F::PATH);
    let res = server.http().post(url).json(&body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_changes_tab_reads_files_and_diffs_with_the_rest_apis_refusals() {
    let f = fixture();
    let server = Start::default().run().await;
    let c = &server.client;
    let base_path = Some(f.repo.to_string_lossy().into_owned());
    let p = c.create_project(&NewProject { name: "Repo".into(), base_path, ..Default::default() }).await.unwrap();
    let new = NewTask { project_id: p.id.clone(), title: "Edit".into(), ..Default::default() };
    let t = c.create_task(&new).await.unwrap();
    let w: Workspace = {
        let res = server.http().post(format!("{}/workspaces", server.api)).json(&json!({"taskId": t.id}));
        res.send().await.unwrap().json().await.unwrap()
    };
    write(PathBuf::from(&w.path).join("notes.md"), "one\ntwo\n");

    let (status, files) = sfn::<GetWorkspaceFiles>(&server, json!({"id": w.id})).await;
    assert_eq!(status, 200, "{files}");
    let files: WorkspaceFiles = serde_json::from_value(files).unwrap();
    assert_eq!(files.files.iter().map(|f| (f.path.as_str(), f.additions)).collect::<Vec<_>>(), [("notes.md", 2)]);
    let (status, diff) = sfn::<WorkspaceDiff>(&server, json!({"id": w.id, "path": "notes.md"})).await;
    assert_eq!((status, diff["kind"].as_str()), (200, Some("text")), "{diff}");
    assert!(diff["diff"].as_str().unwrap().contains("+two"), "{diff}");

    // The project's active workspaces and the open sessions' ones, for the rows' totals.
    let (status, page) = sfn::<ListWorkspacesPage>(&server, json!({"project_id": p.id, "cursor": null})).await;
    assert_eq!((status, page["rows"][0]["id"].as_str()), (200, Some(w.id.as_str())), "{page}");
    let (status, got) = sfn::<GetWorkspaces>(&server, json!({"ids": [w.id, "ws_gone"]})).await;
    assert_eq!((status, got[0].as_array().map(Vec::len)), (200, Some(1)), "{got}");

    let too_long = "a".repeat(5000);
    let refused = [
        sfn::<GetWorkspaceFiles>(&server, json!({"id": "ws_missing"})).await,
        sfn::<WorkspaceDiff>(&server, json!({"id": "ws_missing", "path": "a"})).await,
        sfn::<WorkspaceDiff>(&server, json!({"id": w.id, "path": "../etc/passwd"})).await,
        sfn::<WorkspaceDiff>(&server, json!({"id": w.id, "path": ""})).await,
        sfn::<WorkspaceDiff>(&server, json!({"id": w.id, "path": too_long})).await,
        sfn::<WorkspaceDiff>(&server, json!({"id": w.id, "path": "a", "old_path": "/etc/passwd"})).await,
        sfn::<ListWorkspacesPage>(&server, json!({"project_id": p.id, "cursor": "nonsense"})).await,
        sfn::<GetWorkspaces>(&server, json!({"ids": vec!["ws_x"; 1001]})).await,
    ];
    let statuses: Vec<u16> = refused.iter().map(|r| r.0).collect();
    assert_eq!(statuses, [404, 404, 400, 400, 400, 400, 400, 400], "{refused:?}");
}
