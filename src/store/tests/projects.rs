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
