//! Finding people by username, and starting (or reopening) the 1:1
//! conversation with one of them. Both people's devices hear of a new
//! conversation at once, unless the other blocks the one who started it;
//! for someone who never wrote to its starter it is a message request (see
//! [`super::requests`]).

use natter_protocol::{limits, Conversation, ServerFrame, User, UserId};

use super::{Chat, ChatError};
use crate::hub::{Event, FrameKind};

impl Chat {
    /// The user called `username` (any case), unless deleted or suspended.
    pub async fn find_user(&self, username: &str) -> Result<User, ChatError> {
        limits::check_username(username)?;
        let missing = || ChatError::NoSuchUsername(username.to_owned());
        let user = self
            .store
            .user_by_name(username)
            .await?
            .ok_or_else(missing)?;
        // A deleted or suspended account cannot be found.
        if user.deleted || self.store.is_suspended(user.id).await? {
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
        // A chat from someone the other never wrote to is a request.
        let request = !self.store.knows(other.id, me).await?;
        let (conversation, created) = self.store.open_direct(me, other.id, request, now).await?;
        if !created {
            // Opening a chat one was asked into accepts it.
            let mine = conversation.members.iter().find(|m| m.user.id == me);
            if mine.is_some_and(|m| m.pending) {
                return Ok((self.accept(me, conversation.id).await?, false));
            }
            return Ok((conversation, false));
        }
        // A seat given back changed a membership that may be cached.
        self.roster.changed(conversation.id);
        self.introduce(me, &conversation);
        // Someone who blocks `me` does not hear of it.
        if !self.blocks.blocks(other.id, me).await? {
            let theirs = self.conversation(other.id, conversation.id).await?;
            self.introduce(other.id, &theirs);
        }
        Ok((conversation, true))
    }

    /// Tells `user`'s devices of `conversation`, as they read it.
    fn introduce(&self, user: UserId, conversation: &Conversation) {
        let frame = ServerFrame::Conversation {
            conversation: conversation.clone(),
        };
        let kind = FrameKind::Conversation {
            last_seq: conversation.last_seq,
        };
        self.hub
            .publish(&[user], Event::frame(conversation.id, kind, &frame));
    }
}
