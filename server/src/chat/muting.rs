//! Muting a conversation: its notifications stop on all of a member's
//! devices, for a while or until unmuted. The devices apply it (they read
//! the text, so they also know when a muted group mentions the person,
//! which still notifies); the server keeps it, so that every device and
//! its pushes agree.

use natter_protocol::{ConversationId, Millis, Mute, ServerFrame, UserId, MAX_MUTE_MS};

use super::{Chat, ChatError};
use crate::hub::Event;

impl Chat {
    /// Mutes `conversation` for `user` for `length` milliseconds from
    /// `now` (`None`: until unmuted); answers their mutes now.
    pub async fn mute(
        &self,
        user: UserId,
        conversation: ConversationId,
        length: Option<u64>,
        now: Millis,
    ) -> Result<Vec<Mute>, ChatError> {
        let until = match length {
            None => None,
            Some(length @ 1..=MAX_MUTE_MS) => Some(now + length as Millis),
            Some(_) => return Err(ChatError::BadMuteLength),
        };
        if !self.store.mute(user, conversation, until).await? {
            return Err(ChatError::NotAMember);
        }
        self.mutes_changed(user, now).await
    }

    /// Unmutes `conversation` for `user` (muted or not); answers their
    /// mutes now.
    pub async fn unmute(
        &self,
        user: UserId,
        conversation: ConversationId,
        now: Millis,
    ) -> Result<Vec<Mute>, ChatError> {
        self.store.unmute(user, conversation).await?;
        self.mutes_changed(user, now).await
    }

    /// The conversations `user` has muted, as of `now`.
    pub async fn mutes(&self, user: UserId, now: Millis) -> Result<Vec<Mute>, ChatError> {
        Ok(self.store.mutes(user, now).await?)
    }

    async fn mutes_changed(&self, user: UserId, now: Millis) -> Result<Vec<Mute>, ChatError> {
        let mutes = self.store.mutes(user, now).await?;
        let frame = ServerFrame::Mutes {
            mutes: mutes.clone(),
        };
        self.hub.publish(&[user], Event::personal(&frame));
        Ok(mutes)
    }
}
