//! A request about a workspace as it is passed to the node holding it (`relay`): what the
//! service's methods hand over, apart from how it travels.

use crate::store::IdempotencyKey;
use axum::http::Method;

/// A request about a workspace, to pass to the node holding it.
pub(super) struct Passed<'a> {
    pub(super) method: Method,
    /// After `/api/workspaces/{id}`: `/files`, `/diff`, `/archive`.
    pub(super) tail: &'a str,
    pub(super) query: &'a [(&'a str, &'a str)],
    /// `null`: none.
    pub(super) body: serde_json::Value,
    pub(super) key: Option<&'a IdempotencyKey>,
}

impl<'a> Passed<'a> {
    pub(super) fn get(tail: &'a str, query: &'a [(&'a str, &'a str)]) -> Passed<'a> {
        Passed { method: Method::GET, tail, query, body: serde_json::Value::Null, key: None }
    }

    /// A mutation, with its body and the client's `Idempotency-Key` (so that the node
    /// records the answer under it, and a retry through any node gets that answer).
    pub(super) fn post(tail: &'a str, body: serde_json::Value, key: Option<&'a IdempotencyKey>) -> Passed<'a> {
        Passed { method: Method::POST, tail, query: &[], body, key }
    }
}
