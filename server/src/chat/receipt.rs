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
        self.member_of(user, conversation).await?;
        let apart = self.blocks.apart_from(user).await?;
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
