//! One client as its shard sees it: the queue of frames it has not taken, bounded.

use super::frame::close_frame;
use super::send::send_now;
use super::{CLOSE_LAGGING, HUB_CAPACITY, HUB_QUEUE_BYTES, SEND_TIMEOUT, WRITE_SLICES};
use crate::http::SocketFd;
use crate::store::LoggedEvent;
use bytes::Bytes;
use futures::sink::Sink;
use futures::Stream;
use hyper_util::rt::TokioIo;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::AsyncWrite;
use tokio::sync::broadcast;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;

/// A client's connection after the upgrade. The hub writes whole frames to the stream
/// underneath; the WebSocket layer reads (pongs, closes) and answers pings.
pub(super) type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// A client that has replayed up to `member.last`, with the bus receiver it subscribed
/// before its replay (to fill the gap up to where the shard is).
pub(super) struct Join(pub(super) Member, pub(super) broadcast::Receiver<Arc<LoggedEvent>>);

/// One client, as its shard sees it.
pub(super) struct Member {
    pub(super) ws: Socket,
    /// Its socket's descriptor, to write to directly; it stays open as long as `ws` does.
    pub(super) fd: Option<SocketFd>,
    /// The newest seq queued for it.
    pub(super) last: u64,
    /// The newest seq the socket has accepted (where a lagging client resumes).
    pub(super) sent: u64,
    /// Frames (with the seq each carries, 0 for control frames) the socket has not
    /// taken yet: empty unless the peer is slow.
    pub(super) queue: VecDeque<(u64, Bytes)>,
    /// The bytes in `queue`.
    pub(super) queued: usize,
    /// How much of the front frame the socket has taken.
    pub(super) written: usize,
    /// Reading may have queued an answer of the WebSocket layer's own (a pong to the
    /// peer's ping): it goes out before our next frame, never inside one.
    pub(super) answers: bool,
    /// Set once a close frame is queued: nothing more is sent, and the member is let go
    /// once the peer answers it, or at this deadline.
    pub(super) closing: Option<Instant>,
    /// When the peer last sent anything (pongs, above all).
    pub(super) heard: Instant,
}

/// How far a pump got.
pub(super) enum Pumped {
    /// Everything queued is written.
    Idle,
    /// Waiting on the socket (full, or a close reply to come); it wakes the shard.
    Blocked,
    /// The peer is gone, or answered our close: let it go.
    Done,
}

impl Member {
    pub(super) fn push(&mut self, seq: u64, frame: Bytes) {
        if self.closing.is_some() {
            return;
        }
        if self.queue.len() >= HUB_CAPACITY || self.queued + frame.len() > HUB_QUEUE_BYTES {
            self.drop_queued();
            self.fell_behind(self.sent);
        } else {
            self.queued += frame.len();
            self.queue.push_back((seq, frame));
        }
    }

    /// Forgets what is queued, but the rest of a frame the socket has begun to take.
    pub(super) fn drop_queued(&mut self) {
        self.queue.truncate(usize::from(self.written > 0));
        self.queued = self.queue.iter().map(|(_, f)| f.len()).sum();
    }

    /// Closes a client that fell behind, telling it where to resume from.
    pub(super) fn fell_behind(&mut self, resume_from: u64) {
        self.close(CLOSE_LAGGING, format!("too slow: resume with ?since={resume_from}"));
    }

    /// Queues a close frame (after what is already queued); nothing is queued after it.
    pub(super) fn close(&mut self, code: u16, reason: String) {
        if self.closing.is_none() {
            let frame = close_frame(code, &reason);
            self.queued += frame.len();
            self.queue.push_back((0, frame));
            self.closing = Some(Instant::now() + SEND_TIMEOUT);
        }
    }

    /// Reads everything the peer has sent; ready once it closed or failed. Only between
    /// our frames: the WebSocket layer may write an answer while it reads.
    pub(super) fn poll_peer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        debug_assert_eq!(self.written, 0);
        loop {
            match Pin::new(&mut self.ws).poll_next(cx) {
                Poll::Ready(Some(Ok(Message::Close(_)))) | Poll::Ready(Some(Err(_))) | Poll::Ready(None) => {
                    return Poll::Ready(())
                }
                Poll::Ready(Some(Ok(_))) => {
                    self.heard = Instant::now();
                    self.answers = true;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Reads what the peer sent since the last call, without asking to be woken for
    /// more: false once it closed, failed or stayed silent for `silence`.
    pub(super) fn still_there(&mut self, silence: Duration) -> bool {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        // In the middle of a frame (the socket is full) there is nothing to read between.
        (self.written > 0 || self.poll_peer(&mut cx).is_pending()) && self.heard.elapsed() <= silence
    }

    /// Writes as much of the queue as the socket takes, without waiting.
    pub(super) fn pump(&mut self, cx: &mut Context<'_>) -> Pumped {
        if self.answers {
            match Pin::new(&mut self.ws).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.answers = false,
                Poll::Ready(Err(_)) => return Pumped::Done,
                Poll::Pending => return Pumped::Blocked,
            }
        }
        while !self.queue.is_empty() {
            // Everything queued in one write (a burst of events is one syscall).
            let mut slices = [std::io::IoSlice::new(&[]); WRITE_SLICES];
            for (slice, (_, frame)) in slices.iter_mut().zip(&self.queue) {
                *slice = std::io::IoSlice::new(frame);
            }
            slices[0] = std::io::IoSlice::new(&self.queue[0].1[self.written..]);
            let count = self.queue.len().min(WRITE_SLICES);
            let sent = self.fd.and_then(|fd| send_now(fd, &slices[..count]));
            let mut n = match sent {
                Some(Ok(n)) => n,
                Some(Err(_)) => return Pumped::Done,
                // Full (or no descriptor): tokio's write sees that too and arranges for the
                // shard to be woken once the socket drains.
                None => match Pin::new(self.ws.get_mut()).poll_write_vectored(cx, &slices[..count]) {
                    Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return Pumped::Done,
                    Poll::Ready(Ok(n)) => n,
                    Poll::Pending => return Pumped::Blocked,
                },
            };
            while let Some((seq, frame)) = self.queue.front() {
                let left = frame.len() - self.written;
                if n < left {
                    self.written += n;
                    break;
                }
                n -= left;
                self.sent = self.sent.max(*seq);
                self.written = 0;
                self.queued -= frame.len();
                self.queue.pop_front();
            }
        }
        if self.closing.is_none() {
            return Pumped::Idle;
        }
        // The close frame is out: wait for the peer's reply, reading what it sent, so that
        // dropping the socket sends a FIN, not a reset that could destroy the close frame.
        match self.poll_peer(cx) {
            Poll::Ready(()) => Pumped::Done,
            Poll::Pending => Pumped::Blocked,
        }
    }
}
