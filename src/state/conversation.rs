//! One conversation as this device knows it: its members and their
//! receipt cursors, and the loaded window of its history.

use std::collections::BTreeMap;

use natter_protocol::{
    Conversation, ConversationKind, Message, Millis, ReceiptKind, Role, Seq, User, UserId,
};

use super::{mentions, receipt, Receipt};

/// One conversation as this device knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationState {
    /// Members with their receipt cursors, the newest message and seq.
    pub info: Conversation,
    /// The loaded part of the history: a window ending at the newest message.
    pub messages: BTreeMap<Seq, Message>,
    /// True once history has been loaded back to seq 1.
    pub history_complete: bool,
}

impl ConversationState {
    pub(super) fn new(info: Conversation) -> Self {
        ConversationState {
            info,
            messages: BTreeMap::new(),
            history_complete: false,
        }
    }

    /// The other party of a 1:1 conversation.
    pub fn peer(&self, me: UserId) -> Option<&User> {
        if self.is_group() {
            return None;
        }
        self.info
            .members
            .iter()
            .map(|member| &member.user)
            .find(|user| user.id != me)
    }

    /// Whether this is a message request to `me`, not yet accepted.
    pub fn is_request(&self, me: UserId) -> bool {
        self.info
            .members
            .iter()
            .any(|member| member.user.id == me && member.pending)
    }

    pub fn is_group(&self) -> bool {
        self.info.kind == ConversationKind::Group
    }

    /// Display name: the group's name, or the other party's username.
    pub fn title(&self, me: UserId) -> String {
        if let Some(group) = &self.info.group {
            return group.name.clone();
        }
        self.peer(me)
            .map(|user| user.shown_name().to_owned())
            .unwrap_or_else(|| "Just you".to_owned())
    }

    /// The group's picture, or the other party's avatar.
    pub fn picture(&self, me: UserId) -> Option<String> {
        match &self.info.group {
            Some(group) => group.picture.clone(),
            None => self.peer(me).and_then(|user| user.avatar.clone()),
        }
    }

    /// Whether `user` is (still) in it.
    pub fn includes(&self, user: UserId) -> bool {
        self.info.members.iter().any(|m| m.user.id == user)
    }

    pub fn role_of(&self, user: UserId) -> Option<Role> {
        self.info
            .members
            .iter()
            .find(|m| m.user.id == user)
            .map(|m| m.role)
    }

    /// What to call `user` here: a member by their name now; someone who
    /// has left by the name the newest group event naming them gives (their
    /// "left" or "removed" line follows their last message, so it is loaded
    /// whenever one of their messages is).
    pub fn name_of(&self, user: UserId) -> Option<&str> {
        let member = self.info.members.iter().find(|m| m.user.id == user);
        match member {
            Some(member) => Some(member.user.shown_name()),
            None => self
                .messages
                .values()
                .rev()
                .filter_map(|m| m.event.as_ref())
                .find_map(|event| event.user(user))
                .map(User::shown_name),
        }
    }

    /// Who among the others has read, and who has only stored, message
    /// `seq` (for a group's "read by" list).
    pub fn readers(&self, me: UserId, seq: Seq) -> Readers {
        let mut readers = Readers::default();
        for member in self.info.members.iter().filter(|m| m.user.id != me) {
            if member.read >= seq {
                readers.read.push(member.user.clone());
            } else if member.delivered >= seq {
                readers.delivered.push(member.user.clone());
            } else {
                readers.waiting.push(member.user.clone());
            }
        }
        readers
    }

    /// The time of the newest activity, for ordering the list.
    pub fn last_activity(&self) -> Millis {
        self.info
            .last_message
            .as_ref()
            .map_or(self.info.created_at, |message| message.sent_at)
    }

    pub(super) fn member_cursor(&self, user: UserId, kind: ReceiptKind) -> Seq {
        self.info
            .members
            .iter()
            .find(|member| member.user.id == user)
            .map_or(0, |member| match kind {
                ReceiptKind::Delivered => member.delivered,
                ReceiptKind::Read => member.read,
            })
    }

    /// Messages from others that `me` has not had on screen: those after
    /// the read cursor (sending a message moves one's own cursor past it).
    pub fn unread(&self, me: UserId) -> u64 {
        if !self.includes(me) {
            // Removed from a group: nothing more arrives to be read.
            return 0;
        }
        let read = self.member_cursor(me, ReceiptKind::Read);
        let behind = self.info.last_seq.saturating_sub(read);
        // With every message since the cursor at hand, reactions and edits
        // (which take seqs too) are not counted; otherwise the distance is
        // the best there is.
        let after = self.messages.range(read + 1..);
        if after.clone().count() as u64 == behind {
            after.filter(|(_, m)| m.action.is_none()).count() as u64
        } else {
            behind
        }
    }

    /// Unread messages from others that mention `username` (loaded ones).
    pub fn unread_mentions(&self, me: UserId, username: &str) -> usize {
        if !self.includes(me) {
            return 0;
        }
        let read = self.member_cursor(me, ReceiptKind::Read);
        self.messages
            .range(read + 1..)
            .filter(|(_, m)| m.sender != me && !m.deleted && mentions::mentions(&m.body, username))
            .count()
    }

    /// S, D or R for a message `me` sent, from the other members' cursors.
    pub fn receipt(&self, me: UserId, seq: Seq) -> Receipt {
        let others = self.info.members.iter().filter(|m| m.user.id != me);
        receipt::of(others, seq)
    }

    pub(super) fn advance(&mut self, user: UserId, kind: ReceiptKind, seq: Seq) {
        if let Some(member) = self.info.members.iter_mut().find(|m| m.user.id == user) {
            let cursor = match kind {
                ReceiptKind::Delivered => &mut member.delivered,
                ReceiptKind::Read => &mut member.read,
            };
            *cursor = (*cursor).max(seq);
            if kind == ReceiptKind::Read {
                member.delivered = member.delivered.max(seq);
            }
        }
    }

    /// Adds a message; false when it was already there.
    pub(super) fn insert(&mut self, message: Message) -> bool {
        if message.seq >= self.info.last_seq {
            self.info.last_seq = message.seq;
            // The list shows the newest message, not the newest reaction.
            if message.action.is_none() {
                self.info.last_message = Some(message.clone());
            }
        }
        match self.messages.entry(message.seq) {
            std::collections::btree_map::Entry::Occupied(_) => false,
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(message);
                true
            }
        }
    }
}

/// How far one's message has got with each other member of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readers {
    pub read: Vec<User>,
    /// Stored on their device, not read yet.
    pub delivered: Vec<User>,
    pub waiting: Vec<User>,
}

impl Readers {
    pub fn others(&self) -> usize {
        self.read.len() + self.delivered.len() + self.waiting.len()
    }
}
