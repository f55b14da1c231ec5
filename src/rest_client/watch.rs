//! The event stream (SPEC §3): retained events a page at a time, and `/ws` followed for
//! ever, resuming from the last `seq` after a drop.

use super::{api_error, Client, ClientError};
use crate::model::{Event, ServerMessage};
use futures::{SinkExt, Stream, StreamExt};
use std::time::Duration;

impl Client {
    /// Retained events after `since` (a page; ask again from the last one's `seq`).
    pub async fn events(&self, since: u64, limit: usize) -> Result<Vec<Event>, ClientError> {
        self.get(&format!("/events?since={since}&limit={limit}")).await
    }

    /// The live event stream from `since` (`None`: from now), resuming with `?since=`
    /// after a drop, forever: a `Resync` says events were missed and lists must be
    /// refetched. Ends only when the caller drops it.
    pub fn watch(&self, since: Option<u64>) -> impl Stream<Item = Result<ServerMessage, ClientError>> + Send + 'static {
        let ws = ws_url(&self.api);
        let token = self.token.clone();
        futures::stream::unfold((None::<WsStream>, since, 0u32), move |(mut socket, mut since, mut failures)| {
            let (ws, token) = (ws.clone(), token.clone());
            async move {
                loop {
                    let s = match socket.as_mut() {
                        Some(s) => s,
                        None => match connect(&ws, since, token.as_deref()).await {
                            Ok(s) => {
                                failures = 0;
                                socket.insert(s)
                            }
                            Err(e) => {
                                failures += 1;
                                if failures == 1 {
                                    return Some((Err(e), (None, since, failures)));
                                }
                                // Backoff, capped, without hammering a server that is down.
                                tokio::time::sleep(Duration::from_millis((250u64 << failures.min(7)).min(30_000)))
                                    .await;
                                continue;
                            }
                        },
                    };
                    match s.next().await {
                        Some(Ok(tungstenite::Message::Text(t))) => match ServerMessage::parse(&t) {
                            Ok(m) => {
                                since = Some(match &m {
                                    ServerMessage::Event(e) => e.seq,
                                    ServerMessage::Resync { seq } => *seq,
                                });
                                return Some((Ok(m), (socket, since, failures)));
                            }
                            Err(e) => {
                                return Some((Err(ClientError::Decode(e.to_string())), (socket, since, failures)))
                            }
                        },
                        Some(Ok(tungstenite::Message::Ping(p))) => {
                            let _ = s.send(tungstenite::Message::Pong(p)).await;
                        }
                        Some(Ok(_)) => {}
                        // Dropped (or closed, as a slow client is): resume from `since`.
                        Some(Err(_)) | None => socket = None,
                    }
                }
            }
        })
    }
}

pub type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(ws: &str, since: Option<u64>, token: Option<&str>) -> Result<WsStream, ClientError> {
    use tungstenite::client::IntoClientRequest;
    let url = match since {
        Some(s) => format!("{ws}?since={s}"),
        None => ws.to_string(),
    };
    let unreachable = |reason: String| ClientError::Unreachable { url: url.clone(), reason };
    let mut req = url.as_str().into_client_request().map_err(|e| unreachable(e.to_string()))?;
    if let Some(t) = token {
        let v = format!("Bearer {t}").parse().map_err(|_| unreachable("the token is not a valid header".into()))?;
        req.headers_mut().insert("authorization", v);
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((s, _)) => Ok(s),
        Err(tungstenite::Error::Http(res)) => {
            let body = res.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default().to_string();
            Err(api_error(res.status().as_u16(), &body))
        }
        Err(e) => Err(unreachable(e.to_string())),
    }
}

/// A WebSocket of the server at `api` on `path` (`/terminals/ID/ws?…`), with its token.
pub async fn socket(api: &str, path: &str, token: Option<&str>) -> Result<WsStream, ClientError> {
    let ws = ws_url(api);
    connect(&format!("{}{path}", ws.strip_suffix("/ws").unwrap_or(&ws)), None, token).await
}

/// `ws://host:port/ws` for the API at `http://host:port/api`.
fn ws_url(api: &str) -> String {
    let root = api.strip_suffix("/api").unwrap_or(api);
    let root = root.replacen("https://", "wss://", 1).replacen("http://", "ws://", 1);
    format!("{root}/ws")
}
