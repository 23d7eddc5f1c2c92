//! Typing notices: relayed to the other members, never stored.

use natter_protocol::{ConversationId, ServerFrame, UserId};

use super::{Chat, ChatError};
use crate::hub::{Event, FrameKind};

impl Chat {
    /// Tells the other members of `conversation` that `user` is typing.
    pub async fn typing(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), ChatError> {
        let membership = self.member_of(user, conversation).await?;
        let others: Vec<UserId> = membership
            .user_ids()
            .into_iter()
            .filter(|member| *member != user)
            .collect();
        self.hub.publish(
            &others,
            Event::frame(
                conversation,
                FrameKind::Typing,
                &ServerFrame::Typing { conversation, user },
            ),
        );
        Ok(())
    }
}
