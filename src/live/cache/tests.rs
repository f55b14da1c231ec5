//! Cache tests: whatever the interleaving of duplicated events, delayed fetch responses
//! and resyncs, the cache ends with exactly the lists a fresh fetch would return.

use super::*;
use crate::store::state::State;
use crate::store::{Command, Store, StoreConfig};
use proptest::prelude::*;

/// The lists a fresh fetch returns from `st`.
fn fetch(st: &State, key: &ListKey) -> Fetched {
    match key {
        ListKey::Projects => Fetched::Projects(st.list_projects()),
        ListKey::ProjectTasks(p) => Fetched::Tasks(st.list_tasks(Some(p), None)),
        ListKey::TaskSessions(t) => Fetched::Sessions(st.list_sessions(Some(t), None, None)),
        ListKey::SessionTasks(s) => Fetched::Tasks(st.list_session_tasks(s)),
        ListKey::Attention => {
            let ended = |s: &Session| s.status != SessionStatus::Running;
            let sessions = st.list_sessions(None, None, None).into_iter().filter(ended).collect();
            Fetched::Attention(st.list_tasks(None, Some(TaskStatus::Blocked)), sessions)
        }
        ListKey::ProjectWorkspaces(p) => {
            Fetched::Workspaces(st.list_workspaces(Some(p), None, Some(WorkspaceStatus::Active)))
        }
        ListKey::WorkspaceComments(w) => Fetched::Comments(st.workspace_comments(w).into_iter().cloned().collect()),
        // Every running session, and all of the project's ended (none left on the server).
        ListKey::PaneSessions(p) => {
            let (running, ended) = st.list_sessions(None, None, None).into_iter().partition(running);
            Fetched::Pane(running, ended.into_iter().filter(|s| s.project_id == *p).collect())
        }
    }
}

fn running(s: &Session) -> bool {
    s.status == SessionStatus::Running
}

#[derive(Clone, Debug, PartialEq)]
enum Fetched {
    Projects(Vec<Project>),
    Tasks(Vec<Task>),
    Sessions(Vec<Session>),
    Attention(Vec<Task>, Vec<Session>),
    Workspaces(Vec<Workspace>),
    Comments(Vec<ReviewComment>),
    Pane(Vec<Session>, Vec<Session>),
}

fn load(cache: &mut Cache, key: &ListKey, f: &Fetched, at: u64) {
    match f {
        Fetched::Projects(v) => cache.load_projects(v, at),
        Fetched::Tasks(v) => cache.load_tasks(key.clone(), v, at),
        Fetched::Sessions(v) => cache.load_sessions(key.clone(), v, at),
        Fetched::Attention(t, s) => cache.load_attention(t, s, at),
        Fetched::Workspaces(v) => cache.load_workspaces(key.clone(), v, at),
        Fetched::Comments(v) => match key {
            ListKey::WorkspaceComments(w) => cache.load_comments(w, v, at),
            _ => unreachable!("comments are a workspace's"),
        },
        Fetched::Pane(r, e) => match key {
            ListKey::PaneSessions(p) => cache.load_pane_sessions(p, r, e, false, at),
            _ => unreachable!("the pane's list is a project's"),
        },
    }
}

fn shown(cache: &Cache, key: &ListKey) -> Option<Fetched> {
    match key {
        ListKey::Projects => cache.projects().map(Fetched::Projects),
        ListKey::ProjectTasks(p) => cache.project_tasks(p).map(Fetched::Tasks),
        ListKey::TaskSessions(t) => cache.task_sessions(t).map(Fetched::Sessions),
        ListKey::SessionTasks(s) => cache.session_tasks(s).map(Fetched::Tasks),
        ListKey::Attention => cache.attention().map(|(t, s)| Fetched::Attention(t, s)),
        ListKey::ProjectWorkspaces(p) => cache.project_workspaces(p).map(Fetched::Workspaces),
        ListKey::WorkspaceComments(w) => cache.workspace_comments(w).map(Fetched::Comments),
        ListKey::PaneSessions(p) => cache.is_loaded(key).then(|| {
            let mut v: Vec<Session> =
                cache.pane_sessions().filter(|s| running(s) || s.project_id == *p).cloned().collect();
            v.sort_by(Session::newest_first);
            let (running, ended) = v.into_iter().partition(running);
            Fetched::Pane(running, ended)
        }),
    }
}

