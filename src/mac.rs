//! Keyed hashes for what Maestro signs: a browser's session cookie, the nodes' proofs to
//! each other, the fingerprint of a cluster's access settings, projects' setup commands. One construction for all:
//! HMAC-SHA256 over a list of parts, each ended by a NUL, so that no two lists collide.

use hmac::{Hmac, Mac};

/// HMAC-SHA256 of `parts` under `key`.
pub fn hmac(key: &[u8], parts: &[&str]) -> [u8; 32] {
    // HMAC takes a key of any length: this cannot fail.
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(key) else { return [0; 32] };
    for p in parts {
        mac.update(p.as_bytes());
        mac.update(&[0]);
    }
    mac.finalize().into_bytes().into()
}

/// The same, hex encoded.
pub fn hmac_hex(key: &[u8], parts: &[&str]) -> String {
    hmac(key, parts).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `a` and `b` are equal, in a time that does not tell where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A key the server signs with, whose `Debug` does not show it.
#[derive(Clone)]
pub struct Secret(std::sync::Arc<[u8]>);

impl Secret {
    /// The key for `purpose`, derived from a secret only the servers hold.
    pub fn derive(secret: &str, purpose: &str) -> Secret {
        Secret(hmac(secret.as_bytes(), &[purpose]).to_vec().into())
    }

    /// A key of this process alone (an in-memory store's).
    pub fn random() -> Secret {
        let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        Secret([a.as_bytes().as_slice(), b.as_bytes().as_slice()].concat().into())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The signature of a project's setup command: what lets the server run it (see
/// `workspace::setup`). It names the project, so it cannot be moved to another.
pub fn setup_signature(key: &Secret, project_id: &str, command: &str) -> String {
    hmac_hex(&key.0, &["maestro setup v1", project_id, command])
}
