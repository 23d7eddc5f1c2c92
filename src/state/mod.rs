//! The client's reactive state, as plain data with a pure reducer.
//!
//! [`ChatState::apply`] folds server frames into the state; the UI and the
//! session both go through it, and tests drive it without a browser. This is
//! the one place where `net/` and the UI meet: the components read
//! [`ChatState`] through a signal, the session writes to it.

pub mod actions;
mod groups;
mod history;
mod me;
pub mod mentions;
mod people;
mod receipt;
mod safety;
mod store;
mod typing;
mod uploads;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use natter_protocol::{
    Action, Attachment, ClientFrame, Conversation, ConversationId, ConversationKind, Cursor,
    GroupInfo, Member, Message, Millis, ReceiptKind, Role, Seq, ServerFrame, Upload, User, UserId,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use me::LogoutError;
pub use receipt::Receipt;

use crate::cache::{Applied, Batch, Snapshot};
pub use store::ChatStore;
pub use typing::{phrase as typing_phrase, Typing};
pub use uploads::{MediaSource, Uploads};

/// A message typed on this device that the server has not acknowledged yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    pub client_id: Uuid,
    pub conversation: ConversationId,
    pub body: String,
    pub created_at: Millis,
    /// Why the server refused it for good, if it did; the user may retry or
    /// delete it.
    pub failure: Option<String>,
    /// The file it carries.
    #[serde(default)]
    pub media: Option<OutgoingMedia>,
    /// The message it answers.
    #[serde(default)]
    pub reply_to: Option<Seq>,
    /// An action on an earlier message instead of a message of its own.
    #[serde(default)]
    pub action: Option<Action>,
}

/// The file of an outgoing message, before and after its upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", content = "attachment", rename_all = "snake_case")]
pub enum OutgoingMedia {
    /// Only on this device: the file waits in the cache under the message's
    /// client id, and the attachment's `id` is empty.
    Local(Attachment),
    /// Uploaded: the message can go.
    Uploaded(Attachment),
}

impl OutgoingMedia {
    pub fn attachment(&self) -> &Attachment {
        match self {
            OutgoingMedia::Local(attachment) | OutgoingMedia::Uploaded(attachment) => attachment,
        }
    }
}