/// Runs a fixed busy script on a store and returns its events (in order).
fn history(ops: &[(u8, usize, usize)]) -> Vec<Event> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = Store::open(StoreConfig::memory()).unwrap();
        for (i, &(op, a, b)) in ops.iter().enumerate() {
            let cmd = store.read(|st| {
                let pick = |ids: Vec<&String>, n: usize| {
                    let mut ids = ids;
                    ids.sort();
                    ids.get(n % ids.len().max(1)).map(|s| s.to_string()).unwrap_or_default()
                };
                let p = pick(st.projects.keys().collect(), a);
                let t = pick(st.tasks.keys().collect(), b);
                let s = pick(st.sessions.keys().collect(), a.wrapping_add(b));
                match op % 10 {
                    0 => Command::CreateProject { project: NewProject { name: format!("p{i}"), ..Default::default() } },
                    1 | 2 => Command::CreateTask {
                        task: NewTask { project_id: p, title: format!("t{i}"), ..Default::default() },
                    },
                    3 => Command::UpdateTask {
                        id: t,
                        patch: TaskPatch { title: Some(format!("u{i}")), ..Default::default() },
                    },
                    4 => Command::CreateSession {
                        session: NewSession {
                            project_id: st.tasks.get(&t).map(|x| x.project_id.clone()).unwrap_or(p),
                            task_ids: st.tasks.contains_key(&t).then_some(t).into_iter().collect(),
                            ..Default::default()
                        },
                    },
                    5 => Command::LinkTask { session_id: s, task_id: t },
                    6 => Command::DeleteTask { id: t },
                    7 => Command::DeleteSession { id: s },
                    8 => Command::UpdateTask {
                        id: t,
                        patch: TaskPatch { status: Some(TaskStatus::ALL[b % TaskStatus::COUNT]), ..Default::default() },
                    },
                    _ => Command::UpdateSession {
                        id: s,
                        patch: SessionPatch {
                            status: Some([SessionStatus::Completed, SessionStatus::Failed][b % 2]),
                            ..Default::default()
                        },
                    },
                }
            });
            let _ = store.execute(cmd, None).await;
        }
        store.events_since(0, 1 << 30).await.unwrap().into_iter().map(|e| e.event.clone()).collect()
    })
}

fn replay(events: &[Event], upto: u64) -> State {
    let mut st = State::default();
    for e in events.iter().take_while(|e| e.seq <= upto) {
        st.apply(&e.data);
    }
    st
}

#[test]
fn duplicate_events_change_nothing_and_gaps_are_reported() {
    let events = history(&[(0, 0, 0), (1, 0, 0), (3, 0, 0), (4, 0, 0)]);
    let mut cache = Cache::default();
    let st0 = replay(&events, 0);
    load(&mut cache, &ListKey::ProjectTasks("none".into()), &fetch(&st0, &ListKey::Projects), 0);
    assert_eq!(cache.apply(&events[0]), Applied::Applied);
    let snapshot = cache.clone();
    assert_eq!(cache.apply(&events[0]), Applied::Duplicate);
    assert_eq!(cache, snapshot);
    assert_eq!(cache.apply(&events[2]), Applied::Gap);
    assert_eq!(cache, snapshot, "a gap changes nothing");
}

