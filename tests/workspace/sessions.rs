//! "Work on task" in a workspace (SPEC §8), against a real server process: a task's first
//! session makes its workspace and its terminal runs in the worktree, later sessions reuse
//! it, `new` makes another and `none` runs in the project's directory; the setup runs
//! once before the agent and a failing one fails the session; two agents writing the same
//! file touch neither each other's workspace nor the person's checkout.

use super::api::{call, get, post};
use super::{fixture, git, write};
use crate::common::{Maestro, Start};
use crate::terminal::{attach_as, attach_query, Viewer};
use maestro::model::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Agents the tests start: one shows what the setup made, one writes a file.
const AGENTS: &[&str] = &[
    "--agent",
    "show=echo agent-sees-$(cat made-by-setup 2>/dev/null || echo nothing)",
    "--agent",
    "write=echo \"$MAESTRO_SESSION_ID\" > shared.txt && echo wrote-it",
];

pub(super) fn addr(server: &Maestro) -> std::net::SocketAddr {
    format!("127.0.0.1:{}", server.port).parse().unwrap()
}

pub(super) async fn project(server: &Maestro, dir: &Path) -> (Project, Task) {
    let base_path = Some(dir.to_string_lossy().into_owned());
    let p =
        server.client.create_project(&NewProject { name: "P".into(), base_path, ..Default::default() }).await.unwrap();
    let nt = NewTask { project_id: p.id.clone(), title: "Fix the login".into(), ..Default::default() };
    let t = server.client.create_task(&nt).await.unwrap();
    (p, t)
}

/// `POST /sessions` with `extra` fields, expecting 201.
pub(super) async fn start(server: &Maestro, p: &Project, t: &Task, extra: Value) -> Session {
    let mut body = json!({"projectId": p.id, "taskIds": [t.id]});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let (status, answer) = post(server, "/sessions", body).await;
    assert_eq!(status, 201, "{answer}");
    serde_json::from_value(answer).unwrap()
}