impl Outgoing {
    /// Whether its file still has to be uploaded before it can be sent.
    pub fn awaits_upload(&self) -> bool {
        matches!(self.media, Some(OutgoingMedia::Local(_)))
    }
}

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
    fn new(info: Conversation) -> Self {
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

    fn member_cursor(&self, user: UserId, kind: ReceiptKind) -> Seq {
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

    fn advance(&mut self, user: UserId, kind: ReceiptKind, seq: Seq) {
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
    fn insert(&mut self, message: Message) -> bool {
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

/// What one tab tells this account's other tabs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TabNews {
    Outbox(OutboxNews),
    /// This tab's socket is back: the server is reachable, so the others
    /// need not wait out their backoff.
    Online,
}

/// What one tab tells the others about its outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxNews {
    pub put: Vec<Outgoing>,
    pub removed: Vec<Uuid>,
    /// Entries the server acknowledged to this tab, so that the others turn
    /// their bubbles into sent messages at once rather than dropping them
    /// until their own socket brings the stored copies.
    #[serde(default)]
    pub acked: Vec<Acked>,
}

/// An outbox entry stored by the server, as its `ack` said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acked {
    pub client_id: Uuid,
    pub conversation: ConversationId,
    pub seq: Seq,
    pub sent_at: Millis,
}

impl OutboxNews {
    /// The outbox part of a batch of changes, if it has one.
    pub fn of(batch: &Batch) -> Option<Self> {
        if batch.outbox_put.is_empty() && batch.outbox_remove.is_empty() {
            return None;
        }
        let acked = batch
            .outbox_remove
            .iter()
            .filter_map(|o| {
                batch
                    .messages
                    .iter()
                    .find(|m| m.client_id == o.client_id && m.conversation == o.conversation)
            })
            .map(|m| Acked {
                client_id: m.client_id,
                conversation: m.conversation,
                seq: m.seq,
                sent_at: m.sent_at,
            })
            .collect();
        Some(OutboxNews {
            put: batch.outbox_put.clone(),
            removed: batch.outbox_remove.iter().map(|o| o.client_id).collect(),
            acked,
        })
    }
}

/// The part of a page of saved messages (oldest first, all before
/// `before`) that joins on to `before` without a hole: a gap in the device's
/// copy must be filled from the server, not skipped over.
pub fn contiguous_tail(page: Vec<Message>, before: Seq) -> Vec<Message> {
    let mut expected = before;
    let mut start = page.len();
    for (index, message) in page.iter().enumerate().rev() {
        if message.seq + 1 != expected {
            break;
        }
        expected = message.seq;
        start = index;
    }
    page.into_iter().skip(start).collect()
}

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

    fn remove_outgoing(&mut self, client_id: Uuid) -> Option<Outgoing> {
        let index = self.outbox.iter().position(|o| o.client_id == client_id)?;
        let outgoing = self.outbox.remove(index);
        self.changes.outbox_remove.push(outgoing.clone());
        Some(outgoing)
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
        if message.sender == self.me.id {
            state.advance(self.me.id, ReceiptKind::Read, message.seq);
        }
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

    /// Adds older history. `saved` says whether it came from the device
    /// cache (so need not be saved again) rather than from the server.
    pub fn add_history(
        &mut self,
        conversation: ConversationId,
        page: Vec<Message>,
        complete: bool,
        saved: bool,
    ) {
        if let Some(state) = self.conversations.get_mut(&conversation) {
            for mut message in page {
                // The server applied these already; only the stub is kept.
                message.action = message.action.as_ref().map(actions::stub);
                if state.insert(message.clone()) && !saved {
                    self.changes.messages.push(message);
                }
            }
            state.history_complete |= complete || state.messages.contains_key(&1);
        }
    }

    /// The oldest loaded seq of `conversation`, and whether anything older
    /// is left to load.
    pub fn history_edge(&self, conversation: ConversationId) -> (Option<Seq>, bool) {
        self.conversations
            .get(&conversation)
            .map_or((None, false), |state| {
                let oldest = state.messages.keys().next().copied();
                let more = !state.history_complete && state.info.last_seq > 0;
                (oldest, more)
            })
    }

    /// Queues a message typed by the user. Its time is kept strictly after
    /// the previous one's, so that typing order survives a reload.
    pub fn queue(&mut self, mut outgoing: Outgoing) {
        if let Some(last) = self.outbox.last() {
            outgoing.created_at = outgoing.created_at.max(last.created_at + 1);
        }
        self.changes.outbox_put.push(outgoing.clone());
        self.outbox.push(outgoing);
    }

    /// Queues an action (a reaction, an edit, a deletion) like a message.
    pub fn queue_action(
        &mut self,
        conversation: ConversationId,
        action: Action,
        client_id: Uuid,
        at: Millis,
    ) {
        self.queue(Outgoing {
            client_id,
            conversation,
            body: String::new(),
            created_at: at,
            failure: None,
            media: None,
            reply_to: None,
            action: Some(action),
        });
    }

    /// Puts a refused message back in line for another try.
    pub fn retry(&mut self, client_id: Uuid) {
        self.change_outgoing(client_id, |outgoing| outgoing.failure = None);
    }

    /// Records that the file of `client_id` is uploaded: the message can
    /// now be sent, describing the file as the server stored it (which may
    /// be smaller: the server strips metadata from photos).
    pub fn uploaded(&mut self, client_id: Uuid, upload: Upload) {
        self.change_outgoing(client_id, |outgoing| {
            if let Some(OutgoingMedia::Local(attachment)) = outgoing.media.take() {
                outgoing.media = Some(OutgoingMedia::Uploaded(Attachment {
                    id: upload.id,
                    content_type: upload.content_type,
                    size: upload.size,
                    ..attachment
                }));
            }
        });
    }

    /// Records that the server refused the file of `client_id` for good.
    pub fn upload_refused(&mut self, client_id: Uuid, reason: String) {
        self.change_outgoing(client_id, |outgoing| outgoing.failure = Some(reason));
    }

    /// The next message whose file should be uploaded, in typing order.
    pub fn next_upload(&self) -> Option<&Outgoing> {
        self.outbox
            .iter()
            .find(|o| o.awaits_upload() && o.failure.is_none())
    }

    fn change_outgoing(&mut self, client_id: Uuid, change: impl FnOnce(&mut Outgoing)) {
        if let Some(outgoing) = self.outbox.iter_mut().find(|o| o.client_id == client_id) {
            change(outgoing);
            self.changes.outbox_put.push(outgoing.clone());
        }
    }

    /// Takes in outbox changes another tab made (and already saved). An
    /// entry the server acknowledged there becomes a sent message here, as
    /// if the ack had come to this tab, before removals are applied: the
    /// bubble never disappears in between.
    pub fn merge_outbox(&mut self, news: OutboxNews) {
        for acked in &news.acked {
            self.apply(&ServerFrame::Ack {
                client_id: acked.client_id,
                conversation: acked.conversation,
                seq: acked.seq,
                sent_at: acked.sent_at,
            });
        }
        for gone in &news.removed {
            self.outbox.retain(|o| o.client_id != *gone);
        }
        for outgoing in news.put {
            let acked = self
                .conversations
                .get(&outgoing.conversation)
                .is_some_and(|c| {
                    c.messages
                        .values()
                        .any(|m| m.client_id == outgoing.client_id)
                });
            if acked {
                continue;
            }
            match self
                .outbox
                .iter_mut()
                .find(|o| o.client_id == outgoing.client_id)
            {
                Some(existing) => *existing = outgoing,
                None => self.outbox.push(outgoing),
            }
        }
        self.outbox.sort_by_key(|o| o.created_at);
    }

    /// Drops a refused message for good, at the user's request.
    pub fn discard(&mut self, client_id: Uuid) {
        self.remove_outgoing(client_id);
    }

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

    /// Conversations, latest activity first.
    pub fn sorted(&self) -> Vec<&ConversationState> {
        let mut list: Vec<_> = self.conversations.values().collect();
        list.sort_by_key(|state| (std::cmp::Reverse(state.last_activity()), state.info.id));
        list
    }

    /// The outbox messages that should go to the server now: not refused,
    /// and with their file (if any) uploaded. A message waiting for its
    /// upload does not hold back those typed after it.
    pub fn sendable(&self) -> impl Iterator<Item = &Outgoing> {
        self.outbox
            .iter()
            .filter(|o| o.failure.is_none() && !o.awaits_upload())
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

#[cfg(test)]
mod tests;