#[test]
fn an_older_version_never_replaces_a_newer_one() {
    let events = history(&[(0, 0, 0), (1, 0, 0), (3, 0, 0), (3, 0, 0)]);
    let final_state = replay(&events, u64::MAX);
    let pid = final_state.projects.keys().next().unwrap().clone();
    let key = ListKey::ProjectTasks(pid.clone());
    let mut cache = Cache::default();
    // A fetch at the end, then the (delayed) whole stream: nothing goes back.
    let last = events.last().unwrap().seq;
    load(&mut cache, &key, &fetch(&final_state, &key), last);
    cache.seq = 0;
    for e in &events {
        cache.apply(e);
    }
    assert_eq!(shown(&cache, &key), Some(fetch(&final_state, &key)));
    assert_eq!(cache.project_tasks(&pid).unwrap()[0].version, 3);
}

#[test]
fn a_server_that_says_not_found_makes_it_go_for_good() {
    let events = history(&[(0, 0, 0), (1, 0, 0)]);
    let st = replay(&events, u64::MAX);
    let pid = st.projects.keys().next().unwrap().clone();
    let key = ListKey::ProjectTasks(pid.clone());
    let mut cache = Cache::default();
    load(&mut cache, &key, &fetch(&st, &key), events.last().unwrap().seq);
    let t = cache.project_tasks(&pid).unwrap()[0].clone();
    let before = cache.optimistic(Task { title: "edited".into(), ..t.clone() });
    cache.forget::<Task>(&t.id);
    assert_eq!(cache.project_tasks(&pid), Some(vec![]));
    // Neither the edit's rollback nor a late copy of the server's brings it back.
    cache.rollback(&t.id, before);
    cache.confirm(&t);
    assert_eq!(cache.project_tasks(&pid), Some(vec![]));
}

#[test]
fn two_quick_edits_show_the_second_whatever_comes_between_and_a_refusal_takes_back_its_own() {
    // The server's history: a task, then moved to in review and then to completed.
    let events = history(&[(0, 0, 0), (1, 0, 0), (8, 0, 2), (8, 0, 3)]);
    let st = replay(&events, 2);
    let pid = st.projects.keys().next().unwrap().clone();
    let key = ListKey::ProjectTasks(pid.clone());
    let mut cache = Cache::default();
    load(&mut cache, &key, &fetch(&st, &key), 2);
    let id = cache.project_tasks(&pid).unwrap()[0].id.clone();
    let status = |c: &Cache| c.task(&id).map(|t| t.status);
    let answer = |seq: u64| match &events[seq as usize - 1].data {
        EventData::TaskUpdated(t) => t.clone(),
        e => panic!("not the task's update: {e:?}"),
    };
    // Two moves before any answer (the board's → pressed twice).
    let first = cache.edit(&id, |t: &mut Task| t.status = TaskStatus::InReview).unwrap();
    let second = cache.edit(&id, |t: &mut Task| t.status = TaskStatus::Completed).unwrap();
    assert_eq!(status(&cache), Some(TaskStatus::Completed));
    // The first move's event and answer: newer than what the second was made on, yet the
    // second still shows.
    cache.apply(&events[2]);
    assert_eq!(status(&cache), Some(TaskStatus::Completed));
    cache.settle(&id, first, Some(&answer(3)));
    assert_eq!(status(&cache), Some(TaskStatus::Completed));
    // A third move, refused: only it goes back, to what the server has (the second's
    // event came meanwhile).
    let third = cache.edit(&id, |t: &mut Task| t.status = TaskStatus::Blocked).unwrap();
    cache.apply(&events[3]);
    assert_eq!(status(&cache), Some(TaskStatus::Blocked));
    cache.settle::<Task>(&id, third, None);
    assert_eq!(status(&cache), Some(TaskStatus::Completed));
    cache.settle(&id, second, Some(&answer(4)));
    assert_eq!(cache.task(&id), Some(&answer(4)), "the server's copy, with nothing left over it");

    // A refusal while nothing newer came: the copy from before the edit.
    let before = cache.task(&id).cloned();
    let refused = cache.edit(&id, |t: &mut Task| t.title = "renamed".into()).unwrap();
    assert_eq!(cache.task(&id).map(|t| t.title.as_str()), Some("renamed"));
    cache.settle::<Task>(&id, refused, None);
    assert_eq!(cache.task(&id).cloned(), before);

    // A resync forgets every copy; the edit still waiting shows over the refetched one.
    let waiting = cache.edit(&id, |t: &mut Task| t.status = TaskStatus::Pending).unwrap();
    let seq = events.last().unwrap().seq;
    for key in cache.resync(seq) {
        load(&mut cache, &key, &fetch(&replay(&events, seq), &key), seq);
    }
    assert_eq!(status(&cache), Some(TaskStatus::Pending));
    // Deleted meanwhile (the server says not found): its answer brings nothing back.
    cache.forget::<Task>(&id);
    cache.settle::<Task>(&id, waiting, None);
    assert_eq!(cache.task(&id), None);
}

