//! What survives: idempotent retries, a reopen, a pruned log, a full disk, a dead writer.

use super::*;

#[test]
fn idempotency_key_replays_the_first_outcome() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let key = |fp: &str| Some(IdempotencyKey { key: "k1".into(), fingerprint: fp.into() });
        let cmd = Command::CreateProject { project: NewProject { name: "A".into(), ..Default::default() } };
        let a = f.store.execute(cmd.clone(), key("x")).await.unwrap();
        let b = f.store.execute(cmd.clone(), key("x")).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(f.names(), vec!["project:created"]);
        assert_eq!(f.state().projects.len(), 1);
        assert!(matches!(f.store.execute(cmd, key("y")).await, Err(StoreError::KeyReused(_))));
        // What a key got can be asked before doing work that comes ahead of the command.
        let k = |name: &str, fp: &str| IdempotencyKey { key: name.into(), fingerprint: fp.into() };
        assert_eq!(f.store.recorded(&k("k1", "x")).await.unwrap(), Some(a));
        assert!(matches!(f.store.recorded(&k("k1", "y")).await, Err(StoreError::KeyReused(_))));
        assert_eq!(f.store.recorded(&k("k2", "x")).await.unwrap(), None);
    });
}

#[test]
fn file_store_survives_reopen_and_keeps_seq() {
    let (before, place) = rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        f.session(&p.id, &[&t.id]).await;
        (f.state(), f.close())
    });
    rt().block_on(async {
        let store = place.open().unwrap();
        assert_eq!(store.read(|s| s.clone()), before);
        assert_eq!(store.last_seq(), 6);
        let events = store.events_since(0, 100).await.unwrap();
        assert_eq!(events.iter().map(|e| e.event.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5, 6]);
        assert!(matches!(store.events_since(7, 10).await, Err(StoreError::Gone { .. })));
        let np =
            |name: &str| Command::CreateProject { project: NewProject { name: name.into(), ..Default::default() } };
        let mut next = 7;
        if place.database.is_none() {
            // A second server on the same file is refused while the first runs (SQLite's lock).
            assert!(Store::open(place.config.clone()).is_err());
        } else {
            // A second node on the same database shares it: it sees the same state, and
            // the first applies and publishes what the second commits.
            let second = place.open().unwrap();
            assert_eq!(second.read(|s| s.clone()), before);
            let mut bus = store.subscribe();
            second.execute(np("R"), None).await.unwrap();
            let heard = tokio::time::timeout(std::time::Duration::from_secs(10), bus.recv()).await;
            assert_eq!(heard.expect("told of the other node's commit").unwrap().event.seq, 7);
            next = 8;
        }
        store.execute(np("Q"), None).await.unwrap();
        assert_eq!(store.last_seq(), next);
    });
}

#[test]
fn pruned_log_answers_gone_and_seq_never_goes_back() {
    let place = Place::with(|c| c.retain_events = 10);
    rt().block_on(async {
        let store = place.open().unwrap();
        for i in 0..1100 {
            let np = NewProject { name: format!("p{i}"), ..Default::default() };
            store.execute(Command::CreateProject { project: np }, None).await.unwrap();
        }
        assert!(matches!(store.events_since(0, 10).await, Err(StoreError::Gone { .. })));
        assert_eq!(store.events_since(1095, 10).await.unwrap().len(), 5);
    });
    let store = place.open().unwrap();
    assert_eq!(store.last_seq(), 1100);
}

#[test]
fn a_full_disk_refuses_writes_reports_degraded_and_recovers() {
    // SQLite's page cap stands in for a full disk: this one is SQLite's own.
    let dir = tempfile::tempdir().unwrap();
    let config =
        StoreConfig { path: Some(dir.path().join("m.db")), max_file_bytes: Some(512 * 1024), ..StoreConfig::memory() };
    rt().block_on(async {
        let store = Store::open(config.clone()).unwrap();
        let mut made = Vec::new();
        let err = loop {
            let np = NewProject { name: "x".repeat(200), ..Default::default() };
            match store.execute(Command::CreateProject { project: np }, None).await {
                Ok(Outcome::Project(p)) => made.push(p.id),
                Ok(other) => panic!("{other:?}"),
                Err(e) => break e,
            }
            assert!(made.len() < 100_000, "never full");
        };
        assert!(matches!(err, StoreError::Storage(_)), "{err:?}");
        let h = store.health();
        assert_eq!(h.status, "degraded");
        assert!(h.error.is_some_and(|e| e.contains("full")));
        // Nothing half-written: what was acknowledged is there, the refused write is not.
        assert_eq!(store.read(|s| s.projects.len()), made.len());
        let next = NewProject { name: "after".into(), ..Default::default() };
        assert!(store.execute(Command::CreateProject { project: next.clone() }, None).await.is_err(), "still full");
        drop(store);
        // Room again (the operator freed some): writes succeed and health is ok.
        let store = Store::open(StoreConfig { max_file_bytes: Some(64 << 20), ..config }).unwrap();
        assert_eq!(store.read(|s| s.projects.len()), made.len());
        store.execute(Command::CreateProject { project: next }, None).await.unwrap();
        assert_eq!(store.health().status, "ok");
    });
}

#[test]
fn a_writer_that_dies_is_reported_not_hidden() {
    rt().block_on(async {
        let place = Place::new();
        let store = place.open().unwrap();
        let mut died = std::pin::pin!(store.failed());
        assert!(futures::poll!(&mut died).is_pending(), "a healthy writer");
        store.send(Job::Panic).await.unwrap();
        let why = tokio::time::timeout(std::time::Duration::from_secs(10), died).await.expect("noticed");
        assert!(why.contains("panicked"), "{why}");
        let h = store.health();
        assert_eq!(h.status, "failed");
        let np = NewProject { name: "after".into(), ..Default::default() };
        let err = store.execute(Command::CreateProject { project: np }, None).await.unwrap_err();
        assert!(matches!(err, StoreError::Failed(_)), "{err:?}");
    });
}

#[test]
fn replays_from_memory_and_from_the_log_agree() {
    let place = Place::new();
    rt().block_on(async {
        let store = place.open().unwrap();
        for i in 0..50 {
            let np = NewProject { name: format!("p{i}"), ..Default::default() };
            store.execute(Command::CreateProject { project: np }, None).await.unwrap();
        }
        let from_memory: Vec<_> = store.events_since(10, 20).await.unwrap().iter().map(|e| e.json.clone()).collect();
        drop(store);
        // Reopened, the memory is empty: the same read comes from the log.
        let store = place.open().unwrap();
        let from_log: Vec<_> = store.events_since(10, 20).await.unwrap().iter().map(|e| e.json.clone()).collect();
        assert_eq!(from_memory.len(), 20);
        assert_eq!(from_memory, from_log);
        assert!(store.events_since(50, 20).await.unwrap().is_empty());
        assert!(matches!(store.events_since(51, 20).await, Err(StoreError::Gone { .. })));
    });
}
