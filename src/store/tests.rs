//! Store tests: each operation's resulting state and exact events, durability across a
//! reopen, and a property test over long random operation sequences.

use super::state::State;
use super::*;
use proptest::prelude::*;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Where one test's store lives, on the backend the suite runs against. The suite is
/// written against the store, not a backend: `MAESTRO_TEST_BACKEND` picks which one —
/// `sqlite` (the default: a file in a temporary directory) or `postgres` (a fresh database
/// on the server `MAESTRO_TEST_DATABASE_URL` names, dropped afterwards; the test command
/// starts one) — so each backend passes the same tests. Tests of one backend's own
/// behaviour (SQLite's file lock and page cap) call `Store::open` directly.
struct Place {
    /// Holds the SQLite file (removed with it).
    _dir: tempfile::TempDir,
    config: StoreConfig,
    /// The admin URL and the database made for this place (PostgreSQL).
    database: Option<(String, String)>,
}

impl Place {
    fn new() -> Place {
        Place::with(|_| {})
    }

    fn with(tune: impl FnOnce(&mut StoreConfig)) -> Place {
        let dir = tempfile::tempdir().unwrap();
        let mut config = StoreConfig { path: Some(dir.path().join("m.db")), ..StoreConfig::memory() };
        tune(&mut config);
        let database = match std::env::var("MAESTRO_TEST_BACKEND").as_deref() {
            Ok("sqlite") | Err(_) => None,
            Ok("postgres") => {
                let admin = std::env::var("MAESTRO_TEST_DATABASE_URL").expect("MAESTRO_TEST_DATABASE_URL");
                let name = format!("maestro_test_{}", uuid::Uuid::new_v4().simple());
                admin_sql(&admin, &format!("CREATE DATABASE {name}"));
                let (base, _) = admin.rsplit_once('/').expect("a database URL ends in /DATABASE");
                config.database_url = Some(format!("{base}/{name}"));
                Some((admin, name))
            }
            Ok(other) => panic!("MAESTRO_TEST_BACKEND={other}: no such backend"),
        };
        Place { _dir: dir, config, database }
    }

