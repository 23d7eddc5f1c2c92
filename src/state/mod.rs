//! The client's reactive state, as plain data with a pure reducer.
//!
//! [`ChatState::apply`] folds server frames into the state; the UI and the
//! session both go through it, and tests drive it without a browser. This is
//! the one place where `net/` and the UI meet: the components read
//! [`ChatState`] through a signal, the session writes to it.

mod conversation;
mod groups;
mod history;
mod links;
mod me;
pub mod mentions;
mod notices;
mod outbox;
mod people;
mod receipt;
mod receipts;
mod safety;
mod search;
mod store;
mod typing;
mod uploads;

use std::collections::{BTreeSet, HashMap};

use natter_protocol::{
    Conversation, ConversationId, GroupInfo, Member, Message, Millis, Mute, ReceiptKind, Seq,
    ServerFrame, User, UserId,
};

pub use conversation::{ConversationState, Readers};
pub use me::LogoutError;
pub use notices::Notice;
pub use outbox::{Acked, OutboxNews, TabNews};
pub use receipt::Receipt;
pub use search::Found;

use crate::cache::{Applied, Batch, Snapshot};
use crate::model::{actions, Outgoing, OutgoingMedia};
pub use store::ChatStore;
pub use typing::{phrase as typing_phrase, Typing};
pub use uploads::{MediaSource, Uploads};

/// Everything the signed-in user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatState {
    pub me: User,
    pub conversations: HashMap<ConversationId, ConversationState>,
    /// Messages waiting for the server, in the order they were typed.
    pub outbox: Vec<Outgoing>,
    /// The conversation on screen.
    pub open: Option<ConversationId>,
    /// Receipts sent on the current connection, so that each is sent once;
    /// cleared by `welcome`, since an unconfirmed receipt may have been lost
    /// with the previous connection.
    reported: HashMap<(ConversationId, ReceiptKind), Seq>,
    /// Whether the server has finished replaying (`synced`). Delivery
    /// receipts wait for it, so that a replay yields one receipt per
    /// conversation rather than one per message.
    synced: bool,
    /// Changes not yet handed to the device cache.
    changes: Batch,
    /// Conversations whose record changed since the last hand-over.
    dirty: BTreeSet<ConversationId>,
    /// The people the user blocks.
    pub blocked: Vec<User>,
    /// The conversations the user muted (read from the server on every
    /// connect; only live notifications need them).
    pub mutes: Vec<Mute>,
}

impl ChatState {
    pub fn new(me: User) -> Self {
        ChatState {
            me,
            conversations: HashMap::new(),
            outbox: Vec::new(),
            open: None,
            reported: HashMap::new(),
            synced: false,
            changes: Batch::default(),
            dirty: BTreeSet::new(),
            blocked: Vec::new(),
            mutes: Vec::new(),
        }
    }

    /// The state saved on this device, as it was when the app last ran.
    pub fn from_snapshot(me: User, snapshot: Snapshot) -> Self {
        let mut state = ChatState::new(me);
        for info in snapshot.conversations {
            state
                .conversations
                .insert(info.id, ConversationState::new(info));
        }
        for message in snapshot.messages {
            if let Some(conversation) = state.conversations.get_mut(&message.conversation) {
                conversation.messages.insert(message.seq, message);
            }
        }
        for conversation in state.conversations.values_mut() {
            conversation.history_complete = conversation.messages.contains_key(&1);
        }
        state.outbox = snapshot.outbox;
        state.blocked = snapshot.blocked;
        state.open = snapshot
            .open
            .filter(|id| state.conversations.contains_key(id));
        state
    }

    /// Replays changes made elsewhere (in a state that was replaced by this
    /// one) so that none is lost; they are recorded again, to be saved.
    pub fn absorb(&mut self, earlier: Batch) {
        for conversation in earlier.conversations {
            self.upsert(conversation);
        }
        for message in earlier.messages {
            if let Some(state) = self.conversations.get_mut(&message.conversation) {
                if state.insert(message.clone()) {
                    self.changes.messages.push(message);
                }
            }
        }
        for gone in &earlier.outbox_remove {
            self.discard(gone.client_id);
        }
        for outgoing in earlier.outbox_put {
            if let Some(existing) = self
                .outbox
                .iter_mut()
                .find(|o| o.client_id == outgoing.client_id)
            {
                *existing = outgoing.clone();
                self.changes.outbox_put.push(outgoing);
            } else {
                self.queue(outgoing);
            }
        }
        if let Some(open) = earlier.open {
            self.set_open(open);
        }
        if let Some(blocked) = earlier.blocked {
            self.set_blocked(blocked);
        }
        self.changes.actions.extend(earlier.actions);
    }

    /// What changed since the last call, for the device cache.
    pub fn take_changes(&mut self) -> Batch {
        let mut batch = std::mem::take(&mut self.changes);
        for id in std::mem::take(&mut self.dirty) {
            if let Some(state) = self.conversations.get(&id) {
                batch.conversations.push(state.info.clone());
            }
        }
        batch
    }

