//! Message requests, Kik's "New Chats": a 1:1 conversation started by
//! someone the user never wrote to, or a group such a person added them
//! to, is a request until the user accepts it. Meanwhile the user's
//! receipts and typing reach nobody but their own devices (the requester
//! sees S only) and their cursors read as nothing to the others. Accepting
//! makes it an ordinary conversation (the receipts held back go out then)
//! and the requester a contact; deleting it (as any chat) takes the user
//! out of it.

use natter_protocol::{ConversationId, ConversationKind, ReceiptKind, ServerFrame, User, UserId};

use super::groups::GroupChange;
use super::pipeline::{Done, Work};
use super::{Chat, ChatError};
use crate::hub::{Event, FrameKind};
use crate::store::Membership;

/// Whether `user`'s seat in `membership` is a request.
pub fn is_request(membership: &Membership, user: UserId) -> bool {
    membership
        .seat(user)
        .is_some_and(|seat| seat.request_from.is_some())
}

impl Chat {
    /// `user` accepts the request `conversation` is (accepting an ordinary
    /// conversation changes nothing).
    pub async fn accept(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<natter_protocol::Conversation, ChatError> {
        let membership = self.member_of(user, conversation).await?;
        if is_request(&membership, user) {
            let ticket = self
                .pipeline
                .queue(Work::Accept { user, conversation })
                .await?;
            let membership = match ticket.await {
                Ok(Ok(Done::Accepted(membership))) => membership,
                Ok(Err(super::pipeline::PipelineError::Refused(err))) => return Err(err),
                _ => return Err(ChatError::internal(super::pipeline::Stopped)),
            };
            let accepted = self.conversation(user, conversation).await?;
            self.hub.publish(
                &[user],
                Event::frame(
                    conversation,
                    FrameKind::Conversation {
                        last_seq: accepted.last_seq,
                    },
                    &ServerFrame::Conversation {
                        conversation: accepted.clone(),
                    },
                ),
            );
            self.release_receipts(user, &membership, &accepted).await?;
            return Ok(accepted);
        }
        self.conversation(user, conversation).await
    }

    /// The receipts held back while it was a request, now that the others
    /// may see them.
    async fn release_receipts(
        &self,
        user: UserId,
        membership: &Membership,
        accepted: &natter_protocol::Conversation,
    ) -> Result<(), ChatError> {
        let Some(me) = accepted.members.iter().find(|m| m.user.id == user) else {
            return Ok(());
        };
        let apart = self.blocks.apart_from(user).await?;
        let others: Vec<UserId> = membership
            .user_ids()
            .into_iter()
            .filter(|other| *other != user && !apart.contains(other))
            .collect();
        for (kind, seq) in [
            (ReceiptKind::Delivered, me.delivered),
            (ReceiptKind::Read, me.read),
        ] {
            if seq == 0 {
                continue;
            }
            let frame = ServerFrame::Receipt {
                conversation: accepted.id,
                user,
                kind,
                seq,
            };
            self.hub.publish(
                &others,
                Event::frame(accepted.id, FrameKind::Receipt, &frame),
            );
        }
        Ok(())
    }

    /// `user` deletes `conversation` (a request, or any chat): they leave
    /// it (a group hears that they left) and their devices forget it. A
    /// 1:1 chat comes back, afresh, when the other person writes again.
    pub async fn delete_chat(
        &self,
        user: &User,
        conversation: ConversationId,
        now: natter_protocol::Millis,
    ) -> Result<(), ChatError> {
        let membership = self.member_of(user.id, conversation).await?;
        match membership.kind {
            ConversationKind::Direct => {
                self.store.leave_direct(user.id, conversation).await?;
                self.roster.changed(conversation);
            }
            ConversationKind::Group => {
                self.change_group(user, conversation, GroupChange::Remove(user.id), now)
                    .await?;
            }
        }
        self.hub.publish(
            &[user.id],
            Event::personal(&ServerFrame::Gone { conversation }),
        );
        Ok(())
    }
}
