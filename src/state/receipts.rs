//! The receipts this device owes: what `hello` says it has, delivery
//! receipts for what it holds, read receipts for what is on screen, each
//! sent once per connection.

use natter_protocol::{ClientFrame, ConversationId, Cursor, ReceiptKind, Seq};

use super::ChatState;

impl ChatState {
    /// What `hello` should say this device has: per conversation, the newest
    /// loaded message, or the newest seq known when none is loaded (history
    /// is then read over HTTP when the conversation opens).
    pub fn cursors(&self) -> Vec<Cursor> {
        let mut cursors: Vec<Cursor> = self
            .conversations
            .values()
            .map(|state| Cursor {
                conversation: state.info.id,
                seq: state
                    .messages
                    .keys()
                    .next_back()
                    .copied()
                    .unwrap_or(state.info.last_seq),
            })
            .collect();
        cursors.sort_by_key(|cursor| cursor.conversation);
        cursors
    }

    /// The highest seq from others in `conversation` that this device holds
    /// beyond what it has reported as delivered.
    pub fn undelivered(&self, conversation: ConversationId) -> Option<Seq> {
        let state = self.conversations.get(&conversation)?;
        if !state.includes(self.me.id) {
            return None;
        }
        let newest = state.info.last_seq;
        (newest > state.member_cursor(self.me.id, ReceiptKind::Delivered)).then_some(newest)
    }

    /// The seq up to which `conversation` should be marked read, if reading
    /// it now moves the user's read cursor.
    pub fn unread_up_to(&self, conversation: ConversationId) -> Option<Seq> {
        let state = self.conversations.get(&conversation)?;
        (state.unread(self.me.id) > 0).then_some(state.info.last_seq)
    }

    fn unreported(&self, conversation: ConversationId, kind: ReceiptKind, seq: Seq) -> bool {
        self.reported
            .get(&(conversation, kind))
            .is_none_or(|reported| *reported < seq)
    }

    /// Delivery receipts for everything received since the last ones, once
    /// the replay is over.
    pub fn take_delivery_receipts(&mut self) -> Vec<ClientFrame> {
        if !self.synced {
            return Vec::new();
        }
        let mut ids: Vec<_> = self.conversations.keys().copied().collect();
        ids.sort_unstable();
        let mut receipts = Vec::new();
        for conversation in ids {
            if let Some(seq) = self.undelivered(conversation) {
                if self.unreported(conversation, ReceiptKind::Delivered, seq) {
                    self.reported
                        .insert((conversation, ReceiptKind::Delivered), seq);
                    receipts.push(ClientFrame::Receipt {
                        conversation,
                        kind: ReceiptKind::Delivered,
                        seq,
                    });
                }
            }
        }
        receipts
    }

    /// Whether putting `conversation` on screen now would move the read
    /// cursor (and a read receipt has not already been sent for it).
    pub fn wants_read_receipt(&self, conversation: ConversationId) -> bool {
        self.unread_up_to(conversation)
            .is_some_and(|seq| self.unreported(conversation, ReceiptKind::Read, seq))
    }

    /// The read receipt for `conversation`, on screen now.
    pub fn take_read_receipt(&mut self, conversation: ConversationId) -> Option<ClientFrame> {
        let seq = self.unread_up_to(conversation)?;
        if !self.unreported(conversation, ReceiptKind::Read, seq) {
            return None;
        }
        self.reported.insert((conversation, ReceiptKind::Read), seq);
        Some(ClientFrame::Receipt {
            conversation,
            kind: ReceiptKind::Read,
            seq,
        })
    }
}
