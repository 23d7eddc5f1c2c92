//! What a member may read: their conversations, one conversation, its
//! history. Outsiders see nothing, as if it did not exist. A member added
//! to a group reads it from when they joined; messages withheld from a
//! member (see [`super::blocking`]) are not theirs to read.

use natter_protocol::{
    limits, Conversation, ConversationId, ConversationKind, Message, Seq, UserId,
};

use super::{Chat, ChatError};
use crate::store::Reader;

/// A member who has not accepted the conversation has, as far as the
/// others can tell, received and read nothing of it; that they have not
/// accepted is their own business too.
pub(super) fn hold_back_requests(conversation: &mut Conversation, viewer: UserId) {
    for member in &mut conversation.members {
        if member.pending && member.user.id != viewer {
            member.delivered = 0;
            member.read = 0;
            member.pending = false;
        }
    }
}

impl Chat {
    /// Every conversation of `user`, latest activity first. A 1:1
    /// conversation that someone they block started, and in which nothing
    /// reached them, is not listed.
    pub async fn conversations(&self, user: UserId) -> Result<Vec<Conversation>, ChatError> {
        let blocking = self.blocks.of(user).await?.blocking.clone();
        let mut conversations = self.store.conversations_of(user).await?;
        conversations.retain(|c| {
            let unwanted = c.kind == ConversationKind::Direct
                && c.last_message.is_none()
                && c.members.iter().any(|m| blocking.contains(&m.user.id));
            !unwanted
        });
        for conversation in &mut conversations {
            hold_back_requests(conversation, user);
        }
        conversations.sort_by_key(|c| {
            std::cmp::Reverse(
                c.last_message
                    .as_ref()
                    .map_or(c.created_at, |message| message.sent_at),
            )
        });
        Ok(conversations)
    }

    pub async fn conversation(
        &self,
        user: UserId,
        id: ConversationId,
    ) -> Result<Conversation, ChatError> {
        let reader = self.reader(user, id).await?;
        let mut conversation = self
            .store
            .conversation(id, reader)
            .await?
            .ok_or(ChatError::NotAMember)?;
        hold_back_requests(&mut conversation, user);
        Ok(conversation)
    }

    /// How `user` reads conversation `id`, if they are in it.
    async fn reader(&self, user: UserId, id: ConversationId) -> Result<Reader, ChatError> {
        self.member_of(user, id)
            .await?
            .reader(user)
            .ok_or(ChatError::NotAMember)
    }

    /// Up to `limit` messages (at most [`limits::MAX_PAGE`]) before
    /// `before`, or the newest, oldest first.
    pub async fn history(
        &self,
        user: UserId,
        id: ConversationId,
        before: Option<Seq>,
        limit: Option<u32>,
    ) -> Result<Vec<Message>, ChatError> {
        let reader = self.reader(user, id).await?;
        let limit = limit.unwrap_or(50).clamp(1, limits::MAX_PAGE);
        let before = before.unwrap_or(Seq::MAX >> 1);
        Ok(self
            .store
            .messages_before(id, before, limit, reader)
            .await?)
    }

    /// Messages after `after`, for a device catching up.
    pub async fn replay(
        &self,
        user: UserId,
        id: ConversationId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, ChatError> {
        let reader = self.reader(user, id).await?;
        Ok(self.store.messages_after(id, after, limit, reader).await?)
    }
}
