//! A task's status follows the work (SPEC §8), as the store plans it: each move is part of
//! the one command that caused it (the session made, its exit, the merge recorded), with
//! its events in order; what someone said explicitly is left as it is.

use super::*;

impl Fixture {
    async fn session_in(&mut self, project: &str, task: &str, workspace: &str) -> Session {
        let session = NewSession {
            project_id: project.into(),
            task_ids: vec![task.into()],
            workspace: Some(workspace.into()),
            ..Default::default()
        };
        match self.run(Command::CreateSession { session }).await {
            Ok(Outcome::Session(s)) => s,
            other => panic!("{other:?}"),
        }
    }

    async fn exit(&mut self, session: &str, code: u32) -> Vec<EventData> {
        self.run(Command::SessionExited { id: session.into(), code }).await.unwrap();
        self.events()
    }

    fn status_of(&self, task: &str) -> TaskStatus {
        self.state().tasks[task].status
    }
}

fn changed(files: u64, ahead: u64) -> WorkspacePatch {
    let changes = ChangeSummary { files, ahead, dirty: files > 0, ..Default::default() };
    WorkspacePatch { changes: Some(changes), ..Default::default() }
}

#[test]
fn a_session_starts_its_pending_tasks_and_leaves_others_as_said() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let pending = f.task(&p.id, "pending").await;
        let blocked = f.task(&p.id, "blocked").await;
        let patch = TaskPatch { status: Some(TaskStatus::Blocked), ..Default::default() };
        f.run(Command::UpdateTask { id: blocked.id.clone(), patch }).await.unwrap();
        f.events();
        let s = f.session(&p.id, &[&pending.id, &blocked.id]).await;
        let st = f.state();
        assert_eq!(st.tasks[&pending.id].status, TaskStatus::InProgress);
        assert_eq!(st.tasks[&blocked.id].status, TaskStatus::Blocked);
        // One `task:updated` per task all the same, as before (the link).
        assert_eq!(st.tasks[&pending.id].session_ids, vec![s.id]);
    });
}

#[test]
fn the_last_session_ending_well_with_changes_puts_the_task_up_for_review() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        let w = f.workspace(&t.id, "maestro/t-1").await;
        let a = f.session_in(&p.id, &t.id, &w.id).await;
        let b = f.session_in(&p.id, &t.id, &w.id).await;
        f.run(Command::UpdateWorkspace { id: w.id.clone(), patch: changed(2, 0) }).await.unwrap();
        f.events();

        // Another session still works on it: it stays in progress.
        assert_eq!(f.exit(&a.id, 0).await.iter().map(|e| e.name()).collect::<Vec<_>>(), ["session:updated"]);
        assert_eq!(f.status_of(&t.id), TaskStatus::InProgress);
        let events = f.exit(&b.id, 0).await;
        assert_eq!(events.iter().map(|e| e.name()).collect::<Vec<_>>(), ["session:updated", "task:updated"]);
        let EventData::TaskUpdated(moved) = &events[1] else { panic!("{events:?}") };
        assert_eq!((moved.status, moved.completed_at), (TaskStatus::InReview, None));
        assert_eq!(f.state().tasks[&t.id], *moved);

        // Merging completes it, in the command that records the merge.
        let merged = WorkspacePatch { status: Some(WorkspaceStatus::Merged), ..Default::default() };
        f.run(Command::UpdateWorkspace { id: w.id.clone(), patch: merged }).await.unwrap();
        let events = f.events();
        assert_eq!(events.iter().map(|e| e.name()).collect::<Vec<_>>(), ["workspace:updated", "task:updated"]);
        let done = &f.state().tasks[&t.id];
        assert_eq!(done.status, TaskStatus::Completed);
        assert!(done.completed_at.is_some());
    });
}

#[test]
fn no_review_without_changes_after_a_failure_or_over_a_status_someone_said() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        let w = f.workspace(&t.id, "maestro/t-1").await;

        // Nothing changed: nothing to review.
        let s = f.session_in(&p.id, &t.id, &w.id).await;
        f.exit(&s.id, 0).await;
        assert_eq!(f.status_of(&t.id), TaskStatus::InProgress);

        // Commits ahead count; a failing agent's do not put it up for review.
        f.run(Command::UpdateWorkspace { id: w.id.clone(), patch: changed(0, 1) }).await.unwrap();
        let s = f.session_in(&p.id, &t.id, &w.id).await;
        f.exit(&s.id, 1).await;
        assert_eq!(f.status_of(&t.id), TaskStatus::InProgress);

        // Said by someone during the session: it stays.
        let s = f.session_in(&p.id, &t.id, &w.id).await;
        let patch = TaskPatch { status: Some(TaskStatus::Completed), ..Default::default() };
        f.run(Command::UpdateTask { id: t.id.clone(), patch }).await.unwrap();
        f.exit(&s.id, 0).await;
        assert_eq!(f.status_of(&t.id), TaskStatus::Completed);

        // A merge of a task already completed changes only the workspace.
        f.events();
        let merged = WorkspacePatch { status: Some(WorkspaceStatus::Merged), ..Default::default() };
        f.run(Command::UpdateWorkspace { id: w.id.clone(), patch: merged }).await.unwrap();
        assert_eq!(f.names(), ["workspace:updated"]);
    });
}
