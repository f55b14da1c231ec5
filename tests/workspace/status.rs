//! A task's status follows the work (SPEC §8), against a real server process, real agents
//! and a real repository: a session starting on a `pending` task makes it `in_progress`;
//! its agent exiting 0 with unmerged changes in its workspace moves it to `in_review`
//! (neither a failing agent nor one that changed nothing does); merging completes it; a
//! status said by the agent or the person stays.

use super::api::post;
use super::sessions::{addr, project, run_to_end, start};
use crate::common::{Maestro, Start};
use crate::terminal::attach_as;
use maestro::model::*;
use serde_json::json;

const AGENTS: &[&str] = &[
    "--agent",
    "wait=read _answer; echo work > work.txt",
    "--agent",
    "write=echo work > work.txt",
    "--agent",
    "nothing=true",
    "--agent",
    "fail=echo work > work.txt; exit 3",
    "--agent",
    "blocks=maestro task update --status blocked >/dev/null && echo work > work.txt",
];

async fn status(server: &Maestro, task: &str) -> TaskStatus {
    server.client.task(task).await.unwrap().status
}

async fn new_task(server: &Maestro, p: &Project, title: &str) -> Task {
    let nt = NewTask { project_id: p.id.clone(), title: title.into(), ..Default::default() };
    server.client.create_task(&nt).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_goes_in_progress_then_in_review_and_merging_completes_it() {
    let f = super::fixture();
    let server = Start { args: AGENTS, ..Default::default() }.run().await;
    let (p, t) = project(&server, &f.repo).await;
    assert_eq!(t.status, TaskStatus::Pending);
    let s = start(&server, &p, &t, json!({"agentId": "wait"})).await;
    assert_eq!(status(&server, &t.id).await, TaskStatus::InProgress, "a session started on it");

    // The agent writes its file and exits at once: the change is counted all the same.
    let mut term = attach_as(addr(&server), &s.id, &server.token).await;
    term.input("\r").await;
    assert_eq!(run_to_end(&server, &s.id).await.1, 0);
    assert_eq!(status(&server, &t.id).await, TaskStatus::InReview);

    let w = s.workspace_id.unwrap();
    let (code, body) = post(&server, &format!("/workspaces/{w}/commit"), json!({})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(status(&server, &t.id).await, TaskStatus::InReview, "a commit lands nothing");
    let (code, body) = post(&server, &format!("/workspaces/{w}/merge"), json!({"strategy": "squash"})).await;
    assert_eq!(code, 200, "{body}");
    let done = server.client.task(&t.id).await.unwrap();
    assert_eq!(done.status, TaskStatus::Completed);
    assert!(done.completed_at.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_agent_that_ends_well_leaving_changes_puts_its_task_up_for_review() {
    let f = super::fixture();
    let server = Start { args: AGENTS, ..Default::default() }.run().await;
    let (p, _) = project(&server, &f.repo).await;
    for (agent, code, after) in [
        ("write", 0, TaskStatus::InReview),
        ("nothing", 0, TaskStatus::InProgress),
        ("fail", 3, TaskStatus::InProgress),
    ] {
        let t = new_task(&server, &p, agent).await;
        let s = start(&server, &p, &t, json!({"agentId": agent})).await;
        assert_eq!(run_to_end(&server, &s.id).await.1, code, "{agent}");
        assert_eq!(status(&server, &t.id).await, after, "agent {agent}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_said_by_the_agent_or_the_person_wins() {
    let f = super::fixture();
    let server = Start { args: AGENTS, ..Default::default() }.run().await;
    let (p, _) = project(&server, &f.repo).await;
    let c = &server.client;

    // The agent says it is blocked, then leaves a change and exits 0.
    let t = new_task(&server, &p, "Agent says").await;
    let s = start(&server, &p, &t, json!({"agentId": "blocks"})).await;
    assert_eq!(run_to_end(&server, &s.id).await.1, 0);
    assert_eq!(status(&server, &t.id).await, TaskStatus::Blocked);

    // The person puts it back to pending while the agent works.
    let t = new_task(&server, &p, "Person says").await;
    let s = start(&server, &p, &t, json!({"agentId": "wait"})).await;
    let back = TaskPatch { status: Some(TaskStatus::Pending), ..Default::default() };
    c.update_task(&t.id, &back).await.unwrap();
    let mut term = attach_as(addr(&server), &s.id, &server.token).await;
    term.input("\r").await;
    assert_eq!(run_to_end(&server, &s.id).await.1, 0);
    assert_eq!(status(&server, &t.id).await, TaskStatus::Pending);

    // A blocked task stays blocked when a session starts on it.
    let t = new_task(&server, &p, "Blocked first").await;
    let blocked = TaskPatch { status: Some(TaskStatus::Blocked), ..Default::default() };
    c.update_task(&t.id, &blocked).await.unwrap();
    let s = start(&server, &p, &t, json!({"agentId": "nothing"})).await;
    assert_eq!(run_to_end(&server, &s.id).await.1, 0);
    assert_eq!(status(&server, &t.id).await, TaskStatus::Blocked);
}
