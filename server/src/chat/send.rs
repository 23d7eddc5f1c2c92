//! Sending: a message, a photo, video or voice message, a reply, or an
//! action on an earlier message (a reaction, an edit, a deletion).
//!
//! Validate (the shared limits; the file is the sender's upload to this
//! conversation; only the sender edits, and the sender or a group's admin
//! deletes; blocks, see [`super::blocking`]) → queue for the
//! pipeline, which checks [`may_send`] on the membership it commits on and
//! publishes in commit order → clean up (a deleted message's file goes).
//! A send whose client id was stored before answers with the original,
//! even if the sender could no longer send it now.

use std::sync::Arc;

use natter_protocol::{
    limits, Action, Attachment, ConversationId, ConversationKind, LinkPreview, Millis, Role, Seq,
    UserId,
};
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
    pub link_preview: Option<Box<LinkPreview>>,
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

/// Deletes the files of uploads whose records a commit removed (they are
/// no longer served either way), in the background.
pub fn remove_files(ids: &[String], media: &Arc<dyn MediaStorage>) {
    if ids.is_empty() {
        return;
    }
    let ids = ids.to_vec();
    let media = media.clone();
    tokio::spawn(async move {
        for id in ids {
            if let Err(err) = media.remove(&id).await {
                tracing::warn!(error = %err, media = %id, "deleting a media file failed");
            }
        }
    });
}

/// After a commit: a deleted message's file goes too, and the store lets
/// go of any copy of what was deleted (SQLite: the old pages in its log).
pub fn clean_up(appended: &Appended, media: &Arc<dyn MediaStorage>, store: &Arc<dyn Store>) {
    remove_files(appended.removed_media.as_slice(), media);
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
        if let Some(preview) = &draft.link_preview {
            if draft.action.is_some() {
                return Err(limits::Invalid::ActionShape.into());
            }
            limits::check_link_preview(&draft.body, preview)?;
        }
        // Writing in a request accepts it; writing to someone who deleted
        // the chat brings it back to them. Both are rare: boxed, so that
        // every connection's state stays small.
        let mut membership = self.member_of(sender, draft.conversation).await;
        if let Ok(seen) = &membership {
            let accepting = super::requests::is_request(seen, sender);
            let reseating = seen.kind == ConversationKind::Direct && seen.seats.len() < 2;
            if accepting {
                Box::pin(self.accept(sender, draft.conversation)).await?;
            }
            if reseating {
                Box::pin(self.reseat(sender, draft.conversation, now)).await?;
            }
            if accepting || reseating {
                membership = self.member_of(sender, draft.conversation).await;
            }
        }
        let checked = match membership {
            Ok(membership) => self.check(sender, &draft, &membership).await,
            Err(err) => Err(err),
        };
        let withheld_from = match checked {
            Ok(withheld_from) => withheld_from,
            Err(refused) => {
                return match self.stored_before(sender, draft.client_id).await? {
                    Some(sent) if sent.conversation == draft.conversation => {
                        Ok(Committed::ready(Ok(sent)))
                    }
                    Some(_) => Err(ChatError::ClientIdReused),
                    None => Err(refused),
                };
            }
        };
        let message = NewMessage {
            sender,
            conversation: draft.conversation,
            client_id: draft.client_id,
            body: draft.body,
            attachment: draft.attachment,
            reply_to: draft.reply_to,
            action: draft.action,
            link_preview: draft.link_preview,
            sent_at: now,
            withheld_from,
        };
        let ticket = self.pipeline.queue(Work::Send { message, origin }).await?;
        Ok(Committed::waiting(ticket, sent))
    }

    /// The rules a send must pass before it is queued; returns whom the
    /// message is withheld from (in a 1:1, the other person if they block
    /// the sender).
    async fn check(
        &self,
        sender: UserId,
        draft: &Draft,
        membership: &Membership,
    ) -> Result<Option<UserId>, ChatError> {
        if !may_send(membership, sender) {
            return Err(ChatError::NotAMember);
        }
        let mut withheld_from = None;
        if membership.kind == ConversationKind::Direct {
            let blocks = self.blocks.of(sender).await?;
            let peer = membership.seats.iter().find(|seat| seat.user != sender);
            if peer.is_some_and(|seat| seat.ended) {
                return Err(ChatError::AccountEnded);
            }
            if let Some(peer) = peer.map(|seat| seat.user) {
                // Deleting one's own message is always allowed: it only
                // takes something away.
                let deleting = matches!(draft.action, Some(Action::Delete { .. }));
                if blocks.blocking.contains(&peer) && !deleting {
                    return Err(ChatError::YouBlocked);
                }
                if blocks.blocked_by.contains(&peer) {
                    withheld_from = Some(peer);
                }
            }
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
            let moderating = matches!(action, Action::Delete { .. })
                && membership.seat(sender).map(|seat| seat.role) == Some(Role::Admin)
                && membership.kind == ConversationKind::Group;
            if target.is_some_and(|target| target.sender != sender) && !moderating {
                return Err(ChatError::NotYours);
            }
        }
        Ok(withheld_from)
    }

    /// Gives the other person of a 1:1 chat they deleted their seat back
    /// (as a request, unless they know the sender), unless their account
    /// ended.
    async fn reseat(
        &self,
        sender: UserId,
        conversation: ConversationId,
        now: Millis,
    ) -> Result<(), ChatError> {
        let Some((low, high)) = self.store.direct_pair(conversation).await? else {
            return Ok(());
        };
        let other = if low == sender { high } else { low };
        match self.store.user(other).await? {
            Some(user) if !user.deleted => {
                Box::pin(self.open_direct(sender, &user.username, now)).await?;
            }
            _ => {}
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