    /// Puts `conversation` on screen (or none).
    pub fn set_open(&mut self, conversation: Option<ConversationId>) {
        if self.open != conversation {
            self.open = conversation;
            self.changes.open = Some(conversation);
        }
    }

    /// Folds one server frame into the state. Frames may repeat (replays,
    /// several tabs): applying one twice changes nothing the second time.
    pub fn apply(&mut self, frame: &ServerFrame) {
        match frame {
            ServerFrame::Conversation { conversation } => self.upsert(conversation.clone()),
            ServerFrame::Profile { user } => self.update_profile(user),
            ServerFrame::Group {
                conversation,
                group,
                members,
                removed,
            } => self.change_group(*conversation, group, members, removed),
            ServerFrame::Message { message } => self.receive(message.clone()),
            ServerFrame::Ack {
                client_id,
                conversation,
                seq,
                sent_at,
            } => {
                if let Some(outgoing) = self.remove_outgoing(*client_id) {
                    self.receive(Message {
                        conversation: *conversation,
                        seq: *seq,
                        client_id: *client_id,
                        sender: self.me.id,
                        body: outgoing.body,
                        sent_at: *sent_at,
                        attachment: outgoing.media.map(|media| match media {
                            OutgoingMedia::Local(attachment)
                            | OutgoingMedia::Uploaded(attachment) => attachment,
                        }),
                        event: None,
                        reply_to: outgoing.reply_to,
                        action: outgoing.action,
                        edited_at: None,
                        deleted: false,
                        link_preview: outgoing.link_preview,
                        reactions: Vec::new(),
                    });
                }
            }
            ServerFrame::Receipt {
                conversation,
                user,
                kind,
                seq,
            } => {
                if let Some(state) = self.conversations.get_mut(conversation) {
                    state.advance(*user, *kind, *seq);
                    self.dirty.insert(*conversation);
                }
            }
            ServerFrame::Error {
                client_id: Some(client_id),
                code,
                message,
            } if code.is_permanent() => {
                if let Some(outgoing) = self.outbox.iter_mut().find(|o| o.client_id == *client_id) {
                    outgoing.failure = Some(message.clone());
                }
            }
            ServerFrame::Welcome { .. } => {
                self.reported.clear();
                self.synced = false;
            }
            ServerFrame::Synced => self.synced = true,
            ServerFrame::Blocked { users } => self.set_blocked(users.clone()),
            ServerFrame::Mutes { mutes } => self.mutes = mutes.clone(),
            ServerFrame::Gone { conversation } => self.forget(*conversation),
            // Momentary: the store keeps it (see `Typing`).
            ServerFrame::Error { .. } | ServerFrame::Pong { .. } | ServerFrame::Typing { .. } => {}
        }
    }

    /// Drops a conversation the user left for good (a deleted request),
    /// here and on the device.
    pub fn forget(&mut self, id: ConversationId) {
        if self.conversations.remove(&id).is_some() {
            self.dirty.remove(&id);
            self.changes.forgotten.push(id);
        }
        if self.open == Some(id) {
            self.set_open(None);
        }
    }

    /// The conversations that are message requests to the user.
    pub fn requests(&self) -> impl Iterator<Item = &ConversationState> {
        self.conversations
            .values()
            .filter(|c| c.is_request(self.me.id))
    }

    /// Whether the user muted `conversation`, as of `now`.
    pub fn is_muted(&self, conversation: ConversationId, now: Millis) -> bool {
        self.mutes
            .iter()
            .any(|mute| mute.conversation == conversation && mute.holds_at(now))
    }

    /// Forgets the timed mutes that have ended by `now`.
    pub fn drop_ended_mutes(&mut self, now: Millis) {
        self.mutes.retain(|mute| mute.holds_at(now));
    }

    /// The people the user blocks are now `users`.
    pub fn set_blocked(&mut self, users: Vec<User>) {
        if self.blocked != users {
            self.blocked = users.clone();
            self.changes.blocked = Some(users);
        }
    }

    /// Whether the user blocks `user`.
    pub fn blocks(&self, user: UserId) -> bool {
        self.blocked.iter().any(|blocked| blocked.id == user)
    }

    /// Applies what changed in a group: its name and picture, members
    /// added or promoted (cursors only move forward), members gone.
    fn change_group(
        &mut self,
        id: ConversationId,
        group: &GroupInfo,
        changed: &[Member],
        removed: &[UserId],
    ) {
        let Some(state) = self.conversations.get_mut(&id) else {
            return;
        };
        let members = &mut state.info.members;
        members.retain(|member| !removed.contains(&member.user.id));
        for member in changed {
            match members.iter_mut().find(|m| m.user.id == member.user.id) {
                Some(known) => {
                    known.user = member.user.clone();
                    known.role = member.role;
                    known.delivered = known.delivered.max(member.delivered);
                    known.read = known.read.max(member.read);
                }
                None => members.push(member.clone()),
            }
        }
        members.sort_by_key(|member| member.user.id);
        state.info.group = Some(group.clone());
        self.dirty.insert(id);
    }