    /// Opens (or reopens) the store kept here.
    fn open(&self) -> Result<Store, StoreError> {
        Store::open(self.config.clone())
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.database {
            admin_sql(admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// One statement on the PostgreSQL server, from a plain thread (the client blocks).
fn admin_sql(url: &str, sql: &str) {
    let (url, sql) = (url.to_string(), sql.to_string());
    std::thread::spawn(move || {
        let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).expect("connect to the test PostgreSQL");
        c.batch_execute(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    })
    .join()
    .unwrap();
}

/// A store plus a subscription opened before anything happened, so every event is seen.
struct Fixture {
    store: Store,
    rx: broadcast::Receiver<Arc<LoggedEvent>>,
    place: Place,
}

impl Fixture {
    fn new() -> Self {
        Fixture::at(Place::new())
    }

    fn at(place: Place) -> Self {
        let store = place.open().unwrap();
        let rx = store.subscribe();
        Fixture { store, rx, place }
    }

    /// Closes the store, leaving what it kept for a reopen.
    fn close(self) -> Place {
        self.place
    }

    async fn run(&self, cmd: Command) -> Result<Outcome, StoreError> {
        self.store.execute(cmd, None).await
    }

    /// The names and payloads of the events since the last call.
    fn events(&mut self) -> Vec<EventData> {
        let mut v = Vec::new();
        while let Ok(e) = self.rx.try_recv() {
            v.push(e.event.data.clone());
        }
        v
    }

    fn names(&mut self) -> Vec<&'static str> {
        self.events().iter().map(|e| e.name()).collect()
    }

    async fn project(&mut self, name: &str) -> Project {
        let p = match self.run(Command::CreateProject(NewProject { name: name.into(), ..Default::default() })).await {
            Ok(Outcome::Project(p)) => p,
            other => panic!("{other:?}"),
        };
        self.events();
        p
    }

    async fn task(&mut self, project: &str, title: &str) -> Task {
        let t = match self
            .run(Command::CreateTask(NewTask { project_id: project.into(), title: title.into(), ..Default::default() }))
            .await
        {
            Ok(Outcome::Task(t)) => t,
            other => panic!("{other:?}"),
        };
        self.events();
        t
    }

    async fn session(&mut self, project: &str, tasks: &[&str]) -> Session {
        let s = match self
            .run(Command::CreateSession(NewSession {
                project_id: project.into(),
                task_ids: tasks.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            }))
            .await
        {
            Ok(Outcome::Session(s)) => s,
            other => panic!("{other:?}"),
        };
        self.events();
        s
    }

    fn state(&self) -> State {
        self.store.read(|s| s.clone())
    }
}

fn link(s: &str, t: &str) -> Link {
    Link { session_id: s.into(), task_id: t.into() }
}

#[test]
fn create_project_emits_created_and_validates() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let out = f
            .run(Command::CreateProject(NewProject {
                id: None,
                name: "  Alpha  ".into(),
                base_path: Some("/tmp".into()),
            }))
            .await
            .unwrap();
        let Outcome::Project(p) = out else { panic!() };
        assert_eq!(p.name, "Alpha");
        assert!(p.id.starts_with("proj_"));
        assert_eq!(f.events(), vec![EventData::ProjectCreated(p.clone())]);
        assert_eq!(f.state().projects[&p.id], p);
        for bad in [
            NewProject { name: "   ".into(), ..Default::default() },
            NewProject { name: "x".repeat(201), ..Default::default() },
            NewProject { name: "ok".into(), base_path: Some("relative/dir".into()), ..Default::default() },
            NewProject { name: "ok".into(), id: Some("bad id!".into()), ..Default::default() },
        ] {
            assert!(matches!(f.run(Command::CreateProject(bad)).await, Err(StoreError::Invalid(_))));
        }
        assert!(f.events().is_empty(), "refused mutations emit nothing");
        assert_eq!(f.store.last_seq(), 1);
    });
}

#[test]
fn client_ids_make_retries_safe() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let np = NewProject { id: Some("proj-mine".into()), name: "A".into(), base_path: None };
        let a = f.run(Command::CreateProject(np.clone())).await.unwrap();
        let b = f.run(Command::CreateProject(np.clone())).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(f.names(), vec!["project:created"], "a retry emits nothing");
        let other = NewProject { name: "B".into(), ..np };
        assert!(matches!(f.run(Command::CreateProject(other)).await, Err(StoreError::Conflict(_))));
    });
}

#[test]
fn task_lifecycle_versions_and_completed_at() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let missing = NewTask { project_id: "nope".into(), title: "t".into(), ..Default::default() };
        assert!(matches!(f.run(Command::CreateTask(missing)).await, Err(StoreError::NotFound(_))));
        let t = f.task(&p.id, "Write tests").await;
        assert_eq!((t.version, t.status, t.priority, t.session_count), (1, TaskStatus::Pending, Priority::Medium, 0));

        let patch = TaskPatch { status: Some(TaskStatus::Completed), ..Default::default() };
        let Outcome::Task(t2) = f.run(Command::UpdateTask(t.id.clone(), patch)).await.unwrap() else { panic!() };
        assert_eq!(t2.version, 2);
        assert!(t2.completed_at.is_some());
        assert_eq!(f.events(), vec![EventData::TaskUpdated(t2.clone())]);

        let patch = TaskPatch { status: Some(TaskStatus::InProgress), ..Default::default() };
        let Outcome::Task(t3) = f.run(Command::UpdateTask(t.id.clone(), patch)).await.unwrap() else { panic!() };
        assert_eq!((t3.version, t3.completed_at), (3, None));

        // A patch that changes nothing emits nothing and keeps the version.
        assert!(!f.events().is_empty(), "the edits above emitted their events");
        let patch = TaskPatch { status: Some(TaskStatus::InProgress), ..Default::default() };
        let Outcome::Task(t4) = f.run(Command::UpdateTask(t.id.clone(), patch)).await.unwrap() else { panic!() };
        assert_eq!(t4.version, 3);
        assert!(f.events().is_empty(), "a patch that changes nothing emits nothing");

        let patch = TaskPatch { title: Some("".into()), ..Default::default() };
        assert!(matches!(f.run(Command::UpdateTask(t.id.clone(), patch)).await, Err(StoreError::Invalid(_))));
    });
}

