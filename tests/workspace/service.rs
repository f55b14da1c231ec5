//! The server's workspace service over a store: making and recording a worktree, its
//! changes recorded as an agent writes (and only when they change), files and diffs,
//! archive refused with uncommitted work and forced, restore, a retry that makes nothing
//! twice, and a task kept while its workspace is active.

use super::{fixture, git, write, Fixture};
use maestro::model::*;
use maestro::store::{Command, IdempotencyKey, LoggedEvent, Outcome, Store, StoreConfig};
use maestro::workspace::Workspaces;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// A store with a project in the fixture's repository and a task in it, and the service
/// following its workspaces.
async fn service(f: &Fixture) -> (Store, Workspaces, Task) {
    let store = Store::open(StoreConfig::memory()).unwrap();
    let base_path = Some(f.repo.to_string_lossy().into_owned());
    let Outcome::Project(p) = store
        .execute(
            Command::CreateProject { project: NewProject { name: "P".into(), base_path, ..Default::default() } },
            None,
        )
        .await
        .unwrap()
    else {
        panic!()
    };
    let nt = NewTask { project_id: p.id, title: "Add dark mode".into(), ..Default::default() };
    let Outcome::Task(t) = store.execute(Command::CreateTask { task: nt }, None).await.unwrap() else { panic!() };
    let ws = Workspaces::new(store.clone(), Some(f.worktrees.clone()));
    ws.start();
    (store, ws, t)
}

