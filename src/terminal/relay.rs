//! Terminals across nodes (SPEC §6): a session's terminal runs on the node that first
//! opened it (recorded in the session, `Command::ClaimTerminal`, under the global write
//! lock, so two nodes cannot both start it). A browser connected to any other node is
//! relayed (`auth::relay`): that node opens the same socket on the owner and copies
//! messages both ways.

use super::wire::{self, SizeQuery};
use super::{OpenError, Terminals, SEND_TIMEOUT, SOCKET_READ};
use crate::auth::node::HEADER as NODE_HEADER;
use crate::auth::relay::{self, Node, Outgoing, Place, RelayError};
use crate::http::AppError;
use crate::model::SessionStatus;
use crate::store::{Command, Store, StoreError};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

impl Terminals {
    /// Which node runs terminal `id`; a session no node runs yet is claimed for this one.
    pub(super) async fn place(&self, id: &str) -> Result<Place, OpenError> {
        self.locate(id, true).await
    }

    /// Which node runs terminal `id`, if any claimed it (here otherwise).
    pub(super) async fn place_of(&self, id: &str) -> Result<Place, OpenError> {
        self.locate(id, false).await
    }

    async fn locate(&self, id: &str, claim: bool) -> Result<Place, OpenError> {
        let Some(me) = self.store.node_id().map(str::to_string) else { return Ok(Place::Here) };
        let owner = |store: &Store| {
            store.read(|s| s.sessions.get(id).filter(|s| s.status == SessionStatus::Running).map(|s| s.node.clone()))
        };
        // Made on another node a moment ago? Then catch up before deciding. Only to open
        // one: closing what this node does not know of is answered from memory, so a
        // flood of closes costs the writer nothing.
        if claim && !id.starts_with("term_") {
            self.store.read_fresh(|s| s.sessions.get(id).map(|_| ())).await;
        }
        let node = match owner(&self.store) {
            // A plain terminal, an unknown or ended session: `open` says what it is.
            None => return Ok(Place::Here),
            Some(Some(node)) => node,
            Some(None) if !claim => return Ok(Place::Here),
            Some(None) => {
                // A session in a workspace runs on the node whose disk holds the workspace.
                let at = self
                    .store
                    .read(|s| {
                        let w = s.sessions.get(id)?.workspace_id.as_ref()?;
                        s.workspaces.get(w)?.node.clone()
                    })
                    .unwrap_or_else(|| me.clone());
                let claim = Command::ClaimTerminal { session_id: id.to_string(), node: at.clone() };
                match self.store.execute(claim, None).await {
                    Ok(_) if at == me => return Ok(Place::Here),
                    Ok(_) => at,
                    // Another node got there first (or the session ended meanwhile).
                    Err(StoreError::Conflict(_) | StoreError::NotFound(_)) => match owner(&self.store) {
                        Some(Some(node)) => node,
                        _ => return Ok(Place::Here),
                    },
                    Err(e) => return Err(OpenError::System(e.to_string())),
                }
            }
        };
        relay::place(&self.store, &node, false).map_err(OpenError::Relay)
    }

    /// Opens terminal `id`'s socket on `node` and, once that node has proved it is the one
    /// meant, upgrades the browser's request and copies between the two. The owner's refusal
    /// (ended, full) is passed on as it is. No client credential goes along: only this
    /// node's proof (see `auth::node`).
    pub(super) async fn relay(&self, ws: WebSocketUpgrade, node: &Node, id: &str, q: &SizeQuery) -> Response {
        let refused = |e: RelayError| AppError::from(OpenError::Relay(e)).into_response();
        let Some(key) = &self.node_key else { return refused(RelayError::Away(node.id.clone())) };
        let path = format!("/terminals/{id}/ws");
        let mut url = format!("{}{path}", node.url.replacen("http", "ws", 1));
        let query = q.relayed();
        if !query.is_empty() {
            url = format!("{url}?{query}");
        }
        let mut request = match url.as_str().into_client_request() {
            Ok(r) => r,
            Err(e) => {
                return AppError::from(OpenError::System(format!("bad node URL {:?}: {e}", node.url))).into_response()
            }
        };
        let sent = key.sign(&node.id, "GET", &path);
        if let Ok(v) = sent.header.parse() {
            request.headers_mut().insert(NODE_HEADER, v);
        }
        let unreachable = |reason: String| refused(RelayError::Unreachable { node: node.clone(), reason });
        let connected = tokio::time::timeout(SEND_TIMEOUT, tokio_tungstenite::connect_async(request)).await;
        let upstream = match connected {
            Ok(Ok((upstream, res))) if relay::proved(key, &sent, res.headers()) => upstream,
            Ok(Err(tungstenite::Error::Http(res))) if relay::proved(key, &sent, res.headers()) => {
                let status = StatusCode::from_u16(res.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
                let body = res.into_body().unwrap_or_default().into();
                return relay::Answer { status, body, headers: Default::default() }.into_response();
            }
            Ok(Ok(_) | Err(tungstenite::Error::Http(_))) => return refused(RelayError::Impostor(node.clone())),
            Ok(Err(e)) => return unreachable(e.to_string()),
            Err(_) => return unreachable("it did not answer in time".into()),
        };
        tracing::info!(terminal = id, node = node.url, "relaying a terminal");
        ws.max_message_size(1 << 20).read_buffer_size(SOCKET_READ).on_upgrade(move |socket| copy(socket, upstream))
    }

    /// `DELETE /terminals/{id}` for a terminal `node` runs: passed on to it, and its answer
    /// passed back once it proved it is that node.
    pub(super) async fn close_there(&self, node: &Node, id: &str) -> Response {
        let path = format!("/terminals/{id}");
        let req = Outgoing {
            method: Method::DELETE,
            path: &path,
            query: &[],
            body: None,
            idempotency_key: None,
            timeout: SEND_TIMEOUT,
        };
        match relay::pass(self.node_key.as_ref(), node, req).await {
            Ok(answer) => answer.into_response(),
            Err(e) => AppError::from(OpenError::Relay(e)).into_response(),
        }
    }
}

/// Copies messages both ways until either side closes; pings are each side's own.
async fn copy(
    socket: WebSocket,
    upstream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) {
    use tungstenite::Message as Up;
    let (mut to_browser, mut from_browser) = socket.split();
    let (mut to_owner, mut from_owner) = upstream.split();
    let down = async {
        while let Some(Ok(msg)) = from_owner.next().await {
            let msg = match msg {
                Up::Binary(b) => Message::Binary(b),
                Up::Text(t) => Message::Text(t.as_str().into()),
                Up::Close(_) => break,
                _ => continue,
            };
            if !wire::send(&mut to_browser, msg).await {
                break;
            }
        }
        let _ = to_browser.close().await;
    };
    let up = async {
        while let Some(Ok(msg)) = from_browser.next().await {
            let msg = match msg {
                Message::Binary(b) => Up::Binary(b),
                Message::Text(t) => Up::Text(t.as_str().into()),
                Message::Close(_) => break,
                _ => continue,
            };
            if to_owner.send(msg).await.is_err() {
                break;
            }
        }
        let _ = to_owner.close().await;
    };
    // Either side ending ends the relay.
    tokio::select! {
        _ = down => {}
        _ = up => {}
    }
}
