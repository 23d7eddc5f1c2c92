//! Typing notices: relayed to the other members (but for those who block
//! the typist or are blocked by them), never stored.

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
        // Nobody hears someone typing in a request they have not accepted.
        if super::requests::is_request(&membership, user) {
            return Ok(());
        }
        let apart = self.blocks.apart_from(user).await?;
        let others: Vec<UserId> = membership
            .user_ids()
            .into_iter()
            .filter(|member| *member != user && !apart.contains(member))
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
