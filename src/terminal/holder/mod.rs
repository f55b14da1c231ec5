//! Terminals that outlive the server (SPEC §9 "Outliving the server"): every terminal's
//! process is started and held by a small holder process, the `maestro` binary itself run
//! as `maestro __hold ID` (`run`), detached (its own process group, SIGHUP ignored, stdio
//! on `/dev/null`, not the server's child). It owns the PTY and the process; the server
//! talks to it over a unix socket (`link`), and when the server stops, is upgraded or is
//! killed, the holder keeps the process and what it prints until a server comes back and
//! re-adopts it (`terminal::adopt`).
//!
//! Why a holder of our own rather than tmux: no dependency to install or version to match
//! (tmux's control mode changed across 2.x/3.x); the output stays a byte-exact stream with
//! offsets (tmux re-renders a screen: what a server missed would come back as a redraw, not
//! as the bytes the kept output and `?offset=` resume need); the server checks who is on
//! the other end of the socket (tmux's socket answers any process of the account and runs
//! what it is told); and it costs one small process per terminal (measured with a debug
//! build: 16 MB resident, 12.6 MB of it the binary's pages shared with the server).
//!
//! Where: a private directory (0700; the data directory's `terminals`, else a temporary
//! one), per terminal a socket `NAME.sock` (0600) and a record `NAME.json` ([`Record`]),
//! `NAME` a hash of the terminal's id (ids may be longer than a socket path allows). Each
//! side checks the other's account (`SO_PEERCRED`): a holder answers only its own user.
//!
//! The protocol: frames of a kind byte, a big-endian u32 length and that many bytes.
//! - server → holder: `H` hello (u64: the stream offset the server has up to); `I` input
//!   bytes; `R` resize (u16 cols, u16 rows); `B` bye: the exit was recorded, the holder may
//!   end. Signals are sent by the server to the process's session directly (same account,
//!   pid in the record), so a program that reads no input cannot hold one up.
//! - holder → server: `S` start (u64: the offset its output starts at: the one asked for,
//!   or later when those bytes no longer are held: then the server is told exactly how many
//!   it missed); `O` output bytes, consecutive from there; `X` exit (u32 code), after all
//!   output the process left behind.
//!
//! Offsets count everything the terminal printed since its holder started (a notice first).
//! The holder keeps the newest bytes (at most the session's output budget) whether or not a
//! server is connected; a server asks from where its kept output ends, so nothing is missing
//! or repeated across a restart.
//!
//! Lifetime: a holder ends once its process has exited and a server said bye to its exit;
//! when its socket is removed (its directory is gone: no server can find it again) it ends
//! its process and itself; a holder of a server in memory (nothing to re-adopt) does so as
//! soon as its server goes. One whose process ended and whose server does not come back
//! waits [`ORPHAN_WAIT`], then ends, leaving its record (with the exit code) behind.

pub(super) mod link;
mod pty;
pub mod run;

use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a holder whose process has ended waits for a server to learn the exit: a week,
/// so that a server stopped over a long weekend still completes the sessions with their
/// codes; it costs a sleeping process with a few MB.
pub const ORPHAN_WAIT: Duration = Duration::from_secs(7 * 24 * 3600);

/// Frame kinds.
pub(super) const HELLO: u8 = b'H';
pub(super) const INPUT: u8 = b'I';
pub(super) const RESIZE: u8 = b'R';
pub(super) const BYE: u8 = b'B';
pub(super) const START: u8 = b'S';
pub(super) const OUTPUT: u8 = b'O';
pub(super) const EXIT: u8 = b'X';
/// The largest frame either side sends (output goes in frames of what the PTY had ready,
/// or while a flood streams what came within a few ms, at most this).
pub(super) const FRAME_MAX: usize = 64 * 1024;

/// What a holder starts, handed to it on its stdin (never its command line: the
/// environment holds the access token).
#[derive(Serialize, Deserialize)]
pub struct Spec {
    pub id: String,
    pub dir: PathBuf,
    pub argv: Vec<String>,
    pub cwd: Option<String>,
    pub env: Vec<(String, String)>,
    pub cols: u16,
    pub rows: u16,
    /// Bytes of output kept for a server that is away.
    pub keep: usize,
    /// Said in the terminal before the process's output.
    pub notice: Option<String>,
    /// Whether it outlives its server (a server with a data directory re-adopts it).
    pub outlive: bool,
    /// The kept-output offset of this stream's offset 0 (see [`Record::base`]).
    pub base: u64,
    /// The process's CPU priority, when lowered (an agent's: see `Terminals::agent_nice`).
    #[serde(default)]
    pub nice: i32,
}

/// A holder's record beside its socket: which terminal, its process, and the boot it runs
/// in (after a reboot the process is gone with the machine).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub holder: i32,
    pub pid: i32,
    pub boot: Option<String>,
    /// The offset in the session's kept output where this holder's stream starts.
    pub base: u64,
    /// The process's exit code, once it exited.
    pub exit: Option<u32>,
}

