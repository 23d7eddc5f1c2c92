//! The client's own records, below both the cache (which saves them) and
//! the state (which holds them): the outbox's messages, the rules for
//! applying actions to messages, and message search.

pub mod actions;
mod outgoing;
pub mod search;

pub use outgoing::{Outgoing, OutgoingMedia};