async fn workspace(server: &Maestro, id: &str) -> Workspace {
    let (status, body) = get(server, &format!("/workspaces/{id}")).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

/// Where the shell in `v` runs (its physical path).
async fn cwd(v: &mut Viewer) -> PathBuf {
    v.input("echo \"cwd=[$(pwd -P)]\"\r").await;
    v.read_until("cwd=[/").await;
    let rest = v.read_until("]").await;
    PathBuf::from(format!("/{}", rest.trim_end_matches(']')))
}

/// Commits `file` with `text` in `repo`.
fn commit(repo: &Path, file: &str, text: &str) {
    write(repo.join(file), text);
    git(repo, &["add", file]);
    git(repo, &["commit", "-q", "-m", file]);
}

fn real(dir: impl AsRef<Path>) -> PathBuf {
    dir.as_ref().canonicalize().unwrap()
}

/// Everything a session's terminal printed once its process exited (as the server kept it:
/// the agent starts when its session is made, before anyone attaches), and its exit code.
pub(super) async fn run_to_end(server: &Maestro, id: &str) -> (String, i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        if let Some(code) = server.client.session(id).await.unwrap().exit_code {
            break code;
        }
        assert!(Instant::now() < deadline, "session {id} did not end");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut out = Vec::new();
    loop {
        let piece = server.client.session_output(id, out.len() as u64, 1 << 20).await.unwrap();
        out.extend_from_slice(&piece.bytes);
        if piece.bytes.is_empty() || piece.offset + piece.bytes.len() as u64 >= piece.end {
            break;
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), i64::from(code))
}

async fn status_becomes(server: &Maestro, id: &str, want: SessionStatus) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.client.session(id).await.unwrap().status != want {
        assert!(Instant::now() < deadline, "session {id} did not become {want:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_on_task_runs_in_the_tasks_workspace_and_new_and_none_choose_otherwise() {
    let f = fixture();
    commit(&f.repo, ".worktreeinclude", ".env\n");
    write(f.repo.join(".env"), "KEY=1\n");
    let server = Start { args: AGENTS, ..Default::default() }.run().await;
    let (p, t) = project(&server, &f.repo).await;

    // The first session makes the task's workspace, with `.env` copied, and runs in it.
    let s1 = start(&server, &p, &t, json!({})).await;
    let w1 = workspace(&server, s1.workspace_id.as_deref().expect("a workspace")).await;
    assert_eq!((w1.task_id.as_str(), w1.status), (t.id.as_str(), WorkspaceStatus::Active));
    assert!(w1.branch.starts_with("maestro/fix-the-login-"), "{}", w1.branch);
    assert_eq!(std::fs::read_to_string(Path::new(&w1.path).join(".env")).unwrap(), "KEY=1\n");
    let mut term = attach_as(addr(&server), &s1.id, &server.token).await;
    assert_eq!(cwd(&mut term).await, real(&w1.path));

    // A later session of the task continues in the same one.
    let s2 = start(&server, &p, &t, json!({"workspace": null})).await;
    assert_eq!(s2.workspace_id.as_deref(), Some(w1.id.as_str()));

    // "new": another attempt; a retry of the same request makes no third.
    let key = [("idempotency-key", "new-attempt-1")];
    let body = json!({"projectId": p.id, "taskIds": [t.id], "workspace": "new"});
    let mut made = Vec::new();
    for _ in 0..2 {
        let res = server.http().post(format!("{}/sessions", server.api)).header(key[0].0, key[0].1).json(&body);
        let res = res.send().await.unwrap();
        assert_eq!(res.status().as_u16(), 201);
        made.push(res.json::<Session>().await.unwrap());
    }
    assert_eq!(made[0].id, made[1].id);
    let w3 = made[0].workspace_id.clone().expect("a new workspace");
    assert_ne!(w3, w1.id);
    let (_, listed) = get(&server, &format!("/workspaces?taskId={}", t.id)).await;
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    let mut term3 = attach_as(addr(&server), &made[0].id, &server.token).await;
    assert_eq!(cwd(&mut term3).await, real(workspace(&server, &w3).await.path));

    // "none": the project's directory, as before workspaces.
    let s4 = start(&server, &p, &t, json!({"workspace": "none"})).await;
    assert_eq!(s4.workspace_id, None);
    let mut term4 = attach_as(addr(&server), &s4.id, &server.token).await;
    assert_eq!(cwd(&mut term4).await, real(&f.repo));

    // A plain terminal opened for the project starts in its directory too.
    let mut plain = attach_query(addr(&server), "term_plain1", &format!("&project={}", p.id), &server.token).await;
    assert_eq!(cwd(&mut plain).await, real(&f.repo));

    // A project whose directory is not a git repository: no workspace, no error.
    let (q, u) = project(&server, &f.outside()).await;
    let s5 = start(&server, &q, &u, json!({})).await;
    assert_eq!(s5.workspace_id, None);

    // What cannot be: a clear 4xx each, and no session.
    for (body, want) in [
        (json!({"projectId": p.id, "taskIds": [t.id], "workspace": "ws_missing"}), 404),
        (json!({"projectId": p.id, "workspace": "new"}), 400),
        (json!({"projectId": q.id, "taskIds": [u.id], "workspace": w1.id}), 400),
        (json!({"projectId": p.id, "taskIds": [t.id], "workspace": "bad id!"}), 400),
        (json!({"projectId": p.id, "taskIds": [t.id], "workspace": 7}), 400),
        (json!({"projectId": q.id, "taskIds": [u.id], "workspace": "new"}), 409),
        (json!({"projectId": p.id, "taskIds": [u.id], "workspace": "new"}), 409),
        (json!({"projectId": p.id, "taskIds": ["task_missing"]}), 404),
    ] {
        let (status, answer) = post(&server, "/sessions", body.clone()).await;
        assert_eq!(status, want, "{body}: {answer}");
    }

    // Archiving while sessions run in it is refused, naming one; forced, it is archived.
    let archive = format!("/workspaces/{}/archive", w1.id);
    let (status, body) = post(&server, &archive, json!({})).await;
    assert_eq!(status, 409, "{body}");
    let why = body["error"]["message"].as_str().unwrap();
    assert!(why.contains(&s1.id) || why.contains(&s2.id), "{why}");
    let (status, body) = post(&server, &archive, json!({"force": true})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("archived")), "{body}");
    let named = json!({"projectId": p.id, "taskIds": [t.id], "workspace": w1.id});
    assert_eq!(post(&server, "/sessions", named).await.0, 409, "an archived workspace takes no session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setup_runs_once_before_the_agent_and_a_failing_one_fails_the_session() {
    let f = fixture();
    commit(&f.repo, ".maestro/setup.sh", "echo setup-ran\necho ready > made-by-setup\n");
    let broken = fixture();
    commit(&broken.repo, ".maestro/setup.sh", "echo broken-setup\nexit 7\n");
    let server = Start { args: AGENTS, ..Default::default() }.run().await;

    let (p, t) = project(&server, &f.repo).await;
    let first = start(&server, &p, &t, json!({"agentId": "show"})).await;
    let (out, code) = run_to_end(&server, &first.id).await;
    let (setup, agent) = (out.find("setup-ran").expect(&out), out.find("agent-sees-ready").expect(&out));
    assert!(setup < agent && code == 0, "{out}");
    status_becomes(&server, &first.id, SessionStatus::Completed).await;
    let w = workspace(&server, first.workspace_id.as_deref().unwrap()).await;
    // Marked in the worktree's git directory, not among its files.
    let status = git(Path::new(&w.path), &["status", "--porcelain"]);
    assert_eq!(status.trim(), "?? made-by-setup");

    let second = start(&server, &p, &t, json!({"agentId": "show"})).await;
    assert_eq!(second.workspace_id, first.workspace_id);
    let (out, code) = run_to_end(&server, &second.id).await;
    assert!(out.contains("agent-sees-ready") && !out.contains("setup-ran") && code == 0, "{out}");

    let (q, u) = project(&server, &broken.repo).await;
    let failing = start(&server, &q, &u, json!({"agentId": "show"})).await;
    let (out, code) = run_to_end(&server, &failing.id).await;
    assert_eq!(code, 7, "{out}");
    assert!(out.contains("broken-setup"), "{out}");
    assert!(out.contains("maestro: setup failed with exit code 7; the agent was not started"), "{out}");
    assert!(!out.contains("agent-sees"), "{out}");
    status_becomes(&server, &failing.id, SessionStatus::Failed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_writing_the_same_file_touch_only_their_own_workspaces() {
    let f = fixture();
    let server = Start { args: AGENTS, ..Default::default() }.run().await;
    let (p, t1) = project(&server, &f.repo).await;
    let nt = NewTask { project_id: p.id.clone(), title: "Another".into(), ..Default::default() };
    let t2 = server.client.create_task(&nt).await.unwrap();
    let a = start(&server, &p, &t1, json!({"agentId": "write"})).await;
    let b = start(&server, &p, &t2, json!({"agentId": "write"})).await;
    let (wa, wb) = (a.workspace_id.clone().unwrap(), b.workspace_id.clone().unwrap());
    assert_ne!(wa, wb);
    let (ra, rb) = tokio::join!(run_to_end(&server, &a.id), run_to_end(&server, &b.id));
    assert!(ra.0.contains("wrote-it") && rb.0.contains("wrote-it"), "{ra:?} {rb:?}");

    let read = |w: &Workspace| std::fs::read_to_string(Path::new(&w.path).join("shared.txt")).unwrap();
    assert_eq!(read(&workspace(&server, &wa).await).trim(), a.id);
    assert_eq!(read(&workspace(&server, &wb).await).trim(), b.id);
    assert!(!f.repo.join("shared.txt").exists(), "the person's checkout is untouched");
    assert_eq!(git(&f.repo, &["status", "--porcelain"]), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projects_own_setup_command_runs_and_isolation_off_runs_in_its_directory() {
    let f = fixture();
    commit(&f.repo, ".maestro/setup.sh", "echo repository-setup\n");
    let server = Start { args: AGENTS, ..Default::default() }.run().await;
    let (p, t) = project(&server, &f.repo).await;

    // Set through the API, so signed by this server: it runs instead of the repository's.
    let patch = json!({"setupCommand": "echo project-setup && echo ready > made-by-setup"});
    let (status, body) = call(&server, reqwest::Method::PATCH, &format!("/projects/{}", p.id), Some(patch)).await;
    assert_eq!(status, 200, "{body}");
    let s = start(&server, &p, &t, json!({"agentId": "show"})).await;
    let (out, code) = run_to_end(&server, &s.id).await;
    assert!(out.contains("project-setup") && out.contains("agent-sees-ready") && code == 0, "{out}");
    assert!(!out.contains("repository-setup"), "{out}");

    // Isolation off: sessions run in the project's directory, with no workspace.
    let patch = json!({"isolation": false});
    let (status, body) = call(&server, reqwest::Method::PATCH, &format!("/projects/{}", p.id), Some(patch)).await;
    assert_eq!(status, 200, "{body}");
    let plain = start(&server, &p, &t, json!({})).await;
    assert_eq!(plain.workspace_id, None);
    let mut term = attach_as(addr(&server), &plain.id, &server.token).await;
    assert_eq!(cwd(&mut term).await, real(&f.repo));
}
