//! Live sync (SPEC §3, §4): the server's hub that fans committed events out over
//! WebSockets, the wire messages, and the client caches those events keep current.

pub mod cache;
#[cfg(feature = "hydrate")]
pub mod client;
#[cfg(feature = "ssr")]
pub mod hub;
pub mod live;

/// The tab's link to the server, for the connection indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// Not opened yet (server rendering, or before hydration).
    Connecting,
    Connected,
    /// Lost; trying again with backoff.
    Reconnecting,
    /// Several attempts failed, or the browser says it is offline; still trying.
    Offline,
}

impl ConnState {
    pub fn label(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Reconnecting => "reconnecting",
            Self::Offline => "offline",
        }
    }
}

use crate::model::Event;
use serde::{Deserialize, Serialize};

/// What the server sends on `/ws`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerMessage {
    /// A committed event, in `seq` order, never twice.
    Event(Box<Event>),
    /// The client's `since` is older than the retained log (or events were lost): refetch
    /// everything shown and continue from `seq`.
    Resync { seq: u64 },
}

/// `{"event": "resync", "seq": N}` on the wire.
#[derive(Serialize, Deserialize)]
struct ResyncWire {
    event: String,
    seq: u64,
}

impl ServerMessage {
    pub fn parse(text: &str) -> Result<ServerMessage, serde_json::Error> {
        match Event::from_json(text) {
            Ok(e) => Ok(ServerMessage::Event(Box::new(e))),
            Err(err) => match crate::model::from_json::<ResyncWire>(text) {
                Ok(r) if r.event == "resync" => Ok(ServerMessage::Resync { seq: r.seq }),
                _ => Err(err),
            },
        }
    }

    pub fn resync_json(seq: u64) -> String {
        serde_json::to_string(&ResyncWire { event: "resync".into(), seq }).unwrap_or_default()
    }
}
