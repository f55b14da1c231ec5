//! A typed client of a Maestro server, over the shared `model` types: the REST API of
//! SPEC §2 and the `/ws` event stream of SPEC §3. For the command-line client, the tests
//! and the benchmarks, so that none writes its own requests.
//!
//! Every mutation carries an `Idempotency-Key` and is retried (with the same key) when the
//! connection fails, so a retry never applies twice. `watch` resumes from the last `seq`
//! after a drop. The event stream's calls are in `watch`, workspaces' in `workspaces`.

mod watch;
mod workspaces;

pub use watch::{socket, WsStream};
pub use workspaces::WorkspaceQuery;

use crate::model::*;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// Rows asked for per page of a list.
const LIST_PAGE: usize = 500;

/// How many times a mutation is sent when the connection fails.
const ATTEMPTS: u32 = 3;

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// No answer: the server is down, or the address is wrong.
    #[error("cannot reach the Maestro server at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The server answered with an error (`{"error": {code, message}}`).
    #[error("{message}")]
    Api { status: u16, code: String, message: String },
    /// The answer was not what the API promises.
    #[error("unexpected answer from the server: {0}")]
    Decode(String),
}

impl ClientError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Filters of `GET /api/tasks`.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<TaskStatus>,
}

/// A piece of a session's kept output: its bytes start at `offset`; what is kept runs from
/// `start` to `end`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputPiece {
    pub offset: u64,
    pub start: u64,
    pub end: u64,
    pub bytes: Vec<u8>,
}

/// Filters of `GET /api/sessions`.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<SessionStatus>,
}

/// A handle to one server; cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    /// The API's base, `http://host:port/api`, without a trailing slash.
    api: String,
    token: Option<String>,
}

impl Client {
    /// A client of the API at `api_url` (as in `MAESTRO_API_URL`), sending `token` as a
    /// Bearer token when given.
    pub fn new(api_url: &str, token: Option<String>) -> Client {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap_or_default();
        Client { http, api: api_url.trim_end_matches('/').to_string(), token: token.filter(|t| !t.is_empty()) }
    }

    /// The API's base URL.
    pub fn api_url(&self) -> &str {
        &self.api
    }

