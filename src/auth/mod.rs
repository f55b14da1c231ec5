//! Access control (SPEC §6). Terminals are shell access, and loopback is shared by every
//! account on the machine, so a server started as `maestro` always has an access token
//! (see [`token`]):
//! - every request needs it: `Authorization: Bearer <token>`, or (for browsers) the session
//!   cookie set by opening `/?token=<token>` once. The cookie is a value of its own, never
//!   the token: cookies are not scoped by port, so every local port (the dev server an agent
//!   builds included) receives it. It is signed with the token, expires, and rotating the
//!   token revokes every one; it needs no table, so it survives restarts and any node of a
//!   cluster (which share the token) accepts it;
//! - wrong credentials are counted per client address: past [`FAILURES_MAX`] a minute they
//!   are answered 429 (and logged without the value). A right one is always let in, so
//!   nobody can lock the person out; with 256 random bits guessing is hopeless anyway;
//! - a guard without a token (only built in-process, for tests) serves only requests whose
//!   `Host` names this machine's loopback: DNS rebinding sends the page's own name;
//! - WebSocket upgrades and mutations whose `Origin` is not one of this server's own
//!   origins are refused (403), so a page elsewhere cannot drive it through the browser.

use crate::http::AppError;
use crate::mac::{constant_time_eq, hmac_hex};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod node;
pub mod relay;
pub mod token;

/// The names of this machine's loopback, as a `Host` header says them.
const LOOPBACK: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

/// How long a browser's session cookie lasts.
pub const SESSION_DAYS: u64 = 30;
/// Wrong credentials one client address may present per [`FAILURE_WINDOW`] before 429s.
pub const FAILURES_MAX: u32 = 10;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Addresses whose failures are remembered at once (a bound on what strangers cost).
const FAILING_ADDRS_MAX: usize = 4096;

/// The client address a connection came from, recorded at accept (absent in-process).
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr);

/// What the guard checks.
#[derive(Clone, Debug)]
pub struct Guard {
    /// `None` only in-process (tests): no token, but `Host` must be loopback.
    pub token: Option<Arc<str>>,
    /// The `host:port` names this server answers to without a token, lower case.
    hosts: Arc<[String]>,
    /// The cookie's name: one per port, so two servers on one machine keep theirs apart.
    cookie: Arc<str>,
    failures: Arc<Mutex<HashMap<IpAddr, (Instant, u32)>>>,
    /// On a shared database: how the other nodes prove themselves.
    node: Option<node::NodeKey>,
}

/// Set on a request another node relayed (its proof held): such a request is never
/// relayed on, so no loop can form.
#[derive(Clone, Debug)]
pub struct FromNode(pub String);

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
        Guard {
            token: token.filter(|t| !t.is_empty()).map(Into::into),
            hosts: hosts.into(),
            cookie: format!("maestro_session_{port}").into(),
            failures: Arc::default(),
            node: None,
        }
    }

    /// The same guard admitting the other nodes of a cluster by their proofs.
    pub fn with_node_key(mut self, key: Option<node::NodeKey>) -> Guard {
        self.node = key;
        self
    }

    /// The name of the session cookie.
    pub fn cookie_name(&self) -> &str {
        &self.cookie
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
        // This server's own loopback names; behind a token also whatever name the person
        // reached us by (https when a TLS proxy fronts us): the host the request names.
        let ours = self.hosts.iter().any(|a| a.eq_ignore_ascii_case(rest));
        ours || (self.token.is_some() && host.is_some_and(|h| h.eq_ignore_ascii_case(rest)))
    }

    /// A new session cookie's value: `expiry.nonce.signature`, signed with the token.
    fn new_session(&self, token: &str) -> String {
        let expires = crate::model::now_millis() + (SESSION_DAYS * 86_400_000) as i64;
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let claim = format!("{expires}.{nonce}");
        format!("{claim}.{}", sign(token, &claim))
    }

    /// Whether `value` is a session cookie this token signed that has not expired.
    fn session_valid(&self, token: &str, value: &str) -> bool {
        let Some((claim, signature)) = value.rsplit_once('.') else { return false };
        let Some((expires, _nonce)) = claim.split_once('.') else { return false };
        let fresh = expires.parse::<i64>().is_ok_and(|e| e > crate::model::now_millis());
        fresh && constant_time_eq(sign(token, claim).as_bytes(), signature.as_bytes())
    }

    /// Counts a wrong credential from `ip`; true when it is over the limit.
    fn failed(&self, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip else { return false };
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if f.len() >= FAILING_ADDRS_MAX && !f.contains_key(&ip) {
            f.retain(|_, (since, _)| now.duration_since(*since) < FAILURE_WINDOW);
            if f.len() >= FAILING_ADDRS_MAX {
                f.clear();
            }
        }
        let entry = f.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= FAILURE_WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 > FAILURES_MAX
    }
}