#[test]
fn subtasks_add_tick_delete() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "T").await;
        let Outcome::Task(t) =
            f.run(Command::AddSubtask(t.id.clone(), NewSubtask { title: "one".into() })).await.unwrap()
        else {
            panic!()
        };
        let sid = t.subtasks[0].id.clone();
        assert_eq!(f.events(), vec![EventData::TaskUpdated(t.clone())]);
        let tick = SubtaskPatch { status: Some(SubtaskStatus::Completed), ..Default::default() };
        let Outcome::Task(t) = f.run(Command::UpdateSubtask(t.id.clone(), sid.clone(), tick)).await.unwrap() else {
            panic!()
        };
        assert!(t.subtasks[0].completed_at.is_some());
        assert_eq!(t.version, 3);
        let Outcome::Task(t) = f.run(Command::DeleteSubtask(t.id.clone(), sid.clone())).await.unwrap() else {
            panic!()
        };
        assert!(t.subtasks.is_empty());
        assert_eq!(f.names(), vec!["task:updated", "task:updated"]);
        assert!(matches!(f.run(Command::DeleteSubtask(t.id.clone(), sid)).await, Err(StoreError::NotFound(_))));
    });
}

#[test]
fn create_session_links_tasks_with_events_in_order() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t1 = f.task(&p.id, "one").await;
        let t2 = f.task(&p.id, "two").await;
        let s = f.session(&p.id, &[&t1.id, &t2.id]).await;
        // f.session drained the events; redo the check on a fresh session for exact order.
        let Outcome::Session(s2) = f
            .run(Command::CreateSession(NewSession {
                project_id: p.id.clone(),
                task_ids: vec![t1.id.clone()],
                name: Some("agent".into()),
                agent_id: Some("claude".into()),
                ..Default::default()
            }))
            .await
            .unwrap()
        else {
            panic!()
        };
        let st = f.state();
        let t1now = st.tasks[&t1.id].clone();
        assert_eq!(
            f.events(),
            vec![
                EventData::SessionCreated(s2.clone()),
                EventData::TaskUpdated(t1now.clone()),
                EventData::SessionTaskAdded(link(&s2.id, &t1.id)),
                EventData::TaskSessionAdded(link(&s2.id, &t1.id)),
            ]
        );
        assert_eq!(t1now.session_ids, vec![s.id.clone(), s2.id.clone()]);
        assert_eq!(t1now.session_count, 2);
        assert_eq!(t1now.version, 3);
        assert_eq!(s2.env["MAESTRO_TASK_IDS"], t1.id);
        assert_eq!(s2.env["MAESTRO_SESSION_ID"], s2.id);
        assert_eq!(s2.env["MAESTRO_PROJECT_ID"], p.id);
        assert_eq!(s.name, "one", "an unnamed session is named after its first task");
        st.check_invariant().unwrap();
    });
}

#[test]
fn session_creation_refuses_bad_task_lists() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let q = f.project("Q").await;
        let t = f.task(&p.id, "t").await;
        let u = f.task(&q.id, "u").await;
        let ns = |ids: Vec<String>| {
            Command::CreateSession(NewSession { project_id: p.id.clone(), task_ids: ids, ..Default::default() })
        };
        assert!(matches!(f.run(ns(vec!["task_missing".into()])).await, Err(StoreError::NotFound(_))));
        assert!(matches!(f.run(ns(vec![u.id.clone()])).await, Err(StoreError::Invalid(_))));
        assert!(matches!(f.run(ns(vec![t.id.clone(), t.id.clone()])).await, Err(StoreError::Invalid(_))));
        assert!(f.events().is_empty());
        assert!(f.state().sessions.is_empty());
        let empty = f.session(&p.id, &[]).await;
        assert_eq!((empty.task_ids.len(), empty.name.as_str()), (0, "Session"));
    });
}

