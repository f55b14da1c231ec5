//! How the nodes on one database prove themselves to each other (SPEC §6), so that a relay
//! hands no credential to whatever answers at a node's address: a process that took a dead
//! node's port, or an address someone wrote into the `nodes` table.
//!
//! The node secret (`MAESTRO_NODE_SECRET`, the same on every node; on loopback derived from
//! the access token when unset) never travels. A relayed request carries a proof: from, to,
//! a time, a nonce and an HMAC of them with the method and path. The receiving node admits
//! it only if it is the node named (not a successor with a new id on the same port), the
//! time is within [`SKEW`], and the nonce is new; it answers with an HMAC of its id and the
//! nonce, which the relaying node checks before it passes anything on.

use crate::mac::{constant_time_eq, hmac_hex};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The request's proof.
pub const HEADER: &str = "x-maestro-node";
/// The answer's proof.
pub const ANSWER: &str = "x-maestro-node-answer";
/// How far apart two nodes' clocks and a request's travel may be.
const SKEW: Duration = Duration::from_secs(60);
/// Nonces remembered at once (each for [`SKEW`] twice).
const NONCES_MAX: usize = 65_536;

/// This node's key and name.
#[derive(Clone)]
pub struct NodeKey {
    secret: Arc<[u8]>,
    me: Arc<str>,
    seen: Arc<Mutex<HashMap<String, Instant>>>,
}

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeKey").field("me", &self.me).finish_non_exhaustive()
    }
}

/// What a relaying node checks the answer against.
pub struct Sent {
    pub header: String,
    to: String,
    nonce: String,
}

impl NodeKey {
    pub fn new(secret: &str, me: &str) -> NodeKey {
        NodeKey { secret: secret.as_bytes().into(), me: me.into(), seen: Arc::default() }
    }

    /// The node secret of a cluster on loopback that was given none: derived from the
    /// access token (never the token itself).
    pub fn derive_secret(token: &str) -> String {
        hmac_hex(token.as_bytes(), &["maestro node secret v1"])
    }

    /// A proof for `method path` sent to node `to`.
    pub fn sign(&self, to: &str, method: &str, path: &str) -> Sent {
        let at = crate::model::now_millis().to_string();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let mac = hmac_hex(&self.secret, &["request", &self.me, to, &at, &nonce, method, path]);
        Sent { header: format!("{}.{to}.{at}.{nonce}.{mac}", self.me), to: to.to_string(), nonce }
    }

    /// Checks a request's proof; the answer's proof when it holds, or why not.
    pub fn admit(&self, header: &str, method: &str, path: &str) -> Result<String, &'static str> {
        let parts: Vec<&str> = header.split('.').collect();
        let [from, to, at, nonce, mac] = parts[..] else { return Err("malformed node proof") };
        if to != &*self.me {
            return Err("this is not the node the proof names");
        }
        let at: i64 = at.parse().map_err(|_| "malformed node proof")?;
        if (crate::model::now_millis() - at).unsigned_abs() > SKEW.as_millis() as u64 {
            return Err("stale node proof");
        }
        let want = hmac_hex(&self.secret, &["request", from, to, &at.to_string(), nonce, method, path]);
        if !constant_time_eq(want.as_bytes(), mac.as_bytes()) {
            return Err("wrong node proof");
        }
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if seen.len() >= NONCES_MAX {
            seen.retain(|_, t| now.duration_since(*t) < SKEW * 2);
        }
        if seen.len() >= NONCES_MAX || seen.insert(nonce.to_string(), now).is_some() {
            return Err("replayed node proof");
        }
        Ok(hmac_hex(&self.secret, &["answer", &self.me, nonce]))
    }

    /// Whether `answer` proves that the node `sent` was meant for answered.
    pub fn answered(&self, sent: &Sent, answer: Option<&str>) -> bool {
        let want = hmac_hex(&self.secret, &["answer", &sent.to, &sent.nonce]);
        answer.is_some_and(|a| constant_time_eq(want.as_bytes(), a.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_node_named_admits_once_and_only_it_can_answer() {
        let (a, b) = (NodeKey::new("s", "node_a"), NodeKey::new("s", "node_b"));
        let sent = a.sign("node_b", "GET", "/terminals/x/ws");
        // Another path, another node (a successor on B's port), another secret: refused.
        assert!(b.admit(&sent.header, "GET", "/terminals/y/ws").is_err());
        assert!(NodeKey::new("s", "node_b2").admit(&sent.header, "GET", "/terminals/x/ws").is_err());
        assert!(NodeKey::new("t", "node_b").admit(&sent.header, "GET", "/terminals/x/ws").is_err());
        let answer = b.admit(&sent.header, "GET", "/terminals/x/ws").unwrap();
        assert_eq!(b.admit(&sent.header, "GET", "/terminals/x/ws"), Err("replayed node proof"));
        assert!(a.answered(&sent, Some(&answer)));
        assert!(!a.answered(&sent, None));
        let impostor = NodeKey::new("s", "node_b2").admit(&a.sign("node_b2", "GET", "/").header, "GET", "/").unwrap();
        assert!(!a.answered(&sent, Some(&impostor)));
    }
}
