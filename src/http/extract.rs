//! Extractors whose every rejection is an [`AppError`], so that a bad path, query or body
//! gets the same JSON error as everything else. Named `Api…` so that they are not taken
//! for axum's own `Json`, `Query` and `Path`.

use super::AppError;
use axum::extract::{FromRequest, FromRequestParts};

/// The largest request body accepted (SPEC §6).
pub const BODY_LIMIT: usize = 1 << 20;

/// A JSON body whose every rejection is an [`AppError`].
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// A query string whose every rejection is an [`AppError`]. Unlike axum's, it refuses
/// percent-escapes that are not UTF-8 (`%ff`) instead of turning them into U+FFFD.
pub struct ApiQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, AppError> {
        let query = parts.uri.query().unwrap_or("");
        // `&`, `=` and `+` are ASCII: the whole string decodes to UTF-8 iff every part does.
        if percent_encoding::percent_decode_str(query).decode_utf8().is_err() {
            return Err(AppError::invalid("the query string has percent-escapes that are not UTF-8"));
        }
        serde_urlencoded::from_str(query).map(ApiQuery).map_err(|e| AppError::invalid(format!("bad query string: {e}")))
    }
}

/// Path parameters whose every rejection is an [`AppError`].
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);
