//! The profile (display name and avatar) that contacts see.

use natter_protocol::{limits, ProfileUpdate, ServerFrame, User, UserId};

use super::{Chat, ChatError};
use crate::hub::{Event, FrameKind};

impl Chat {
    /// Sets the display name and avatar. Everyone who shares a
    /// conversation with the user hears of it: their conversations are
    /// sent again, with the new profile in the member list.
    pub async fn update_profile(
        &self,
        user: UserId,
        update: ProfileUpdate,
    ) -> Result<User, ChatError> {
        let display_name = match update.display_name.as_deref() {
            Some(name) => limits::check_display_name(name)?,
            None => None,
        };
        let avatar = update.avatar.filter(|avatar| !avatar.is_empty());
        if let Some(avatar) = &avatar {
            limits::check_group_picture(avatar)?;
        }
        let user = self
            .store
            .update_profile(user, display_name, avatar)
            .await?;
        for conversation in self.store.conversations_of(user.id).await? {
            let members: Vec<_> = conversation.members.iter().map(|m| m.user.id).collect();
            let event = Event::frame(
                conversation.id,
                FrameKind::Conversation {
                    last_seq: conversation.last_seq,
                },
                &ServerFrame::Conversation { conversation },
            );
            self.hub.publish(&members, event);
        }
        Ok(user)
    }
}
