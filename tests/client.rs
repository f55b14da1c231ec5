//! The typed client (`maestro::rest_client`) against a real server process: every kind of
//! call, errors as the server words them, and a watch that resumes across a restart.

use futures::StreamExt;
use maestro::model::ServerMessage;
use maestro::model::*;
use maestro::rest_client::{Client, ClientError, SessionQuery, TaskQuery};
use std::time::Duration;

use crate::common;

use common::{free_port, Start};

async fn start(port: u16, dir: &std::path::Path) -> (common::Maestro, Client) {
    let srv = Start { port: Some(port), dir: Some(dir), ..Default::default() }.run().await;
    let client = srv.client.clone();
    (srv, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_and_the_servers_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (_srv, c) = start(free_port(), dir.path()).await;
    let p = c.create_project(&NewProject { name: "Web".into(), ..Default::default() }).await.unwrap();
    assert_eq!(c.projects().await.unwrap(), vec![p.clone()]);
    let p = c.update_project(&p.id, &ProjectPatch { name: Some("Site".into()), ..Default::default() }).await.unwrap();
    assert_eq!(c.project(&p.id).await.unwrap().name, "Site");

    let nt = NewTask { project_id: p.id.clone(), title: "Build".into(), ..Default::default() };
    let t = c.create_task(&nt).await.unwrap();
    let t =
        c.update_task(&t.id, &TaskPatch { status: Some(TaskStatus::InProgress), ..Default::default() }).await.unwrap();
    let q = TaskQuery { project_id: Some(p.id.clone()), status: Some(TaskStatus::InProgress) };
    assert_eq!(c.tasks(&q).await.unwrap().len(), 1);
    let t = c.add_subtask(&t.id, &NewSubtask { title: "step".into() }).await.unwrap();
    let sub = t.subtasks[0].id.clone();
    let done = SubtaskPatch { status: Some(SubtaskStatus::Completed), ..Default::default() };
    assert_eq!(c.update_subtask(&t.id, &sub, &done).await.unwrap().subtasks[0].status, SubtaskStatus::Completed);
    assert!(c.delete_subtask(&t.id, &sub).await.unwrap().subtasks.is_empty());

    let ns = NewSession { project_id: p.id.clone(), task_ids: vec![t.id.clone()], ..Default::default() };
    let s = c.create_session(&ns).await.unwrap();
    assert_eq!(c.task(&t.id).await.unwrap().session_ids, vec![s.id.clone()]);
    let err = c.link(&s.id, &t.id).await.unwrap_err();
    assert!(matches!(&err, ClientError::Api { status: 409, code, .. } if code == "conflict"), "{err:?}");
    assert!(c.unlink(&s.id, &t.id).await.unwrap().task_ids.is_empty());
    assert_eq!(c.link(&s.id, &t.id).await.unwrap().task_ids, vec![t.id.clone()]);
    let running =
        SessionQuery { task_id: Some(t.id.clone()), status: Some(SessionStatus::Running), ..Default::default() };
    assert_eq!(c.sessions(&running).await.unwrap().len(), 1);
    let patch = SessionPatch { status: Some(SessionStatus::Completed), ..Default::default() };
    assert_eq!(c.update_session(&s.id, &patch).await.unwrap().status, SessionStatus::Completed);
    assert_eq!(c.session(&s.id).await.unwrap().status, SessionStatus::Completed);
    c.delete_session(&s.id).await.unwrap();
    c.delete_task(&t.id).await.unwrap();
    c.delete_project(&p.id).await.unwrap();

    let err = c.task("task_nope").await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(err.to_string().contains("task_nope"), "{err}");
    let err = c.create_project(&NewProject { name: " ".into(), ..Default::default() }).await.unwrap_err();
    assert!(matches!(&err, ClientError::Api { status: 400, code, .. } if code == "invalid"), "{err:?}");
    let events = c.events(0, 1000).await.unwrap();
    assert_eq!(events.len() as u64, c.health().await.unwrap().seq);

    let nobody = Client::new(&format!("http://127.0.0.1:{}/api", free_port()), None);
    assert!(matches!(nobody.health().await, Err(ClientError::Unreachable { .. })));
}

async fn next(w: &mut (impl futures::Stream<Item = Result<ServerMessage, ClientError>> + Unpin)) -> ServerMessage {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), w.next()).await.expect("no message in time") {
            Some(Ok(m)) => return m,
            Some(Err(ClientError::Unreachable { .. })) => {} // the restart below
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_resumes_after_the_server_restarts_with_no_gap_and_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (srv, c) = start(port, dir.path()).await;
    let mut watch = Box::pin(c.watch(Some(0)));
    let p = c.create_project(&NewProject { name: "A".into(), ..Default::default() }).await.unwrap();
    let ServerMessage::Event(e) = next(&mut watch).await else { panic!("expected an event") };
    assert_eq!((e.seq, e.data.name()), (1, "project:created"));

    drop(srv); // the server goes away (killed)
    let (_srv, c) = start(port, dir.path()).await;
    for i in 0..3 {
        let nt = NewTask { project_id: p.id.clone(), title: format!("t{i}"), ..Default::default() };
        c.create_task(&nt).await.unwrap();
    }
    for want in 2..=4 {
        let ServerMessage::Event(e) = next(&mut watch).await else { panic!("expected an event") };
        assert_eq!((e.seq, e.data.name()), (want, "task:created"));
    }
}

/// SPEC §2: no answer is bigger than a page's budget. A list of 3 MB asked for without
/// `limit` comes in pages of at most 1 MiB, each saying where the next starts; the client
/// follows them and gets every row once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_without_limit_comes_in_pages_and_the_client_gets_every_row() {
    use maestro::model::page::PAGE_BYTES_MAX;
    let dir = tempfile::tempdir().unwrap();
    let (srv, c) = start(free_port(), dir.path()).await;
    let p = c.create_project(&NewProject { name: "Big".into(), ..Default::default() }).await.unwrap();
    let mut made = Vec::new();
    for i in 0..30 {
        let nt = NewTask {
            project_id: p.id.clone(),
            title: format!("t{i}"),
            description: Some("d".repeat(100_000)),
            ..Default::default()
        };
        made.push(c.create_task(&nt).await.unwrap().id);
    }
    made.reverse(); // newest first
    let http = srv.http();
    let (mut got, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let mut req = http.get(format!("{}/tasks", srv.api));
        if let Some(c) = cursor.take() {
            req = req.query(&[("cursor", c)]);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200);
        let next = res.headers().get("next-cursor").map(|v| v.to_str().unwrap().to_string());
        let body = res.bytes().await.unwrap();
        assert!(body.len() <= PAGE_BYTES_MAX, "a page of {} bytes", body.len());
        let rows: Vec<Task> = serde_json::from_slice(&body).unwrap();
        got.extend(rows.into_iter().map(|t| t.id));
        pages += 1;
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert!(pages >= 3, "3 MB in {pages} page(s)");
    assert_eq!(got, made, "every row once, newest first");
    let listed: Vec<String> = c.tasks(&TaskQuery::default()).await.unwrap().into_iter().map(|t| t.id).collect();
    assert_eq!(listed, made, "the client follows the cursor to the end");
}