#[test]
fn link_and_unlink_change_both_sides() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let q = f.project("Q").await;
        let t = f.task(&p.id, "t").await;
        let other = f.task(&q.id, "o").await;
        let s = f.session(&p.id, &[]).await;
        let link_cmd = || Command::LinkTask { session_id: s.id.clone(), task_id: t.id.clone() };
        let Outcome::Session(s1) = f.run(link_cmd()).await.unwrap() else { panic!() };
        let t1 = f.state().tasks[&t.id].clone();
        assert_eq!(
            f.events(),
            vec![
                EventData::SessionUpdated(s1.clone()),
                EventData::TaskUpdated(t1.clone()),
                EventData::SessionTaskAdded(link(&s.id, &t.id)),
                EventData::TaskSessionAdded(link(&s.id, &t.id)),
            ]
        );
        assert_eq!((s1.task_ids.clone(), s1.version), (vec![t.id.clone()], 2));
        assert_eq!(s1.env["MAESTRO_TASK_IDS"], t.id);
        assert!(matches!(f.run(link_cmd()).await, Err(StoreError::Conflict(_))));
        let cross = Command::LinkTask { session_id: s.id.clone(), task_id: other.id.clone() };
        assert!(matches!(f.run(cross).await, Err(StoreError::Invalid(_))));

        let unlink = || Command::UnlinkTask { session_id: s.id.clone(), task_id: t.id.clone() };
        let Outcome::Session(s2) = f.run(unlink()).await.unwrap() else { panic!() };
        let t2 = f.state().tasks[&t.id].clone();
        assert_eq!(
            f.events(),
            vec![
                EventData::SessionUpdated(s2.clone()),
                EventData::TaskUpdated(t2.clone()),
                EventData::SessionTaskRemoved(link(&s.id, &t.id)),
                EventData::TaskSessionRemoved(link(&s.id, &t.id)),
            ]
        );
        assert_eq!((t2.session_count, t2.version), (0, 3));
        assert!(matches!(f.run(unlink()).await, Err(StoreError::NotFound(_))));
        f.state().check_invariant().unwrap();
    });
}

#[test]
fn deleting_a_task_unlinks_its_sessions() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        let keep = f.task(&p.id, "keep").await;
        let s1 = f.session(&p.id, &[&t.id, &keep.id]).await;
        let s2 = f.session(&p.id, &[&t.id]).await;
        f.run(Command::DeleteTask(t.id.clone())).await.unwrap();
        let st = f.state();
        let (n1, n2) = (st.sessions[&s1.id].clone(), st.sessions[&s2.id].clone());
        assert_eq!(n1.task_ids, vec![keep.id.clone()]);
        assert!(n2.task_ids.is_empty());
        assert_eq!(
            f.events(),
            vec![
                EventData::TaskDeleted(Deleted { id: t.id.clone() }),
                EventData::SessionUpdated(n1),
                EventData::SessionTaskRemoved(link(&s1.id, &t.id)),
                EventData::TaskSessionRemoved(link(&s1.id, &t.id)),
                EventData::SessionUpdated(n2),
                EventData::SessionTaskRemoved(link(&s2.id, &t.id)),
                EventData::TaskSessionRemoved(link(&s2.id, &t.id)),
            ]
        );
        st.check_invariant().unwrap();
        assert!(matches!(f.run(Command::DeleteTask(t.id)).await, Err(StoreError::NotFound(_))));
    });
}