/// The file name of terminal `id`'s socket and record, without the extension.
pub(super) fn name(id: &str) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(id.as_bytes());
    h[..12].iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn socket_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{}.sock", name(id)))
}

/// The longest socket path the kernel takes (`sun_path`, with its NUL).
const SUN_PATH: usize = 107;

/// Runs `f` on a path to `sock` short enough for a socket: `sock` itself, or, in a data
/// directory deeper than `sun_path` allows, the same file reached through an open handle
/// of its directory (`/proc/self/fd/N/NAME.sock`).
fn short_path<T>(sock: &Path, f: impl FnOnce(&Path) -> std::io::Result<T>) -> std::io::Result<T> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    if sock.as_os_str().as_bytes().len() <= SUN_PATH {
        return f(sock);
    }
    let (Some(parent), Some(file)) = (sock.parent(), sock.file_name()) else { return f(sock) };
    let dir = std::fs::File::open(parent)?;
    f(&Path::new(&format!("/proc/self/fd/{}", dir.as_raw_fd())).join(file))
}

/// Listens on socket `sock` (however deep its directory).
pub(super) fn bind(sock: &Path) -> std::io::Result<std::os::unix::net::UnixListener> {
    short_path(sock, |p| std::os::unix::net::UnixListener::bind(p))
}

/// Connects to socket `sock` (however deep its directory).
pub(super) fn connect_to(sock: &Path) -> std::io::Result<std::os::unix::net::UnixStream> {
    short_path(sock, |p| std::os::unix::net::UnixStream::connect(p))
}

pub(super) fn record_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{}.json", name(id)))
}

impl Record {
    /// Written whole (a new file renamed over the old), readable only by this user.
    pub(super) fn save(&self, dir: &Path) -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = record_path(dir, &self.id);
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        f.write_all(&serde_json::to_vec(self).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
        std::fs::rename(tmp, path)
    }

    /// Every record in `dir`.
    pub(super) fn all(dir: &Path) -> Vec<Record> {
        let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
        entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok())
            .collect()
    }

    /// Removes this record and its socket.
    pub(super) fn remove(dir: &Path, id: &str) {
        let _ = std::fs::remove_file(socket_path(dir, id));
        let _ = std::fs::remove_file(record_path(dir, id));
    }
}

/// This machine's boot (Linux); `None` where it cannot be told.
pub fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok().map(|s| s.trim().to_string())
}

/// Whether the process at the other end of `s` runs as this process's user.
pub fn same_account(s: &UnixStream) -> bool {
    use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
    getsockopt(s, PeerCredentials).is_ok_and(|c| c.uid() == super::prompts::uid())
}

/// One frame's bytes.
pub(super) fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(5 + payload.len());
    buf.push(kind);
    buf.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    buf.extend_from_slice(payload);
    buf
}

/// Writes one frame.
pub(super) fn write_frame(w: &mut impl Write, kind: u8, payload: &[u8]) -> std::io::Result<()> {
    w.write_all(&frame(kind, payload))
}

/// Reads one whole frame (the holder's side, and the server's handshake).
pub(super) fn read_frame(r: &mut impl Read) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 5];
    r.read_exact(&mut head)?;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > FRAME_MAX {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "frame too large"));
    }
    let mut payload = vec![0; len];
    r.read_exact(&mut payload)?;
    Ok((head[0], payload))
}

/// A u64 payload (hello, start).
pub(super) fn u64_of(p: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(p.get(..8)?.try_into().ok()?))
}

/// The holders' directory: given (the data directory's `terminals`: its holders outlive
/// the server), or a temporary one made when first needed (a server in memory: they end
/// with it).
pub(crate) struct Dir {
    given: Option<PathBuf>,
    temp: std::sync::OnceLock<Result<tempfile::TempDir, String>>,
}

const TEMP_PREFIX: &str = "maestro-holders-";

impl Dir {
    pub(crate) fn temporary() -> Dir {
        Dir { given: None, temp: std::sync::OnceLock::new() }
    }

    /// `dir`, made private (created if needed).
    pub(crate) fn at(dir: &Path) -> Result<Dir, String> {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        let at = |e: &dyn std::fmt::Display| format!("terminal directory {}: {e}", dir.display());
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| at(&e))?;
        let meta = std::fs::symlink_metadata(dir).map_err(|e| at(&e))?;
        if !meta.is_dir() || meta.uid() != super::prompts::uid() {
            return Err(at(&"not a directory of this user's own"));
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| at(&e))?;
        Ok(Dir { given: Some(dir.to_path_buf()), temp: std::sync::OnceLock::new() })
    }

    /// Whether its holders outlive the server.
    pub(crate) fn outlive(&self) -> bool {
        self.given.is_some()
    }

    pub(crate) fn path(&self) -> Result<&Path, String> {
        if let Some(d) = &self.given {
            return Ok(d);
        }
        let temp = self.temp.get_or_init(|| super::prompts::private_temp(TEMP_PREFIX, "terminals"));
        temp.as_ref().map(|t| t.path()).map_err(Clone::clone)
    }
}
