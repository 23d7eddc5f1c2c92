//! The device's copy of the user's chats, so that they stay readable (and
//! typing keeps working) while the server is unreachable.
//!
//! [`Cache`] is the interface; [`idb::IdbCache`] keeps everything in
//! IndexedDB, one database per account, and [`memory::MemoryCache`] keeps it
//! in memory (tests, and browsers where IndexedDB is unavailable). Both pass
//! the same suite, [`suite`].
//!
//! Media files (uploads waiting in the outbox, voice messages kept for
//! offline) are kept by [`idb::IdbCache`] under a [`FileKey`].
//!
//! Writes come in [`Batch`]es, each applied atomically, so that a crash or a
//! reload never leaves half an update behind. The search index is written
//! in the same transactions as the messages it indexes.

pub mod idb;
mod json;
pub mod memory;
pub mod suite;

use crate::model::search::SearchIndex;
use crate::model::Outgoing;
use natter_protocol::{Action, Conversation, ConversationId, Message, Millis, Seq, User, UserId};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// IndexedDB cannot be used (private mode, disabled, deleted or
    /// corrupt): the app works from the server alone.
    #[error("this browser won't let Natter keep your chats on this device ({0})")]
    Unavailable(String),
    /// The browser's storage quota is used up.
    #[error("this device is out of storage space for Natter")]
    QuotaExceeded,
    /// Another tab holds an older version of the database open.
    #[error("another Natter tab is blocking an update; close it and reload")]
    Blocked,
    /// A read or write failed.
    #[error("the saved chats could not be read or written ({0})")]
    Failed(String),
}

/// Everything the app needs to draw itself without the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub me: Option<User>,
    pub conversations: Vec<Conversation>,
    /// The newest messages of each conversation, oldest first.
    pub messages: Vec<Message>,
    /// Unacknowledged messages, in the order they were typed.
    pub outbox: Vec<Outgoing>,
    /// The conversation that was on screen.
    pub open: Option<ConversationId>,
    /// The people the user blocks.
    pub blocked: Vec<User>,
}

/// One atomic set of changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    pub me: Option<User>,
    pub conversations: Vec<Conversation>,
    pub messages: Vec<Message>,
    pub outbox_put: Vec<Outgoing>,
    /// Entries to delete (whole, since their key is derived from them).
    pub outbox_remove: Vec<Outgoing>,
    /// `Some` when the open conversation changed.
    pub open: Option<Option<ConversationId>>,
    /// `Some` when the people the user blocks changed.
    pub blocked: Option<Vec<User>>,
    /// Conversations to forget, with their messages (a deleted request).
    pub forgotten: Vec<ConversationId>,
    /// People whose accounts ended: every saved message of theirs becomes
    /// a tombstone, and their kept files go.
    pub erased: Vec<UserId>,
    /// Actions to apply to saved messages they target (which may not be in
    /// memory), after which `messages` are written.
    pub actions: Vec<Applied>,
}

/// Makes `message` a tombstone of an ended account's message: no text, no
/// file. Returns the file it had, if any.
pub fn tombstone(message: &mut Message) -> Option<String> {
    message.body.clear();
    message.edited_at = None;
    message.deleted = true;
    message.reactions.clear();
    message.attachment.take().map(|attachment| attachment.id)
}

/// An action someone took on a message, to apply to the saved copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub conversation: ConversationId,
    pub action: Action,
    pub actor: UserId,
    pub at: Millis,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self == &Batch::default()
    }

    /// Adds `later` on top of this batch.
    pub fn merge(&mut self, later: Batch) {
        if later.me.is_some() {
            self.me = later.me;
        }
        self.conversations.extend(later.conversations);
        self.messages.extend(later.messages);
        for removed in &later.outbox_remove {
            self.outbox_put.retain(|o| o.client_id != removed.client_id);
        }
        self.outbox_put.extend(later.outbox_put);
        self.outbox_remove.extend(later.outbox_remove);
        if later.open.is_some() {
            self.open = later.open;
        }
        if later.blocked.is_some() {
            self.blocked = later.blocked;
        }
        self.forgotten.extend(later.forgotten);
        self.erased.extend(later.erased);
        self.actions.extend(later.actions);
    }
}

/// How a device stores its chats. The client runs single-threaded in the
/// browser, so the futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait Cache {
    /// Everything saved, with up to `recent` messages per conversation.
    async fn load(&self, recent: u32) -> Result<Snapshot, CacheError>;
    /// Applies `batch` atomically.
    async fn write(&self, batch: &Batch) -> Result<(), CacheError>;
    /// The saved messages among the `limit` seqs that end with the newest
    /// one saved before `before`, oldest first: at most `limit`, fewer
    /// where the device's copy has a hole (seqs have none on the server).
    async fn messages_before(
        &self,
        conversation: ConversationId,
        before: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, CacheError>;
    /// The saved messages among `keys` (conversation, seq), in their order.
    async fn messages_at(&self, keys: &[(ConversationId, Seq)])
        -> Result<Vec<Message>, CacheError>;
    /// The search index of every saved message (see
    /// [`crate::model::search`]), kept up to date by [`Cache::write`]:
    /// new messages are in it, edits change it, deleted messages, ended
    /// accounts' and forgotten conversations' are gone from it.
    async fn search_index(&self) -> Result<SearchIndex, CacheError>;
    /// Forgets everything this device saved for the account.
    async fn clear(&self) -> Result<(), CacheError>;
}

/// Where a file is kept on this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKey {
    /// The file of an outgoing message, until it is uploaded.
    Upload(uuid::Uuid),
    /// A media file by its server id (voice messages, one's own photos), so
    /// that they play and show offline.
    Media(String),
}

impl std::fmt::Display for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileKey::Upload(client_id) => write!(f, "upload:{client_id}"),
            FileKey::Media(id) => write!(f, "media:{id}"),
        }
    }
}

/// Sort key of a message: conversation, then seq, both zero-padded so that
/// string order is numeric order.
fn message_key(conversation: ConversationId, seq: Seq) -> String {
    format!("{conversation:020}:{seq:020}")
}

/// Key of a search bucket: conversation, then bucket number, zero-padded.
fn bucket_key(conversation: ConversationId, bucket: Seq) -> String {
    format!("{conversation:020}:{bucket:010}")
}

/// The conversation a search bucket's key names.
fn bucket_conversation(key: &str) -> Option<ConversationId> {
    key.split(':').next()?.parse().ok()
}

/// Sort key of an outbox entry: the order it was typed in.
fn outbox_key(outgoing: &Outgoing) -> String {
    format!("{:020}:{}", outgoing.created_at, outgoing.client_id)
}