#[test]
fn a_deletion_waiting_for_undo_hides_the_task_until_undone_unless_an_event_deletes_it() {
    let events = history(&[(0, 0, 0), (1, 0, 0), (1, 0, 0)]);
    let n = events.last().unwrap().seq;
    let st = replay(&events, n);
    let pid = st.projects.keys().next().unwrap().clone();
    let key = ListKey::ProjectTasks(pid.clone());
    let mut cache = Cache::default();
    load(&mut cache, &key, &fetch(&st, &key), n);
    let all = cache.project_tasks(&pid).unwrap();
    let (t, other) = (all[0].clone(), all[1].clone());
    let removed = cache.optimistic_remove::<Task>(&t.id);
    // A later copy (an event, a refetch) does not show it while the Undo is offered.
    let renamed = Task { title: "renamed".into(), version: t.version + 1, ..t.clone() };
    cache.apply(&Event { seq: n + 1, data: EventData::TaskUpdated(renamed.clone()), timestamp: 0 });
    cache.confirm(&t);
    assert_eq!(cache.project_tasks(&pid).unwrap().len(), 1);
    // Undo brings it back, as the server has it now.
    cache.rollback(&t.id, removed);
    assert_eq!(cache.task(&t.id).map(|t| t.title.as_str()), Some("renamed"));
    // An edit answered while the task is hidden: the Undo shows the answer.
    let edit = cache.edit(&t.id, |x: &mut Task| x.priority = Priority::High).unwrap();
    let removed = cache.optimistic_remove::<Task>(&t.id);
    let answered = Task { priority: Priority::High, version: renamed.version + 1, ..renamed };
    cache.settle(&t.id, edit, Some(&answered));
    assert!(cache.task(&t.id).is_none());
    cache.rollback(&t.id, removed);
    assert_eq!(cache.task(&t.id), Some(&answered));
    // Deleted by an event while hidden: no Undo brings it back.
    let removed = cache.optimistic_remove::<Task>(&other.id);
    cache.apply(&Event { seq: n + 2, data: EventData::TaskDeleted(Deleted { id: other.id.clone() }), timestamp: 0 });
    cache.rollback(&other.id, removed);
    assert!(cache.task(&other.id).is_none());
}

#[test]
fn a_session_lists_a_task_as_soon_as_its_own_side_links_it() {
    // Project, two tasks, a session on the first (ops as `history` reads them).
    let events = history(&[(0, 0, 0), (1, 0, 0), (1, 0, 0), (4, 0, 0)]);
    let n = events.last().unwrap().seq;
    let st = replay(&events, n);
    let s = st.sessions.values().next().cloned().expect("the history makes a session");
    let other = st.tasks.values().find(|t| !s.task_ids.contains(&t.id)).unwrap().clone();
    let mut cache = Cache::default();
    let key = ListKey::SessionTasks(s.id.clone());
    cache.load_tasks(key.clone(), &st.list_session_tasks(&s.id), n);
    cache.load_task_entities(std::slice::from_ref(&other), n);
    cache.load_session_entities(std::slice::from_ref(&s), n);
    // The optimistic link changes the session only; the task's side comes with a later event.
    let mut linked = s.clone();
    linked.task_ids.push(other.id.clone());
    cache.optimistic(linked);
    assert!(cache.session_task_ids(&s.id).unwrap().contains(&other.id));
}