    /// Shows someone's new name and picture wherever they are a member
    /// (and as one's own, from another device).
    fn update_profile(&mut self, user: &User) {
        let newly_deleted = user.deleted
            && !self.conversations.values().any(|c| {
                c.info
                    .members
                    .iter()
                    .any(|m| m.user.id == user.id && m.user.deleted)
            });
        if user.id == self.me.id && self.me != *user {
            self.me = user.clone();
            self.changes.me = Some(user.clone());
        }
        for (id, state) in &mut self.conversations {
            if let Some(member) = state.info.members.iter_mut().find(|m| m.user.id == user.id) {
                if member.user != *user {
                    member.user = user.clone();
                    self.dirty.insert(*id);
                }
            }
        }
        if newly_deleted {
            self.erase(user.id);
        }
    }

    /// Everything an ended account said becomes a tombstone, here and on
    /// the device.
    fn erase(&mut self, user: UserId) {
        for (id, state) in &mut self.conversations {
            let last = state.info.last_message.as_mut();
            if let Some(last) = last.filter(|m| m.sender == user && m.event.is_none()) {
                crate::cache::tombstone(last);
                self.dirty.insert(*id);
            }
            for message in state.messages.values_mut() {
                if message.sender == user && message.event.is_none() && message.action.is_none() {
                    crate::cache::tombstone(message);
                }
            }
        }
        if !self.changes.erased.contains(&user) {
            self.changes.erased.push(user);
        }
    }

    /// Adds or refreshes a conversation. Receipt cursors only move forward,
    /// so an older snapshot never undoes a newer receipt. Members, names and
    /// roles are the server's latest word: a removed member goes.
    pub fn upsert(&mut self, info: Conversation) {
        match self.conversations.get_mut(&info.id) {
            Some(state) => {
                let mut members = info.members.clone();
                for member in &mut members {
                    if let Some(known) = state
                        .info
                        .members
                        .iter()
                        .find(|m| m.user.id == member.user.id)
                    {
                        member.delivered = member.delivered.max(known.delivered);
                        member.read = member.read.max(known.read);
                    }
                }
                state.info.members = members;
                state.info.group = info.group.clone();
                if let Some(last) = &info.last_message {
                    if state.insert(last.clone()) {
                        self.changes.messages.push(last.clone());
                    }
                }
            }
            None => {
                let mut state = ConversationState::new(info.clone());
                if let Some(last) = info.last_message {
                    self.changes.messages.push(last.clone());
                    state.messages.insert(last.seq, last);
                }
                self.conversations.insert(info.id, state);
            }
        }
        self.dirty.insert(info.id);
    }

    fn receive(&mut self, mut message: Message) {
        // Acked through another tab, or replayed: no longer outgoing.
        let was_outgoing =
            message.sender == self.me.id && self.remove_outgoing(message.client_id).is_some();
        let Some(state) = self.conversations.get_mut(&message.conversation) else {
            return;
        };
        // A sender's cursors move to each message they send (the server
        // moves them in the same commit and says nothing more): someone who
        // wrote has read everything before, even if their receipt for it
        // came too late to move anything.
        state.advance(message.sender, ReceiptKind::Read, message.seq);
        self.dirty.insert(message.conversation);
        let action = message.action.take();
        message.action = action.as_ref().map(actions::stub);
        if !state.insert(message.clone()) {
            if was_outgoing {
                // Known already (a conversation's newest message comes with
                // the conversation): still recorded, so that the other tabs
                // learn of the removal together with what it became.
                self.changes.messages.push(message);
            }
            return;
        }
        self.changes.messages.push(message.clone());
        if let Some(action) = action {
            // Applied here and to the saved copy, which may hold the target
            // even when memory does not.
            let target = action.target();
            if let Some(changed) = state.messages.get_mut(&target) {
                actions::apply(changed, &action, message.sender, message.sent_at);
                self.changes.messages.push(changed.clone());
            }
            if let Some(last) = state.info.last_message.as_mut().filter(|m| m.seq == target) {
                actions::apply(last, &action, message.sender, message.sent_at);
            }
            self.changes.actions.push(Applied {
                conversation: message.conversation,
                action,
                actor: message.sender,
                at: message.sent_at,
            });
        }
    }

    /// Conversations, latest activity first.
    pub fn sorted(&self) -> Vec<&ConversationState> {
        let mut list: Vec<_> = self.conversations.values().collect();
        list.sort_by_key(|state| (std::cmp::Reverse(state.last_activity()), state.info.id));
        list
    }
}

#[cfg(test)]
use history::contiguous_tail;
#[cfg(test)]
mod tests;
