//! Natter's wire types, shared by the web client and the server.
//!
//! This crate is serde and JSON only: no I/O, no async, nothing that ties it to a
//! runtime, so that both the WebAssembly client and the native server compile
//! it unchanged. `docs/PROTOCOL.md` describes every type here frame by frame.
//!
//! # Layout
//! - [`frame`]: the WebSocket frames, client to server and server to client.
//! - [`api`]: the HTTP request and response bodies.
//! - [`limits`]: the validation rules both sides enforce (usernames, passwords,
//!   message length), so that the client can explain a refusal before sending.
//! - [`mentions`]: whom a message's text names ("@ann").
//! - [`preview`]: a message in one line, for quotes and notifications.
//! - `tagged`: how the enums written as `{"type": …}` objects are read.

mod tagged;

pub mod api;
pub mod frame;
pub mod limits;
pub mod mentions;
pub mod preview;

pub use api::*;
pub use frame::*;

/// The protocol version this build speaks. The client sends it in `hello`;
/// the server refuses any other with [`ErrorCode::UnsupportedVersion`] and
/// close code [`close::UNSUPPORTED_VERSION`].
pub const PROTOCOL_VERSION: u32 = 5;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// WebSocket close codes the server uses besides the standard ones.
pub mod close {
    /// The server is shutting down: reconnect at once (RFC 6455 "going away").
    pub const GOING_AWAY: u16 = 1001;
    /// A frame broke the protocol beyond repair (e.g. `hello` missing).
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A frame was larger than [`crate::limits::MAX_FRAME_BYTES`].
    pub const TOO_BIG: u16 = 1009;
    /// The session ended (logout elsewhere or expiry): log in again.
    pub const SESSION_ENDED: u16 = 4001;
    /// The client speaks a protocol version the server does not.
    pub const UNSUPPORTED_VERSION: u16 = 4002;
}
