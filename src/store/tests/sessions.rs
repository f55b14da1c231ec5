//! Sessions and their links to tasks: both sides change together, in SPEC §3 order.

use super::*;

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
            .run(Command::CreateSession {
                session: NewSession {
                    project_id: p.id.clone(),
                    task_ids: vec![t1.id.clone()],
                    name: Some("agent".into()),
                    agent_id: Some("claude".into()),
                    ..Default::default()
                },
            })
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
fn renaming_a_task_renames_the_sessions_named_after_it() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "old title").await;
        let after = f.session(&p.id, &[&t.id]).await;
        let custom = Command::CreateSession {
            session: NewSession {
                project_id: p.id.clone(),
                task_ids: vec![t.id.clone()],
                name: Some("my agent".into()),
                ..Default::default()
            },
        };
        let Outcome::Session(custom) = f.run(custom).await.unwrap() else { panic!() };
        f.events();
        let patch = TaskPatch { title: Some("new title".into()), ..Default::default() };
        f.run(Command::UpdateTask { id: t.id.clone(), patch }).await.unwrap();
        let st = f.state();
        let renamed = st.sessions[&after.id].clone();
        assert_eq!(renamed.name, "new title");
        assert_eq!(renamed.version, after.version + 1);
        assert_eq!(st.sessions[&custom.id], custom, "a session named otherwise keeps its name");
        assert_eq!(
            f.events(),
            vec![EventData::TaskUpdated(st.tasks[&t.id].clone()), EventData::SessionUpdated(renamed)]
        );
        // Another change than the title renames nothing.
        let patch = TaskPatch { description: Some("more".into()), ..Default::default() };
        f.run(Command::UpdateTask { id: t.id.clone(), patch }).await.unwrap();
        assert_eq!(f.events().len(), 1);
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
        let ns = |ids: Vec<String>| Command::CreateSession {
            session: NewSession { project_id: p.id.clone(), task_ids: ids, ..Default::default() },
        };
        assert!(matches!(f.run(ns(vec!["task_missing".into()])).await, Err(StoreError::NotFound(_))));
        // Another project's task: a conflict with what is, not a malformed request.
        assert!(matches!(f.run(ns(vec![u.id.clone()])).await, Err(StoreError::Conflict(_))));
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
        assert!(matches!(f.run(cross).await, Err(StoreError::Conflict(_))));

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
        f.run(Command::DeleteTask { id: t.id.clone() }).await.unwrap();
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
        assert!(matches!(f.run(Command::DeleteTask { id: t.id }).await, Err(StoreError::NotFound(_))));
    });
}

#[test]
fn deleting_a_session_unlinks_its_tasks() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        let s = f.session(&p.id, &[&t.id]).await;
        f.run(Command::DeleteSession { id: s.id.clone() }).await.unwrap();
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
        let Outcome::Session(s1) = f.run(Command::UpdateSession { id: s.id.clone(), patch }).await.unwrap() else {
            panic!()
        };
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
        let mut ctx = state::Inputs {
            now: now_millis(),
            api_url: "http://127.0.0.1:3000/api",
            setup_key: &crate::mac::Secret::random(),
            new_id: &mut new_id,
        };
        let mut no_task = f.state();
        no_task.tasks.remove(&t.id);
        let plan = no_task.plan(&Command::DeleteSession { id: s.id.clone() }, &mut ctx).unwrap();
        assert_eq!(plan.events, vec![EventData::SessionDeleted(Deleted { id: s.id.clone() })]);
        let mut no_session = f.state();
        no_session.sessions.remove(&s.id);
        let plan = no_session.plan(&Command::DeleteTask { id: t.id.clone() }, &mut ctx).unwrap();
        assert_eq!(plan.events, vec![EventData::TaskDeleted(Deleted { id: t.id.clone() })]);
    });
}

#[test]
fn a_sessions_timeline_keeps_its_newest_lines_through_a_reopen() {
    use crate::model::limits::TIMELINE_MAX;
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        let s = f.session(&p.id, &[&t.id]).await;
        let log = |text: &str| Command::LogSession { id: s.id.clone(), line: SessionLogLine { text: text.into() } };
        for i in 0..TIMELINE_MAX + 2 {
            f.run(log(&format!("  step {i} "))).await.unwrap();
        }
        let Some(EventData::SessionUpdated(now)) = f.events().pop() else { panic!("no update") };
        let texts: Vec<String> = now.timeline.iter().map(|l| l.text.clone()).collect();
        let want: Vec<String> = (2..TIMELINE_MAX + 2).map(|i| format!("step {i}")).collect();
        assert_eq!(texts, want, "the newest lines, trimmed, oldest first");
        assert!(matches!(f.run(log("two\nlines")).await, Err(StoreError::Invalid(_))));
        assert!(matches!(f.run(log("   ")).await, Err(StoreError::Invalid(_))));
        let missing = Command::LogSession { id: "nope".into(), line: SessionLogLine { text: "x".into() } };
        assert!(matches!(f.run(missing).await, Err(StoreError::NotFound(_))));
        let f = Fixture::at(f.close());
        assert_eq!(f.state().sessions[&s.id].timeline, now.timeline);
    });
}

#[test]
fn a_sessions_own_prompt_is_kept_and_blank_is_none() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let ns = |prompt: &str| Command::CreateSession {
            session: NewSession { project_id: p.id.clone(), prompt: Some(prompt.into()), ..Default::default() },
        };
        let Outcome::Session(s) = f.run(ns("fix line 3\n\tplease")).await.unwrap() else { panic!() };
        assert_eq!(s.prompt.as_deref(), Some("fix line 3\n\tplease"));
        let Outcome::Session(blank) = f.run(ns("  \n")).await.unwrap() else { panic!() };
        assert_eq!(blank.prompt, None);
        let cap = crate::model::limits::SESSION_PROMPT_MAX;
        assert!(matches!(f.run(ns(&"x".repeat(cap + 1))).await, Err(StoreError::Invalid(_))));
        assert!(f.run(ns(&"x".repeat(cap))).await.is_ok());
        assert!(matches!(f.run(ns("\x1b[31m")).await, Err(StoreError::Invalid(_))));
        f.state().check_invariant().unwrap();
    });
}

#[test]
fn the_terminals_guess_never_overrides_what_the_agent_said_meanwhile() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        let s = f.session(&p.id, &[&t.id]).await;
        let state = |f: &Fixture| f.state().sessions[&s.id].state;
        let guess = |state, seen| Command::GuessSessionState { id: s.id.clone(), state, seen, message: None };
        // Made from "nothing said yet", it holds while nothing was.
        f.run(guess(SessionState::Working, None)).await.unwrap();
        assert_eq!(state(&f), Some(SessionState::Working));
        // The agent asks; a guess made before that (from "working") changes nothing.
        let asks = SessionStateUpdate { state: SessionState::NeedsInput, message: Some("Which database?".into()) };
        f.run(Command::SetSessionState { id: s.id.clone(), update: asks }).await.unwrap();
        f.events();
        f.run(guess(SessionState::Idle, Some(SessionState::Working))).await.unwrap();
        assert_eq!(state(&f), Some(SessionState::NeedsInput));
        assert_eq!(f.events(), vec![], "nothing changed, nothing said");
        // One made from what it now is goes through.
        f.run(guess(SessionState::Working, Some(SessionState::NeedsInput))).await.unwrap();
        assert_eq!(state(&f), Some(SessionState::Working));
    });
}