    /// The token it sends, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: Option<&dyn erased::Query>,
        body: Option<&serde_json::Value>,
    ) -> Result<T, ClientError> {
        let pairs = query.map(|q| q.pairs()).unwrap_or_default();
        decode(self.request(method, path, &pairs, body).await?).await
    }

    /// A whole list, fetched a page at a time (SPEC §2) so that no answer is ever the
    /// whole of a long list; rows made meanwhile may or may not be in it, none twice.
    async fn list<T: DeserializeOwned>(&self, path: &str, query: &dyn erased::Query) -> Result<Vec<T>, ClientError> {
        let (mut all, mut cursor) = (Vec::new(), None::<String>);
        loop {
            let mut pairs = query.pairs();
            pairs.push(("limit".into(), LIST_PAGE.to_string()));
            pairs.extend(cursor.take().map(|c| ("cursor".to_string(), c)));
            let res = self.request(Method::GET, path, &pairs, None).await?;
            let next = res.headers().get("next-cursor").and_then(|v| v.to_str().ok()).map(str::to_string);
            all.extend(decode::<Vec<T>>(res).await?);
            match next {
                Some(n) => cursor = Some(n),
                None => return Ok(all),
            }
        }
    }

    /// Sends a request, retrying (with the same `Idempotency-Key`) while the connection
    /// fails.
    async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response, ClientError> {
        let url = format!("{}{path}", self.api);
        let mutation = method != Method::GET;
        // One key for every attempt: the server answers a retry with the first answer.
        let key = mutation.then(|| uuid::Uuid::new_v4().to_string());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self.http.request(method.clone(), &url);
            if !query.is_empty() {
                req = req.query(query);
            }
            if let Some(t) = &self.token {
                req = req.bearer_auth(t);
            }
            if let Some(k) = &key {
                req = req.header("idempotency-key", k);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            match req.send().await {
                Ok(res) => return Ok(res),
                Err(e) if attempt < ATTEMPTS && (e.is_connect() || e.is_timeout() || e.is_request()) => {
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                }
                Err(e) => return Err(ClientError::Unreachable { url, reason: root_cause(&e) }),
            }
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.call(Method::GET, path, None, None).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: impl Serialize,
    ) -> Result<T, ClientError> {
        let body = serde_json::to_value(body).map_err(|e| ClientError::Decode(e.to_string()))?;
        self.call(method, path, None, (!body.is_null()).then_some(&body)).await
    }

    async fn delete(&self, path: &str) -> Result<(), ClientError> {
        self.call::<serde_json::Value>(Method::DELETE, path, None, None).await.map(drop)
    }

    pub async fn health(&self) -> Result<Health, ClientError> {
        self.get("/health").await
    }

    // ----- projects ---------------------------------------------------------------------

    pub async fn projects(&self) -> Result<Vec<Project>, ClientError> {
        self.list("/projects", &()).await
    }

    pub async fn project(&self, id: &str) -> Result<Project, ClientError> {
        self.get(&format!("/projects/{}", seg(id))).await
    }

    pub async fn create_project(&self, p: &NewProject) -> Result<Project, ClientError> {
        self.send(Method::POST, "/projects", p).await
    }

    pub async fn update_project(&self, id: &str, patch: &ProjectPatch) -> Result<Project, ClientError> {
        self.send(Method::PATCH, &format!("/projects/{}", seg(id)), patch).await
    }

    pub async fn delete_project(&self, id: &str) -> Result<(), ClientError> {
        self.delete(&format!("/projects/{}", seg(id))).await
    }

    /// Deletes the project with its tasks, ended sessions and workspaces (`?cascade=true`).
    pub async fn delete_project_with_contents(&self, id: &str) -> Result<(), ClientError> {
        let cascade = serde_json::json!({ "cascade": true });
        let path = format!("/projects/{}", seg(id));
        self.call::<serde_json::Value>(Method::DELETE, &path, Some(&cascade), None).await.map(drop)
    }

    // ----- tasks ------------------------------------------------------------------------

    pub async fn tasks(&self, q: &TaskQuery) -> Result<Vec<Task>, ClientError> {
        self.list("/tasks", q).await
    }

    pub async fn task(&self, id: &str) -> Result<Task, ClientError> {
        self.get(&format!("/tasks/{}", seg(id))).await
    }

    pub async fn create_task(&self, t: &NewTask) -> Result<Task, ClientError> {
        self.send(Method::POST, "/tasks", t).await
    }

    pub async fn update_task(&self, id: &str, patch: &TaskPatch) -> Result<Task, ClientError> {
        self.send(Method::PATCH, &format!("/tasks/{}", seg(id)), patch).await
    }

    pub async fn delete_task(&self, id: &str) -> Result<(), ClientError> {
        self.delete(&format!("/tasks/{}", seg(id))).await
    }

    pub async fn add_subtask(&self, task: &str, s: &NewSubtask) -> Result<Task, ClientError> {
        self.send(Method::POST, &format!("/tasks/{}/subtasks", seg(task)), s).await
    }

    pub async fn update_subtask(&self, task: &str, sub: &str, patch: &SubtaskPatch) -> Result<Task, ClientError> {
        self.send(Method::PATCH, &format!("/tasks/{}/subtasks/{}", seg(task), seg(sub)), patch).await
    }

    pub async fn delete_subtask(&self, task: &str, sub: &str) -> Result<Task, ClientError> {
        self.call(Method::DELETE, &format!("/tasks/{}/subtasks/{}", seg(task), seg(sub)), None, None).await
    }

    // ----- sessions ---------------------------------------------------------------------

    pub async fn sessions(&self, q: &SessionQuery) -> Result<Vec<Session>, ClientError> {
        self.list("/sessions", q).await
    }

    pub async fn session(&self, id: &str) -> Result<Session, ClientError> {
        self.get(&format!("/sessions/{}", seg(id))).await
    }

    pub async fn create_session(&self, s: &NewSession) -> Result<Session, ClientError> {
        self.send(Method::POST, "/sessions", s).await
    }

    pub async fn update_session(&self, id: &str, patch: &SessionPatch) -> Result<Session, ClientError> {
        self.send(Method::PATCH, &format!("/sessions/{}", seg(id)), patch).await
    }

    /// Says what session `id`'s agent is doing.
    pub async fn set_session_state(&self, id: &str, update: &SessionStateUpdate) -> Result<Session, ClientError> {
        self.send(Method::PUT, &format!("/sessions/{}/state", seg(id)), update).await
    }

    /// Adds `text` to session `id`'s timeline.
    pub async fn log_session(&self, id: &str, text: &str) -> Result<Session, ClientError> {
        let line = SessionLogLine { text: text.into() };
        self.send(Method::POST, &format!("/sessions/{}/log", seg(id)), &line).await
    }

    pub async fn delete_session(&self, id: &str) -> Result<(), ClientError> {
        self.delete(&format!("/sessions/{}", seg(id))).await
    }

    pub async fn link(&self, session: &str, task: &str) -> Result<Session, ClientError> {
        self.call(Method::POST, &format!("/sessions/{}/tasks/{}", seg(session), seg(task)), None, None).await
    }

    pub async fn unlink(&self, session: &str, task: &str) -> Result<Session, ClientError> {
        self.call(Method::DELETE, &format!("/sessions/{}/tasks/{}", seg(session), seg(task)), None, None).await
    }

    /// A piece of what session `id`'s terminal printed, from byte `offset` (see
    /// `GET /api/sessions/{id}/output`).
    pub async fn session_output(&self, id: &str, offset: u64, limit: usize) -> Result<OutputPiece, ClientError> {
        let query = [("offset".to_string(), offset.to_string()), ("limit".to_string(), limit.to_string())];
        let res = self.request(Method::GET, &format!("/sessions/{}/output", seg(id)), &query, None).await?;
        let status = res.status();
        let number = |name: &str| {
            let v = res.headers().get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
            v.ok_or_else(|| ClientError::Decode(format!("no {name} header")))
        };
        let piece = if status.is_success() {
            Some((number("output-offset")?, number("output-start")?, number("output-end")?))
        } else {
            None
        };
        let body = res.bytes().await.map_err(|e| ClientError::Decode(e.to_string()))?;
        match piece {
            Some((offset, start, end)) => Ok(OutputPiece { offset, start, end, bytes: body.to_vec() }),
            None => Err(api_error(status.as_u16(), &String::from_utf8_lossy(&body))),
        }
    }

    // ----- agents -----------------------------------------------------------------------

    /// The agents the server offers.
    pub async fn agents(&self) -> Result<Vec<Agent>, ClientError> {
        self.get("/agents").await
    }
}

