//! The descriptor of an accepted connection's socket.

use std::os::fd::AsRawFd;
use tokio::net::TcpStream;

/// The descriptor of a connection's TCP socket, recorded when it is accepted (axum's
/// connect info), so that the hub can write frames to an upgraded connection's socket
/// with one `send`: hyper's protocol-detecting server hides the socket's type after the
/// upgrade, and its path (a `writev` behind tokio's bookkeeping) costs more per client.
#[derive(Clone, Copy, Debug)]
pub struct SocketFd(pub(crate) std::os::fd::RawFd);

impl SocketFd {
    /// The descriptor of `socket`, which must outlive every use of it.
    pub fn of(socket: &TcpStream) -> SocketFd {
        SocketFd(socket.as_raw_fd())
    }
}