#[test]
fn deleting_a_session_unlinks_its_tasks() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        let s = f.session(&p.id, &[&t.id]).await;
        f.run(Command::DeleteSession(s.id.clone())).await.unwrap();
        let st = f.state();
        let t1 = st.tasks[&t.id].clone();
        assert_eq!((t1.session_count, t1.version), (0, 3));
        assert_eq!(
            f.events(),
            vec![
                EventData::SessionDeleted(Deleted { id: s.id.clone() }),
                EventData::TaskUpdated(t1),
                EventData::SessionTaskRemoved(link(&s.id, &t.id)),
                EventData::TaskSessionRemoved(link(&s.id, &t.id)),
            ]
        );
        st.check_invariant().unwrap();
    });
}

#[test]
fn session_status_stamps_completed_at() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let s = f.session(&p.id, &[]).await;
        let patch = SessionPatch { status: Some(SessionStatus::Failed), ..Default::default() };
        let Outcome::Session(s1) = f.run(Command::UpdateSession(s.id.clone(), patch)).await.unwrap() else { panic!() };
        assert!(s1.completed_at.is_some());
        assert_eq!(f.events(), vec![EventData::SessionUpdated(s1)]);
    });
}

/// A state whose links name a missing record (a database written while a starting node
/// could load half of another's commit) still deletes: the dangling link goes with the
/// record, and the writer does not panic.
#[test]
fn deletes_drop_links_to_missing_records() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        let s = f.session(&p.id, &[&t.id]).await;
        let mut new_id = |prefix: &str| format!("{prefix}_new");
        let mut ctx = state::Inputs { now: now_millis(), api_url: "http://127.0.0.1:3000/api", new_id: &mut new_id };
        let mut no_task = f.state();
        no_task.tasks.remove(&t.id);
        let plan = no_task.plan(&Command::DeleteSession(s.id.clone()), &mut ctx).unwrap();
        assert_eq!(plan.events, vec![EventData::SessionDeleted(Deleted { id: s.id.clone() })]);
        let mut no_session = f.state();
        no_session.sessions.remove(&s.id);
        let plan = no_session.plan(&Command::DeleteTask(t.id.clone()), &mut ctx).unwrap();
        assert_eq!(plan.events, vec![EventData::TaskDeleted(Deleted { id: t.id.clone() })]);
    });
}

#[test]
fn project_delete_refused_while_it_has_work() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        assert!(matches!(f.run(Command::DeleteProject(p.id.clone())).await, Err(StoreError::Conflict(_))));
        f.run(Command::DeleteTask(t.id)).await.unwrap();
        f.events();
        f.run(Command::DeleteProject(p.id.clone())).await.unwrap();
        assert_eq!(f.events(), vec![EventData::ProjectDeleted(Deleted { id: p.id.clone() })]);
        assert!(matches!(f.run(Command::DeleteProject(p.id)).await, Err(StoreError::NotFound(_))));
    });
}

#[test]
fn idempotency_key_replays_the_first_outcome() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let key = |fp: &str| Some(IdempotencyKey { key: "k1".into(), fingerprint: fp.into() });
        let cmd = Command::CreateProject(NewProject { name: "A".into(), ..Default::default() });
        let a = f.store.execute(cmd.clone(), key("x")).await.unwrap();
        let b = f.store.execute(cmd.clone(), key("x")).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(f.names(), vec!["project:created"]);
        assert_eq!(f.state().projects.len(), 1);
        assert!(matches!(f.store.execute(cmd, key("y")).await, Err(StoreError::KeyReused(_))));
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
        let np = |name: &str| Command::CreateProject(NewProject { name: name.into(), ..Default::default() });
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
            store.execute(Command::CreateProject(np), None).await.unwrap();
        }
        assert!(matches!(store.events_since(0, 10).await, Err(StoreError::Gone { .. })));
        assert_eq!(store.events_since(1095, 10).await.unwrap().len(), 5);
    });
    let store = place.open().unwrap();
    assert_eq!(store.last_seq(), 1100);
}

