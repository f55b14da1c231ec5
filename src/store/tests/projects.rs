//! Projects: creation, validation, client ids, and deletion refused while in use.

use super::*;

#[test]
fn create_project_emits_created_and_validates() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let out = f
            .run(Command::CreateProject {
                project: NewProject { name: "  Alpha  ".into(), base_path: Some("/tmp".into()), ..Default::default() },
            })
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
            assert!(matches!(f.run(Command::CreateProject { project: bad }).await, Err(StoreError::Invalid(_))));
        }
        assert!(f.events().is_empty(), "refused mutations emit nothing");
        assert_eq!(f.store.last_seq(), 1);
    });
}

#[test]
fn client_ids_make_retries_safe() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let np = NewProject { id: Some("proj-mine".into()), name: "A".into(), ..Default::default() };
        let a = f.run(Command::CreateProject { project: np.clone() }).await.unwrap();
        let b = f.run(Command::CreateProject { project: np.clone() }).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(f.names(), vec!["project:created"], "a retry emits nothing");
        let other = NewProject { name: "B".into(), ..np };
        assert!(matches!(f.run(Command::CreateProject { project: other }).await, Err(StoreError::Conflict(_))));
    });
}

#[test]
fn project_delete_refused_while_it_has_work() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        assert!(matches!(f.run(Command::DeleteProject { id: p.id.clone() }).await, Err(StoreError::Conflict(_))));
        f.run(Command::DeleteTask { id: t.id }).await.unwrap();
        f.events();
        f.run(Command::DeleteProject { id: p.id.clone() }).await.unwrap();
        assert_eq!(f.events(), vec![EventData::ProjectDeleted(Deleted { id: p.id.clone() })]);
        assert!(matches!(f.run(Command::DeleteProject { id: p.id }).await, Err(StoreError::NotFound(_))));
    });
}

#[test]
fn workspace_settings_are_set_cleared_and_signed_only_when_set() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        assert_eq!((p.isolation, &p.base_branch, &p.setup_command), (true, &None, &None));
        let update = |patch: ProjectPatch| Command::UpdateProject { id: p.id.clone(), patch };
        let set = ProjectPatch {
            isolation: Some(false),
            base_branch: Some(Some("develop".into())),
            setup_command: Some(Some("make".into())),
            ..Default::default()
        };
        let Outcome::Project(q) = f.run(update(set.clone())).await.unwrap() else { panic!() };
        assert_eq!(
            (q.isolation, q.base_branch.as_deref(), q.setup_command.as_deref()),
            (false, Some("develop"), Some("make"))
        );
        assert!(q.setup_signature.is_some());
        assert_eq!(f.events(), vec![EventData::ProjectUpdated(q.clone())]);
        f.run(update(set)).await.unwrap();
        assert!(f.events().is_empty(), "the same values again change nothing");
        let bad = ProjectPatch { base_branch: Some(Some("a..b".into())), ..Default::default() };
        assert!(matches!(f.run(update(bad)).await, Err(StoreError::Invalid(_))));
        let clear = ProjectPatch { base_branch: Some(None), setup_command: Some(None), ..Default::default() };
        let Outcome::Project(r) = f.run(update(clear)).await.unwrap() else { panic!() };
        assert_eq!((r.isolation, r.base_branch, r.setup_command, r.setup_signature), (false, None, None, None));
    });
}

/// A project goes with everything of it in one commit: its workspaces' comments, its
/// workspaces, sessions and tasks, then itself; refused while a session runs (naming it)
/// or a worktree is on disk; another project is untouched, and a reopen agrees.
#[test]
fn a_project_is_deleted_with_everything_of_it_once_nothing_runs() {
    let (state, place) = rt().block_on(async {
        let mut f = Fixture::new();
        let (p, other) = (f.project("P").await, f.project("Other").await);
        let (a, b) = (f.task(&p.id, "a").await, f.task(&p.id, "b").await);
        let kept = f.task(&other.id, "kept").await;
        let running = f.session(&p.id, &[&a.id, &b.id]).await;
        let ended = f.session(&p.id, &[&a.id]).await;
        f.run(Command::SessionExited { id: ended.id.clone(), code: 0 }).await.unwrap();
        let theirs = f.session(&other.id, &[&kept.id]).await;
        let w = f.workspace(&a.id, "maestro/a").await;
        let nc = NewComment { path: "f.rs".into(), line: 1, body: "why?".into(), ..Default::default() };
        let Outcome::Comment(c) =
            f.run(Command::CreateComment { workspace_id: w.id.clone(), comment: nc }).await.unwrap()
        else {
            panic!()
        };
        let contents = f.state().project_contents(&p.id).unwrap();
        assert_eq!(
            contents,
            ProjectContents {
                tasks: 2,
                ended_sessions: 1,
                running: vec![running.name.clone()],
                workspaces: 1,
                worktrees: 1
            }
        );
        f.events();
        let delete = || Command::DeleteProjectWithContents { id: p.id.clone() };
        match f.run(delete()).await {
            Err(StoreError::Conflict(m)) => {
                assert!(m.contains(&running.id) && m.contains("end them first"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        f.run(Command::SessionExited { id: running.id.clone(), code: 1 }).await.unwrap();
        match f.run(delete()).await {
            Err(StoreError::Conflict(m)) => assert!(m.contains(&w.id) && m.contains("archive it first"), "{m}"),
            other => panic!("{other:?}"),
        }
        f.patch(&w.id, super::workspaces::status(WorkspaceStatus::Archived)).await.unwrap();
        assert!(matches!(f.run(Command::DeleteProject { id: p.id.clone() }).await, Err(StoreError::Conflict(_))));
        f.events();
        let seq = f.store.last_seq();
        assert_eq!(f.run(delete()).await.unwrap(), Outcome::Deleted);
        let gone = |id: &str| Deleted { id: id.to_string() };
        let mut sessions = [running.id.as_str(), ended.id.as_str()];
        sessions.sort_unstable();
        let mut tasks = [a.id.as_str(), b.id.as_str()];
        tasks.sort_unstable();
        assert_eq!(
            f.events(),
            vec![
                EventData::CommentDeleted(gone(&c.id)),
                EventData::WorkspaceDeleted(gone(&w.id)),
                EventData::SessionDeleted(gone(sessions[0])),
                EventData::SessionDeleted(gone(sessions[1])),
                EventData::TaskDeleted(gone(tasks[0])),
                EventData::TaskDeleted(gone(tasks[1])),
                EventData::ProjectDeleted(gone(&p.id)),
            ]
        );
        assert_eq!(f.store.last_seq(), seq + 7, "one commit, every event numbered");
        let st = f.state();
        st.check_invariant().unwrap();
        assert!(!st.projects.contains_key(&p.id) && st.workspaces.is_empty() && st.comments.is_empty());
        assert_eq!(st.tasks.keys().collect::<Vec<_>>(), vec![&kept.id]);
        assert_eq!(st.sessions.keys().collect::<Vec<_>>(), vec![&theirs.id]);
        assert!(matches!(f.run(delete()).await, Err(StoreError::NotFound(_))));
        (st, f.close())
    });
    let f = Fixture::at(place);
    assert_eq!(f.state(), state, "the deletion survives a reopen");
}
