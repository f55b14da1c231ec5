//! Types shared by the server, the browser client and the CLI. Everything here compiles
//! for both sides, so the wire format is defined exactly once:
//! - [`entity`]: the entities of SPEC §1 (projects, tasks, subtasks, sessions, agents);
//! - [`workspace`]: SPEC §8's workspaces, their changes and diffs; [`directory`]: what
//!   the server says of a project's directory; [`review`]: comments on a workspace's diff;
//! - [`request`]: the request bodies of SPEC §2, and [`limits`] on what they may hold;
//! - [`event`]: the one event type of SPEC §3;
//! - [`wire`]: the error body and its codes, a server function's error, `/ws`'s messages,
//!   the health answer;
//! - [`page`]: list order and paging; [`clock`], [`json`] and [`units`]: time, decoding and
//!   sizes on both sides.

pub mod clock;
pub mod directory;
pub mod entity;
pub mod event;
pub mod json;
pub mod limits;
pub mod page;
pub mod request;
pub mod review;
#[cfg(feature = "ssr")]
pub mod schema;
pub mod units;
pub mod wire;
pub mod workspace;

pub use clock::{now_millis, Millis};
pub use directory::DirectoryInfo;
pub use entity::*;
pub use event::*;
pub use json::from_json;
pub use request::*;
pub use review::*;
pub use wire::*;
pub use workspace::*;
