//! REST API tests: every endpoint of SPEC §2 through the real router (`oneshot`), with
//! good and bad input of every kind.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use maestro::server::{app, leptos_options, AppState};
use maestro::store::{Store, StoreConfig};
use proptest::prelude::*;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Api {
    app: Router,
    store: Store,
}

impl Api {
    fn new() -> Self {
        let store = Store::open(StoreConfig::memory()).unwrap();
        let options = leptos_options("127.0.0.1:3000".parse().unwrap(), "target/site");
        // One agent configured, as `--agent claude=…` does: one that waits (a session made
        // with it starts it at once, and it must stay running while the tests look at it).
        let agents = maestro::agents::Agents::load(&["claude=cat {prompt_file} -".into()], None).unwrap();
        let state = AppState::new(store.clone(), options, tokio::sync::watch::channel(false).1).with_agents(agents);
        Api { app: app(state), store }
    }

    async fn raw(&self, req: Request<Body>) -> (StatusCode, Value) {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        let v = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        (status, v)
    }

    async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call_with(method, uri, body, &[]).await
    }

    async fn call_with(
        &self,
        method: &str,
        uri: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut b = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = match body {
            Some(v) => b.header("content-type", "application/json").body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        };
        self.raw(req.unwrap()).await
    }

    /// Calls and asserts the status; returns the body.
    async fn ok(&self, method: &str, uri: &str, body: Option<Value>, want: StatusCode) -> Value {
        let (status, v) = self.call(method, uri, body).await;
        assert_eq!(status, want, "{method} {uri} answered {v}");
        v
    }

    /// Calls and asserts an error status and `code`.
    async fn err(&self, method: &str, uri: &str, body: Option<Value>, want: StatusCode, code: &str) {
        let (status, v) = self.call(method, uri, body).await;
        assert_eq!(status, want, "{method} {uri} answered {v}");
        assert_eq!(v["error"]["code"], code, "{method} {uri} answered {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }

    async fn project(&self, name: &str) -> String {
        let v = self.ok("POST", "/api/projects", Some(json!({"name": name})), StatusCode::CREATED).await;
        v["id"].as_str().unwrap().to_string()
    }

    async fn task(&self, project: &str, title: &str) -> String {
        let body = json!({"projectId": project, "title": title});
        let v = self.ok("POST", "/api/tasks", Some(body), StatusCode::CREATED).await;
        v["id"].as_str().unwrap().to_string()
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn projects_crud() {
    rt().block_on(async {
        let api = Api::new();
        assert_eq!(api.ok("GET", "/api/projects", None, StatusCode::OK).await, json!([]));
        let body = json!({"name": "  Web  ", "basePath": "/tmp"});
        let p = api.ok("POST", "/api/projects", Some(body), StatusCode::CREATED).await;
        let id = p["id"].as_str().unwrap();
        assert_eq!(p["name"], "Web");
        assert_eq!(p["basePath"], "/tmp");
        assert!(p["createdAt"].as_i64().unwrap() > 1_600_000_000_000);
        assert_eq!(api.ok("GET", &format!("/api/projects/{id}"), None, StatusCode::OK).await, p);
        let patched =
            api.ok("PATCH", &format!("/api/projects/{id}"), Some(json!({"basePath": null})), StatusCode::OK).await;
        assert_eq!(patched["basePath"], Value::Null);
        assert_eq!(patched["name"], "Web");
        let list = api.ok("GET", "/api/projects", None, StatusCode::OK).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        let del = api.ok("DELETE", &format!("/api/projects/{id}"), None, StatusCode::OK).await;
        assert_eq!(del, json!({"success": true}));
        api.err("GET", &format!("/api/projects/{id}"), None, StatusCode::NOT_FOUND, "not_found").await;
        api.err("PATCH", "/api/projects/nope", Some(json!({"name": "x"})), StatusCode::NOT_FOUND, "not_found").await;
        api.err("DELETE", "/api/projects/nope", None, StatusCode::NOT_FOUND, "not_found").await;
    });
}

#[test]
fn bad_bodies_are_clear_4xx_and_change_nothing() {
    rt().block_on(async {
        let api = Api::new();
        let bad = [
            json!({"name": "x", "colour": "red"}),
            json!({"name": 5}),
            json!({}),
            json!({"name": ""}),
            json!({"name": "x".repeat(201)}),
            json!({"name": "x", "basePath": "relative"}),
            json!({"name": "x", "id": "has space"}),
            json!({"name": "x", "id": null}),
            json!([1, 2]),
        ];
        for b in bad {
            api.err("POST", "/api/projects", Some(b), StatusCode::BAD_REQUEST, "invalid").await;
        }
        // Malformed JSON, missing content type, oversize body.
        let req =
            Request::post("/api/projects").header("content-type", "application/json").body(Body::from("{\"name\":"));
        let (s, v) = api.raw(req.unwrap()).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid")));
        let req = Request::post("/api/projects").body(Body::from(r#"{"name":"x"}"#));
        let (s, v) = api.raw(req.unwrap()).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_media_type"))
        );
        let huge = json!({"name": "x", "basePath": format!("/{}", "a".repeat(2 << 20))});
        api.err("POST", "/api/projects", Some(huge), StatusCode::PAYLOAD_TOO_LARGE, "too_large").await;
        assert_eq!(api.ok("GET", "/api/projects", None, StatusCode::OK).await, json!([]));
        assert_eq!(api.store.last_seq(), 0);
        api.err("GET", "/api/nothing-here", None, StatusCode::NOT_FOUND, "not_found").await;
        api.err("PUT", "/api/projects", None, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    });
}

#[test]
fn tasks_crud_filters_and_order() {
    rt().block_on(async {
        let api = Api::new();
        let p = api.project("P").await;
        let q = api.project("Q").await;
        let body = json!({"projectId": p, "title": "First", "description": "d", "prompt": "do it", "priority": "high"});
        let t1 = api.ok("POST", "/api/tasks", Some(body), StatusCode::CREATED).await;
        assert_eq!(t1["status"], "pending");
        assert_eq!(t1["priority"], "high");
        assert_eq!(t1["sessionIds"], json!([]));
        assert_eq!(t1["sessionCount"], 0);
        assert_eq!(t1["version"], 1);
        assert_eq!(t1["completedAt"], Value::Null);
        let t2 = api.task(&p, "Second").await;
        let t3 = api.task(&q, "Other").await;
        let list = api.ok("GET", &format!("/api/tasks?projectId={p}"), None, StatusCode::OK).await;
        let ids: Vec<&str> = list.as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![t2.as_str(), t1["id"].as_str().unwrap()], "newest first");
        let t1id = t1["id"].as_str().unwrap();
        let done =
            api.ok("PATCH", &format!("/api/tasks/{t1id}"), Some(json!({"status": "completed"})), StatusCode::OK).await;
        assert!(done["completedAt"].is_i64());
        assert_eq!(done["version"], 2);
        let list = api.ok("GET", "/api/tasks?status=completed", None, StatusCode::OK).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        api.err("GET", "/api/tasks?status=done", None, StatusCode::BAD_REQUEST, "invalid").await;
        api.err("GET", "/api/tasks?project=1", None, StatusCode::BAD_REQUEST, "invalid").await;
        api.err(
            "POST",
            "/api/tasks",
            Some(json!({"projectId": "nope", "title": "x"})),
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        api.err(
            "POST",
            "/api/tasks",
            Some(json!({"projectId": p, "title": "x", "status": "done"})),
            StatusCode::BAD_REQUEST,
            "invalid",
        )
        .await;
        api.err("PATCH", &format!("/api/tasks/{t3}"), Some(json!({"title": "  "})), StatusCode::BAD_REQUEST, "invalid")
            .await;
        api.err(
            "PATCH",
            &format!("/api/tasks/{t3}"),
            Some(json!({"sessionIds": []})),
            StatusCode::BAD_REQUEST,
            "invalid",
        )
        .await;
        api.err("PATCH", "/api/tasks/nope", Some(json!({"title": "x"})), StatusCode::NOT_FOUND, "not_found").await;
        // A project with tasks cannot be deleted.
        api.err("DELETE", &format!("/api/projects/{q}"), None, StatusCode::CONFLICT, "conflict").await;
        api.ok("DELETE", &format!("/api/tasks/{t3}"), None, StatusCode::OK).await;
        api.err("GET", &format!("/api/tasks/{t3}"), None, StatusCode::NOT_FOUND, "not_found").await;
        api.ok("DELETE", &format!("/api/projects/{q}"), None, StatusCode::OK).await;
    });
}

/// One page of a list: its rows' ids and the `Next-Cursor` header.
async fn page_of(api: &Api, uri: &str) -> (Vec<String>, Option<String>) {
    let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
    let res = api.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{uri}");
    let next = res.headers().get("next-cursor").map(|v| v.to_str().unwrap().to_string());
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    (v.as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect(), next)
}

#[test]
fn lists_page_by_cursor_and_rows_made_or_deleted_meanwhile_shift_nothing() {
    rt().block_on(async {
        let api = Api::new();
        let p = api.project("P").await;
        let mut made = Vec::new();
        for i in 0..25 {
            made.push(api.task(&p, &format!("t{i}")).await);
        }
        let whole = page_of(&api, &format!("/api/tasks?projectId={p}")).await;
        assert_eq!(whole.1, None, "no limit: a page of up to 1000 rows, and no cursor after the last");
        made.reverse();
        assert_eq!(whole.0, made, "newest first");
        // Page by 10 while a task is made (it sorts first: on no later page) and one of the
        // next page is deleted.
        let (first, next) = page_of(&api, &format!("/api/tasks?projectId={p}&limit=10")).await;
        assert_eq!(first, made[..10]);
        let next = next.expect("rows remain");
        api.task(&p, "late").await;
        api.ok("DELETE", &format!("/api/tasks/{}", made[12]), None, StatusCode::OK).await;
        let (second, next) = page_of(&api, &format!("/api/tasks?projectId={p}&limit=10&cursor={next}")).await;
        let mut want: Vec<String> = made[10..21].to_vec();
        want.remove(2);
        assert_eq!(second, want);
        let (third, next) = page_of(&api, &format!("/api/tasks?projectId={p}&cursor={}", next.unwrap())).await;
        assert_eq!((third, next), (made[21..].to_vec(), None), "default limit 1000; the last page has no cursor");
        // Filters page too; the same cursor rules for sessions and projects.
        let (done, next) = page_of(&api, &format!("/api/tasks?projectId={p}&status=completed&limit=5")).await;
        assert_eq!((done.len(), next), (0, None));
        let q = api.project("Q").await;
        let (projects, next) = page_of(&api, "/api/projects?limit=1").await;
        assert_eq!(projects, vec![p.clone()], "oldest first");
        let (projects, next) = page_of(&api, &format!("/api/projects?limit=1&cursor={}", next.unwrap())).await;
        assert_eq!((projects, next), (vec![q], None));
        for (i, t) in made.iter().take(3).enumerate() {
            let body = json!({"projectId": p, "taskIds": [t], "name": format!("s{i}")});
            api.ok("POST", "/api/sessions", Some(body), StatusCode::CREATED).await;
        }
        let (s1, next) = page_of(&api, &format!("/api/sessions?projectId={p}&limit=2")).await;
        let (s2, last) = page_of(&api, &format!("/api/sessions?projectId={p}&limit=2&cursor={}", next.unwrap())).await;
        assert_eq!((s1.len(), s2.len(), last), (2, 1, None));
        assert!(!s1.contains(&s2[0]));
        // Bad paging is a clear 400.
        for bad in ["limit=0", "limit=1001", "limit=x", "cursor=nope", "cursor=1.a%20b", "cursor="] {
            api.err("GET", &format!("/api/tasks?{bad}"), None, StatusCode::BAD_REQUEST, "invalid").await;
        }
        api.err("GET", "/api/sessions?cursor=zz", None, StatusCode::BAD_REQUEST, "invalid").await;
    });
}

/// Sessions and plain terminals (`term_…`) share the terminals' namespace: a client may not
/// name a session like a plain terminal; any other id of its own is fine.
#[test]
fn a_session_id_that_names_a_plain_terminal_is_refused() {
    rt().block_on(async {
        let api = Api::new();
        let p = api.project("P").await;
        let (status, v) =
            api.call("POST", "/api/sessions", Some(json!({"id": "term_1", "projectId": p, "taskIds": []}))).await;
        assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid")), "{v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("term_")), "{v}");
        let (_, sessions) = api.call("GET", "/api/sessions", None).await;
        assert_eq!(sessions, json!([]), "nothing was made");
        let body = json!({"id": "terminal_1", "projectId": p, "taskIds": []});
        api.ok("POST", "/api/sessions", Some(body), StatusCode::CREATED).await;
    });
}

#[test]
fn subtasks() {
    rt().block_on(async {
        let api = Api::new();
        let p = api.project("P").await;
        let t = api.task(&p, "T").await;
        let v = api
            .ok("POST", &format!("/api/tasks/{t}/subtasks"), Some(json!({"title": "step"})), StatusCode::CREATED)
            .await;
        let sid = v["subtasks"][0]["id"].as_str().unwrap().to_string();
        assert_eq!(v["subtasks"][0]["status"], "pending");
        assert_eq!(v["subtasks"][0]["taskId"], t);
        let v = api
            .ok(
                "PATCH",
                &format!("/api/tasks/{t}/subtasks/{sid}"),
                Some(json!({"status": "completed"})),
                StatusCode::OK,
            )
            .await;
        assert!(v["subtasks"][0]["completedAt"].is_i64());
        api.err(
            "PATCH",
            &format!("/api/tasks/{t}/subtasks/{sid}"),
            Some(json!({"status": "later"})),
            StatusCode::BAD_REQUEST,
            "invalid",
        )
        .await;
        api.err(
            "POST",
            &format!("/api/tasks/{t}/subtasks"),
            Some(json!({"title": ""})),
            StatusCode::BAD_REQUEST,
            "invalid",
        )
        .await;
        api.err("POST", "/api/tasks/nope/subtasks", Some(json!({"title": "x"})), StatusCode::NOT_FOUND, "not_found")
            .await;
        let v = api.ok("DELETE", &format!("/api/tasks/{t}/subtasks/{sid}"), None, StatusCode::OK).await;
        assert_eq!(v["subtasks"], json!([]));
        api.err("DELETE", &format!("/api/tasks/{t}/subtasks/{sid}"), None, StatusCode::NOT_FOUND, "not_found").await;
    });
}

#[test]
fn sessions_and_links() {
    rt().block_on(async {
        let api = Api::new();
        let p = api.project("P").await;
        let q = api.project("Q").await;
        let t1 = api.task(&p, "one").await;
        let t2 = api.task(&p, "two").await;
        let tq = api.task(&q, "other").await;
        let s = api
            .ok(
                "POST",
                "/api/sessions",
                Some(json!({"projectId": p, "taskIds": [t1], "agentId": "claude"})),
                StatusCode::CREATED,
            )
            .await;
        let sid = s["id"].as_str().unwrap().to_string();
        assert!(sid.starts_with("sess_"));
        assert_eq!(s["status"], "running");
        assert_eq!(s["taskIds"], json!([t1]));
        assert_eq!(s["env"]["MAESTRO_SESSION_ID"], sid);
        assert_eq!(s["env"]["MAESTRO_TASK_IDS"], t1);
        let task = api.ok("GET", &format!("/api/tasks/{t1}"), None, StatusCode::OK).await;
        assert_eq!((task["sessionIds"].clone(), task["sessionCount"].clone()), (json!([sid]), json!(1)));

        let bad = [
            (json!({"projectId": p, "taskIds": ["nope"]}), StatusCode::NOT_FOUND, "not_found"),
            (json!({"projectId": "nope", "taskIds": []}), StatusCode::NOT_FOUND, "not_found"),
            (json!({"projectId": p, "taskIds": [tq]}), StatusCode::CONFLICT, "conflict"),
            (json!({"projectId": p, "taskIds": "x"}), StatusCode::BAD_REQUEST, "invalid"),
            (json!({"projectId": p, "status": "running"}), StatusCode::BAD_REQUEST, "invalid"),
            // An agent that is not configured would start something else than was chosen.
            (json!({"projectId": p, "agentId": "claud"}), StatusCode::BAD_REQUEST, "invalid"),
        ];
        for (b, st, code) in bad {
            api.err("POST", "/api/sessions", Some(b), st, code).await;
        }

        let linked = api.ok("POST", &format!("/api/sessions/{sid}/tasks/{t2}"), None, StatusCode::OK).await;
        assert_eq!(linked["taskIds"], json!([t1, t2]));
        api.err("POST", &format!("/api/sessions/{sid}/tasks/{t2}"), None, StatusCode::CONFLICT, "conflict").await;
        api.err("POST", &format!("/api/sessions/{sid}/tasks/{tq}"), None, StatusCode::CONFLICT, "conflict").await;
        api.err("POST", &format!("/api/sessions/{sid}/tasks/nope"), None, StatusCode::NOT_FOUND, "not_found").await;
        api.err("POST", &format!("/api/sessions/nope/tasks/{t2}"), None, StatusCode::NOT_FOUND, "not_found").await;

        let by_task = api.ok("GET", &format!("/api/sessions?taskId={t2}"), None, StatusCode::OK).await;
        assert_eq!(by_task.as_array().unwrap().len(), 1);
        let by_status =
            api.ok("GET", &format!("/api/sessions?projectId={p}&status=running"), None, StatusCode::OK).await;
        assert_eq!(by_status.as_array().unwrap().len(), 1);
        api.err("GET", "/api/sessions?status=asleep", None, StatusCode::BAD_REQUEST, "invalid").await;

        let unlinked = api.ok("DELETE", &format!("/api/sessions/{sid}/tasks/{t1}"), None, StatusCode::OK).await;
        assert_eq!(unlinked["taskIds"], json!([t2]));
        api.err("DELETE", &format!("/api/sessions/{sid}/tasks/{t1}"), None, StatusCode::NOT_FOUND, "not_found").await;

        let done = api
            .ok(
                "PATCH",
                &format!("/api/sessions/{sid}"),
                Some(json!({"status": "completed", "name": "done"})),
                StatusCode::OK,
            )
            .await;
        assert!(done["completedAt"].is_i64());
        api.err(
            "PATCH",
            &format!("/api/sessions/{sid}"),
            Some(json!({"taskIds": []})),
            StatusCode::BAD_REQUEST,
            "invalid",
        )
        .await;
        api.ok("GET", &format!("/api/sessions/{sid}"), None, StatusCode::OK).await;
        api.ok("DELETE", &format!("/api/sessions/{sid}"), None, StatusCode::OK).await;
        api.err("GET", &format!("/api/sessions/{sid}"), None, StatusCode::NOT_FOUND, "not_found").await;
        let task = api.ok("GET", &format!("/api/tasks/{t2}"), None, StatusCode::OK).await;
        assert_eq!(task["sessionCount"], 0);
        api.store.read(|s| s.check_invariant()).unwrap();
    });
}

#[test]
fn events_and_health() {
    rt().block_on(async {
        let api = Api::new();
        let p = api.project("P").await;
        let t = api.task(&p, "T").await;
        api.ok("POST", "/api/sessions", Some(json!({"projectId": p, "taskIds": [t]})), StatusCode::CREATED).await;
        let ev = api.ok("GET", "/api/events?since=0", None, StatusCode::OK).await;
        let names: Vec<&str> = ev.as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "project:created",
                "task:created",
                "session:created",
                "task:updated",
                "session:task_added",
                "task:session_added"
            ]
        );
        let seqs: Vec<i64> = ev.as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
        assert_eq!(ev[5]["type"], "task:session_added");
        assert_eq!(ev[5]["data"], json!({"sessionId": ev[2]["data"]["id"], "taskId": t}));
        let tail = api.ok("GET", "/api/events?since=4&limit=1", None, StatusCode::OK).await;
        assert_eq!(tail.as_array().unwrap().len(), 1);
        assert_eq!(tail[0]["seq"], 5);
        api.err("GET", "/api/events?since=99", None, StatusCode::GONE, "gone").await;
        api.err("GET", "/api/events?since=-1", None, StatusCode::BAD_REQUEST, "invalid").await;
        api.err("GET", "/api/events?limit=0", None, StatusCode::BAD_REQUEST, "invalid").await;
        let h = api.ok("GET", "/api/health", None, StatusCode::OK).await;
        assert_eq!((h["status"].as_str(), h["seq"].as_i64()), (Some("ok"), Some(6)));
        assert!(h["uptimeMs"].is_u64());
    });
}

#[test]
fn idempotency_key_and_client_ids() {
    rt().block_on(async {
        let api = Api::new();
        let key = [("idempotency-key", "abc-1")];
        let (s1, a) = api.call_with("POST", "/api/projects", Some(json!({"name": "A"})), &key).await;
        let (s2, b) = api.call_with("POST", "/api/projects", Some(json!({"name": "A"})), &key).await;
        assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
        assert_eq!(a, b, "a retry gets the first response");
        assert_eq!(api.ok("GET", "/api/projects", None, StatusCode::OK).await.as_array().unwrap().len(), 1);
        let (s3, v) = api.call_with("POST", "/api/projects", Some(json!({"name": "B"})), &key).await;
        assert_eq!(
            (s3, v["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("idempotency_key_reused"))
        );

        let body = json!({"id": "my-task", "projectId": a["id"], "title": "T"});
        let t1 = api.ok("POST", "/api/tasks", Some(body.clone()), StatusCode::CREATED).await;
        let t2 = api.ok("POST", "/api/tasks", Some(body), StatusCode::CREATED).await;
        assert_eq!(t1, t2);
        assert_eq!(t1["id"], "my-task");
        let other = json!({"id": "my-task", "projectId": a["id"], "title": "Different"});
        api.err("POST", "/api/tasks", Some(other), StatusCode::CONFLICT, "conflict").await;
        assert_eq!(api.store.last_seq(), 2);
    });
}

#[test]
fn concurrent_links_and_deletes_keep_the_invariant() {
    rt().block_on(async {
        let api = std::sync::Arc::new(Api::new());
        let p = api.project("P").await;
        let mut tasks = Vec::new();
        for i in 0..6 {
            tasks.push(api.task(&p, &format!("t{i}")).await);
        }
        let mut sessions = Vec::new();
        for _ in 0..4 {
            let v = api
                .ok("POST", "/api/sessions", Some(json!({"projectId": p, "taskIds": [tasks[0]]})), StatusCode::CREATED)
                .await;
            sessions.push(v["id"].as_str().unwrap().to_string());
        }
        let mut handles = Vec::new();
        for i in 0..200usize {
            let api = api.clone();
            let (s, t) = (sessions[i % 4].clone(), tasks[(i * 7) % 6].clone());
            handles.push(tokio::spawn(async move {
                let (method, uri) = match i % 5 {
                    0 | 1 => ("POST", format!("/api/sessions/{s}/tasks/{t}")),
                    2 => ("DELETE", format!("/api/sessions/{s}/tasks/{t}")),
                    3 if i % 25 == 3 => ("DELETE", format!("/api/tasks/{t}")),
                    _ => ("PATCH", format!("/api/tasks/{t}")),
                };
                let body = (method == "PATCH").then(|| json!({"status": "in_progress"}));
                let (status, _) = api.call(method, &uri, body).await;
                assert!(status.is_success() || status.is_client_error(), "{method} {uri}: {status}");
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        api.store.read(|s| s.check_invariant()).unwrap();
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever JSON arrives, the answer is never a 5xx.
    #[test]
    fn arbitrary_bodies_never_cause_5xx(
        path in prop_oneof![
            Just("/api/projects"), Just("/api/tasks"), Just("/api/sessions"),
            Just("/api/tasks/x/subtasks"), Just("/api/projects/x"), Just("/api/sessions/x"),
        ],
        method in prop_oneof![Just("POST"), Just("PATCH")],
        body in any::<Vec<(String, u8)>>().prop_map(|kv| {
            let keys = ["name", "title", "projectId", "taskIds", "status", "priority", "basePath", "id", "agentId", "x"];
            let vals = [json!(null), json!(""), json!("pending"), json!(1), json!([]), json!(["a"]), json!({}), json!("/tmp")];
            let mut m = serde_json::Map::new();
            for (i, (k, v)) in kv.iter().enumerate().take(5) {
                m.insert(keys[(k.len() + i) % keys.len()].to_string(), vals[*v as usize % vals.len()].clone());
            }
            Value::Object(m)
        }),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (status, _) = rt.block_on(async { Api::new().call(method, path, Some(body)).await });
        prop_assert!(!status.is_server_error(), "{} {} gave {}", method, path, status);
    }
}

fn with_token(token: &str) -> Api {
    let store = Store::open(StoreConfig::memory()).unwrap();
    let options = leptos_options("127.0.0.1:3000".parse().unwrap(), "target/site");
    let state =
        AppState::new(store.clone(), options, tokio::sync::watch::channel(false).1).with_token(Some(token.to_string()));
    Api { app: app(state), store }
}

#[test]
fn a_token_guards_every_route_and_the_browser_gets_a_session_of_its_own() {
    rt().block_on(async {
        const T: &str = "a-long-enough-token-0123456789abcdef";
        let api = with_token(T);
        for uri in ["/api/projects", "/api/health", "/", "/ws", "/pkg/maestro.js"] {
            api.err("GET", uri, None, StatusCode::UNAUTHORIZED, "unauthorized").await;
        }
        let (s, _) = api.call_with("GET", "/api/projects", None, &[("authorization", "Bearer wrong")]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let bearer = format!("Bearer {T}");
        let (s, _) = api.call_with("GET", "/api/projects", None, &[("authorization", &bearer)]).await;
        assert_eq!(s, StatusCode::OK);
        let body = Some(json!({"name": "P"}));
        let (s, _) = api.call_with("POST", "/api/projects", body, &[("authorization", &bearer)]).await;
        assert_eq!(s, StatusCode::CREATED);
        // A browser opens /?token=… once and keeps a cookie: a signed session value of its
        // own, never the token (every local port receives this host's cookies).
        let link = format!("/?token={T}");
        let res = api.app.clone().oneshot(Request::get(&link).body(Body::empty()).unwrap()).await.unwrap();
        assert!(res.status().is_redirection());
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(!cookie.contains(T), "{cookie}");
        assert!(cookie.starts_with("maestro_session_3000=") && cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Strict") && cookie.contains("Max-Age="), "{cookie}");
        let session = cookie.split(';').next().unwrap().to_string();
        let (s, _) = api.call_with("GET", "/api/projects", None, &[("cookie", &format!("a=b; {session}"))]).await;
        assert_eq!(s, StatusCode::OK);
        // The token itself is no cookie; a forged or altered session is refused.
        let (s, _) =
            api.call_with("GET", "/api/projects", None, &[("cookie", &format!("maestro_session_3000={T}"))]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let mut altered = session.clone();
        let last = altered.pop().unwrap();
        altered.push(if last == '0' { '1' } else { '0' });
        let (s, _) = api.call_with("GET", "/api/projects", None, &[("cookie", &altered)]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        // Rotating the token revokes every session.
        let rotated = with_token("another-long-enough-token-0123456789ab");
        let (s, _) = rotated.call_with("GET", "/api/projects", None, &[("cookie", &session)]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        // A person's browser without it gets a page saying what to do.
        let res = api
            .app
            .clone()
            .oneshot(Request::get("/").header("accept", "text/html").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let page = String::from_utf8(axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
        assert!(page.contains("needs its access token") && page.contains("?token="), "{page}");
    });
}

#[test]
fn mutations_from_a_foreign_origin_are_refused() {
    rt().block_on(async {
        let api = Api::new();
        let body = || Some(json!({"name": "P"}));
        let foreign = [("host", "127.0.0.1:3000"), ("origin", "http://evil.example")];
        let (s, v) = api.call_with("POST", "/api/projects", body(), &foreign).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
        let (s, _) =
            api.call_with("POST", "/api/projects", body(), &[("host", "127.0.0.1:3000"), ("origin", "null")]).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert_eq!(api.store.last_seq(), 0, "nothing was written");
        let same = [("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")];
        let (s, _) = api.call_with("POST", "/api/projects", body(), &same).await;
        assert_eq!(s, StatusCode::CREATED);
        // Scripts send no Origin; reads from anywhere are harmless (CORS keeps pages out).
        let (s, _) = api.call_with("POST", "/api/projects", body(), &[]).await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, _) = api.call_with("GET", "/api/projects", None, &foreign).await;
        assert_eq!(s, StatusCode::OK);
    });
}

/// The path a server function is served at (its name plus a hash the macro adds).
fn server_fn_path(name: &str) -> String {
    let paths: Vec<_> = leptos::server_fn::axum::server_fn_paths().map(|(p, _)| p.to_string()).collect();
    paths.iter().find(|p| p.contains(&format!("/{name}"))).cloned().unwrap_or_else(|| panic!("no {name} in {paths:?}"))
}

/// Sends `body` as it is (not necessarily JSON) and returns the status and body text.
async fn send_raw(api: &Api, method: &str, uri: &str, body: Vec<u8>) -> (StatusCode, String) {
    let req = Request::builder().method(method).uri(uri).header("content-type", "application/json");
    let res = api.app.clone().oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8_lossy(&bytes).to_string())
}

#[test]
fn server_functions_answer_bad_input_with_4xx_like_the_rest_api() {
    rt().block_on(async {
        let api = Api::new();
        let create = server_fn_path("create_project");
        let bad: [(Vec<u8>, StatusCode); 5] = [
            (b"{not json".to_vec(), StatusCode::BAD_REQUEST),
            (br#"{"project": {"name": 5}}"#.to_vec(), StatusCode::BAD_REQUEST),
            (br#"{"project": {"name": "x", "colour": "red"}}"#.to_vec(), StatusCode::BAD_REQUEST),
            (br#"{"project": {"name": ""}}"#.to_vec(), StatusCode::BAD_REQUEST),
            (
                format!(r#"{{"project": {{"name": "{}"}}}}"#, "x".repeat(1_100_000)).into_bytes(),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
        ];
        for (body, want) in bad {
            let (status, text) = send_raw(&api, "POST", &create, body).await;
            assert_eq!(status, want, "{}", text.chars().take(200).collect::<String>());
        }
        let too_many: Vec<String> = (0..1001).map(|i| format!("sess_{i}")).collect();
        let (status, _) =
            send_raw(&api, "POST", &server_fn_path("get_sessions"), json!({"ids": too_many}).to_string().into_bytes())
                .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(api.store.last_seq(), 0, "nothing was written");
        let (status, _) = send_raw(&api, "POST", &create, br#"{"project": {"name": "fine"}}"#.to_vec()).await;
        assert_eq!(status, StatusCode::OK);
        // A refusal says its status and code in the REST API's one error body, for the UI to match.
        let (status, _) = send_raw(&api, "POST", &create, br#"{"project": {"id": "p1", "name": "a"}}"#.to_vec()).await;
        assert_eq!(status, StatusCode::OK);
        let (status, text) =
            send_raw(&api, "POST", &create, br#"{"project": {"id": "p1", "name": "b"}}"#.to_vec()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let e: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(e["error"]["code"], "conflict", "{text}");
        assert!(e["error"]["message"].as_str().is_some_and(|m| m.contains("p1")), "{text}");
    });
}

/// The UI's lists come in pages too, as the REST API's do (SPEC §2): a session's 1.2 MB
/// of tasks is two answers of at most 1 MiB of rows, the first saying where the second
/// starts; together they hold every task once, newest first.
#[test]
fn the_uis_lists_come_in_pages_of_at_most_a_page_budget() {
    rt().block_on(async {
        let api = Api::new();
        let p = api.project("P").await;
        let mut made = Vec::new();
        for i in 0..6 {
            let body = json!({"projectId": p, "title": format!("t{i}"), "description": "d".repeat(100_000), "prompt": "p".repeat(99_000)});
            made.push(api.ok("POST", "/api/tasks", Some(body), StatusCode::CREATED).await["id"].as_str().unwrap().to_string());
        }
        made.reverse();
        let s = api.ok("POST", "/api/sessions", Some(json!({"projectId": p, "taskIds": made})), StatusCode::CREATED).await;
        let path = server_fn_path("list_session_tasks_page");
        let (mut got, mut cursor, mut pages) = (Vec::new(), Value::Null, 0);
        loop {
            let body = json!({"session_id": s["id"], "cursor": cursor}).to_string().into_bytes();
            let (status, text) = send_raw(&api, "POST", &path, body).await;
            assert_eq!(status, StatusCode::OK, "{}", text.chars().take(300).collect::<String>());
            assert!(text.len() <= maestro::model::page::PAGE_BYTES_MAX + 1024, "an answer of {} bytes", text.len());
            let page: Value = serde_json::from_str(&text).unwrap();
            got.extend(page["rows"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()));
            pages += 1;
            cursor = page["next"].clone();
            if cursor.is_null() {
                break;
            }
        }
        assert_eq!((got, pages), (made, 2));
        let (status, _) = send_raw(&api, "POST", &path, json!({"session_id": s["id"], "cursor": "nope"}).to_string().into_bytes()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "a cursor the server did not give");
    });
}

#[test]
fn names_with_control_characters_bad_escapes_and_missing_directories_are_refused() {
    rt().block_on(async {
        let api = Api::new();
        for name in ["\u{1b}[31mred", "a\u{7}bell", "line\nbreak", "c1\u{9b}31m"] {
            api.err("POST", "/api/projects", Some(json!({"name": name})), StatusCode::BAD_REQUEST, "invalid").await;
        }
        let p = api.project("P").await;
        let body = json!({"projectId": p, "title": "t", "description": "escape \u{1b}]0;owned\u{7}"});
        api.err("POST", "/api/tasks", Some(body), StatusCode::BAD_REQUEST, "invalid").await;
        let body = json!({"projectId": p, "title": "t", "description": "two\nlines\tand a tab", "prompt": "ok\r\n"});
        api.ok("POST", "/api/tasks", Some(body), StatusCode::CREATED).await;
        api.err("GET", "/api/tasks?projectId=%ff", None, StatusCode::BAD_REQUEST, "invalid").await;
        api.err("GET", "/api/sessions?status=%c3%28", None, StatusCode::BAD_REQUEST, "invalid").await;
        let gone = json!({"name": "x", "basePath": "/no/such/dir/anywhere"});
        api.err("POST", "/api/projects", Some(gone), StatusCode::BAD_REQUEST, "invalid").await;
        let patch = json!({"basePath": "/no/such/dir/anywhere"});
        api.err("PATCH", &format!("/api/projects/{p}"), Some(patch), StatusCode::BAD_REQUEST, "invalid").await;
    });
}

#[test]
fn links_per_session_and_per_task_are_capped() {
    use maestro::store::state::{SESSION_TASKS_MAX, TASK_SESSIONS_MAX};
    rt().block_on(async {
        let api = Api::new();
        let p = api.project("P").await;
        let mut tasks = Vec::new();
        for i in 0..=SESSION_TASKS_MAX {
            tasks.push(api.task(&p, &format!("t{i}")).await);
        }
        let body = json!({"projectId": p, "taskIds": tasks[..SESSION_TASKS_MAX]});
        let s = api.ok("POST", "/api/sessions", Some(body), StatusCode::CREATED).await;
        let sid = s["id"].as_str().unwrap();
        let last = &tasks[SESSION_TASKS_MAX];
        api.err("POST", &format!("/api/sessions/{sid}/tasks/{last}"), None, StatusCode::CONFLICT, "conflict").await;
        let too_many = json!({"projectId": p, "taskIds": tasks});
        api.err("POST", "/api/sessions", Some(too_many), StatusCode::BAD_REQUEST, "invalid").await;
        // The environment an agent starts with stays small.
        let env = &s["env"]["MAESTRO_TASK_IDS"];
        assert!(env.as_str().unwrap().len() < 16 * 1024, "{} bytes", env.as_str().unwrap().len());
        // A task's sessions, likewise.
        let t = &tasks[0];
        for _ in 1..TASK_SESSIONS_MAX {
            let body = json!({"projectId": p, "taskIds": [t]});
            api.ok("POST", "/api/sessions", Some(body), StatusCode::CREATED).await;
        }
        let body = json!({"projectId": p, "taskIds": [t]});
        api.err("POST", "/api/sessions", Some(body), StatusCode::CONFLICT, "conflict").await;
    });
}

#[test]
fn no_change_can_make_an_event_bigger_than_the_budget_and_pages_are_bounded_in_bytes() {
    use maestro::store::{EVENT_MAX_BYTES, PAGE_BYTES};
    rt().block_on(async {
        let api = Api::new();
        let p = api.project("P").await;
        // Two-byte characters: 100,000 of them is within the length limit, but a task with
        // two such texts would be an event of ~400 KB.
        let big = "é".repeat(100_000);
        let body = json!({"projectId": p, "title": "t", "description": big, "prompt": big});
        api.err("POST", "/api/tasks", Some(body), StatusCode::BAD_REQUEST, "invalid").await;
        let body = json!({"projectId": p, "title": "t", "description": big});
        let t = api.ok("POST", "/api/tasks", Some(body), StatusCode::CREATED).await;
        let id = t["id"].as_str().unwrap();
        let mut refused = false;
        for _ in 0..200 {
            let (s, _) =
                api.call("POST", &format!("/api/tasks/{id}/subtasks"), Some(json!({"title": "s".repeat(500)}))).await;
            if s == StatusCode::BAD_REQUEST {
                refused = true;
                break;
            }
            assert_eq!(s, StatusCode::CREATED);
        }
        assert!(refused, "subtasks grew the task past the event budget");
        // Every event in the log is within the budget, and a page of them within its own.
        let seq_before = api.store.last_seq();
        for _ in 0..12 {
            api.ok(
                "PATCH",
                &format!("/api/tasks/{id}"),
                Some(json!({"title": format!("{}", rand::random::<u32>())})),
                StatusCode::OK,
            )
            .await;
        }
        let req = Request::get("/api/events?since=0&limit=10000").body(Body::empty()).unwrap();
        let res = api.app.clone().oneshot(req).await.unwrap();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        assert!(bytes.len() <= PAGE_BYTES + EVENT_MAX_BYTES, "a page of {} bytes", bytes.len());
        let page: Vec<Value> = serde_json::from_slice(&bytes).unwrap();
        let last = page.last().unwrap()["seq"].as_u64().unwrap();
        assert!(last < seq_before + 12, "the page stopped early, and the rest follows");
        let (_, rest) = api.call("GET", &format!("/api/events?since={last}&limit=10000"), None).await;
        assert_eq!(rest.as_array().unwrap().first().unwrap()["seq"].as_u64(), Some(last + 1));
        // A page of a list stops at its budget too, and says where the rest starts.
        for _ in 0..8 {
            let body = json!({"projectId": p, "title": "t", "description": big});
            api.ok("POST", "/api/tasks", Some(body), StatusCode::CREATED).await;
        }
        let req = Request::get(format!("/api/tasks?projectId={p}&limit=1000")).body(Body::empty()).unwrap();
        let res = api.app.clone().oneshot(req).await.unwrap();
        let next = res.headers().get("next-cursor").map(|v| v.to_str().unwrap().to_string());
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        assert!(bytes.len() <= maestro::model::page::PAGE_BYTES_MAX, "a page of {} bytes", bytes.len());
        let rows = serde_json::from_slice::<Vec<Value>>(&bytes).unwrap().len();
        let (rest, _) = page_of(&api, &format!("/api/tasks?projectId={p}&limit=1000&cursor={}", next.unwrap())).await;
        assert_eq!(rows + rest.len(), 9);
    });
}

#[test]
fn idempotency_keys_are_bounded_in_size_and_count() {
    use maestro::store::IDEMPOTENCY_KEYS_MAX;
    rt().block_on(async {
        let api = Api::new();
        let long = "k".repeat(256);
        let (s, _) =
            api.call_with("POST", "/api/projects", Some(json!({"name": "P"})), &[("idempotency-key", &long)]).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let p = api.project("P").await;
        let mut calls = Vec::new();
        for i in 0..IDEMPOTENCY_KEYS_MAX + 600 {
            let key = format!("key-{i}");
            let body = json!({"projectId": p, "title": format!("t{i}")});
            let app = api.app.clone();
            calls.push(async move {
                let req = Request::post("/api/tasks")
                    .header("content-type", "application/json")
                    .header("idempotency-key", key)
                    .body(Body::from(body.to_string()))
                    .unwrap();
                app.oneshot(req).await.unwrap().status()
            });
        }
        for status in futures::future::join_all(calls).await {
            assert_eq!(status, StatusCode::CREATED);
        }
        // One more commit runs the housekeeping that is due.
        api.project("Q").await;
        let kept = api.store.footprint().idempotency_keys;
        assert!(kept <= IDEMPOTENCY_KEYS_MAX, "{kept} keys kept");
    });
}

#[test]
fn a_full_disk_answers_503_and_health_says_so() {
    rt().block_on(async {
        let config = StoreConfig { max_file_bytes: Some(256 * 1024), ..StoreConfig::memory() };
        let store = Store::open(config).unwrap();
        let options = leptos_options("127.0.0.1:3000".parse().unwrap(), "target/site");
        let api = Api { app: app(AppState::new(store.clone(), options, tokio::sync::watch::channel(false).1)), store };
        let (status, v) = loop {
            let (s, v) = api.call("POST", "/api/projects", Some(json!({"name": "x".repeat(200)}))).await;
            if s != StatusCode::CREATED {
                break (s, v);
            }
        };
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("storage_unavailable"))
        );
        let (status, h) = api.call("GET", "/api/health", None).await;
        assert_eq!((status, h["status"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("degraded")), "{h}");
        // Reads go on.
        let (status, _) = api.call("GET", "/api/projects", None).await;
        assert_eq!(status, StatusCode::OK);
    });
}

#[test]
fn the_openapi_document_names_every_route_and_the_configured_agents() {
    rt().block_on(async {
        let api = Api::new();
        let doc = api.ok("GET", "/api/openapi.json", None, StatusCode::OK).await;
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{:?}", doc["openapi"]);
        // Every REST route of docs/SPEC.md §2 (and the later ones): a new route that is not
        // in the document fails here.
        let routes = [
            ("get", "/projects"),
            ("post", "/projects"),
            ("get", "/projects/{id}"),
            ("patch", "/projects/{id}"),
            ("delete", "/projects/{id}"),
            ("get", "/tasks"),
            ("post", "/tasks"),
            ("get", "/tasks/{id}"),
            ("patch", "/tasks/{id}"),
            ("delete", "/tasks/{id}"),
            ("post", "/tasks/{id}/subtasks"),
            ("patch", "/tasks/{id}/subtasks/{sid}"),
            ("delete", "/tasks/{id}/subtasks/{sid}"),
            ("get", "/sessions"),
            ("post", "/sessions"),
            ("get", "/sessions/{id}"),
            ("patch", "/sessions/{id}"),
            ("delete", "/sessions/{id}"),
            ("post", "/sessions/{sid}/tasks/{tid}"),
            ("delete", "/sessions/{sid}/tasks/{tid}"),
            ("get", "/sessions/{id}/output"),
            ("put", "/sessions/{id}/state"),
            ("post", "/sessions/{id}/log"),
            ("get", "/workspaces"),
            ("post", "/workspaces"),
            ("get", "/workspaces/{id}"),
            ("get", "/workspaces/{id}/files"),
            ("get", "/workspaces/{id}/diff"),
            ("post", "/workspaces/{id}/archive"),
            ("post", "/workspaces/{id}/restore"),
            ("get", "/directories/inspect"),
            ("post", "/workspaces/{id}/commit"),
            ("post", "/workspaces/{id}/merge"),
            ("post", "/workspaces/{id}/rebase"),
            ("post", "/workspaces/{id}/push"),
            ("post", "/workspaces/{id}/pr"),
            ("get", "/workspaces/{id}/pr"),
            ("get", "/workspaces/{id}/comments"),
            ("post", "/workspaces/{id}/comments"),
            ("patch", "/comments/{id}"),
            ("delete", "/comments/{id}"),
            ("post", "/workspaces/{id}/comments/send"),
            ("get", "/agents"),
            ("get", "/events"),
            ("get", "/health"),
        ];
        let paths = doc["paths"].as_object().unwrap();
        for (method, path) in routes {
            let op = &paths.get(path).unwrap_or_else(|| panic!("{path} is not in the document"))[method];
            assert!(op.is_object(), "{method} {path} is not in the document");
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path}: no responses");
            // An address over 64 KiB is refused before any route: every one says so.
            assert!(op["responses"]["414"].is_object(), "{method} {path}: no 414");
        }
        // Deleting a project with everything of it is asked for with `cascade`, a boolean.
        let params = paths["/projects/{id}"]["delete"]["parameters"].as_array().unwrap();
        let cascade = params.iter().find(|p| p["name"] == "cascade" && p["in"] == "query");
        assert!(cascade.is_some_and(|p| p["schema"].to_string().contains("boolean")), "{params:?}");
        let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(documented, routes.len(), "the document has routes this test does not know");
        // Bodies are the model's own types, errors the one error body.
        let schemas = &doc["components"]["schemas"];
        for name in [
            "Project",
            "Task",
            "Session",
            "NewTask",
            "TaskPatch",
            "Event",
            "ErrorBody",
            "Health",
            "Workspace",
            "FileDiff",
        ] {
            assert!(schemas[name].is_object(), "schema {name} missing");
        }
        assert_eq!(schemas["TaskPatch"]["additionalProperties"], json!(false), "unknown fields are refused");
        // An agentId may be a configured agent or null, nothing else.
        assert_eq!(schemas["NewSession"]["properties"]["agentId"]["enum"], json!(["claude", null]));
    });
}

#[test]
fn json_is_compressed_for_a_client_that_accepts_it_and_only_then() {
    rt().block_on(async {
        let api = Api::new();
        for i in 0..20 {
            api.project(&format!("project number {i}")).await;
        }
        let get = |encoding: Option<&'static str>| {
            let mut b = Request::builder().uri("/api/projects");
            if let Some(e) = encoding {
                b = b.header("accept-encoding", e);
            }
            let app = api.app.clone();
            async move {
                let res = app.oneshot(b.body(Body::empty()).unwrap()).await.unwrap();
                let enc = res.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string());
                (enc, axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap())
            }
        };
        let (enc, plain) = get(None).await;
        assert_eq!(enc, None);
        assert_eq!(serde_json::from_slice::<Value>(&plain).unwrap().as_array().unwrap().len(), 20);
        let (enc, gz) = get(Some("gzip")).await;
        assert_eq!(enc.as_deref(), Some("gzip"));
        assert_eq!(&gz[..2], &[0x1f, 0x8b], "a gzip stream");
        assert!(gz.len() * 2 < plain.len(), "{} bytes gzipped of {}", gz.len(), plain.len());
        let (enc, br) = get(Some("br;q=1.0, gzip;q=0.5")).await;
        assert_eq!(enc.as_deref(), Some("br"));
        assert!(br.len() * 2 < plain.len());
    });
}

#[test]
fn site_files_go_precompressed_and_hashed_names_are_cached_for_ever() {
    rt().block_on(async {
        let site = tempfile::tempdir().unwrap();
        let pkg = site.path().join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("maestro.abc123.js"), "plain").unwrap();
        std::fs::write(pkg.join("maestro.abc123.js.br"), "brotli bytes").unwrap();
        std::fs::write(pkg.join("maestro.abc123.js.gz"), "gzip bytes").unwrap();
        let get = |app: Router, encoding: &'static str| async move {
            let req = Request::get("/pkg/maestro.abc123.js").header("accept-encoding", encoding);
            let res = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
            let header = |h: &str| res.headers().get(h).map(|v| v.to_str().unwrap().to_string());
            let (enc, cache) = (header("content-encoding"), header("cache-control"));
            (res.status(), enc, cache, axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap())
        };
        let mut options = leptos_options("127.0.0.1:3000".parse().unwrap(), site.path().to_str().unwrap());
        options.hash_files = true;
        let app = app_of(Store::open(StoreConfig::memory()).unwrap(), options.clone());
        let xterm = site.path().join("xterm");
        std::fs::create_dir_all(&xterm).unwrap();
        std::fs::write(xterm.join("xterm.js"), "plain").unwrap();
        std::fs::write(xterm.join("xterm.js.gz"), "gzip bytes").unwrap();
        // One URL, bodies that differ by Accept-Encoding: every answer says so, the plain
        // one too, or a shared cache could hand brotli to a client that cannot read it.
        for (uri, encoding) in [
            ("/pkg/maestro.abc123.js", "br"),
            ("/pkg/maestro.abc123.js", "gzip"),
            ("/pkg/maestro.abc123.js", "identity"),
            ("/xterm/xterm.js", "gzip"),
            ("/xterm/xterm.js", "identity"),
        ] {
            let req = Request::get(uri).header("accept-encoding", encoding).body(Body::empty()).unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{uri}");
            let vary: Vec<String> =
                res.headers().get_all("vary").iter().map(|v| v.to_str().unwrap().to_ascii_lowercase()).collect();
            assert!(vary.iter().any(|v| v.contains("accept-encoding")), "{uri} {encoding}: vary {vary:?}");
        }
        let (status, enc, cache, body) = get(app.clone(), "br, gzip").await;
        assert_eq!((status, enc.as_deref(), &body[..]), (StatusCode::OK, Some("br"), &b"brotli bytes"[..]));
        assert_eq!(cache.as_deref(), Some("public, max-age=31536000, immutable"));
        let (_, enc, _, body) = get(app.clone(), "gzip").await;
        assert_eq!((enc.as_deref(), &body[..]), (Some("gzip"), &b"gzip bytes"[..]));
        let (_, enc, _, body) = get(app, "identity").await;
        assert_eq!((enc, &body[..]), (None, &b"plain"[..]));
        // Without hashed names a browser must revalidate.
        options.hash_files = false;
        let app = app_of(Store::open(StoreConfig::memory()).unwrap(), options);
        let (_, _, cache, _) = get(app, "br").await;
        assert_eq!(cache.as_deref(), Some("no-cache"));
    });
}

fn app_of(store: Store, options: leptos::prelude::LeptosOptions) -> Router {
    app(AppState::new(store, options, tokio::sync::watch::channel(false).1))
}

#[test]
fn the_two_pages_render_and_any_other_path_is_a_404_page() {
    rt().block_on(async {
        let api = Api::new();
        let project = api.project("Pages").await;
        let page = |uri: String| {
            let app = api.app.clone();
            async move {
                let res = app.oneshot(Request::get(&uri).body(Body::empty()).unwrap()).await.unwrap();
                let status = res.status();
                let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
                (status, String::from_utf8(body.to_vec()).unwrap())
            }
        };
        for uri in ["/".to_string(), format!("/projects/{project}"), format!("/projects/{project}?q=x")] {
            let (status, body) = page(uri.clone()).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            assert!(body.contains("<title>Maestro</title>"), "{uri}: {body}");
            assert!(body.contains("Pages") && !body.contains("Page not found"), "{uri}: {body}");
        }
        for uri in ["/nope", "/projects", "/projects/a/b", "/projects/a/"] {
            let (status, body) = page(uri.to_string()).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert!(body.contains("Page not found."), "{uri}: {body}");
        }
    });
}
