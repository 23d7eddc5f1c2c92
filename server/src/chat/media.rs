//! Who may upload files to a conversation and fetch them: its members.
//! The bytes themselves stream through `http::media`.

use natter_protocol::{ConversationId, Millis, UserId};

use super::{Chat, ChatError};
use crate::media;
use crate::store::MediaRecord;

impl Chat {
    /// Refuses an upload to a conversation `user` is not in, before any
    /// byte is stored.
    pub async fn may_upload(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), ChatError> {
        self.member_of(user, conversation).await.map(|_| ())
    }

    /// Records a stored upload; from now on it may be attached to a
    /// message in its conversation.
    pub async fn uploaded(&self, record: &MediaRecord, now: Millis) -> Result<(), ChatError> {
        Ok(self.store.add_media(record, now).await?)
    }

    /// The file `id`, for a member of its conversation; to anyone else it
    /// does not exist, so that ids cannot be probed.
    pub async fn media_for(&self, user: UserId, id: &str) -> Result<MediaRecord, ChatError> {
        if !media::is_valid_id(id) {
            return Err(ChatError::NoSuchFile);
        }
        let record = self.store.media(id).await?.ok_or(ChatError::NoSuchFile)?;
        match self.member_of(user, record.conversation).await {
            Ok(_) => Ok(record),
            Err(ChatError::NotAMember) => Err(ChatError::NoSuchFile),
            Err(err) => Err(err),
        }
    }
}
