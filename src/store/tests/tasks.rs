//! Tasks and their subtasks: versions, stamps and events.

use super::*;

#[test]
fn task_lifecycle_versions_and_completed_at() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let missing = NewTask { project_id: "nope".into(), title: "t".into(), ..Default::default() };
        assert!(matches!(f.run(Command::CreateTask { task: missing }).await, Err(StoreError::NotFound(_))));
        let t = f.task(&p.id, "Write tests").await;
        assert_eq!((t.version, t.status, t.priority, t.session_count), (1, TaskStatus::Pending, Priority::Medium, 0));

        let patch = TaskPatch { status: Some(TaskStatus::Completed), ..Default::default() };
        let Outcome::Task(t2) = f.run(Command::UpdateTask { id: t.id.clone(), patch }).await.unwrap() else { panic!() };
        assert_eq!(t2.version, 2);
        assert!(t2.completed_at.is_some());
        assert_eq!(f.events(), vec![EventData::TaskUpdated(t2.clone())]);

        let patch = TaskPatch { status: Some(TaskStatus::InProgress), ..Default::default() };
        let Outcome::Task(t3) = f.run(Command::UpdateTask { id: t.id.clone(), patch }).await.unwrap() else { panic!() };
        assert_eq!((t3.version, t3.completed_at), (3, None));

        // A patch that changes nothing emits nothing and keeps the version.
        assert!(!f.events().is_empty(), "the edits above emitted their events");
        let patch = TaskPatch { status: Some(TaskStatus::InProgress), ..Default::default() };
        let Outcome::Task(t4) = f.run(Command::UpdateTask { id: t.id.clone(), patch }).await.unwrap() else { panic!() };
        assert_eq!(t4.version, 3);
        assert!(f.events().is_empty(), "a patch that changes nothing emits nothing");

        let patch = TaskPatch { title: Some("".into()), ..Default::default() };
        assert!(matches!(f.run(Command::UpdateTask { id: t.id.clone(), patch }).await, Err(StoreError::Invalid(_))));
    });
}

#[test]
fn subtasks_add_tick_delete() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "T").await;
        let Outcome::Task(t) = f
            .run(Command::AddSubtask { task_id: t.id.clone(), subtask: NewSubtask { title: "one".into() } })
            .await
            .unwrap()
        else {
            panic!()
        };
        let sid = t.subtasks[0].id.clone();
        assert_eq!(f.events(), vec![EventData::TaskUpdated(t.clone())]);
        let tick = SubtaskPatch { status: Some(SubtaskStatus::Completed), ..Default::default() };
        let Outcome::Task(t) = f
            .run(Command::UpdateSubtask { task_id: t.id.clone(), subtask_id: sid.clone(), patch: tick })
            .await
            .unwrap()
        else {
            panic!()
        };
        assert!(t.subtasks[0].completed_at.is_some());
        assert_eq!(t.version, 3);
        let Outcome::Task(t) =
            f.run(Command::DeleteSubtask { task_id: t.id.clone(), subtask_id: sid.clone() }).await.unwrap()
        else {
            panic!()
        };
        assert!(t.subtasks.is_empty());
        assert_eq!(f.names(), vec!["task:updated", "task:updated"]);
        assert!(matches!(
            f.run(Command::DeleteSubtask { task_id: t.id.clone(), subtask_id: sid }).await,
            Err(StoreError::NotFound(_))
        ));
    });
}
