//! WebSocket frames as bytes, formatted once and shared by every client.

use bytes::Bytes;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::frame::coding::Data;
use tungstenite::protocol::frame::coding::OpCode;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::frame::Frame;

/// Appends the bytes of one complete frame from the server (never masked) to `out`.
pub(super) fn format_into(out: &mut Vec<u8>, frame: Frame) {
    out.reserve(frame.len());
    frame.format(out).expect("formatting into memory cannot fail");
}

/// The bytes of one complete frame from the server.
pub(super) fn wire(frame: Frame) -> Bytes {
    let mut out = Vec::new();
    format_into(&mut out, frame);
    out.into()
}

/// A text frame carrying `json`.
pub(super) fn text(json: &str) -> Frame {
    Frame::message(Bytes::copy_from_slice(json.as_bytes()), OpCode::Data(Data::Text), true)
}

/// The bytes of a text frame carrying `json`.
pub(super) fn text_frame(json: &str) -> Bytes {
    wire(text(json))
}

/// A close frame with a code and a reason.
pub(super) fn close_frame(code: u16, reason: &str) -> Bytes {
    wire(Frame::close(Some(CloseFrame { code: CloseCode::from(code), reason: reason.into() })))
}
