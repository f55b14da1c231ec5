//! The Sessions pane's list (`list_pane_sessions`): what runs in every project, and a
//! bounded page of the project's newest ended sessions, however many there are, after
//! where "Clear finished" cleared it to.

use crate::common;
use leptos::server_fn::ServerFn;
use maestro::api::functions::sessions::{ListPaneSessions, PaneSessions, ENDED_SHOWN};
use maestro::model::*;
use maestro::store::{Command, Outcome, Store, StoreConfig};

async fn project(store: &Store, name: &str) -> Project {
    let cmd = Command::CreateProject { project: NewProject { name: name.into(), ..Default::default() } };
    let Ok(Outcome::Project(p)) = store.execute(cmd, None).await else { panic!("no project") };
    p
}

/// A session of `project`, ended with `status` unless that is `Running`.
async fn session(store: &Store, project: &Project, status: SessionStatus) -> Session {
    let session = NewSession { project_id: project.id.clone(), ..Default::default() };
    let Ok(Outcome::Session(s)) = store.execute(Command::CreateSession { session }, None).await else { panic!() };
    if status == SessionStatus::Running {
        return s;
    }
    let patch = SessionPatch { status: Some(status), ..Default::default() };
    let Ok(Outcome::Session(s)) = store.execute(Command::UpdateSession { id: s.id, patch }, None).await else {
        panic!()
    };
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pane_gets_every_running_session_and_only_the_newest_ended_of_its_project() {
    let srv = common::in_process(StoreConfig::memory(), |_| {}).await;
    let (a, b) = (project(&srv.store, "A").await, project(&srv.store, "B").await);
    let mut ended = Vec::new();
    for i in 0..ENDED_SHOWN + 10 {
        let status = [SessionStatus::Completed, SessionStatus::Failed][i % 2];
        ended.push(session(&srv.store, &a, status).await);
    }
    let here =
        [session(&srv.store, &a, SessionStatus::Running).await, session(&srv.store, &a, SessionStatus::Running).await];
    let there = session(&srv.store, &b, SessionStatus::Running).await;
    session(&srv.store, &b, SessionStatus::Completed).await;

    let url = format!("http://{}{}", srv.addr, ListPaneSessions::PATH);
    let ask = async |body: serde_json::Value| {
        let res = reqwest::Client::new().post(&url).json(&body).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200);
        res.json::<PaneSessions>().await.unwrap()
    };
    let got = ask(serde_json::json!({"project_id": a.id})).await;

    // Every running session: this project's first, then the others'.
    let ids = |v: &[Session]| v.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
    let (mine, others) = got.running.split_at(got.running.len().min(2));
    let (mut mine, mut want) = (ids(mine), ids(&here));
    mine.sort();
    want.sort();
    assert_eq!(mine, want);
    assert_eq!(ids(others), ids(std::slice::from_ref(&there)));
    // Only the newest ended of this project, newest first, and word that more exist.
    ended.sort_by(|x, y| y.ended_key().cmp(&x.ended_key()));
    assert_eq!(ids(&got.ended), ids(&ended[..ENDED_SHOWN]));
    assert!(got.more_ended);
    assert_eq!(got.seq, srv.store.last_seq());
    // "Older sessions" asks for more: the rest come, and no word of more.
    let all = ask(serde_json::json!({"project_id": a.id, "ended": 2 * ENDED_SHOWN})).await;
    assert_eq!(ids(&all.ended), ids(&ended));
    assert!(!all.more_ended);
    let one = ask(serde_json::json!({"project_id": a.id, "ended": 1})).await;
    assert_eq!((ids(&one.ended), one.more_ended), (ids(&ended[..1]), true));
    // "Clear finished" cleared the pane to the tenth newest: only the nine newer come, with
    // no word of more (the older were cleared with it), however many are asked for.
    let (at, id) = ended[9].ended_key();
    let cleared = ask(serde_json::json!({"project_id": a.id, "ended": 2 * ENDED_SHOWN, "cleared_to": [at, id]})).await;
    assert_eq!((ids(&cleared.ended), cleared.more_ended), (ids(&ended[..9]), false));
    let few = ask(serde_json::json!({"project_id": a.id, "ended": 5, "cleared_to": [at, id]})).await;
    assert_eq!((ids(&few.ended), few.more_ended), (ids(&ended[..5]), true));
}
