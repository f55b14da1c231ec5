//! Writing frames straight to a socket's descriptor, without waiting.

use crate::http::SocketFd;

/// Writes to the socket without waiting: `None` when it is full.
#[cfg(target_os = "linux")]
pub(super) fn send_now(fd: SocketFd, frames: &[std::io::IoSlice<'_>]) -> Option<std::io::Result<usize>> {
    use nix::sys::socket::{send, sendmsg, MsgFlags};
    let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
    let sent = match frames {
        [one] => send(fd.0, one, flags),
        _ => sendmsg::<()>(fd.0, frames, &[], flags, None),
    };
    match sent {
        Ok(0) => Some(Err(std::io::ErrorKind::WriteZero.into())),
        Ok(n) => Some(Ok(n)),
        Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => None,
        Err(e) => Some(Err(e.into())),
    }
}

/// Elsewhere every write goes through tokio.
#[cfg(not(target_os = "linux"))]
pub(super) fn send_now(_: SocketFd, _: &[std::io::IoSlice<'_>]) -> Option<std::io::Result<usize>> {
    None
}
