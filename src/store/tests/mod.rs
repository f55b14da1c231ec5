//! Store tests: each operation's resulting state and exact events, durability across a
//! reopen, and a property test over long random operation sequences.

mod budgets;
mod comments;
mod durability;
mod projects;
mod property;
mod sessions;
mod status;
mod tasks;
mod workspaces;

use super::state::{self, State};
use super::*;
use crate::model::*;
use std::sync::Arc;
use tokio::sync::broadcast;

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
        let p = match self
            .run(Command::CreateProject { project: NewProject { name: name.into(), ..Default::default() } })
            .await
        {
            Ok(Outcome::Project(p)) => p,
            other => panic!("{other:?}"),
        };
        self.events();
        p
    }

    async fn task(&mut self, project: &str, title: &str) -> Task {
        let t = match self
            .run(Command::CreateTask {
                task: NewTask { project_id: project.into(), title: title.into(), ..Default::default() },
            })
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
            .run(Command::CreateSession {
                session: NewSession {
                    project_id: project.into(),
                    task_ids: tasks.iter().map(|s| s.to_string()).collect(),
                    ..Default::default()
                },
            })
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
