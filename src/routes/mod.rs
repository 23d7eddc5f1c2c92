//! One page per file: signing in, and the chat itself.

pub mod auth;
pub mod chat;