#[test]
fn the_log_on_disk_keeps_to_its_byte_budget() {
    let budget = 256 * 1024;
    let place = Place::with(|c| c.retain_bytes = budget);
    rt().block_on(async {
        let store = place.open().unwrap();
        let np = NewProject { name: "P".into(), ..Default::default() };
        let Outcome::Project(p) = store.execute(Command::CreateProject(np), None).await.unwrap() else { panic!() };
        let nt = NewTask {
            project_id: p.id,
            title: "t".into(),
            description: Some("d".repeat(20_000)),
            ..Default::default()
        };
        let Outcome::Task(t) = store.execute(Command::CreateTask(nt), None).await.unwrap() else { panic!() };
        // ~2 MB of events: each edit carries the whole 20 KB task.
        for i in 0..100 {
            let patch = TaskPatch { title: Some(format!("t{i}")), ..Default::default() };
            store.execute(Command::UpdateTask(t.id.clone(), patch), None).await.unwrap();
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
        let big = |i: usize| {
            Command::CreateTask(NewTask {
                project_id: p.id.clone(),
                title: format!("t{i}"),
                description: Some("d".repeat(10_000)),
                ..Default::default()
            })
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
        let err = f.run(Command::UpdateTask(made[0].clone(), longer)).await.unwrap_err();
        assert!(matches!(err, StoreError::Full(_)), "{err:?}");
        assert!(f.events().is_empty(), "a refused change emits nothing");
        assert_eq!((f.store.last_seq(), f.store.state_bytes()), (seq, bytes));
        assert_eq!(f.state().tasks.len(), 6);
        // A shorter edit passes, and a delete makes room for the create refused before.
        let shorter = TaskPatch { description: Some("d".repeat(5_000)), ..Default::default() };
        f.run(Command::UpdateTask(made[0].clone(), shorter)).await.unwrap();
        assert!(f.store.state_bytes() < bytes);
        f.run(Command::DeleteTask(made[1].clone())).await.unwrap();
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
        assert!(matches!(f.run(Command::CreateTask(np)).await, Err(StoreError::Full(_))));
        // Ending a session grows it by a timestamp, and must work on a full store.
        let done = SessionPatch { status: Some(SessionStatus::Completed), ..Default::default() };
        f.run(Command::UpdateSession(session.clone(), done)).await.unwrap();
        f.run(Command::DeleteSession(session)).await.unwrap();
        assert!(f.store.state_bytes() < bytes);
    });
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
            match store.execute(Command::CreateProject(np), None).await {
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
        assert!(store.execute(Command::CreateProject(next.clone()), None).await.is_err(), "still full");
        drop(store);
        // Room again (the operator freed some): writes succeed and health is ok.
        let store = Store::open(StoreConfig { max_file_bytes: Some(64 << 20), ..config }).unwrap();
        assert_eq!(store.read(|s| s.projects.len()), made.len());
        store.execute(Command::CreateProject(next), None).await.unwrap();
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
        let err = store.execute(Command::CreateProject(np), None).await.unwrap_err();
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
            store.execute(Command::CreateProject(np), None).await.unwrap();
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

// ----- property test --------------------------------------------------------------------

/// A random operation, naming records by index into what exists (or a missing id).
#[derive(Clone, Debug)]
enum Op {
    Project,
    DeleteProject(usize),
    Task(usize, u8),
    UpdateTask(usize, u8),
    DeleteTask(usize),
    Subtask(usize),
    Session(usize, Vec<usize>),
    DeleteSession(usize),
    Link(usize, usize),
    Unlink(usize, usize),
    SessionStatus(usize, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Project),
        1 => any::<usize>().prop_map(Op::DeleteProject),
        4 => (any::<usize>(), any::<u8>()).prop_map(|(p, s)| Op::Task(p, s)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(t, s)| Op::UpdateTask(t, s)),
        2 => any::<usize>().prop_map(Op::DeleteTask),
        1 => any::<usize>().prop_map(Op::Subtask),
        3 => (any::<usize>(), proptest::collection::vec(any::<usize>(), 0..4)).prop_map(|(p, t)| Op::Session(p, t)),
        2 => any::<usize>().prop_map(Op::DeleteSession),
        3 => (any::<usize>(), any::<usize>()).prop_map(|(s, t)| Op::Link(s, t)),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(s, t)| Op::Unlink(s, t)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(s, st)| Op::SessionStatus(s, st)),
    ]
}

/// Picks the i-th id in sorted order (or a missing id one time in eight).
fn pick<'a>(ids: impl Iterator<Item = &'a String>, i: usize) -> String {
    let mut v: Vec<&String> = ids.collect();
    v.sort();
    if v.is_empty() || i % 8 == 7 {
        return "missing".to_string();
    }
    v[i % v.len()].clone()
}

fn to_command(op: &Op, st: &State) -> Command {
    let p = |i| pick(st.projects.keys(), i);
    let t = |i| pick(st.tasks.keys(), i);
    let s = |i| pick(st.sessions.keys(), i);
    match op {
        Op::Project => Command::CreateProject(NewProject { name: "p".into(), ..Default::default() }),
        Op::DeleteProject(i) => Command::DeleteProject(p(*i)),
        Op::Task(i, st) => Command::CreateTask(NewTask {
            project_id: p(*i),
            title: format!("t{st}"),
            status: Some(TaskStatus::ALL[*st as usize % 4]),
            ..Default::default()
        }),
        Op::UpdateTask(i, st) => Command::UpdateTask(
            t(*i),
            TaskPatch { status: Some(TaskStatus::ALL[*st as usize % 4]), ..Default::default() },
        ),
        Op::DeleteTask(i) => Command::DeleteTask(t(*i)),
        Op::Subtask(i) => Command::AddSubtask(t(*i), NewSubtask { title: "s".into() }),
        Op::Session(i, ts) => {
            let project = p(*i);
            // Prefer tasks of the session's project so most creations succeed.
            let mut own: Vec<&String> = st.tasks.values().filter(|x| x.project_id == project).map(|x| &x.id).collect();
            own.sort();
            let mut ids: Vec<String> = Vec::new();
            for j in ts {
                let id = if own.is_empty() { t(*j) } else { own[j % own.len()].clone() };
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            Command::CreateSession(NewSession { project_id: project, task_ids: ids, ..Default::default() })
        }
        Op::DeleteSession(i) => Command::DeleteSession(s(*i)),
        Op::Link(a, b) => Command::LinkTask { session_id: s(*a), task_id: t(*b) },
        Op::Unlink(a, b) => Command::UnlinkTask { session_id: s(*a), task_id: t(*b) },
        Op::SessionStatus(i, st) => Command::UpdateSession(
            s(*i),
            SessionPatch { status: Some(SessionStatus::ALL[*st as usize % 3]), ..Default::default() },
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// After every step: the invariant holds and seqs are gap-free; at the end, replaying
    /// the log from empty rebuilds exactly the store's state, also after a reopen.
    #[test]
    fn random_operations_keep_invariant_and_log_replays(ops in proptest::collection::vec(op(), 1..120)) {
        let place = Place::new();
        let final_state = rt().block_on(async {
            let store = place.open().unwrap();
            let mut rx = store.subscribe();
            let mut expect_seq = 1;
            for op in &ops {
                let cmd = store.read(|st| to_command(op, st));
                let before = store.last_seq();
                let r = store.execute(cmd, None).await;
                let after = store.last_seq();
                if r.is_err() {
                    prop_assert_eq!(before, after, "a refused command must not log events");
                }
                while let Ok(e) = rx.try_recv() {
                    prop_assert_eq!(e.event.seq, expect_seq);
                    expect_seq += 1;
                }
                prop_assert_eq!(after + 1, expect_seq);
                store.read(|st| st.check_invariant()).map_err(TestCaseError::fail)?;
            }
            let mut replayed = State::default();
            for e in store.events_since(0, usize::MAX >> 1).await.unwrap() {
                replayed.apply(&e.event.data);
            }
            let state = store.read(|s| s.clone());
            prop_assert_eq!(&replayed, &state);
            Ok(state)
        })?;
        let reopened = place.open().unwrap();
        prop_assert_eq!(reopened.read(|s| s.clone()), final_state);
    }
}
