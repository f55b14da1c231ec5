//! Access control (SPEC §6). Terminals are shell access, so:
//! - off loopback, every request needs the access token: `Authorization: Bearer <token>`,
//!   or (for browsers) the cookie set by opening `/?token=<token>` once;
//! - without a token, only requests whose `Host` names this machine's loopback are served:
//!   a page whose DNS name was pointed at 127.0.0.1 (DNS rebinding) sends its own name;
//! - WebSocket upgrades and mutations whose `Origin` is not one of this server's own
//!   origins are refused (403), so a page elsewhere cannot drive it through the browser.

use crate::http::AppError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::SocketAddr;
use std::sync::Arc;

/// The names of this machine's loopback, as a `Host` header says them.
const LOOPBACK: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

/// The cookie a browser keeps the token in.
pub const COOKIE: &str = "maestro_token";

/// What the guard checks.
#[derive(Clone, Debug)]
pub struct Guard {
    /// `None` on loopback without `--token`: no token needed, but `Host` must be loopback.
    pub token: Option<Arc<str>>,
    /// The `host:port` names this server answers to without a token, lower case.
    hosts: Arc<[String]>,
}

impl Guard {
    /// The guard of a server bound to `addr` (its real port, not 0).
    pub fn new(addr: SocketAddr, token: Option<String>) -> Guard {
        let port = addr.port();
        let mut hosts: Vec<String> = LOOPBACK.iter().map(|h| format!("{h}:{port}")).collect();
        // `ip:port`, or `[ip]:port` for IPv6: as a `Host` header names it.
        let bound = addr.to_string();
        if !hosts.contains(&bound) && addr.ip().is_loopback() {
            hosts.push(bound);
        }
        if port == 80 {
            // Browsers leave the default port out of `Host` and `Origin`.
            hosts.extend(LOOPBACK.map(String::from));
        }
        Guard { token: token.filter(|t| !t.is_empty()).map(Into::into), hosts: hosts.into() }
    }

    /// A random 32-byte token, hex encoded, for a server started off loopback without one.
    pub fn generate_token() -> String {
        format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
    }

    /// Whether a request naming `host` may be served. Without a token only loopback
    /// names; with one any name (the token is what keeps strangers out). A request with no
    /// host at all (HTTP/1.0 scripts) cannot come from a browser page.
    fn host_allowed(&self, host: Option<&str>) -> bool {
        match host {
            None => true,
            Some(_) if self.token.is_some() => true,
            Some(h) => self.hosts.iter().any(|a| a.eq_ignore_ascii_case(h)),
        }
    }

    /// Whether `origin` (scheme, host and port) is one of this server's own pages.
    fn origin_allowed(&self, origin: &str, host: Option<&str>) -> bool {
        let Some((scheme, rest)) = origin.split_once("://") else {
            return false; // "null", or garbage
        };
        let https_ok = self.token.is_some() && scheme.eq_ignore_ascii_case("https");
        if !(scheme.eq_ignore_ascii_case("http") || https_ok) {
            return false;
        }
        match &self.token {
            // Behind a token the page's host is whatever name the person reached us by
            // (https when a TLS proxy fronts us): it must be the host the request names.
            Some(_) => host.is_some_and(|h| h.eq_ignore_ascii_case(rest)),
            None => self.hosts.iter().any(|a| a.eq_ignore_ascii_case(rest)),
        }
    }
}

fn refuse(status: StatusCode, code: &'static str, message: &str) -> Response {
    AppError::new(status, code, message).into_response()
}

/// The axum middleware; every response also says it may not be framed by another site.
pub async fn guard(State(g): State<Guard>, req: Request, next: Next) -> Response {
    let mut res = check(&g, req, next).await;
    let h = res.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'none'"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

async fn check(g: &Guard, req: Request, next: Next) -> Response {
    let host = request_host(&req);
    if !g.host_allowed(host.as_deref()) {
        return refuse(
            StatusCode::FORBIDDEN,
            "host_not_allowed",
            "this Maestro answers only to 127.0.0.1, localhost and [::1] (start it with --token to serve other names)",
        );
    }
    if let Some(token) = &g.token {
        // `/?token=…` once: set the cookie and drop the token from the address bar.
        if let Some(given) = query_token(req.uri().query()) {
            if constant_time_eq(given.as_bytes(), token.as_bytes()) {
                let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
                let mut res = Redirect::to(&local_path(req.uri().path())).into_response();
                if let Ok(v) = cookie.parse() {
                    res.headers_mut().insert(header::SET_COOKIE, v);
                }
                return res;
            }
        }
        if !authorised(req.headers(), token) {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this Maestro needs its access token: send `Authorization: Bearer <token>`, or open /?token=<token> once in the browser",
            );
        }
    }
    let upgrade = req.headers().get(header::UPGRADE).is_some();
    let mutation = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if upgrade || mutation {
        // Requests without `Origin` (scripts, the CLI) are not from a page.
        if let Some(origin) = req.headers().get(header::ORIGIN) {
            let ok = origin.to_str().is_ok_and(|o| g.origin_allowed(o, host.as_deref()));
            if !ok {
                return refuse(StatusCode::FORBIDDEN, "forbidden", "requests from another site's pages are refused");
            }
        }
    }
    next.run(req).await
}

/// The host a request names: its `Host` header, or (HTTP/2) the URI's authority.
fn request_host(req: &Request) -> Option<String> {
    match req.headers().get(header::HOST) {
        Some(h) => Some(h.to_str().unwrap_or("\u{0}invalid").to_string()),
        None => req.uri().authority().map(|a| a.as_str().to_string()),
    }
}

/// `path` as a redirect target that stays on this server: `//evil.example/` (or `/\…`)
/// would be read by a browser as another host.
fn local_path(path: &str) -> String {
    format!("/{}", path.trim_start_matches(['/', '\\']))
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

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_with_the_port_and_nothing_else_without_a_token() {
        let g = Guard::new("127.0.0.1:4321".parse().unwrap(), None);
        for ok in ["127.0.0.1:4321", "LOCALHOST:4321", "[::1]:4321"] {
            assert!(g.host_allowed(Some(ok)), "{ok}");
        }
        for bad in ["evil.example:4321", "127.0.0.1:80", "localhost", "127.0.0.1.evil.example:4321", ""] {
            assert!(!g.host_allowed(Some(bad)), "{bad}");
        }
        assert!(g.origin_allowed("http://localhost:4321", None));
        for bad in ["https://localhost:4321", "http://evil.example:4321", "null", "localhost:4321", "http://localhost"]
        {
            assert!(!g.origin_allowed(bad, Some("localhost:4321")), "{bad}");
        }
    }

    #[test]
    fn with_a_token_any_host_but_the_origin_must_match_it() {
        let g = Guard::new("0.0.0.0:4321".parse().unwrap(), Some("t".into()));
        assert!(g.host_allowed(Some("box.lan:4321")));
        assert!(g.origin_allowed("http://box.lan:4321", Some("box.lan:4321")));
        assert!(g.origin_allowed("https://box.lan", Some("box.lan")));
        assert!(!g.origin_allowed("http://evil.example", Some("box.lan:4321")));
        assert!(!g.origin_allowed("ftp://box.lan:4321", Some("box.lan:4321")));
    }

    #[test]
    fn redirects_stay_on_this_server() {
        assert_eq!(local_path("//evil.example/"), "/evil.example/");
        assert_eq!(local_path("/\\evil.example"), "/evil.example");
        assert_eq!(local_path("/projects/p"), "/projects/p");
    }
}
