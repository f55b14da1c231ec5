//! A shard: a thread that writes each event to all of its clients in one pass.

use super::frame::text_frame;
use super::frame::wire;
use super::member::Join;
use super::member::Member;
use super::member::Pumped;
use super::BATCH_MAX;
use super::CLOSE_GOING_AWAY;
use crate::store::LoggedEvent;
use bytes::Bytes;
use std::sync::Arc;
use std::task::Context;
use std::task::Poll;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::sync::mpsc;
use tokio::sync::watch;
use tokio::time::timeout;
use tokio::time::Instant;
use tungstenite::protocol::frame::Frame;

/// A share of the clients and the task that writes every frame to them.
pub(super) struct Shard {
    /// The newest seq taken from the store's bus.
    pub(super) seq: u64,
    pub(super) members: Vec<Member>,
}

impl Shard {
    /// Writes each of the store's events to every member until shutdown.
    pub(super) async fn run(
        mut self,
        mut events: broadcast::Receiver<Arc<LoggedEvent>>,
        mut ping_interval: watch::Receiver<Duration>,
        mut joins: mpsc::UnboundedReceiver<Join>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut ping = tokio::time::interval(*ping_interval.borrow_and_update());
        ping.reset();
        let mut blocked = 0usize;
        let mut stopping = std::pin::pin!(async {
            // Without a sender (tests) nobody can stop us: wait forever.
            if shutdown.wait_for(|stop| *stop).await.is_err() {
                std::future::pending::<()>().await;
            }
        });
        loop {
            tokio::select! {
                event = events.recv() => {
                    // This event, and whatever else is already queued, in one pass.
                    let mut batch = Vec::new();
                    let mut lagged = false;
                    match event {
                        Ok(e) => batch.push(e),
                        Err(broadcast::error::RecvError::Lagged(_)) => lagged = true,
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                    while batch.len() < BATCH_MAX {
                        match events.try_recv() {
                            Ok(e) => batch.push(e),
                            Err(broadcast::error::TryRecvError::Lagged(_)) => lagged = true,
                            Err(_) => break,
                        }
                    }
                    if lagged {
                        // This shard starved: its clients resume from where they are.
                        for m in &mut self.members {
                            m.fell_behind(m.last);
                        }
                    }
                    // Each event becomes a frame once; members share its bytes.
                    let batch: Vec<(u64, Bytes)> = batch.iter().map(|e| (e.event.seq, text_frame(&e.json))).collect();
                    self.seq = batch.iter().map(|f| f.0).fold(self.seq, u64::max);
                    for m in &mut self.members {
                        for (seq, frame) in &batch {
                            if *seq > m.last {
                                m.last = *seq;
                                m.push(*seq, frame.clone());
                            }
                        }
                    }
                    blocked = self.pump_all().await;
                }
                Some(Join(m, rx)) = joins.recv() => {
                    self.join(m, rx);
                    blocked = self.pump_all().await;
                }
                // Sockets that were full took more: write what is queued for them.
                b = std::future::poll_fn(|cx| pump_blocked(&mut self.members, cx, blocked)), if blocked > 0 => blocked = b,
                Ok(()) = ping_interval.changed() => {
                    let every = *ping_interval.borrow_and_update();
                    ping = tokio::time::interval_at(Instant::now() + every, every);
                }
                _ = ping.tick() => {
                    let now = Instant::now();
                    let silence = ping.period() * 3;
                    // Peers gone, silent for three pings, or not taking even a close frame
                    // are dropped.
                    self.members.retain_mut(|m| {
                        m.closing.is_none_or(|deadline| now < deadline) && m.still_there(silence)
                    });
                    // An empty ping, the same two bytes for everyone.
                    let ping = wire(Frame::ping(Bytes::new()));
                    for m in &mut self.members {
                        m.push(0, ping.clone());
                    }
                    blocked = self.pump_all().await;
                }
                _ = &mut stopping => {
                    for m in &mut self.members {
                        m.drop_queued();
                        m.close(CLOSE_GOING_AWAY, "server shutting down".into());
                    }
                    let _ = timeout(Duration::from_secs(1), std::future::poll_fn(|cx| {
                        if pump_members(&mut self.members, cx) == 0 { Poll::Ready(()) } else { Poll::Pending }
                    }))
                    .await;
                    return;
                }
            }
        }
    }

    /// Takes in a client that replayed up to `m.last`. Frames up to `self.seq` went
    /// out before it joined; `rx`, subscribed before its replay, still holds those it
    /// missed meanwhile. Every later frame reaches it through the shard.
    pub(super) fn join(&mut self, mut m: Member, mut rx: broadcast::Receiver<Arc<LoggedEvent>>) {
        loop {
            match rx.try_recv() {
                Ok(e) if e.event.seq > self.seq => break,
                Ok(e) if e.event.seq > m.last => {
                    m.last = e.event.seq;
                    m.push(e.event.seq, text_frame(&e.json));
                }
                Ok(_) => {}
                Err(broadcast::error::TryRecvError::Lagged(_)) => {
                    m.fell_behind(m.last);
                    break;
                }
                Err(_) => break,
            }
        }
        self.members.push(m);
    }

    /// Pumps every member now; returns how many are left blocked.
    pub(super) async fn pump_all(&mut self) -> usize {
        std::future::poll_fn(|cx| Poll::Ready(pump_members(&mut self.members, cx))).await
    }
}

/// Writes what is queued for each member, lets go of those done; returns how many are
/// blocked (their sockets wake this task when they drain).
pub(super) fn pump_members(members: &mut Vec<Member>, cx: &mut Context<'_>) -> usize {
    let mut blocked = 0;
    members.retain_mut(|m| {
        if m.queue.is_empty() && !m.answers && m.closing.is_none() {
            return true;
        }
        match m.pump(cx) {
            Pumped::Idle => true,
            Pumped::Blocked => {
                blocked += 1;
                true
            }
            Pumped::Done => false,
        }
    });
    blocked
}

/// Pumps the members; ready with the new number of blocked ones once it differs from
/// `blocked` (until then, every blocked socket has registered to wake us).
pub(super) fn pump_blocked(members: &mut Vec<Member>, cx: &mut Context<'_>, blocked: usize) -> Poll<usize> {
    match pump_members(members, cx) {
        now if now == blocked => Poll::Pending,
        now => Poll::Ready(now),
    }
}
