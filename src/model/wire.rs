//! What crosses the wire besides entities and events, defined once for every side: the
//! error body and its codes, a server function's error, `/ws`'s messages and the health
//! answer.

use super::json::from_json;
use super::Event;
use serde::{Deserialize, Serialize};

/// The machine-readable codes of error bodies (`{"error": {"code", "message"}}`) that
/// callers act on: the UI, the CLI's exit codes and scripts match these, not messages.
pub mod error_code {
    pub const INVALID: &str = "invalid";
    pub const NOT_FOUND: &str = "not_found";
    pub const CONFLICT: &str = "conflict";
    /// The browser could not reach the server (never sent by the server).
    pub const UNREACHABLE: &str = "unreachable";
    pub const INTERNAL: &str = "internal";
}

/// The body of every failure, `{"error": {"code", "message"}}` (SPEC §2): the REST API
/// answers it, server functions answer it, the REST client reads it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// `code` is for programs to match (see [`error_code`]), `message` for people.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    /// The files a refusal is about: a merge's or rebase's conflicts. Left out when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// Why a server function failed, as the REST API says it. On the wire it is the
/// [`ErrorBody`]; `status` is the HTTP status the server answers with (set when the error
/// is made, see `answer_with`), not part of the body: the browser matches `code`, and
/// reads 0 there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(into = "ErrorBody", from = "ErrorBody")]
#[error("{message}")]
pub struct FnError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// The files a refusal is about (a merge's conflicts).
    pub files: Vec<String>,
}

impl FnError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> FnError {
        #[cfg(feature = "ssr")]
        answer_with(status);
        FnError { status, code: code.to_string(), message: message.into(), files: Vec::new() }
    }

    /// A failure that is the server's own (never its internals' words).
    pub fn internal(what: &str) -> FnError {
        FnError::new(500, error_code::INTERNAL, what)
    }
}

/// A server function's answer gets the error's status (400 for input it cannot take, a
/// refusal's 4xx as the REST API answers it), not the framework's 500 for every error.
/// Only while answering `/sfn/`: a page rendered on the server keeps its 200.
#[cfg(feature = "ssr")]
fn answer_with(status: u16) {
    use leptos::prelude::use_context;
    let answering = use_context::<axum::http::request::Parts>().is_some_and(|p| p.uri.path().starts_with("/sfn/"));
    let status = axum::http::StatusCode::from_u16(status).ok().filter(|s| s.is_client_error() || s.is_server_error());
    if let (true, Some(status), Some(res)) = (answering, status, use_context::<leptos_axum::ResponseOptions>()) {
        res.set_status(status);
    }
}

impl leptos::server_fn::error::FromServerFnError for FnError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(e: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match e {
            // The arguments the server was sent: the caller's to fix.
            E::Args(m) | E::MissingArg(m) => FnError::new(400, error_code::INVALID, m),
            // On the server this is the request's body (not JSON, say); in the browser it
            // would be the server's answer, which is the server's fault.
            #[cfg(feature = "ssr")]
            E::Deserialization(m) => {
                FnError::new(400, error_code::INVALID, format!("the request body cannot be read: {m}"))
            }
            // The browser could not reach the server.
            E::Request(m) => FnError::new(0, error_code::UNREACHABLE, format!("cannot reach the server: {m}")),
            other => FnError::new(500, error_code::INTERNAL, other.to_string()),
        }
    }
}

impl From<FnError> for ErrorBody {
    fn from(e: FnError) -> ErrorBody {
        ErrorBody { error: ErrorDetail { code: e.code, message: e.message, files: e.files } }
    }
}

impl From<ErrorBody> for FnError {
    fn from(b: ErrorBody) -> FnError {
        FnError { status: 0, code: b.error.code, message: b.error.message, files: b.error.files }
    }
}

/// What the server sends on `/ws`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerMessage {
    /// A committed event, in `seq` order, never twice.
    Event(Box<Event>),
    /// The client's `since` is older than the retained log (or events were lost): refetch
    /// everything shown and continue from `seq`.
    Resync { seq: u64 },
}

/// `{"event": "resync", "seq": N}` on the wire.
#[derive(Serialize, Deserialize)]
struct ResyncWire {
    event: String,
    seq: u64,
}

impl ServerMessage {
    pub fn parse(text: &str) -> Result<ServerMessage, serde_json::Error> {
        match Event::from_json(text) {
            Ok(e) => Ok(ServerMessage::Event(Box::new(e))),
            Err(err) => match from_json::<ResyncWire>(text) {
                Ok(r) if r.event == "resync" => Ok(ServerMessage::Resync { seq: r.seq }),
                _ => Err(err),
            },
        }
    }

    pub fn resync_json(seq: u64) -> String {
        serde_json::to_string(&ResyncWire { event: "resync".into(), seq }).unwrap_or_default()
    }
}

/// `GET /api/health`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `ok`; `degraded` while the last write failed (disk full, say); `failed` once the
    /// store can no longer write at all.
    pub status: String,
    /// The last committed `seq`.
    pub seq: u64,
    pub uptime_ms: u64,
    /// Why the status is not `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// This server's node id, when several share one database (a session's `node`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}
