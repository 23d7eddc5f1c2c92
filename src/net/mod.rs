//! Talking to the server. Nothing here knows about the UI.
//!
//! - [`http`]: the JSON API (accounts, finding people, history).
//! - [`socket`]: a thin WebSocket that speaks protocol frames.
//! - [`backoff`]: reconnect delays, capped exponential with full jitter.
//! - [`session`]: the reconnecting layer on top of [`socket`]; it publishes a
//!   [`session::ConnectionStatus`] and feeds frames into the state.
//! - [`tabs`]: a channel to this app's other tabs in the same browser.
//! - [`upload`]: media uploads with progress and cancel.

pub mod backoff;
pub mod http;
pub mod session;
pub mod socket;
pub mod tabs;
pub mod upload;
