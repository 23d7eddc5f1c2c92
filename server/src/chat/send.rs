//! Sending: a message, a photo, video or voice message, a reply, or an
//! action on an earlier message (a reaction, an edit, a deletion).
//!
//! Validate (the shared limits; the file is the sender's upload to this
//! conversation; only the sender edits or deletes) → queue for the
//! pipeline, which checks [`may_send`] on the membership it commits on and
//! publishes in commit order → clean up (a deleted message's file goes).
//! A send whose client id was stored before answers with the original,
//! even if the sender could no longer send it now.

use std::sync::Arc;

use natter_protocol::{limits, Action, Attachment, ConversationId, Millis, Seq, UserId};
use uuid::Uuid;

use super::pipeline::{Committed, Done, Work};
use super::{Chat, ChatError};
use crate::hub::DeviceId;
use crate::media::MediaStorage;
use crate::store::{Appended, Membership, NewMessage, Store};

/// Who may send to a conversation: its members. The one place this is
/// decided; the pipeline asks it again on the membership each message is
/// committed on.
pub fn may_send(membership: &Membership, sender: UserId) -> bool {
    membership.includes(sender)
}

/// What a `send` frame asks for.
#[derive(Debug, Clone)]
pub struct Draft {
    pub conversation: ConversationId,
    pub client_id: Uuid,
    pub body: String,
    pub attachment: Option<Attachment>,
    pub reply_to: Option<Seq>,
    pub action: Option<Action>,
}

/// A stored message, as the ack tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub conversation: ConversationId,
    pub seq: Seq,
    pub sent_at: Millis,
}

impl Sent {
    pub fn of(message: &natter_protocol::Message) -> Self {
        Sent {
            conversation: message.conversation,
            seq: message.seq,
            sent_at: message.sent_at,
        }
    }
}

/// After a commit: a deleted message's file goes too (its record went with
/// the deletion, so it is no longer served either way), and the store lets
/// go of any copy of what was deleted (SQLite: the old pages in its log).
pub fn clean_up(appended: &Appended, media: &Arc<dyn MediaStorage>, store: &Arc<dyn Store>) {
    if let Some(id) = appended.removed_media.clone() {
        let media = media.clone();
        tokio::spawn(async move {
            if let Err(err) = media.remove(&id).await {
                tracing::warn!(error = %err, media = %id, "deleting a media file failed");
            }
        });
    }
    let deleted = matches!(appended.message.action, Some(Action::Delete { .. }));
    if appended.fresh && deleted {
        let store = store.clone();
        tokio::spawn(async move {
            if let Err(err) = store.forget_deleted().await {
                tracing::warn!(error = %err, "erasing deleted data from the log failed");
            }
        });
    }
}

fn sent(done: Done) -> Result<Sent, ChatError> {
    match done {
        Done::Sent(sent) => Ok(sent),
        _ => Err(ChatError::internal(super::pipeline::Stopped)),
    }
}

impl Chat {
    /// Checks `draft` and queues it. The returned future resolves once it
    /// is durably stored (or refused); those of one caller resolve in the
    /// order they were queued.
    pub async fn send(
        &self,
        sender: UserId,
        origin: Option<DeviceId>,
        draft: Draft,
        now: Millis,
    ) -> Result<Committed<Sent>, ChatError> {
        limits::check_message(
            &draft.body,
            draft.attachment.as_ref(),
            draft.action.as_ref(),
        )?;
        if let Err(refused) = self.check(sender, &draft).await {
            return match self.stored_before(sender, draft.client_id).await? {
                Some(sent) if sent.conversation == draft.conversation => {
                    Ok(Committed::ready(Ok(sent)))
                }
                Some(_) => Err(ChatError::ClientIdReused),
                None => Err(refused),
            };
        }
        let message = NewMessage {
            sender,
            conversation: draft.conversation,
            client_id: draft.client_id,
            body: draft.body,
            attachment: draft.attachment,
            reply_to: draft.reply_to,
            action: draft.action,
            sent_at: now,
        };
        let ticket = self.pipeline.queue(Work::Send { message, origin }).await?;
        Ok(Committed::waiting(ticket, sent))
    }

    /// The rules a send must pass before it is queued.
    async fn check(&self, sender: UserId, draft: &Draft) -> Result<(), ChatError> {
        let membership = self.member_of(sender, draft.conversation).await?;
        if !may_send(&membership, sender) {
            return Err(ChatError::NotAMember);
        }
        if let Some(attachment) = &draft.attachment {
            let upload = self.store.media(&attachment.id).await?;
            let matches = upload.is_some_and(|upload| {
                upload.uploader == sender
                    && upload.conversation == draft.conversation
                    && upload.kind == attachment.kind
                    && upload.content_type == attachment.content_type
                    && upload.size == attachment.size
            });
            if !matches {
                return Err(ChatError::BadAttachment);
            }
        }
        if let Some(action @ (Action::Edit { .. } | Action::Delete { .. })) = &draft.action {
            // A message's sender never changes, so this holds at commit; that
            // the target is still there is checked then.
            let target = self
                .store
                .message(draft.conversation, action.target())
                .await?;
            if target.is_some_and(|target| target.sender != sender) {
                return Err(ChatError::NotYours);
            }
        }
        Ok(())
    }

    /// The ack of a message stored under this client id before, if any.
    async fn stored_before(
        &self,
        sender: UserId,
        client_id: Uuid,
    ) -> Result<Option<Sent>, ChatError> {
        Ok(self
            .store
            .message_by_client_id(sender, client_id)
            .await?
            .map(|message| Sent {
                conversation: message.conversation,
                seq: message.seq,
                sent_at: message.sent_at,
            }))
    }
}
