//! Workspaces (SPEC §8): recorded after the worktree is made, their changes and status
//! versioned, forgotten only once not active, and with their task; a session's workspace is
//! cleared when it goes. Nothing here runs git: the store records what was done on disk.

use super::*;

fn made(task: &str, branch: &str) -> WorkspaceMade {
    WorkspaceMade {
        task_id: task.into(),
        branch: branch.into(),
        base: "main".into(),
        base_commit: "0123456789abcdef0123456789abcdef01234567".into(),
        path: format!("/data/worktrees/{}", branch.replace('/', "-")),
        ..Default::default()
    }
}

impl Fixture {
    pub(super) async fn workspace(&mut self, task: &str, branch: &str) -> Workspace {
        let w = match self.run(Command::CreateWorkspace { workspace: Box::new(made(task, branch)) }).await {
            Ok(Outcome::Workspace(w)) => w,
            other => panic!("{other:?}"),
        };
        self.events();
        w
    }

    pub(super) async fn patch(&mut self, id: &str, patch: WorkspacePatch) -> Result<Workspace, StoreError> {
        match self.run(Command::UpdateWorkspace { id: id.into(), patch }).await? {
            Outcome::Workspace(w) => Ok(w),
            other => panic!("{other:?}"),
        }
    }
}

pub(super) fn status(s: WorkspaceStatus) -> WorkspacePatch {
    WorkspacePatch { status: Some(s), ..Default::default() }
}

#[test]
fn a_workspace_is_recorded_for_its_task_and_checked() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        let Outcome::Workspace(w) =
            f.run(Command::CreateWorkspace { workspace: Box::new(made(&t.id, "maestro/t-a1b2")) }).await.unwrap()
        else {
            panic!()
        };
        assert!(w.id.starts_with("ws_"));
        assert_eq!((w.project_id.as_str(), w.task_id.as_str()), (p.id.as_str(), t.id.as_str()));
        assert_eq!((w.status, w.version, w.created_at), (WorkspaceStatus::Active, 1, w.updated_at));
        assert_eq!(f.events(), vec![EventData::WorkspaceCreated(w.clone())]);
        assert_eq!(f.state().workspaces[&w.id], w);

        let missing = f.run(Command::CreateWorkspace { workspace: Box::new(made("task_missing", "maestro/x")) }).await;
        assert!(matches!(missing, Err(StoreError::NotFound(_))));
        for bad in [
            WorkspaceMade { branch: "has space".into(), ..made(&t.id, "b") },
            WorkspaceMade { branch: "x".repeat(201), ..made(&t.id, "b") },
            WorkspaceMade { base: String::new(), ..made(&t.id, "b") },
            WorkspaceMade { base_commit: "not-hex".into(), ..made(&t.id, "b") },
            WorkspaceMade { path: "relative/dir".into(), ..made(&t.id, "b") },
            WorkspaceMade { node: Some("bad id!".into()), ..made(&t.id, "b") },
        ] {
            let r = f.run(Command::CreateWorkspace { workspace: Box::new(bad.clone()) }).await;
            assert!(matches!(r, Err(StoreError::Invalid(_))), "{bad:?}: {r:?}");
        }
        // Two active workspaces never share a directory.
        let same_path = WorkspaceMade { branch: "maestro/other".into(), ..made(&t.id, "maestro/t-a1b2") };
        assert!(matches!(
            f.run(Command::CreateWorkspace { workspace: Box::new(same_path) }).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(f.events().is_empty(), "refused mutations emit nothing");
        f.state().check_invariant().unwrap();
    });
}

