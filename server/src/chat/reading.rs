//! What a member may read: their conversations, one conversation, its
//! history. Outsiders see nothing, as if it did not exist.

use natter_protocol::{limits, Conversation, ConversationId, Message, Seq, UserId};

use super::{Chat, ChatError};

impl Chat {
    /// Every conversation of `user`, latest activity first.
    pub async fn conversations(&self, user: UserId) -> Result<Vec<Conversation>, ChatError> {
        let mut conversations = self.store.conversations_of(user).await?;
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
        self.member_of(user, id).await?;
        self.store
            .conversation(id)
            .await?
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
        self.member_of(user, id).await?;
        let limit = limit.unwrap_or(50).clamp(1, limits::MAX_PAGE);
        let before = before.unwrap_or(Seq::MAX >> 1);
        Ok(self.store.messages_before(id, before, limit).await?)
    }

    /// Messages after `after`, for a device catching up.
    pub async fn replay(
        &self,
        user: UserId,
        id: ConversationId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, ChatError> {
        self.member_of(user, id).await?;
        Ok(self.store.messages_after(id, after, limit).await?)
    }
}
