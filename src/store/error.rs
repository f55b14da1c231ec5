//! What the store says when it refuses or fails.

use crate::model::error_code;

/// Why the store refused or failed. The API maps each to a status code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Bad input (400).
    #[error("{0}")]
    Invalid(String),
    /// A record named by the request does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// What the store holds would pass its byte budget (409, `store_full`): nothing changed.
    #[error("{0}")]
    Full(String),
    /// An `Idempotency-Key` was reused for a different request (422).
    #[error("{0}")]
    KeyReused(String),
    /// `since` is older than the retained log (410): the client must refetch.
    #[error("events after seq {since} are no longer retained (oldest kept is {oldest})")]
    Gone { since: u64, oldest: u64 },
    /// The disk failed us (full, say); nothing was acknowledged (503).
    #[error("storage error: {0}")]
    Storage(String),
    /// The writer is gone: nothing can be written until the server restarts (503).
    #[error("the store cannot write any more: {0}")]
    Failed(String),
    /// The store is shutting down.
    #[error("the store is shutting down")]
    Closed,
}

impl StoreError {
    /// The HTTP status and machine-readable code that say this error on any way in
    /// (numbers, not an HTTP type: the store knows nothing of the wire).
    pub fn status(&self) -> (u16, &'static str) {
        match self {
            StoreError::Invalid(_) => (400, error_code::INVALID),
            StoreError::NotFound(_) => (404, error_code::NOT_FOUND),
            StoreError::Conflict(_) => (409, error_code::CONFLICT),
            // The state conflicts with growing: deleting something makes room.
            StoreError::Full(_) => (409, "store_full"),
            StoreError::KeyReused(_) => (422, "idempotency_key_reused"),
            StoreError::Gone { .. } => (410, "gone"),
            // The request was fine; the server cannot write just now (disk full, say).
            StoreError::Storage(_) => (503, "storage_unavailable"),
            StoreError::Failed(_) => (503, "storage_failed"),
            StoreError::Closed => (503, "shutting_down"),
        }
    }
}
