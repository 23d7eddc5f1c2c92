//! Which arriving messages are worth telling the user about when they are
//! not looking: the newest new message from someone else in each
//! conversation they have not muted (or that mentions them in a group),
//! from someone they do not block. How it is told (a system notification,
//! the tab's title) is the UI's business.

use natter_protocol::{ConversationId, ConversationKind, Millis, ReceiptKind, Seq, ServerFrame};

use super::{mentions, ChatState};

/// A conversation with a message the user has not seen: its newest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice {
    pub conversation: ConversationId,
    pub seq: Seq,
}

impl ChatState {
    /// The notices for `frames`, once they are applied: per conversation,
    /// the newest message in them that someone else (not blocked) sent and
    /// the user has not read (actions, group events and deleted messages
    /// say nothing),
    /// unless the user muted the conversation at `now` — where a message
    /// that mentions them in a group still counts.
    pub fn notices(&self, frames: &[ServerFrame], now: Millis) -> Vec<Notice> {
        let me = self.me.id;
        let mut notices: Vec<Notice> = Vec::new();
        for frame in frames {
            let ServerFrame::Message { message } = frame else {
                continue;
            };
            let Some(conversation) = self.conversations.get(&message.conversation) else {
                continue;
            };
            // A blocked person's messages in a shared group are folded
            // in the app; a notification must not show them either.
            let worth_it = message.sender != me
                && !self.blocks(message.sender)
                && message.is_visible_message()
                && !message.deleted
                && message.seq > conversation.member_cursor(me, ReceiptKind::Read);
            if !worth_it {
                continue;
            }
            let muted = self.is_muted(message.conversation, now);
            let mentioned = conversation.info.kind == ConversationKind::Group
                && mentions::mentions(&message.body, &self.me.username);
            if muted && !mentioned {
                continue;
            }
            let notice = Notice {
                conversation: message.conversation,
                seq: message.seq,
            };
            match notices
                .iter_mut()
                .find(|n| n.conversation == notice.conversation)
            {
                Some(known) => known.seq = known.seq.max(notice.seq),
                None => notices.push(notice),
            }
        }
        notices
    }
}
