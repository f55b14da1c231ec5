//! The server's HTTP plumbing, shared by every way in (REST, server functions, the hub,
//! terminals, the guard): one error type and body, extractors whose rejections are that
//! error, and the socket descriptor recorded at accept. It knows the store's errors and
//! nothing above it.

mod error;
mod extract;
mod socket;

pub use crate::model::ErrorBody;
pub use error::{log_failures, AppError};
pub use extract::{ApiJson, ApiPath, ApiQuery, BODY_LIMIT};
pub use socket::SocketFd;
