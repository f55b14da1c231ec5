//! Passing a request to the node of a cluster that holds what it is about (SPEC §6, §8): a
//! session's running terminal, a workspace's disk. Relaying rather than redirecting means
//! nothing in front of the nodes has to be sticky, and the owner need be reachable only from
//! its peers, not from the client.
//!
//! The request carries this node's proof (see `node`), never the client's credentials; what
//! answers is passed back only once it proved it is the node meant. One hop: a request that
//! another node relayed here is never relayed on, and no node relays to itself.

use super::node::{NodeKey, Sent, ANSWER, HEADER};
use crate::http::AppError;
use crate::model::ErrorBody;
use crate::store::Store;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::Duration;

/// Where something lives, seen from this node.
#[derive(Debug)]
pub enum Place {
    Here,
    There(Node),
}

/// Another node, alive now: its id and base URL (`http://host:port`).
#[derive(Clone, Debug)]
pub struct Node {
    pub id: String,
    pub url: String,
}

/// Why a request cannot be passed to the node it is for.
#[derive(Debug)]
pub enum RelayError {
    /// That node is not beating (it died, or cannot reach the database), or this server
    /// has no key to prove itself with.
    Away(String),
    /// That node's address is now this server's: it restarted under a new id and is gone.
    Replaced(String),
    /// The request was relayed here, and this node would relay it again: the nodes
    /// disagree on who holds it, and passing it on could only go round.
    Loop(String),
    /// Nothing answered at its address (or not in time).
    Unreachable { node: Node, reason: String },
    /// What answered at its address could not prove it is that node.
    Impostor(Node),
}

impl RelayError {
    /// The refusal a client gets, saying what could not be reached (`what`: "this
    /// terminal", "workspace ws_1") under the caller's error `code`.
    pub fn refusal(self, what: &str, code: &'static str) -> AppError {
        let (status, message) = match self {
            RelayError::Away(node) => {
                (StatusCode::SERVICE_UNAVAILABLE, format!("{what} is on server node {node}, which is not answering"))
            }
            RelayError::Replaced(node) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{what} was on server node {node}, whose address is now this server's: it is gone"),
            ),
            RelayError::Loop(node) => (
                StatusCode::LOOP_DETECTED,
                format!("{what} is on server node {node}, which did not answer the relay itself"),
            ),
            RelayError::Unreachable { node, reason } => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{what} is on server node {}, which cannot be reached at {}: {reason}", node.id, node.url),
            ),
            RelayError::Impostor(node) => {
                tracing::warn!(node = node.id, url = node.url, "what answered at a node's address is not that node");
                (
                    StatusCode::BAD_GATEWAY,
                    format!("the server at {} is not node {}: {what} cannot be reached", node.url, node.id),
                )
            }
        };
        AppError::new(status, code, message)
    }
}

/// Where what node `owner` holds is served from: here, or that node. `relayed`: this
/// request came from another node, so it is not passed on again.
pub fn place(store: &Store, owner: &str, relayed: bool) -> Result<Place, RelayError> {
    let Some(me) = store.node_id() else { return Ok(Place::Here) };
    if owner == me {
        return Ok(Place::Here);
    }
    match store.node_url(owner) {
        // A node that took over this one's address under a new id is this one: relaying
        // there would only come back here.
        Some(url) if Some(url.as_str()) == store.node_url(me).as_deref() => Err(RelayError::Replaced(owner.into())),
        Some(_) if relayed => Err(RelayError::Loop(owner.into())),
        Some(url) => Ok(Place::There(Node { id: owner.into(), url })),
        None => Err(RelayError::Away(owner.into())),
    }
}

/// Whether the answer's headers prove that the node `sent` was meant for answered.
pub fn proved(key: &NodeKey, sent: &Sent, headers: &HeaderMap) -> bool {
    key.answered(sent, headers.get(ANSWER).and_then(|v| v.to_str().ok()))
}

/// A request to pass on as it came: its method, path (from `/`, what the proof signs),
/// query, JSON body and the client's `Idempotency-Key`, so that a retry is answered once.
pub struct Outgoing<'a> {
    pub method: Method,
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub body: Option<Bytes>,
    pub idempotency_key: Option<&'a str>,
    /// How long the node may take to answer.
    pub timeout: Duration,
}

/// What the node answered, once it proved itself: passed back as it is.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
    /// Its headers, for an answer that says more in them than its body (kept output).
    pub headers: HeaderMap,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (self.status, [(header::CONTENT_TYPE, "application/json")], self.body).into_response()
    }
}

impl Answer {
    /// The answer as the typed value it promises, or the node's refusal as this node's
    /// (its status, code and words).
    pub fn json<T: serde::de::DeserializeOwned>(self, node: &Node) -> Result<T, AppError> {
        let unreadable = |e: serde_json::Error| {
            AppError::new(
                StatusCode::BAD_GATEWAY,
                "bad_gateway",
                format!("node {} answered what cannot be read", node.id),
            )
            .because(e)
        };
        if self.status.is_success() {
            return serde_json::from_slice(&self.body).map_err(unreadable);
        }
        let refused: ErrorBody = serde_json::from_slice(&self.body).map_err(unreadable)?;
        let (code, message, files) = (Cow::Owned(refused.error.code), refused.error.message, refused.error.files);
        Err(AppError { status: self.status, code, message, cause: None, files })
    }
}

/// Sends `req` to `to` with this node's proof; its answer once it proved it is `to`.
pub async fn pass(key: Option<&NodeKey>, to: &Node, req: Outgoing<'_>) -> Result<Answer, RelayError> {
    let Some(key) = key else { return Err(RelayError::Away(to.id.clone())) };
    let sent = key.sign(&to.id, req.method.as_str(), req.path);
    let mut request = client().request(req.method, format!("{}{}", to.url, req.path)).timeout(req.timeout);
    if !req.query.is_empty() {
        request = request.query(req.query);
    }
    if let Some(k) = req.idempotency_key {
        request = request.header("idempotency-key", k);
    }
    if let Some(body) = req.body {
        request = request.header(header::CONTENT_TYPE, "application/json").body(body);
    }
    let unreachable = |e: reqwest::Error| RelayError::Unreachable { node: to.clone(), reason: root_cause(&e) };
    let res = request.header(HEADER, &sent.header).send().await.map_err(unreachable)?;
    if !proved(key, &sent, res.headers()) {
        return Err(RelayError::Impostor(to.clone()));
    }
    let status = StatusCode::from_u16(res.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let headers = res.headers().clone();
    let body = res.bytes().await.map_err(unreachable)?;
    Ok(Answer { status, body, headers })
}

/// One client for every relay, so that connections to a node are kept and reused; straight
/// to the node, never through a proxy the environment names (as the terminals' sockets).
fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let builder = reqwest::Client::builder().no_proxy().connect_timeout(Duration::from_secs(5));
        builder.build().unwrap_or_default()
    })
}

/// The innermost reason ("Connection refused", not "error sending request").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
