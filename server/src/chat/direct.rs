//! Finding people by username, and starting (or reopening) the 1:1
//! conversation with one of them. Both people's devices hear of a new
//! conversation at once, unless the other blocks the one who started it.

use natter_protocol::{limits, Conversation, ServerFrame, User, UserId};

use super::{Chat, ChatError};
use crate::hub::{Event, FrameKind};

impl Chat {
    /// The user called `username` (any case), unless suspended.
    pub async fn find_user(&self, username: &str) -> Result<User, ChatError> {
        limits::check_username(username)?;
        let missing = || ChatError::NoSuchUsername(username.to_owned());
        let user = self
            .store
            .user_by_name(username)
            .await?
            .ok_or_else(missing)?;
        // A suspended account cannot be found.
        if self.store.is_suspended(user.id).await? {
            return Err(missing());
        }
        Ok(user)
    }

    /// The 1:1 conversation of `me` with `username`; the flag tells whether
    /// it was started now.
    pub async fn open_direct(
        &self,
        me: UserId,
        username: &str,
        now: natter_protocol::Millis,
    ) -> Result<(Conversation, bool), ChatError> {
        let other = self.find_user(username).await?;
        if other.id == me {
            return Err(ChatError::Yourself);
        }
        let (conversation, created) = self.store.open_direct(me, other.id, now).await?;
        if created {
            let frame = ServerFrame::Conversation {
                conversation: conversation.clone(),
            };
            // Someone who blocks `me` does not hear of it.
            let audience = if self.blocks.blocks(other.id, me).await? {
                vec![me]
            } else {
                vec![me, other.id]
            };
            self.hub.publish(
                &audience,
                Event::frame(
                    conversation.id,
                    FrameKind::Conversation {
                        last_seq: conversation.last_seq,
                    },
                    &frame,
                ),
            );
        }
        Ok((conversation, created))
    }
}