#[test]
fn changes_and_status_are_versioned_and_an_archived_workspace_is_not_followed() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        let w = f.workspace(&t.id, "maestro/t-1").await;
        let changes = ChangeSummary { files: 2, additions: 10, deletions: 1, dirty: true, ..Default::default() };
        let edit = WorkspacePatch { changes: Some(changes), disk_bytes: Some(Some(4096)), ..Default::default() };
        let w2 = f.patch(&w.id, edit.clone()).await.unwrap();
        assert_eq!((w2.changes, w2.disk_bytes, w2.version), (changes, Some(4096), 2));
        assert!(w2.updated_at > w.updated_at);
        assert_eq!(f.events(), vec![EventData::WorkspaceUpdated(w2.clone())]);
        // The same summary again: nothing happens, nothing is published.
        assert_eq!(f.patch(&w.id, edit).await.unwrap(), w2);
        assert!(f.events().is_empty());

        let archived = WorkspacePatch { disk_bytes: Some(None), ..status(WorkspaceStatus::Archived) };
        let w3 = f.patch(&w.id, archived).await.unwrap();
        assert_eq!((w3.status, w3.disk_bytes, w3.changes, w3.version), (WorkspaceStatus::Archived, None, changes, 3));
        // A late recompute of an archived workspace's changes is refused...
        let late = WorkspacePatch { changes: Some(ChangeSummary::default()), ..Default::default() };
        assert!(matches!(f.patch(&w.id, late).await, Err(StoreError::Conflict(_))));
        // ...and an archived one is not merged; it is restored.
        assert!(matches!(f.patch(&w.id, status(WorkspaceStatus::Merged)).await, Err(StoreError::Conflict(_))));
        let restored = WorkspacePatch { changes: Some(ChangeSummary::default()), ..status(WorkspaceStatus::Active) };
        let w4 = f.patch(&w.id, restored).await.unwrap();
        assert_eq!((w4.status, w4.changes, w4.version), (WorkspaceStatus::Active, ChangeSummary::default(), 4));
        assert_eq!(f.patch(&w.id, status(WorkspaceStatus::Merged)).await.unwrap().status, WorkspaceStatus::Merged);
        assert!(matches!(f.patch("ws_missing", status(WorkspaceStatus::Archived)).await, Err(StoreError::NotFound(_))));
    });
}

#[test]
fn a_workspace_is_deleted_only_once_not_active() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        let w = f.workspace(&t.id, "maestro/t-1").await;
        let delete = || Command::DeleteWorkspace { id: w.id.clone() };
        assert!(matches!(f.run(delete()).await, Err(StoreError::Conflict(_))));
        f.patch(&w.id, status(WorkspaceStatus::Archived)).await.unwrap();
        f.events();
        f.run(delete()).await.unwrap();
        assert_eq!(f.events(), vec![EventData::WorkspaceDeleted(Deleted { id: w.id.clone() })]);
        assert!(matches!(f.run(delete()).await, Err(StoreError::NotFound(_))));
    });
}

/// Deleting a task is refused while it has an active workspace (a worktree on disk would be
/// left behind); its archived and merged workspaces go with it, after its session events.
#[test]
fn a_task_is_deleted_with_its_workspaces_once_none_is_active() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        let other = f.task(&p.id, "other").await;
        let s = f.session(&p.id, &[&t.id]).await;
        let a = f.workspace(&t.id, "maestro/t-a").await;
        let b = f.workspace(&t.id, "maestro/t-b").await;
        let kept = f.workspace(&other.id, "maestro/other").await;
        let r = f.run(Command::DeleteTask { id: t.id.clone() }).await;
        assert!(matches!(r, Err(StoreError::Conflict(ref m)) if m.contains("archive")), "{r:?}");
        assert!(matches!(f.run(Command::DeleteProject { id: p.id.clone() }).await, Err(StoreError::Conflict(_))));
        f.patch(&a.id, status(WorkspaceStatus::Archived)).await.unwrap();
        f.patch(&b.id, status(WorkspaceStatus::Merged)).await.unwrap();
        f.events();
        f.run(Command::DeleteTask { id: t.id.clone() }).await.unwrap();
        assert_eq!(
            f.names(),
            vec![
                "task:deleted",
                "session:updated",
                "session:task_removed",
                "task:session_removed",
                "workspace:deleted",
                "workspace:deleted"
            ]
        );
        let st = f.state();
        assert!(!st.workspaces.contains_key(&a.id) && !st.workspaces.contains_key(&b.id));
        assert!(st.workspaces.contains_key(&kept.id));
        assert!(st.sessions[&s.id].task_ids.is_empty());
        st.check_invariant().unwrap();
    });
}

#[test]
fn workspaces_are_listed_by_project_task_and_status_newest_first() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let q = f.project("Q").await;
        let t = f.task(&p.id, "t").await;
        let u = f.task(&q.id, "u").await;
        let a = f.workspace(&t.id, "maestro/a").await;
        let b = f.workspace(&t.id, "maestro/b").await;
        let c = f.workspace(&u.id, "maestro/c").await;
        f.patch(&a.id, status(WorkspaceStatus::Archived)).await.unwrap();
        let st = f.state();
        let ids = |v: Vec<Workspace>| v.into_iter().map(|w| w.id).collect::<Vec<_>>();
        assert_eq!(ids(st.list_workspaces(None, None, None)), vec![c.id.clone(), b.id.clone(), a.id.clone()]);
        assert_eq!(ids(st.list_workspaces(Some(&p.id), None, None)), vec![b.id.clone(), a.id.clone()]);
        assert_eq!(ids(st.list_workspaces(None, Some(&u.id), None)), vec![c.id.clone()]);
        assert_eq!(ids(st.list_workspaces(Some(&p.id), None, Some(WorkspaceStatus::Active))), vec![b.id.clone()]);
        assert_eq!(ids(st.list_workspaces(None, Some(&t.id), Some(WorkspaceStatus::Merged))), Vec::<String>::new());
    });
}