#[test]
fn an_event_notes_only_the_task_it_changes() {
    let events = history(&[(0, 0, 0), (1, 0, 0), (1, 0, 0), (1, 0, 0)]);
    let mut cache = Cache::default();
    let n = events.last().unwrap().seq;
    let st = replay(&events, n);
    let p = st.projects.keys().next().unwrap().clone();
    cache.load_tasks(ListKey::ProjectTasks(p.clone()), &st.list_tasks(Some(&p), None), n);
    cache.take_changes();
    let mut t = st.list_tasks(Some(&p), None)[1].clone();
    t.title = "renamed".into();
    t.version += 1;
    let e = Event { seq: n + 1, data: EventData::TaskUpdated(t.clone()), timestamp: 0 };
    assert_eq!(cache.apply(&e), Applied::Applied);
    let changes = cache.take_changes();
    assert_eq!(changes.tasks, vec![t.id.clone()]);
    assert!(!changes.lists && !changes.other, "same place in the list: no list or other change");
    // A status change moves it between the per-status lists.
    t.status = TaskStatus::Blocked;
    t.version += 1;
    cache.apply(&Event { seq: n + 2, data: EventData::TaskUpdated(t.clone()), timestamp: 0 });
    assert!(cache.take_changes().lists);
    assert_eq!(cache.project_window(&p, Some(TaskStatus::Blocked), 0, 10), vec![t.id.clone()]);
    assert_eq!(cache.project_counts(&p).unwrap().1[TaskStatus::Blocked.slot()], 1);
}

#[test]
fn only_events_raise_flags_and_an_unblocked_task_lowers_its_own() {
    // Project, two tasks, a session on one; then the first task blocked, the session failed.
    let events = history(&[(0, 0, 0), (1, 0, 0), (1, 0, 0), (4, 0, 0), (8, 0, 4), (9, 0, 1)]);
    let n = events.len();
    let mut cache = Cache::default();
    // What was flagged before this tab looked came by a load: nothing is raised.
    let st = replay(&events, events[n - 3].seq);
    let Fetched::Attention(t, s) = fetch(&st, &ListKey::Attention) else { unreachable!() };
    cache.load_attention(&t, &s, events[n - 3].seq);
    assert!(cache.take_changes().raised.is_empty());
    assert_eq!(cache.flagged().count(), 0);
    // The task blocked, then the session failed: each raised once, by its event.
    cache.apply(&events[n - 2]);
    let blocked = match &events[n - 2].data {
        EventData::TaskUpdated(t) => t.clone(),
        other => panic!("expected a task update, got {other:?}"),
    };
    assert_eq!(cache.take_changes().raised, vec![blocked.id.clone()]);
    cache.apply(&events[n - 1]);
    let failed = match &events[n - 1].data {
        EventData::SessionUpdated(s) => s.clone(),
        other => panic!("expected a session update, got {other:?}"),
    };
    assert_eq!(failed.status, SessionStatus::Failed);
    assert_eq!(cache.take_changes().raised, vec![failed.id.clone()]);
    assert!(cache.is_flagged(&blocked.id) && cache.is_flagged(&failed.id));
    // Another change to the blocked task raises nothing again.
    let mut t = blocked.clone();
    t.title = "still blocked".into();
    t.version += 1;
    cache.apply(&Event { seq: events[n - 1].seq + 1, data: EventData::TaskUpdated(t.clone()), timestamp: 0 });
    let changes = cache.take_changes();
    assert!(changes.raised.is_empty() && changes.lowered.is_empty());
    // Unblocked: lowered (a later block raises it again).
    t.status = TaskStatus::InProgress;
    t.version += 1;
    cache.apply(&Event { seq: events[n - 1].seq + 2, data: EventData::TaskUpdated(t.clone()), timestamp: 0 });
    assert_eq!(cache.take_changes().lowered, vec![t.id.clone()]);
    assert!(!cache.is_flagged(&t.id));
    // The tab's own edit flags without raising (no notification for what the person did).
    t.status = TaskStatus::Blocked;
    cache.optimistic(t.clone());
    assert!(cache.is_flagged(&t.id) && cache.take_changes().raised.is_empty());
    let (tasks, sessions) = cache.attention().unwrap();
    assert_eq!((tasks.len(), sessions.len()), (1, 1));
}

