//! The one error type of the HTTP layer and the JSON body every failure has:
//! `{"error": {"code": "...", "message": "..."}}` (SPEC §2).

use crate::model::{ErrorBody, ErrorDetail, FnError};
use crate::store::StoreError;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::borrow::Cow;

/// A refused or failed request: status, machine-readable code, human message.
#[derive(Debug, Clone)]
pub struct AppError {
    pub status: StatusCode,
    /// One of ours, or (relayed) the code another node answered with.
    pub code: Cow<'static, str>,
    pub message: String,
    /// What went wrong inside, for the log only: never sent.
    pub cause: Option<String>,
    /// The files a refusal is about (a merge's conflicts), sent as the error's `files`.
    pub files: Vec<String>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AppError { status, code: Cow::Borrowed(code), message: message.into(), cause: None, files: Vec::new() }
    }

    /// The same error, with what went wrong inside for [`log_failures`] to log.
    pub fn because(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    /// The same refusal, naming the files it is about.
    pub fn with_files(mut self, files: Vec<String>) -> Self {
        self.files = files;
        self
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, crate::model::error_code::INVALID, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, crate::model::error_code::NOT_FOUND, message)
    }
}

/// What [`log_failures`] finds on a response the server failed: the error's code and cause.
#[derive(Clone)]
struct Failure {
    code: Cow<'static, str>,
    cause: Option<String>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body =
            ErrorBody { error: ErrorDetail { code: self.code.to_string(), message: self.message, files: self.files } };
        let mut res = (self.status, Json(body)).into_response();
        res.extensions_mut().insert(Failure { code: self.code, cause: self.cause });
        res
    }
}

/// Logs every answer that is the server's failure (5xx), once, whichever way in made it
/// (REST, server functions, terminals, the hub); a client's mistake (4xx) is not the
/// server's to log.
pub async fn log_failures(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let res = next.run(req).await;
    if res.status().is_server_error() {
        let failure = res.extensions().get::<Failure>();
        tracing::error!(
            %method,
            path,
            status = res.status().as_u16(),
            code = failure.map(|f| f.code.as_ref()),
            cause = failure.and_then(|f| f.cause.as_deref()),
            "request failed"
        );
    }
    res
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        let (status, code) = e.status();
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match e {
            // The database's own words are for the log, not for clients.
            StoreError::Storage(_) | StoreError::Failed(_) => {
                AppError::new(status, code, "the server cannot store changes just now; nothing was changed").because(e)
            }
            _ => AppError::new(status, code, e.to_string()),
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => {
                AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "request body is larger than 1 MiB")
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ),
            // Syntax errors, wrong types, missing and unknown fields: all the client's to fix.
            _ => AppError::invalid(r.body_text()),
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        AppError::invalid(r.body_text())
    }
}

/// A refusal as the REST API words it, for a server function.
impl From<AppError> for FnError {
    fn from(e: AppError) -> FnError {
        FnError { files: e.files, ..FnError::new(e.status.as_u16(), &e.code, e.message) }
    }
}

impl From<StoreError> for FnError {
    fn from(e: StoreError) -> FnError {
        AppError::from(e).into()
    }
}
