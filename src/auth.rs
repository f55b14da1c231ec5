//! Access control (SPEC §6). Terminals are shell access, so:
//! - off loopback, every request needs the access token: `Authorization: Bearer <token>`,
//!   or (for browsers) the cookie set by opening `/?token=<token>` once;
//! - WebSocket upgrades and mutations whose `Origin` is another site are refused (403),
//!   so a page elsewhere cannot drive this server through the user's browser.

use crate::api::AppError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

/// The cookie a browser keeps the token in.
pub const COOKIE: &str = "maestro_token";

/// What the guard checks.
#[derive(Clone, Debug, Default)]
pub struct Guard {
    /// `None` on loopback without `--token`: no token needed.
    pub token: Option<Arc<str>>,
}

impl Guard {
    /// A random 32-byte token, hex encoded, for a server started off loopback without one.
    pub fn generate_token() -> String {
        format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
    }
}

/// The axum middleware.
pub async fn guard(State(g): State<Guard>, req: Request, next: Next) -> Response {
    if let Some(token) = &g.token {
        // `/?token=…` once: set the cookie and drop the token from the address bar.
        if let Some(given) = query_token(req.uri().query()) {
            if constant_time_eq(given.as_bytes(), token.as_bytes()) {
                let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
                let mut res = Redirect::to(req.uri().path()).into_response();
                if let Ok(v) = cookie.parse() {
                    res.headers_mut().insert(header::SET_COOKIE, v);
                }
                return res;
            }
        }
        if !authorised(req.headers(), token) {
            return AppError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this Maestro needs its access token: send `Authorization: Bearer <token>`, or open /?token=<token> once in the browser",
            )
            .into_response();
        }
    }
    let upgrade = req.headers().get(header::UPGRADE).is_some();
    let mutation = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if (upgrade || mutation) && foreign_origin(req.headers()) {
        return AppError::new(StatusCode::FORBIDDEN, "forbidden", "requests from another site's pages are refused")
            .into_response();
    }
    next.run(req).await
}

fn authorised(headers: &HeaderMap, token: &str) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| constant_time_eq(t.trim().as_bytes(), token.as_bytes()));
    let cookie = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(';')
            .filter_map(|kv| kv.trim().split_once('='))
            .any(|(k, val)| k == COOKIE && constant_time_eq(val.as_bytes(), token.as_bytes()))
    });
    bearer || cookie
}

fn query_token(query: Option<&str>) -> Option<String> {
    query?.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == "token").map(|(_, v)| v.to_string())
}

/// True when the request says it comes from a page whose host is not this server's.
/// Requests without `Origin` (scripts, the CLI) are not from a page.
fn foreign_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    origin == "null" || !origin_host.eq_ignore_ascii_case(host)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
