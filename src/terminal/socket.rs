//! The terminal WebSocket: attach (starting the process if needed), input with
//! backpressure, output by offset (from where the client is, within its window), pings;
//! and `DELETE /terminals/{id}`.

use super::budget;
use super::stream::{self, Next, FRAME_MAX};
use super::wire::{exit_msg, gap_msg, offset_msg, send, size, ClientMsg, SizeQuery};
use super::{OpenError, Term, Terminals, INPUT_CHUNK, INPUT_PENDING_MAX, PING_INTERVAL, SOCKET_READ};
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

/// `GET /terminals/{id}/ws?cols=&rows=&project=&offset=&window=`: attach (starting the
/// process if needed; a plain terminal in `project`'s directory), resuming at `offset` (see
/// `wire` for what the socket carries).
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
    let window = q.window();
    ws.max_message_size(1 << 20)
        .read_buffer_size(SOCKET_READ)
        .on_upgrade(move |socket| attach(socket, term, terminals, id, q.offset, window))
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

/// Where a socket is in the output: `sent` went out, `acked` the client has shown, at most
/// `window` between them (when the client acknowledges).
struct Position {
    sent: u64,
    acked: u64,
    window: Option<u64>,
}

impl Position {
    /// Whether more may go out now, and how much.
    fn room(&self) -> usize {
        match self.window {
            Some(w) => (w.saturating_sub(self.sent - self.acked) as usize).min(FRAME_MAX),
            None => FRAME_MAX,
        }
    }
}

/// One socket watching terminal `id`: from `offset` (else its recent output), then live.
pub(super) async fn attach(
    socket: WebSocket,
    term: Arc<Term>,
    terminals: Terminals,
    id: String,
    offset: Option<u64>,
    window: Option<u64>,
) {
    let (budget, outputs, mut closing) = (terminals.input_budget, terminals.outputs, terminals.closing);
    let (mut sink, mut stream) = socket.split();
    let mut end = term.recent.subscribe();
    let mut exited = term.exited.subscribe();
    let (start, last) = term.recent.bounds();
    // Past the end: a session's offsets never start again, so those bytes are coming (a
    // re-adopted terminal's holder is still sending what the server before had sent but
    // not kept yet); a plain terminal's (one started again) from the end.
    let plain = id.starts_with("term_");
    let from = offset.map_or(start, |o| if plain { o.min(last) } else { o });
    let mut at = Position { sent: from, acked: from, window };
    if !send(&mut sink, offset_msg(from)).await {
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
    loop {
        // Once the process has exited (after its last output), the rest, then how it ended.
        let code = *exited.borrow_and_update();
        let behind = at.sent < *end.borrow_and_update();
        if let (Some(code), false) = (code, behind) {
            let _ = send(&mut sink, exit_msg(code)).await;
            let _ = send(&mut sink, Message::Close(None)).await;
            return;
        }
        // Input goes to the holder at once when nothing waits ahead of it.
        while let Some(chunk) = pending.front() {
            // Before it can reach the program: output it causes must find it said.
            term.typed.store(true, std::sync::atomic::Ordering::Relaxed);
            if !term.type_now(chunk) {
                break;
            }
            pending_bytes -= chunk.len();
            held.give_back(chunk.len());
            pending.pop_front();
        }
        let room = at.room();
        tokio::select! {
            next = stream::next(&term.recent, &outputs, &id, at.sent, room), if behind && room > 0 => {
                let msg = match next {
                    Next::Data(b) => { at.sent += b.len() as u64; Message::Binary(b) }
                    Next::Gap { from, to } => { at.acked += to - from; at.sent = to; gap_msg(from, to) } // not in flight
                    Next::Nothing => continue,
                };
                if !send(&mut sink, msg).await { return }
            },
            Ok(()) = end.changed(), if !behind => {}
            Ok(()) = exited.changed(), if code.is_none() => {}
            room = term.input.reserve(), if !pending.is_empty() => match room {
                Ok(room) => {
                    let chunk = pending.pop_front().unwrap_or_default();
                    pending_bytes -= chunk.len();
                    held.give_back(chunk.len());
                    // Before it can reach the program: output it causes must find it said.
                    term.typed.store(true, std::sync::atomic::Ordering::Relaxed);
                    term.queue(room, chunk);
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
                        // Only what went out can be shown.
                        Ok(ClientMsg::Ack { offset }) => { at.acked = at.acked.max(offset.min(at.sent)); continue; }
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
}
