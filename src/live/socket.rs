//! The browser's one WebSocket per tab: connects after hydration, applies events to the
//! cache in one batch per animation frame, resumes from the last applied `seq` after any
//! disconnect (backoff with jitter, capped, forever), and refetches on `resync`.

use super::cache::{Applied, ListKey};
use super::{ConnState, Live};
use crate::model::{Event, ServerMessage};
use futures::StreamExt;
use gloo_net::websocket::{futures::WebSocket, Message};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// The longest wait between attempts.
const BACKOFF_CAP: Duration = Duration::from_secs(30);
const BACKOFF_START: Duration = Duration::from_millis(250);
/// Failed attempts after which the indicator says "offline".
const OFFLINE_AFTER: u32 = 4;
/// Events buffered while no frame is drawn (a hidden tab) before they apply anyway.
const BATCH_LIMIT: usize = 5000;

/// Starts the listener. `refetch` reloads lists after a resync (or a detected gap).
pub fn start(cache: Live, conn: RwSignal<ConnState>, refetch: impl Fn(Vec<ListKey>) + 'static) {
    let refetch: Rc<dyn Fn(Vec<ListKey>)> = Rc::new(refetch);
    leptos::task::spawn_local(async move {
        let pending: Rc<RefCell<Vec<Event>>> = Rc::default();
        let mut failures: u32 = 0;
        loop {
            let since = cache.with_untracked(|c| c.seq);
            if let Ok(ws) = WebSocket::open(&url(since)) {
                let (mut sink, mut stream) = ws.split();
                // The sink is ready once the socket is open.
                let opened =
                    futures::future::poll_fn(|cx| futures::Sink::poll_ready(std::pin::Pin::new(&mut sink), cx)).await;
                if opened.is_ok() {
                    failures = 0;
                    conn.set(ConnState::Connected);
                    while let Some(Ok(msg)) = stream.next().await {
                        let Message::Text(text) = msg else { continue };
                        match ServerMessage::parse(&text) {
                            Ok(ServerMessage::Event(e)) => {
                                // `try_`: a borrow is never a panic (one would stop the app).
                                let Ok(mut p) = pending.try_borrow_mut() else { continue };
                                p.push(*e);
                                let (first, full) = (p.len() == 1, p.len() >= BATCH_LIMIT);
                                drop(p);
                                if full {
                                    flush(&pending, cache, &refetch);
                                } else if first {
                                    let (pending, refetch) = (pending.clone(), refetch.clone());
                                    request_animation_frame(move || flush(&pending, cache, &refetch));
                                }
                            }
                            Ok(ServerMessage::Resync { seq }) => {
                                flush(&pending, cache, &refetch);
                                let keys = cache.try_update(|c| c.resync(seq)).unwrap_or_default();
                                refetch(keys);
                            }
                            Err(_) => {} // a message from a newer server: ignore
                        }
                    }
                }
                flush(&pending, cache, &refetch);
            }
            failures += 1;
            let online = web_sys::window().map(|w| w.navigator().on_line()).unwrap_or(true);
            conn.set(if failures >= OFFLINE_AFTER || !online { ConnState::Offline } else { ConnState::Reconnecting });
            gloo_timers::future::sleep(backoff(failures)).await;
        }
    });
}

/// Applies every buffered event in one reactive update.
fn flush(pending: &Rc<RefCell<Vec<Event>>>, cache: Live, refetch: &Rc<dyn Fn(Vec<ListKey>)>) {
    let Ok(mut p) = pending.try_borrow_mut() else { return };
    let events = std::mem::take(&mut *p);
    drop(p);
    if events.is_empty() {
        return;
    }
    let mut refetch_keys = None;
    cache.update(|c| {
        for e in &events {
            if c.apply(e) == Applied::Gap {
                // Events went missing: refetch what is shown, then carry on from here.
                refetch_keys = Some(c.resync(e.seq - 1));
                c.apply(e);
            }
        }
    });
    if let Some(keys) = refetch_keys {
        refetch(keys);
    }
}

/// Exponential backoff with ±50 % jitter, capped.
fn backoff(failures: u32) -> Duration {
    let base = BACKOFF_START.saturating_mul(1u32 << failures.min(10)).min(BACKOFF_CAP);
    base.mul_f64(0.5 + js_sys::Math::random())
}

/// `ws://host` or `wss://host` of the page this tab loaded, for any socket of ours.
pub fn socket_base() -> String {
    let loc = web_sys::window().map(|w| w.location());
    let host = loc.as_ref().and_then(|l| l.host().ok()).unwrap_or_else(|| "127.0.0.1:3000".into());
    let secure = loc.and_then(|l| l.protocol().ok()).is_some_and(|p| p == "https:");
    format!("{}://{host}", if secure { "wss" } else { "ws" })
}

fn url(since: u64) -> String {
    if since > 0 {
        format!("{}/ws?since={since}", socket_base())
    } else {
        format!("{}/ws", socket_base())
    }
}
