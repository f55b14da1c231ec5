//! The byte budgets (SPEC §6): the log on disk and the state.

use super::*;

#[test]
fn the_log_on_disk_keeps_to_its_byte_budget() {
    let budget = 256 * 1024;
    let place = Place::with(|c| c.retain_bytes = budget);
    rt().block_on(async {
        let store = place.open().unwrap();
        let np = NewProject { name: "P".into(), ..Default::default() };
        let Outcome::Project(p) = store.execute(Command::CreateProject { project: np }, None).await.unwrap() else {
            panic!()
        };
        let nt = NewTask {
            project_id: p.id,
            title: "t".into(),
            description: Some("d".repeat(20_000)),
            ..Default::default()
        };
        let Outcome::Task(t) = store.execute(Command::CreateTask { task: nt }, None).await.unwrap() else { panic!() };
        // ~2 MB of events: each edit carries the whole 20 KB task.
        for i in 0..100 {
            let patch = TaskPatch { title: Some(format!("t{i}")), ..Default::default() };
            store.execute(Command::UpdateTask { id: t.id.clone(), patch }, None).await.unwrap();
            let kept = store.footprint().log_bytes;
            assert!(kept <= budget + EVENT_MAX_BYTES as u64, "{kept} bytes of log after {i} edits");
        }
        assert!(matches!(store.events_since(0, 10).await, Err(StoreError::Gone { .. })));
        let since = store.footprint().first_retained - 1;
        let tail = store.events_since(since, 1000).await.unwrap();
        assert_eq!(tail.last().unwrap().event.seq, store.last_seq(), "the newest events are kept");
    });
    // The budget holds across a restart (it is measured, not counted in memory only).
    let store = place.open().unwrap();
    assert!(store.footprint().log_bytes <= budget + EVENT_MAX_BYTES as u64);
}

/// SPEC §6: what the store holds has a byte budget. A change that would pass it is
/// refused (`store_full`) and leaves no trace; shrinking changes and ending a session
/// always pass; deleting makes room; the count is the same after a reopen.
#[test]
fn the_state_keeps_to_its_byte_budget() {
    let budget = 64 * 1024;
    let place = Place::with(|c| c.max_state_bytes = budget);
    let mut f = Fixture::at(place);
    let made = rt().block_on(async {
        let p = f.project("P").await;
        let s = f.session(&p.id, &[]).await;
        let big = |i: usize| Command::CreateTask {
            task: NewTask {
                project_id: p.id.clone(),
                title: format!("t{i}"),
                description: Some("d".repeat(10_000)),
                ..Default::default()
            },
        };
        let mut made = Vec::new();
        let err = loop {
            match f.run(big(made.len())).await {
                Ok(Outcome::Task(t)) => made.push(t.id),
                other => break other.unwrap_err(),
            }
            f.events();
            assert!(made.len() < 100, "never full");
        };
        // Six 10 KB tasks fit in 64 KiB, a seventh does not.
        assert_eq!(made.len(), 6);
        assert!(matches!(&err, StoreError::Full(m) if m.contains("--max-state-bytes")), "{err:?}");
        assert_eq!(err.status(), (409, "store_full"));
        let (seq, bytes) = (f.store.last_seq(), f.store.state_bytes());
        assert!(bytes <= budget && bytes == f.state().bytes(), "{bytes}");
        // Growing an existing task is refused too; nothing of either happened.
        let longer = TaskPatch { description: Some("d".repeat(20_000)), ..Default::default() };
        let err = f.run(Command::UpdateTask { id: made[0].clone(), patch: longer }).await.unwrap_err();
        assert!(matches!(err, StoreError::Full(_)), "{err:?}");
        assert!(f.events().is_empty(), "a refused change emits nothing");
        assert_eq!((f.store.last_seq(), f.store.state_bytes()), (seq, bytes));
        assert_eq!(f.state().tasks.len(), 6);
        // A shorter edit passes, and a delete makes room for the create refused before.
        let shorter = TaskPatch { description: Some("d".repeat(5_000)), ..Default::default() };
        f.run(Command::UpdateTask { id: made[0].clone(), patch: shorter }).await.unwrap();
        assert!(f.store.state_bytes() < bytes);
        f.run(Command::DeleteTask { id: made[1].clone() }).await.unwrap();
        f.run(big(6)).await.unwrap();
        assert_eq!(f.store.state_bytes(), f.state().bytes());
        (s.id, f.store.state_bytes())
    });
    let (session, bytes) = made;
    // Reopened with half the budget: it holds more than that, and loads it all.
    let mut place = f.close();
    place.config.max_state_bytes = budget / 2;
    let f = Fixture::at(place);
    assert_eq!(f.store.state_bytes(), bytes, "the same count after a reopen");
    rt().block_on(async {
        let p = f.state().projects.into_keys().next().unwrap();
        let np = NewTask { project_id: p, title: "more".into(), ..Default::default() };
        assert!(matches!(f.run(Command::CreateTask { task: np }).await, Err(StoreError::Full(_))));
        // Ending a session grows it by a timestamp, and must work on a full store.
        let done = SessionPatch { status: Some(SessionStatus::Completed), ..Default::default() };
        f.run(Command::UpdateSession { id: session.clone(), patch: done }).await.unwrap();
        f.run(Command::DeleteSession { id: session }).await.unwrap();
        assert!(f.store.state_bytes() < bytes);
    });
}
