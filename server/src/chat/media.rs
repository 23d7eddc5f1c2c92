//! Who may upload files to a conversation and fetch them: its members,
//! within a daily allowance; and collecting uploads no message took. The
//! bytes themselves stream through `http::media`.

use natter_protocol::{ConversationId, Millis, UserId};

use super::{Chat, ChatError};

/// A day: the upload allowance's window, and how long an upload may wait
/// for its message.
const DAY_MILLIS: Millis = 24 * 3600 * 1000;
use crate::media;
use crate::store::MediaRecord;

impl Chat {
    /// Refuses an upload to a conversation `user` is not in, or past their
    /// day's allowance, before any byte is stored. Returns how many bytes
    /// of the allowance are left.
    pub async fn may_upload(
        &self,
        user: UserId,
        conversation: ConversationId,
        now: Millis,
    ) -> Result<u64, ChatError> {
        self.member_of(user, conversation).await?;
        let used = self.store.uploaded_since(user, now - DAY_MILLIS).await?;
        match self.upload_quota.checked_sub(used) {
            Some(left) if left > 0 => Ok(left),
            _ => Err(ChatError::QuotaExceeded {
                limit_bytes: self.upload_quota,
            }),
        }
    }

    /// Deletes uploads no message took within a day, and their files.
    pub async fn collect_unattached(&self, now: Millis) -> Result<usize, ChatError> {
        let ids = self.store.take_unattached(now - DAY_MILLIS).await?;
        for id in &ids {
            if let Err(err) = self.media.remove(id).await {
                tracing::warn!(error = %err, media = %id, "deleting an unattached upload failed");
            }
        }
        Ok(ids.len())
    }

    /// Records a stored upload; from now on it may be attached to a
    /// message in its conversation.
    pub async fn uploaded(&self, record: &MediaRecord, now: Millis) -> Result<(), ChatError> {
        Ok(self.store.add_media(record, now).await?)
    }

    /// The file `id`, for a member of its conversation who reads its
    /// message (a member added later does not read earlier files); to
    /// anyone else it does not exist, so that ids cannot be probed.
    pub async fn media_for(&self, user: UserId, id: &str) -> Result<MediaRecord, ChatError> {
        if !media::is_valid_id(id) {
            return Err(ChatError::NoSuchFile);
        }
        let record = self.store.media(id).await?.ok_or(ChatError::NoSuchFile)?;
        let membership = match self.member_of(user, record.conversation).await {
            Ok(membership) => membership,
            Err(ChatError::NotAMember) => return Err(ChatError::NoSuchFile),
            Err(err) => return Err(err),
        };
        let from = membership.reader(user).map_or(0, |reader| reader.from);
        match record.message_seq {
            Some(seq) if seq <= from => Err(ChatError::NoSuchFile),
            _ => Ok(record),
        }
    }
}