/// A session's workspace is cleared in the same commit that forgets the workspace, whether
/// the workspace is deleted or goes with its task. (No command sets `workspaceId` yet: the
/// sessions are given one in the state planned against.)
#[test]
fn sessions_lose_a_workspace_that_goes() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        let linked = f.session(&p.id, &[&t.id]).await;
        let unlinked = f.session(&p.id, &[]).await;
        let w = f.workspace(&t.id, "maestro/t").await;
        f.patch(&w.id, status(WorkspaceStatus::Archived)).await.unwrap();
        let mut st = f.state();
        for id in [&linked.id, &unlinked.id] {
            st.sessions.get_mut(id).unwrap().workspace_id = Some(w.id.clone());
        }
        st.check_invariant().unwrap();
        let mut new_id = |prefix: &str| format!("{prefix}_new");
        let mut ctx = state::Inputs {
            now: now_millis(),
            api_url: "http://127.0.0.1:3000/api",
            setup_key: &crate::mac::Secret::random(),
            new_id: &mut new_id,
        };
        let cleared = |events: &[EventData], id: &str| {
            events.iter().any(|e| matches!(e, EventData::SessionUpdated(s) if s.id == id && s.workspace_id.is_none()))
        };
        for cmd in [Command::DeleteWorkspace { id: w.id.clone() }, Command::DeleteTask { id: t.id.clone() }] {
            let plan = st.plan(&cmd, &mut ctx).unwrap();
            assert!(cleared(&plan.events, &linked.id) && cleared(&plan.events, &unlinked.id), "{cmd:?}");
            let updates = plan.events.iter().filter(|e| matches!(e, EventData::SessionUpdated(_))).count();
            assert_eq!(updates, 2, "one update per session, even when it is also unlinked: {cmd:?}");
            let mut after = st.clone();
            for e in &plan.events {
                after.apply(e);
            }
            after.check_invariant().unwrap();
        }
    });
}

#[test]
fn workspaces_survive_a_reopen() {
    let (before, place) = rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        let w = f.workspace(&t.id, "maestro/t").await;
        let changes = ChangeSummary { files: 1, additions: 3, ..Default::default() };
        f.patch(&w.id, WorkspacePatch { changes: Some(changes), ..Default::default() }).await.unwrap();
        (f.state(), f.close())
    });
    let store = place.open().unwrap();
    assert_eq!(store.read(|s| s.clone()), before);
    assert_eq!(before.workspaces.len(), 1);
}

#[test]
fn a_session_runs_only_in_an_active_workspace_of_its_project() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let (p, q) = (f.project("P").await, f.project("Q").await);
        let t = f.task(&p.id, "t").await;
        let u = f.task(&q.id, "u").await;
        let w = f.workspace(&t.id, "maestro/t").await;
        let start = |project: &str, task: &str, workspace: &str| Command::CreateSession {
            session: NewSession {
                project_id: project.into(),
                task_ids: vec![task.into()],
                workspace: Some(workspace.into()),
                ..Default::default()
            },
        };
        for (cmd, why) in [
            (start(&q.id, &u.id, &w.id), "another project's"),
            (start(&p.id, &t.id, WORKSPACE_NEW), "\"new\" is the server's to make"),
            (start(&p.id, &t.id, "bad id!"), "not an id"),
        ] {
            assert!(matches!(f.run(cmd).await, Err(StoreError::Invalid(_))), "{why}");
        }
        assert!(matches!(f.run(start(&p.id, &t.id, "ws_missing")).await, Err(StoreError::NotFound(_))));
        let Ok(Outcome::Session(s)) = f.run(start(&p.id, &t.id, &w.id)).await else { panic!() };
        assert_eq!(s.workspace_id.as_deref(), Some(w.id.as_str()));
        let Ok(Outcome::Session(none)) = f.run(start(&p.id, &t.id, WORKSPACE_NONE)).await else { panic!() };
        assert_eq!(none.workspace_id, None);
        f.patch(&w.id, status(WorkspaceStatus::Archived)).await.unwrap();
        assert!(matches!(f.run(start(&p.id, &t.id, &w.id)).await, Err(StoreError::Conflict(_))));
        f.state().check_invariant().unwrap();
    });
}
