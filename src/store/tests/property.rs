//! A property test: long random operation sequences keep the invariant, and the log
//! replayed from empty rebuilds the state.

use super::*;
use proptest::prelude::*;

/// A random operation, naming records by index into what exists (or a missing id).
#[derive(Clone, Debug)]
enum Op {
    Project,
    DeleteProject(usize),
    DeleteProjectWithContents(usize),
    Task(usize, u8),
    UpdateTask(usize, u8),
    DeleteTask(usize),
    Subtask(usize),
    Session(usize, Vec<usize>),
    DeleteSession(usize),
    Link(usize, usize),
    Unlink(usize, usize),
    SessionStatus(usize, u8),
    Workspace(usize),
    WorkspaceStatus(usize, u8),
    DeleteWorkspace(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Project),
        1 => any::<usize>().prop_map(Op::DeleteProject),
        1 => any::<usize>().prop_map(Op::DeleteProjectWithContents),
        4 => (any::<usize>(), any::<u8>()).prop_map(|(p, s)| Op::Task(p, s)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(t, s)| Op::UpdateTask(t, s)),
        2 => any::<usize>().prop_map(Op::DeleteTask),
        1 => any::<usize>().prop_map(Op::Subtask),
        3 => (any::<usize>(), proptest::collection::vec(any::<usize>(), 0..4)).prop_map(|(p, t)| Op::Session(p, t)),
        2 => any::<usize>().prop_map(Op::DeleteSession),
        3 => (any::<usize>(), any::<usize>()).prop_map(|(s, t)| Op::Link(s, t)),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(s, t)| Op::Unlink(s, t)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(s, st)| Op::SessionStatus(s, st)),
        2 => any::<usize>().prop_map(Op::Workspace),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(w, st)| Op::WorkspaceStatus(w, st)),
        1 => any::<usize>().prop_map(Op::DeleteWorkspace),
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
    let w = |i| pick(st.workspaces.keys(), i);
    match op {
        Op::Project => Command::CreateProject { project: NewProject { name: "p".into(), ..Default::default() } },
        Op::DeleteProject(i) => Command::DeleteProject { id: p(*i) },
        Op::DeleteProjectWithContents(i) => Command::DeleteProjectWithContents { id: p(*i) },
        Op::Task(i, st) => Command::CreateTask {
            task: NewTask {
                project_id: p(*i),
                title: format!("t{st}"),
                status: Some(TaskStatus::ALL[*st as usize % TaskStatus::COUNT]),
                ..Default::default()
            },
        },
        Op::UpdateTask(i, st) => Command::UpdateTask {
            id: t(*i),
            patch: TaskPatch { status: Some(TaskStatus::ALL[*st as usize % TaskStatus::COUNT]), ..Default::default() },
        },
        Op::DeleteTask(i) => Command::DeleteTask { id: t(*i) },
        Op::Subtask(i) => Command::AddSubtask { task_id: t(*i), subtask: NewSubtask { title: "s".into() } },
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
            Command::CreateSession { session: NewSession { project_id: project, task_ids: ids, ..Default::default() } }
        }
        Op::DeleteSession(i) => Command::DeleteSession { id: s(*i) },
        Op::Link(a, b) => Command::LinkTask { session_id: s(*a), task_id: t(*b) },
        Op::Unlink(a, b) => Command::UnlinkTask { session_id: s(*a), task_id: t(*b) },
        Op::SessionStatus(i, st) => Command::UpdateSession {
            id: s(*i),
            patch: SessionPatch { status: Some(SessionStatus::ALL[*st as usize % 3]), ..Default::default() },
        },
        Op::Workspace(i) => Command::CreateWorkspace {
            workspace: Box::new(WorkspaceMade {
                task_id: t(*i),
                branch: format!("maestro/w{}", st.workspaces.len()),
                base: "main".into(),
                base_commit: "abcd".into(),
                path: format!("/w/{}", st.workspaces.len()),
                ..Default::default()
            }),
        },
        Op::WorkspaceStatus(i, to) => Command::UpdateWorkspace {
            id: w(*i),
            patch: WorkspacePatch { status: Some(WorkspaceStatus::ALL[*to as usize % 3]), ..Default::default() },
        },
        Op::DeleteWorkspace(i) => Command::DeleteWorkspace { id: w(*i) },
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
