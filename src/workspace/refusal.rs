//! How the workspace service says no: git's refusals are 409 with git's reason (SPEC §8), a
//! git call past its time limit 504, the state's refusals 409, the server's failures 500
//! with their cause for the log only.

use super::{Error, GitError};
use crate::http::AppError;
use crate::model::error_code;
use axum::http::StatusCode;

pub(super) fn conflict(message: String) -> AppError {
    AppError::new(StatusCode::CONFLICT, error_code::CONFLICT, message)
}

pub(super) fn internal(what: &str, cause: impl std::fmt::Display) -> AppError {
    AppError::new(StatusCode::INTERNAL_SERVER_ERROR, error_code::INTERNAL, what).because(cause)
}

/// git's refusals are 409 with git's reason; a call past its time limit 504.
impl From<Error> for AppError {
    fn from(e: Error) -> AppError {
        match e {
            Error::Invalid(m) => AppError::invalid(m),
            Error::Conflict(m) => conflict(m),
            Error::Conflicts { message, files } => conflict(message).with_files(files),
            Error::Git(GitError::Failed { reason, .. }) => conflict(reason),
            Error::Git(e @ GitError::Timeout { .. }) => {
                AppError::new(StatusCode::GATEWAY_TIMEOUT, "timeout", e.to_string())
            }
            Error::Git(e @ GitError::Spawn(_)) => internal("git could not be run on the server", e),
            Error::Io(e) => internal("the workspace's files could not be read or written", e),
        }
    }
}
