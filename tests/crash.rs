//! Crash test (SPEC §6): a real `maestro` process takes concurrent writes and is killed
//! with SIGKILL at a random moment; restarted on the same file, it still has every write
//! it acknowledged, the link invariant holds and the event log is gap-free.

use maestro::model::{Event, Health, Project, Session, Task};
use maestro::store::state::State;
use rand::Rng;
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common;

async fn start(dir: &std::path::Path) -> common::Maestro {
    common::Start { dir: Some(dir), ..Default::default() }.run().await
}

/// What the clients were told succeeded.
#[derive(Default)]
struct Acked {
    tasks: HashSet<String>,
    sessions: HashSet<String>,
    deleted_tasks: HashSet<String>,
    /// Deletes sent: one may have committed with its answer cut off by the kill.
    delete_sent: HashSet<String>,
}

async fn writer(client: reqwest::Client, base: String, project: String, n: usize, acked: Arc<Mutex<Acked>>) {
    for i in 0.. {
        let tid = format!("t{n}-{i}");
        let r = client
            .post(format!("{base}/tasks"))
            .json(&json!({"id": tid, "projectId": project, "title": format!("task {i}")}))
            .send()
            .await;
        match r {
            Ok(r) if r.status().as_u16() == 201 => {
                acked.lock().unwrap().tasks.insert(tid.clone());
            }
            _ => return, // the server is gone
        }
        let sid = format!("s{n}-{i}");
        let r = client
            .post(format!("{base}/sessions"))
            .json(&json!({"id": sid, "projectId": project, "taskIds": [tid]}))
            .send()
            .await;
        match r {
            Ok(r) if r.status().as_u16() == 201 => {
                acked.lock().unwrap().sessions.insert(sid.clone());
            }
            _ => return,
        }
        if i % 3 == 0 {
            acked.lock().unwrap().delete_sent.insert(tid.clone());
            match client.delete(format!("{base}/tasks/{tid}")).send().await {
                Ok(r) if r.status().is_success() => {
                    acked.lock().unwrap().deleted_tasks.insert(tid);
                }
                _ => return,
            }
        }
    }
}

async fn get<T: serde::de::DeserializeOwned>(server: &common::Maestro, path: &str) -> T {
    server.http().get(format!("{}{path}", server.api)).send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path()).await;
    let project: Project = server
        .http()
        .post(format!("{}/projects", server.api))
        .json(&json!({"name": "crash"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let acked = Arc::new(Mutex::new(Acked::default()));
    for round in 0..3 {
        let writers: Vec<_> = (0..8)
            .map(|n| {
                tokio::spawn(writer(
                    server.http(),
                    server.api.clone(),
                    project.id.clone(),
                    round * 100 + n,
                    acked.clone(),
                ))
            })
            .collect();
        let wait = rand::rng().random_range(150..900);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        drop(server); // SIGKILL
        for w in writers {
            w.await.unwrap();
        }

        server = start(dir.path()).await;
        // Whole lists: the client follows each list's pages to the end.
        let tasks: Vec<Task> = server.client.tasks(&Default::default()).await.unwrap();
        let sessions: Vec<Session> = server.client.sessions(&Default::default()).await.unwrap();
        let projects: Vec<Project> = server.client.projects().await.unwrap();
        let state = State {
            projects: projects.into_iter().map(|p| (p.id.clone(), p)).collect(),
            tasks: tasks.into_iter().map(|t| (t.id.clone(), t)).collect(),
            sessions: sessions.into_iter().map(|s| (s.id.clone(), s)).collect(),
            ..Default::default()
        };
        state.check_invariant().unwrap();
        let health: Health = get(&server, "/health").await;
        let mut events: Vec<Event> = Vec::new();
        loop {
            let since = events.last().map_or(0, |e| e.seq);
            let page: Vec<Event> = get(&server, &format!("/events?since={since}&limit=10000")).await;
            if page.is_empty() {
                break;
            }
            events.extend(page);
        }
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=health.seq).collect::<Vec<_>>(), "round {round}: log has gaps");
        let mut replayed = State::default();
        for e in &events {
            replayed.apply(&e.data);
        }
        assert_eq!(replayed, state, "round {round}: the log does not replay to the state");
    }
    drop(server);
}
