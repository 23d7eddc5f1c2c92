//! What a commit answers, decided the same way by every backend: the
//! message a write stored, the original for a repeated client id, and how
//! far a receipt moves its cursors.

use natter_protocol::{ConversationId, GroupEvent, Message, Millis, ReceiptKind, Seq};
use uuid::Uuid;

use super::{Appended, NewMessage, StoreError};

/// `new` as stored under `seq`.
pub fn stored(new: &NewMessage, seq: Seq) -> Message {
    Message {
        conversation: new.conversation,
        seq,
        client_id: new.client_id,
        sender: new.sender,
        body: new.body.clone(),
        sent_at: new.sent_at,
        attachment: new.attachment.clone(),
        event: None,
        reply_to: new.reply_to,
        action: new.action.clone(),
        edited_at: None,
        deleted: false,
        link_preview: new.link_preview.clone(),
        reactions: Vec::new(),
    }
}

/// The message recording a group's `event`, stored under `seq`.
pub fn event(
    conversation: ConversationId,
    seq: Seq,
    client_id: Uuid,
    event: GroupEvent,
    now: Millis,
) -> Message {
    Message {
        conversation,
        seq,
        client_id,
        sender: event.by.id,
        body: String::new(),
        sent_at: now,
        attachment: None,
        event: Some(event),
        reply_to: None,
        action: None,
        edited_at: None,
        deleted: false,
        link_preview: None,
        reactions: Vec::new(),
    }
}

/// The original answer to a client id used before: the message it
/// stored, unless that was in another conversation.
pub fn repeated(existing: Message, new: &NewMessage) -> Result<Appended, StoreError> {
    if existing.conversation == new.conversation {
        Ok(Appended {
            message: existing,
            fresh: false,
            removed_media: None,
        })
    } else {
        Err(StoreError::ClientIdReused(new.client_id))
    }
}

/// Receipt cursors as they stand, and where a receipt moves them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursors {
    pub delivered: Seq,
    pub read: Seq,
}

impl Cursors {
    /// Moves the cursors forward (never back), each clamped to `last`, the
    /// conversation's last seq; returns the ones that moved.
    pub fn advance(
        &mut self,
        delivered: Option<Seq>,
        read: Option<Seq>,
        last: Seq,
    ) -> Vec<(ReceiptKind, Seq)> {
        let mut moved = Vec::new();
        if let Some(seq) = delivered.map(|seq| seq.min(last)) {
            if seq > self.delivered {
                self.delivered = seq;
                moved.push((ReceiptKind::Delivered, seq));
            }
        }
        if let Some(seq) = read.map(|seq| seq.min(last)) {
            if seq > self.read {
                self.read = seq;
                moved.push((ReceiptKind::Read, seq));
            }
        }
        moved
    }
}
