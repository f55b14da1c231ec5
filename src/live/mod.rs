//! The browser's live state (SPEC §4): the [`cache::Cache`] of server state (plain Rust,
//! tested natively), its signals ([`Live`]) and the tab's one socket that keeps them current.

pub mod cache;
mod signals;
#[cfg(feature = "hydrate")]
pub mod socket;

pub use signals::Live;

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