#[test]
fn workspace_events_apply_by_version_and_a_deletion_is_final() {
    let w = Workspace { id: "ws_1".into(), task_id: "task_1".into(), version: 1, ..Default::default() };
    let ev = |seq, data| Event { seq, data, timestamp: 0 };
    let mut cache = Cache::default();
    assert_eq!(cache.apply(&ev(1, EventData::WorkspaceCreated(w.clone()))), Applied::Applied);
    let newer = Workspace {
        version: 3,
        changes: ChangeSummary { files: 2, additions: 5, dirty: true, ..Default::default() },
        ..w.clone()
    };
    cache.apply(&ev(2, EventData::WorkspaceUpdated(newer.clone())));
    // A copy older than the cached one (a late fetch) changes nothing.
    cache.load_workspace_entities(&[Workspace { version: 2, ..w.clone() }], 1);
    assert_eq!(cache.workspace("ws_1"), Some(&newer));
    assert_eq!(cache.task_workspaces("task_1"), vec![newer.clone()]);
    cache.apply(&ev(3, EventData::WorkspaceDeleted(Deleted { id: "ws_1".into() })));
    cache.load_workspace_entities(&[newer], 2);
    assert_eq!(cache.workspace("ws_1"), None, "a fetch older than the deletion does not bring it back");
}

