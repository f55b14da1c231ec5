//! A workspace on another node's disk (SPEC §8 "Where"): its files, diffs and changes are
//! that node's to read and make, so a request for it reaching this node is passed there
//! (`auth::relay`: with this node's proof, one hop, never to itself) and that node's answer,
//! or its refusal, comes back as this node's.

use super::passed::Passed;
use super::service::Workspaces;
use crate::auth::node::NodeKey;
use crate::auth::relay::{self, Outgoing, Place};
use crate::http::AppError;
use crate::model::Workspace;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// How long the other node may take: longer than its own git time limit (30 s a step), so
/// that its refusal comes back rather than this node's guess.
const RELAY_TIMEOUT: Duration = Duration::from_secs(120);

/// What a client is told when the node holding a workspace cannot be reached.
const UNREACHABLE: &str = "workspace_unreachable";

impl Workspaces {
    /// The same workspaces passing requests to other nodes with this node's key.
    pub fn with_node_key(mut self, key: Option<NodeKey>) -> Workspaces {
        self.node_key = key;
        self
    }

    /// The same workspaces for a request another node relayed (`true`): it is answered
    /// here or refused, never passed on again.
    pub fn relayed(&self, relayed: bool) -> Workspaces {
        Workspaces { relayed, ..self.clone() }
    }

    /// When `w` is on another node's disk: that node's answer to `POST
    /// /api/workspaces/{id}{tail}` with `body` (for what other services do with a workspace,
    /// such as sending its comments to its agent). `None`: act here.
    pub async fn pass<T: DeserializeOwned>(
        &self,
        w: &Workspace,
        tail: &str,
        body: serde_json::Value,
        key: Option<&crate::store::IdempotencyKey>,
    ) -> Option<Result<T, AppError>> {
        self.elsewhere(w, Passed::post(tail, body, key)).await
    }

    /// When `w` is on another node's disk: that node's answer to `req` (or why it cannot
    /// be asked). `None`: this node acts on it (or refuses, see `here`).
    pub(super) async fn elsewhere<T: DeserializeOwned>(
        &self,
        w: &Workspace,
        req: Passed<'_>,
    ) -> Option<Result<T, AppError>> {
        let owner = w.node.as_deref()?;
        let what = || format!("workspace {}", w.id);
        let node = match relay::place(&self.inner.store, owner, self.relayed) {
            Ok(Place::Here) => return None,
            Ok(Place::There(node)) => node,
            Err(e) => return Some(Err(e.refusal(&what(), UNREACHABLE))),
        };
        let path = format!("/api/workspaces/{}{}", w.id, req.tail);
        let out = Outgoing {
            method: req.method,
            path: &path,
            query: req.query,
            body: (!req.body.is_null()).then(|| req.body.to_string().into()),
            idempotency_key: req.key.map(|k| k.key.as_str()),
            timeout: RELAY_TIMEOUT,
        };
        let answer = relay::pass(self.node_key.as_ref(), &node, out).await;
        Some(answer.map_err(|e| e.refusal(&what(), UNREACHABLE)).and_then(|a| a.json(&node)))
    }
}
