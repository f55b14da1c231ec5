//! A session's kept output on another node's disk (SPEC §6, §9): its terminal ran on the
//! node recorded in the session, which kept what it printed, so a read reaching any other
//! node is passed there (`auth::relay`: with this node's proof, one hop) and its answer —
//! the bytes, their `Output-*` headers, or its refusal — comes back as this node's.

use super::{OpenError, Terminals, SEND_TIMEOUT};
use crate::auth::relay::{self, Outgoing, Place};
use crate::http::AppError;
use axum::http::{header, HeaderName, Method};
use axum::response::{IntoResponse, Response};

/// The headers of a kept-output answer passed back.
const PASSED: [&str; 4] = ["content-type", "output-offset", "output-start", "output-end"];

impl Terminals {
    /// Session `id`'s output as the node that ran its terminal answers `query` for it, when
    /// that is another node; `None`: it is kept here. `relayed`: this request came from
    /// another node, and is not passed on again.
    pub async fn output_elsewhere(&self, id: &str, query: &[(&str, &str)], relayed: bool) -> Option<Response> {
        let owner = self.store.read(|s| s.sessions.get(id).and_then(|s| s.node.clone()))?;
        let refused = |e| AppError::from(OpenError::Relay(e)).into_response();
        let node = match relay::place(&self.store, &owner, relayed) {
            Ok(Place::Here) => return None,
            Ok(Place::There(node)) => node,
            Err(e) => return Some(refused(e)),
        };
        let path = format!("/api/sessions/{id}/output");
        let out = Outgoing {
            method: Method::GET,
            path: &path,
            query,
            body: None,
            idempotency_key: None,
            timeout: SEND_TIMEOUT,
        };
        let answer = match relay::pass(self.node_key.as_ref(), &node, out).await {
            Ok(a) => a,
            Err(e) => return Some(refused(e)),
        };
        let mut res = (answer.status, answer.body).into_response();
        for name in PASSED {
            if let Some(v) = answer.headers.get(name) {
                res.headers_mut().insert(HeaderName::from_static(name), v.clone());
            }
        }
        if !res.headers().contains_key(header::CONTENT_TYPE) {
            res.headers_mut()
                .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/octet-stream"));
        }
        Some(res)
    }
}
