//! Logging out: the session ends on the server, and its sockets close; or
//! every session of the account ends ("sign out everywhere").

use natter_protocol::UserId;

use super::{Chat, ChatError};
use crate::hub::{Ending, Event};

impl Chat {
    /// Ends a session on the server; its sockets close too.
    pub async fn log_out(&self, user: UserId, token_hash: [u8; 32]) -> Result<(), ChatError> {
        self.store.delete_session(token_hash).await?;
        self.hub
            .publish(&[user], Event::SessionEnded(Ending::One(token_hash)));
        Ok(())
    }

    /// Ends every session of `user`; their sockets close too.
    pub async fn log_out_everywhere(&self, user: UserId) -> Result<(), ChatError> {
        self.store.delete_sessions(user, None).await?;
        self.hub
            .publish(&[user], Event::SessionEnded(Ending::AllBut(None)));
        Ok(())
    }
}
