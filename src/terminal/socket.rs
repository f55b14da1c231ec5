//! The terminal WebSocket: attach (starting the process if needed), input with
//! backpressure, output, pings; and `DELETE /terminals/{id}`.

use super::budget::{self, InputBudget};
use super::wire::{send, size, ClientMsg, SizeQuery};
use super::{OpenError, Term, Terminals, INPUT_CHUNK, INPUT_PENDING_MAX, PING_INTERVAL};
use crate::auth::relay::{Node, Place, RelayError};
use crate::http::{ApiQuery, AppError};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::broadcast;

/// `GET /terminals/{id}/ws?cols=&rows=&project=`: attach (starting the process if needed;
/// a plain terminal in `project`'s directory).
pub async fn terminal_ws(
    ws: WebSocketUpgrade,
    State(terminals): State<Terminals>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<SizeQuery>,
    relayed: Option<axum::Extension<crate::auth::FromNode>>,
) -> Response {
    match terminals.place(&id).await {
        Ok(Place::Here) => {}
        // One hop at most: a relayed request is never relayed on.
        Ok(Place::There(node)) if relayed.is_some() => return relay_loop(node),
        Ok(Place::There(node)) => return terminals.relay(ws, &node, &id, &q).await,
        Err(e) => return AppError::from(e).into_response(),
    }
    let term = match terminals.open(&id, size(q.cols, q.rows), q.project.as_deref()) {
        Ok(t) => t,
        Err(e) => return AppError::from(e).into_response(),
    };
    term.size_once(q.cols, q.rows);
    let (budget, closing) = (terminals.input_budget.clone(), terminals.closing.clone());
    ws.max_message_size(1 << 20).on_upgrade(move |socket| attach(socket, term, budget, closing))
}

/// `DELETE /terminals/{id}`: ends a terminal (plain ones; sessions end by being deleted).
pub async fn terminal_delete(
    State(terminals): State<Terminals>,
    Path(id): Path<String>,
    relayed: Option<axum::Extension<crate::auth::FromNode>>,
) -> Response {
    match terminals.place_of(&id).await {
        Ok(Place::There(node)) if relayed.is_some() => return relay_loop(node),
        Ok(Place::There(node)) => return terminals.close_there(&node, &id).await,
        _ => {}
    }
    match terminals.close(&id) {
        Ok(true) => axum::Json(serde_json::json!({"success": true})).into_response(),
        Ok(false) => AppError::not_found(format!("terminal {id} is not running")).into_response(),
        Err(e) => AppError::from(e).into_response(),
    }
}

/// A relayed request that this node would relay again: the nodes disagree on who runs the
/// terminal (one restarted under a new id), and passing it on could only go round.
fn relay_loop(node: Node) -> Response {
    AppError::from(OpenError::Relay(RelayError::Loop(node.id))).into_response()
}

/// Adds input read from the socket to what waits for the program, in pieces it takes.
fn queue(pending: &mut VecDeque<Bytes>, pending_bytes: &mut usize, mut input: Bytes) {
    while !input.is_empty() {
        let piece = input.split_to(input.len().min(INPUT_CHUNK));
        *pending_bytes += piece.len();
        pending.push_back(piece);
    }
}

pub(super) async fn attach(
    socket: WebSocket,
    term: Arc<Term>,
    budget: InputBudget,
    mut closing: tokio::sync::watch::Receiver<bool>,
) {
    let (mut sink, mut stream) = socket.split();
    // Subscribe before copying the scrollback so nothing falls between them (a few bytes
    // may repeat; a terminal redraws over them).
    let mut output = term.output.subscribe();
    let mut exited = term.exited.subscribe();
    let scrollback: Vec<u8> = term.scrollback.lock().unwrap_or_else(|e| e.into_inner()).iter().copied().collect();
    if !scrollback.is_empty() && !send(&mut sink, Message::Binary(scrollback.into())).await {
        return;
    }
    // Input read from the socket, waiting for room in the writer's queue.
    let mut pending: VecDeque<Bytes> = VecDeque::new();
    let mut pending_bytes = 0usize;
    // This socket's part of the budget all sockets share; input read while none was free
    // waits in `blocked` for its turn, and nothing more is read until it gets some.
    let mut held = budget.share();
    let mut blocked: Option<(Bytes, budget::Waiting)> = None;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_INTERVAL, PING_INTERVAL);
    let mut heard = Instant::now();
    while exited.borrow().is_none() {
        tokio::select! {
            out = output.recv() => match out {
                Ok(chunk) => if !send(&mut sink, Message::Binary(chunk)).await { return },
                Err(broadcast::error::RecvError::Lagged(_)) => {} // the screen catches up
                Err(broadcast::error::RecvError::Closed) => break,
            },
            room = term.input.reserve(), if !pending.is_empty() => match room {
                Ok(room) => {
                    let chunk = pending.pop_front().unwrap_or_default();
                    pending_bytes -= chunk.len();
                    held.give_back(chunk.len());
                    room.send(chunk);
                    term.typed.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                Err(_) => { pending.clear(); pending_bytes = 0; held.give_back(usize::MAX); } // the program is gone
            },
            permit = async { match blocked.as_mut() { Some((_, wait)) => wait.await, None => None } }, if blocked.is_some() => {
                if let Some(permit) = permit {
                    held.add(permit);
                }
                if let Some((input, _)) = blocked.take() {
                    queue(&mut pending, &mut pending_bytes, input);
                }
            },
            msg = stream.next(), if pending_bytes < INPUT_PENDING_MAX && blocked.is_none() => {
                heard = Instant::now();
                let input: Bytes = match msg {
                    Some(Ok(Message::Text(t))) => match serde_json::from_str::<ClientMsg>(&t) {
                        Ok(ClientMsg::Input { data }) => data.into(),
                        Ok(ClientMsg::Resize { cols, rows }) => {
                            term.sized.store(true, std::sync::atomic::Ordering::Relaxed);
                            term.link.resize(size(Some(cols), Some(rows)));
                            continue;
                        }
                        Err(_) => continue, // unknown messages are ignored
                    },
                    Some(Ok(Message::Binary(b))) => b,
                    Some(Ok(_)) => continue, // pongs
                    _ => return, // the browser went away; the terminal keeps running
                };
                if held.try_take(&budget, input.len()) {
                    queue(&mut pending, &mut pending_bytes, input);
                } else {
                    let wait = budget.take(input.len());
                    blocked = Some((input, wait));
                }
            },
            Ok(()) = exited.changed() => {}
            // The server stops; the terminal does not: the browser reconnects to the next one.
            Ok(()) = closing.changed() => if *closing.borrow() {
                let _ = send(&mut sink, Message::Close(None)).await;
                return;
            },
            _ = ping.tick() => {
                if heard.elapsed() > PING_INTERVAL * 3 || !send(&mut sink, Message::Ping(Bytes::new())).await {
                    return; // silent, or not reading: let it go
                }
            }
        }
    }
    // Flush what is left, then say how it ended.
    while let Ok(chunk) = output.try_recv() {
        if !send(&mut sink, Message::Binary(chunk)).await {
            return;
        }
    }
    let code = (*exited.borrow()).unwrap_or(1);
    let _ = send(&mut sink, Message::Text(format!(r#"{{"type":"exit","code":{code}}}"#).into())).await;
    let _ = send(&mut sink, Message::Close(None)).await;
}