/// The signature of a session cookie's `claim`, keyed by the token.
fn sign(token: &str, claim: &str) -> String {
    hmac_hex(token.as_bytes(), &["maestro session v1", claim])
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

/// What a request presented.
enum Credential {
    None,
    Right,
    Wrong,
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
    let peer = req.extensions().get::<Peer>().map(|p| p.0.ip());
    if let Some(proof) = req.headers().get(node::HEADER) {
        // Another node relaying: its proof instead of a client's credentials.
        let proof = proof.to_str().unwrap_or_default().to_string();
        let admitted = g
            .node
            .as_ref()
            .ok_or("this server is no node of a cluster")
            .and_then(|key| key.admit(&proof, req.method().as_str(), req.uri().path()));
        return match admitted {
            Ok(answer) => {
                let mut req = req;
                let from = proof.split('.').next().unwrap_or_default().to_string();
                req.extensions_mut().insert(FromNode(from));
                let mut res = next.run(req).await;
                if let Ok(v) = answer.parse() {
                    res.headers_mut().insert(node::ANSWER, v);
                }
                res
            }
            Err(why) => {
                tracing::warn!(peer = ?peer, path = req.uri().path(), why, "a node proof was refused");
                if g.failed(peer) {
                    return refuse(StatusCode::TOO_MANY_REQUESTS, "too_many_failures", "too many refused proofs");
                }
                refuse(StatusCode::UNAUTHORIZED, "unauthorized", why)
            }
        };
    }
    if let Some(token) = &g.token {
        // `/?token=…` once: set the cookie and drop the token from the address bar.
        let given = query_token(req.uri().query());
        if let Some(given) = &given {
            if constant_time_eq(given.as_bytes(), token.as_bytes()) {
                let cookie = format!(
                    "{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict",
                    g.cookie,
                    g.new_session(token),
                    SESSION_DAYS * 86_400
                );
                let mut res = Redirect::to(&local_path(req.uri().path())).into_response();
                if let Ok(v) = cookie.parse() {
                    res.headers_mut().insert(header::SET_COOKIE, v);
                }
                return res;
            }
        }
        let presented = match credential(g, req.headers(), token) {
            Credential::None if given.is_some() => Credential::Wrong,
            c => c,
        };
        match presented {
            Credential::Right => {}
            Credential::Wrong => {
                if g.failed(peer) {
                    tracing::warn!(peer = ?peer, path = req.uri().path(), "authentication failures over the limit; refusing");
                    let mut res = refuse(
                        StatusCode::TOO_MANY_REQUESTS,
                        "too_many_failures",
                        "too many wrong access tokens from this address; wait a minute",
                    );
                    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
                    return res;
                }
                tracing::warn!(peer = ?peer, path = req.uri().path(), "a wrong access token or session cookie");
                return unauthorised(&req);
            }
            Credential::None => return unauthorised(&req),
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

/// 401: a page for a person's browser, the JSON error body for everything else.
fn unauthorised(req: &Request) -> Response {
    let html = req.method() == Method::GET
        && req.headers().get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if html {
        return (StatusCode::UNAUTHORIZED, Html(LOCKED_PAGE)).into_response();
    }
    refuse(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "this Maestro needs its access token: send `Authorization: Bearer <token>`, or open the link the server printed at start (/?token=<token>) once in the browser",
    )
}

/// What a browser without the cookie sees.
const LOCKED_PAGE: &str = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Maestro: access token needed</title></head>\
<body style=\"font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5\">\
<h1>This Maestro needs its access token</h1>\
<p>Open the link the server printed when it started (<code>http://…/?token=…</code>) once in this browser; it remembers you for 30 days.</p>\
<p>The token is kept in the file <code>token</code> in Maestro's data directory (mode 0600), or is the server's <code>MAESTRO_TOKEN</code>.</p>\
</body></html>";

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

/// The bearer token or the session cookie, checked.
fn credential(g: &Guard, headers: &HeaderMap, token: &str) -> Credential {
    let mut presented = false;
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        presented = true;
        let bearer = v.to_str().ok().and_then(|v| v.strip_prefix("Bearer "));
        if bearer.is_some_and(|t| constant_time_eq(t.trim().as_bytes(), token.as_bytes())) {
            return Credential::Right;
        }
    }
    for v in headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()) {
        for (k, val) in v.split(';').filter_map(|kv| kv.trim().split_once('=')) {
            if k == &*g.cookie {
                presented = true;
                if g.session_valid(token, val) {
                    return Credential::Right;
                }
            }
        }
    }
    if presented {
        Credential::Wrong
    } else {
        Credential::None
    }
}

fn query_token(query: Option<&str>) -> Option<String> {
    query?.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == "token").map(|(_, v)| v.to_string())
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