async fn decode<T: DeserializeOwned>(res: reqwest::Response) -> Result<T, ClientError> {
    let status = res.status();
    let body = res.bytes().await.map_err(|e| ClientError::Decode(e.to_string()))?;
    if status.is_success() {
        return serde_json::from_slice(&body).map_err(|e| ClientError::Decode(e.to_string()));
    }
    Err(api_error(status.as_u16(), &String::from_utf8_lossy(&body)))
}

/// The server's `{"error": {code, message}}`, or what can be said without it.
fn api_error(status: u16, body: &str) -> ClientError {
    match serde_json::from_str::<crate::model::ErrorBody>(body) {
        Ok(w) => ClientError::Api { status, code: w.error.code, message: w.error.message },
        Err(_) => ClientError::Api {
            status,
            code: "http".into(),
            message: format!(
                "the server answered {status} {}",
                StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("")
            ),
        },
    }
}

/// The innermost reason of a request error ("Connection refused", not "error sending…").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// An id as one path segment: ids are `[A-Za-z0-9_-]`, anything else is escaped.
fn seg(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Query filters as string pairs, whatever their type.
mod erased {
    pub trait Query: Sync {
        fn pairs(&self) -> Vec<(String, String)>;
    }

    impl<T: serde::Serialize + Sync> Query for T {
        fn pairs(&self) -> Vec<(String, String)> {
            let Ok(serde_json::Value::Object(m)) = serde_json::to_value(self) else { return Vec::new() };
            m.into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => (k, s),
                    other => (k, other.to_string()),
                })
                .collect()
        }
    }
}
