//! Logging out: the session ends on the server, and its sockets close.

use natter_protocol::UserId;

use super::{Chat, ChatError};
use crate::hub::Event;

impl Chat {
    /// Ends a session on the server; its sockets close too.
    pub async fn log_out(&self, user: UserId, token_hash: [u8; 32]) -> Result<(), ChatError> {
        self.store.delete_session(token_hash).await?;
        self.hub.publish(&[user], Event::SessionEnded(token_hash));
        Ok(())
    }
}