/// The next `workspace:updated` of `id` whose summary `done` accepts, within 10 s.
async fn updated(
    rx: &mut broadcast::Receiver<Arc<LoggedEvent>>,
    id: &str,
    done: impl Fn(&ChangeSummary) -> bool,
) -> Workspace {
    let wait = async {
        loop {
            let e = rx.recv().await.expect("the store's events");
            if let EventData::WorkspaceUpdated(w) = &e.event.data {
                if w.id == id && done(&w.changes) {
                    return w.clone();
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait).await.expect("workspace:updated within 10 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_is_made_followed_archived_and_restored() {
    let f = fixture();
    let (store, ws, task) = service(&f).await;
    let mut rx = store.subscribe();
    let w = ws.create(NewWorkspace { task_id: task.id.clone(), base: None }, None).await.unwrap();
    assert!(w.branch.starts_with("maestro/add-dark-mode-"), "{}", w.branch);
    assert_eq!((w.base.as_str(), w.status, w.changes), ("main", WorkspaceStatus::Active, ChangeSummary::default()));
    assert_eq!(w.base_commit, git(&f.repo, &["rev-parse", "HEAD"]));
    assert!(w.disk_bytes.is_some_and(|n| n > 0));
    let path = std::path::PathBuf::from(&w.path);
    assert!(path.starts_with(f.worktrees.canonicalize().unwrap()) && path.join("README.md").is_file());

    // An agent writes: the change is recorded once the watcher has seen it.
    write(path.join("notes.txt"), "one\ntwo\n");
    let seen = updated(&mut rx, &w.id, |c| c.files == 1 && c.additions == 2).await;
    assert!(seen.changes.dirty && seen.version > w.version);
    assert!(ws.following(&w.id));
    // Once followed, a later write is seen by the watcher.
    write(path.join("src/new.rs"), "fn new() {}\n");
    updated(&mut rx, &w.id, |c| c.files == 2).await;
    std::fs::remove_file(path.join("src/new.rs")).unwrap();
    let last = updated(&mut rx, &w.id, |c| c.files == 1).await;
    let files = ws.files(&w.id).await.unwrap();
    assert_eq!(files.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), vec!["notes.txt"]);
    match ws.diff(&w.id, "notes.txt", None).await.unwrap() {
        FileDiff::Text { diff } => assert!(diff.contains("+one\n+two\n"), "{diff}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(ws.diff(&w.id, "../outside", None).await.unwrap_err().status.as_u16(), 400);
    // Reading changed nothing: no update was recorded for it.
    assert_eq!(store.read(|st| st.workspaces[&w.id].version), last.version);

    // The task stays while its workspace is active.
    let kept = store.execute(Command::DeleteTask { id: task.id.clone() }, None).await;
    assert!(kept.is_err(), "{kept:?}");

    let refused = ws.archive(&w.id, false, None).await.unwrap_err();
    assert_eq!(refused.status.as_u16(), 409);
    assert!(refused.message.contains("notes.txt"), "{}", refused.message);
    let archived = ws.archive(&w.id, true, None).await.unwrap();
    assert_eq!((archived.status, archived.disk_bytes), (WorkspaceStatus::Archived, None));
    assert!(!ws.following(&w.id));
    assert!(!path.exists());
    assert!(git(&f.repo, &["branch", "--list", &w.branch]).contains(&w.branch), "the branch is kept");
    assert_eq!(ws.files(&w.id).await.unwrap_err().status.as_u16(), 409);

    let restored = ws.restore(&w.id, None).await.unwrap();
    assert_eq!(restored.status, WorkspaceStatus::Active);
    assert!(path.join("README.md").is_file() && !path.join("notes.txt").exists());
    assert_eq!(ws.restore(&w.id, None).await.unwrap_err().status.as_u16(), 409);
    // Followed again after the restore.
    write(path.join("again.txt"), "x\n");
    updated(&mut rx, &w.id, |c| c.files == 1 && c.additions == 1).await;

    // A worktree removed by hand: reading it is refused (not a server failure); it archives
    // and restores as usual.
    std::fs::remove_dir_all(&path).unwrap();
    assert_eq!(ws.files(&w.id).await.unwrap_err().status.as_u16(), 409);
    assert_eq!(ws.diff(&w.id, "again.txt", None).await.unwrap_err().status.as_u16(), 409);
    assert_eq!(ws.archive(&w.id, false, None).await.unwrap().status, WorkspaceStatus::Archived);
    ws.restore(&w.id, None).await.unwrap();
    assert!(path.join("README.md").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_makes_nothing_twice_and_bad_requests_are_refused() {
    let f = fixture();
    let (store, ws, task) = service(&f).await;
    let key = |fp: &str| Some(IdempotencyKey { key: "k".into(), fingerprint: fp.into() });
    let new = NewWorkspace { task_id: task.id.clone(), base: None };
    let a = ws.create(new.clone(), key("x")).await.unwrap();
    let b = ws.create(new.clone(), key("x")).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(store.read(|st| st.workspaces.len()), 1);
    let dirs = std::fs::read_dir(f.worktrees.join(&task.project_id)).unwrap().count();
    assert_eq!(dirs, 1, "a retry makes no second worktree");
    assert_eq!(ws.create(new, key("y")).await.unwrap_err().status.as_u16(), 422);

    let status = |r: Result<Workspace, maestro::http::AppError>| r.unwrap_err().status.as_u16();
    let missing = NewWorkspace { task_id: "task_missing".into(), base: None };
    assert_eq!(status(ws.create(missing, None).await), 404);
    let bad_id = NewWorkspace { task_id: "../x".into(), base: None };
    assert_eq!(status(ws.create(bad_id, None).await), 400);
    let no_base = NewWorkspace { task_id: task.id.clone(), base: Some("no-such-branch".into()) };
    assert_eq!(status(ws.create(no_base, None).await), 409);
    let option = NewWorkspace { task_id: task.id.clone(), base: Some("--output=/tmp/x".into()) };
    assert_eq!(status(ws.create(option, None).await), 400);
    assert_eq!(status(ws.archive("ws_missing", false, None).await), 404);
    assert_eq!(store.read(|st| st.workspaces.len()), 1, "nothing recorded for a refusal");
}

/// Two first sessions of a task asked for at once find or make one workspace, not two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sessions_at_once_share_one_workspace() {
    let f = fixture();
    let (store, ws, task) = service(&f).await;
    let ns = NewSession { project_id: task.project_id.clone(), task_ids: vec![task.id.clone()], ..Default::default() };
    let (a, b) = tokio::join!(ws.for_session(&ns, None), ws.for_session(&ns, None));
    let (a, b) = (a.unwrap().expect("a workspace"), b.unwrap().expect("a workspace"));
    assert_eq!(a.id, b.id);
    assert_eq!(store.read(|st| st.workspaces.len()), 1);
}
