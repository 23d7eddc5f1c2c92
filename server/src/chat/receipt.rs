//! Receipts: a member's device has stored (delivered) or shown (read) the
//! messages up to a seq. Cursors only move forward; the members hear of
//! each move, but for those who block the reader or are blocked by them.

use natter_protocol::{ConversationId, ReceiptKind, Seq, UserId};

use super::pipeline::{Committed, Done, Work};
use super::{Chat, ChatError};

impl Chat {
    /// Queues the receipt; the returned future resolves once it is stored.
    pub async fn receipt(
        &self,
        user: UserId,
        conversation: ConversationId,
        kind: ReceiptKind,
        seq: Seq,
    ) -> Result<Committed<()>, ChatError> {
        let membership = self.member_of(user, conversation).await?;
        // A request's receipts reach only the user's own devices, until
        // accepted.
        let apart = if super::requests::is_request(&membership, user) {
            membership
                .user_ids()
                .into_iter()
                .filter(|other| *other != user)
                .collect()
        } else {
            self.blocks.apart_from(user).await?
        };
        let ticket = self
            .pipeline
            .queue(Work::Receipt {
                user,
                conversation,
                kind,
                seq,
                apart,
            })
            .await?;
        Ok(Committed::waiting(ticket, |_: Done| Ok(())))
    }
}