#[test]
fn a_task_totals_its_newest_active_workspace_and_its_row_alone_is_told() {
    let ws = |id: &str, created_at, status| Workspace {
        id: id.into(),
        task_id: "task_1".into(),
        created_at,
        status,
        version: 1,
        changes: ChangeSummary { files: created_at as u64, ..Default::default() },
        ..Default::default()
    };
    let ev = |seq, w| Event { seq, data: EventData::WorkspaceUpdated(w), timestamp: 0 };
    let mut cache = Cache::default();
    assert_eq!(cache.task_changes("task_1"), None);
    cache.apply(&ev(1, ws("ws_a", 1, WorkspaceStatus::Active)));
    cache.apply(&ev(2, ws("ws_b", 2, WorkspaceStatus::Active)));
    cache.apply(&ev(3, ws("ws_c", 3, WorkspaceStatus::Archived)));
    let changes = cache.take_changes();
    assert_eq!(changes.workspace_tasks, vec!["task_1".to_string()]);
    assert!(changes.tasks.is_empty(), "a workspace wakes the task's row, not every reader of tasks");
    let (summary, active) = cache.task_changes("task_1").unwrap();
    assert_eq!((summary.files, active), (2, 2), "the newest active one, of two");
    cache.apply(&Event { seq: 4, data: EventData::WorkspaceDeleted(Deleted { id: "ws_b".into() }), timestamp: 0 });
    assert_eq!(cache.task_changes("task_1").map(|(s, n)| (s.files, n)), Some((1, 1)));
    assert_eq!(cache.task_workspaces("task_1").len(), 2);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A list fetched a page at a time (the server's own pager, pages of `size`), each page
    /// at its own later `seq` and merged whenever it arrives among the events, while tasks
    /// are made, changed and deleted: the list and its counts end as a fresh fetch.
    #[test]
    fn pages_fetched_while_events_arrive_converge(
        ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 5..80),
        size in 1usize..4,
        start in any::<u16>(),
        times in proptest::collection::vec((any::<u16>(), any::<u16>()), 1..40),
    ) {
        let events = history(&ops);
        prop_assume!(!events.is_empty());
        let n = events.last().unwrap().seq;
        let Some(p) = events.iter().find_map(|e| match &e.data {
            EventData::ProjectCreated(p) => Some(p.id.clone()),
            _ => None,
        }) else { return Ok(()) };
        // Page k is fetched at `fetched` and merged once events up to `merged` are applied:
        // both only move forward, and either may lead (a response can overtake the events
        // that followed its fetch, or come after them).
        let mut fetched = u64::from(start) % (n + 1);
        let (mut merged, mut applied, mut pages) = (fetched, 0usize, 0);
        let mut cache = Cache::default();
        let mut after: Option<crate::model::page::Cursor> = None;
        for (k, &(f, m)) in times.iter().enumerate() {
            if k > 0 {
                fetched = (fetched + u64::from(f) % 4).min(n);
                merged = (merged + u64::from(m) % 5).min(n);
            }
            let st = replay(&events, fetched);
            let page = crate::model::page::page(st.tasks_where(Some(&p), None), after.as_ref(), size);
            let last = page.next.is_none();
            if k + 1 == times.len() && !last {
                break; // not all fetched yet: the list is not loaded, nothing to compare
            }
            let rows: Vec<Task> = page.rows.into_iter().cloned().collect();
            if k == 0 {
                // The first page sets where the stream starts (the server-rendered page).
                applied = fetched as usize;
            }
            while applied < events.len() && events[applied].seq <= merged {
                prop_assert_ne!(cache.apply(&events[applied]), Applied::Gap);
                applied += 1;
            }
            cache.load_task_page(&p, &rows, last, fetched);
            pages += 1;
            prop_assert_eq!(cache.project_tasks(&p).is_some(), last);
            if last {
                break;
            }
            after = page.next;
        }
        for e in &events[applied.min(events.len())..] {
            prop_assert_ne!(cache.apply(e), Applied::Gap);
        }
        if let Some(shown) = cache.project_tasks(&p) {
            prop_assert!(pages > 0);
            let fresh = replay(&events, n).list_tasks(Some(&p), None);
            prop_assert_eq!(&shown, &fresh);
            let (total, per) = cache.project_counts(&p).unwrap();
            prop_assert_eq!(total, fresh.len());
            for (i, status) in TaskStatus::ALL.into_iter().enumerate() {
                prop_assert_eq!(per[i], fresh.iter().filter(|t| t.status == status).count());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_delivery_order_converges_to_a_fresh_fetch(
        ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 5..80),
        schedule in proptest::collection::vec((0u8..10, any::<usize>(), 0usize..6), 10..200),
        picks in proptest::collection::vec(any::<usize>(), 4),
    ) {
        let events = history(&ops);
        prop_assume!(!events.is_empty());
        let n = events.last().unwrap().seq;
        let final_state = replay(&events, n);
        // The lists this client shows: all projects, one project's tasks, one task's
        // sessions, one session's tasks (ids taken from anywhere in the history).
        let ids = |kind: &str| -> Vec<String> {
            let mut v: Vec<String> = events.iter().filter_map(|e| match &e.data {
                EventData::ProjectCreated(p) if kind == "p" => Some(p.id.clone()),
                EventData::TaskCreated(t) if kind == "t" => Some(t.id.clone()),
                EventData::SessionCreated(s) if kind == "s" => Some(s.id.clone()),
                _ => None,
            }).collect();
            v.dedup();
            v
        };
        let mut keys = vec![ListKey::Projects, ListKey::Attention];
        for (kind, i) in [("p", 0), ("t", 1), ("s", 2)] {
            let v = ids(kind);
            if !v.is_empty() {
                let id = v[picks[i] % v.len()].clone();
                if kind == "p" {
                    keys.push(ListKey::PaneSessions(id.clone()));
                }
                keys.push(match kind { "p" => ListKey::ProjectTasks(id), "t" => ListKey::TaskSessions(id), _ => ListKey::SessionTasks(id) });
            }
        }

        let mut cache = Cache::default();
        let mut delivered = 0u64; // the stream's position (what the server has sent)
        let mut pending: Vec<(usize, ListKey, Fetched, u64)> = Vec::new(); // delayed responses
        let mut step = 0usize;
        let mut plan = schedule.into_iter();
        loop {
            step += 1;
            let (action, x, delay) = plan.next().unwrap_or((0, 0, 0));
            match action {
                // Deliver the next event (the common case).
                0..=4 if delivered < n => {
                    delivered += 1;
                    let r = cache.apply(&events[delivered as usize - 1]);
                    prop_assert_ne!(r, Applied::Gap);
                }
                // Deliver an old event again (a duplicate after a reconnect).
                5 if delivered > 0 => {
                    let e = &events[x % delivered as usize];
                    prop_assert_eq!(cache.apply(e), Applied::Duplicate);
                }
                // Issue a fetch: the server answers at some seq at or after the stream's
                // position, and the answer arrives `delay` steps later.
                6 | 7 => {
                    let key = keys[x % keys.len()].clone();
                    let at = (delivered + (x as u64 % 4)).min(n);
                    pending.push((step + delay, key.clone(), fetch(&replay(&events, at), &key), at));
                }
                // Connection lost for a while; the server answers `resync` at a later seq.
                8 if delivered < n => {
                    delivered = (delivered + 1 + x as u64 % 5).min(n);
                    pending.clear(); // answers to requests from before are thrown away
                    for key in cache.resync(delivered) {
                        let f = fetch(&replay(&events, delivered), &key);
                        pending.push((step + delay, key, f, delivered));
                    }
                }
                _ => {}
            }
            let (ready, later): (Vec<_>, Vec<_>) = pending.into_iter().partition(|p| p.0 <= step);
            pending = later;
            for (_, key, f, at) in ready {
                load(&mut cache, &key, &f, at);
            }
            if delivered == n && pending.is_empty() && step > 400 {
                break;
            }
            if delivered == n && pending.is_empty() && plan.len() == 0 {
                break;
            }
        }
        // Every list shown must be exactly what a fresh fetch returns now.
        for key in &keys {
            if let Some(list) = shown(&cache, key) {
                prop_assert_eq!(list, fetch(&final_state, key), "list {:?}", key);
            }
        }
        // ...and so must a project's windows (overall and per status) and its counts.
        for key in &keys {
            let ListKey::ProjectTasks(p) = key else { continue };
            let Some((total, per)) = cache.project_counts(p) else { continue };
            let fresh = final_state.list_tasks(Some(p), None);
            prop_assert_eq!(total, fresh.len());
            let ids = |v: &[Task]| v.iter().map(|t| t.id.clone()).collect::<Vec<_>>();
            let middle: Vec<String> = ids(&fresh).into_iter().skip(2).take(3).collect();
            prop_assert_eq!(cache.project_window(p, None, 2, 3), middle);
            for (i, status) in TaskStatus::ALL.into_iter().enumerate() {
                let of: Vec<Task> = fresh.iter().filter(|t| t.status == status).cloned().collect();
                prop_assert_eq!(per[i], of.len());
                prop_assert_eq!(cache.project_window(p, Some(status), 0, usize::MAX), ids(&of));
                for (at, t) in of.iter().enumerate() {
                    prop_assert_eq!(cache.position(p, Some(status), &t.id), Some(at));
                }
            }
        }
    }
}
