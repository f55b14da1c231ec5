//! Extractors whose every rejection is an [`AppError`], so that a bad path, query or body
//! gets the same JSON error as everything else. Named `Api…` so that they are not taken
//! for axum's own `Json`, `Query` and `Path`.

use super::AppError;
use axum::extract::{FromRequest, FromRequestParts};

/// The largest request body accepted (SPEC §6).
pub const BODY_LIMIT: usize = 1 << 20;

/// A JSON object as a request's body, whose every rejection is an [`AppError`]. Only an
/// object: serde would take a struct whose fields all have defaults from `[]` too.
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        let axum::Json(Object(t)) = axum::Json::<Object<T>>::from_request(req, state).await?;
        Ok(ApiJson(t))
    }
}

/// `T`, refused unless it was written as a JSON object.
struct Object<T>(T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Map<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Map<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(Map(std::marker::PhantomData)).map(Object)
    }
}

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
