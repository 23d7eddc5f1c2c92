//! The client's own records, below both the cache (which saves them) and
//! the state (which holds them): the outbox's messages and the rules for
//! applying actions to messages.

pub mod actions;
mod outgoing;

pub use outgoing::{Outgoing, OutgoingMedia};
