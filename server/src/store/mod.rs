//! The durable source of truth.
//!
//! Handlers and connections talk to [`Store`], never to SQL, so that another
//! backend (PostgreSQL) can join [`sqlite`] later. Every method that changes
//! data returns only after the change is durable: acks depend on it.

pub mod migrations;
pub mod sqlite;

use async_trait::async_trait;
use natter_protocol::{
    Action, Attachment, Conversation, ConversationId, MediaKind, Message, Millis, PublicGroup,
    ReceiptKind, Seq, User, UserId,
};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("that username is taken")]
    UsernameTaken,
    #[error("not a member of that conversation")]
    NotAMember,
    #[error("no such user")]
    NoSuchUser,
    #[error("client id {0} was already used for another conversation")]
    ClientIdReused(Uuid),
    /// The attachment names no upload of the sender's to this conversation,
    /// or describes it wrongly.
    #[error("that attachment is not an upload of yours to this conversation")]
    BadAttachment,
    /// Only a group's admins may do that.
    #[error("only admins may do that")]
    NotAdmin,
    #[error("the group is full")]
    GroupFull,
    #[error("that hashtag is taken")]
    HashtagTaken,
    #[error("already in the group")]
    AlreadyMember,
    #[error("already an admin")]
    AlreadyAdmin,
    /// A group operation on a 1:1 conversation.
    #[error("not a group")]
    NotAGroup,
    /// The person to remove or promote is not in the group.
    #[error("no such member")]
    NoSuchMember,
    /// A reply or action names a message that is not there to answer or
    /// act on (missing, an action or event itself, or deleted).
    #[error("no such message to answer or act on")]
    BadTarget,
    /// Editing or deleting someone else's message.
    #[error("that message is someone else's")]
    NotYours,
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("cannot create the data directory: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "the database was written by a newer Natter (schema {found}, this build knows {known})"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error("database task failed: {0}")]
    Task(String),
    /// A value could not be turned into, or read back from, its stored form.
    #[error("stored data is not valid: {0}")]
    Data(String),
}

/// What a sender asks to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub sender: UserId,
    pub conversation: ConversationId,
    pub client_id: Uuid,
    pub body: String,
    pub attachment: Option<Attachment>,
    pub reply_to: Option<Seq>,
    pub action: Option<Action>,
    pub sent_at: Millis,
}

/// The outcome of [`Store::append_message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub message: Message,
    /// False when the client id had been stored before: nothing new was
    /// written and `message` is the original.
    pub fresh: bool,
    /// The upload a deletion took off its message, whose file should go
    /// too (it is no longer served: its record is gone).
    pub removed_media: Option<String>,
}

/// An uploaded media file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRecord {
    pub id: String,
    pub uploader: UserId,
    pub conversation: ConversationId,
    pub kind: MediaKind,
    pub content_type: String,
    pub size: u64,
}

/// A group to create. `members` are the others, by id; the creator joins
/// as its first admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSpec {
    pub name: String,
    pub members: Vec<UserId>,
    /// Public groups have one (as typed, without `#`).
    pub hashtag: Option<String>,
    pub picture: Option<String>,
}

/// A change to a group by one of its members (or, for `Join`, by someone
/// joining a public group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChange {
    Add(UserId),
    /// Removing oneself is leaving.
    Remove(UserId),
    Promote(UserId),
    Rename(String),
    Join,
}

/// A group after a change, and the event message recording it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupChanged {
    pub conversation: Conversation,
    pub message: Message,
    /// Who must hear of it: the members before and after the change (a
    /// removed member learns that they were removed).
    pub audience: Vec<UserId>,
}

/// A user's stored password hash, for login.
#[derive(Debug, Clone)]
pub struct StoredCredentials {
    pub user: User,
    pub password_hash: String,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates an account; the name is unique ignoring case.
    async fn create_user(&self, username: &str, password_hash: &str) -> Result<User, StoreError>;
    /// Sets a user's display name and avatar (`None` clears them).
    async fn update_profile(
        &self,
        user: UserId,
        display_name: Option<String>,
        avatar: Option<String>,
    ) -> Result<User, StoreError>;
    async fn credentials(&self, username: &str) -> Result<Option<StoredCredentials>, StoreError>;
    async fn user_by_name(&self, username: &str) -> Result<Option<User>, StoreError>;

    async fn create_session(
        &self,
        token_hash: [u8; 32],
        user: UserId,
        expires_at: Millis,
    ) -> Result<(), StoreError>;
    /// The user of an unexpired session.
    async fn session_user(
        &self,
        token_hash: [u8; 32],
        now: Millis,
    ) -> Result<Option<User>, StoreError>;
    async fn delete_session(&self, token_hash: [u8; 32]) -> Result<(), StoreError>;

    /// The 1:1 conversation between two users, created if needed. The flag
    /// tells whether it was created by this call.
    async fn open_direct(
        &self,
        me: UserId,
        other: UserId,
        now: Millis,
    ) -> Result<(Conversation, bool), StoreError>;
    /// Every conversation `user` is in.
    async fn conversations(&self, user: UserId) -> Result<Vec<Conversation>, StoreError>;
    /// One conversation, if `user` is in it.
    async fn conversation(
        &self,
        user: UserId,
        id: ConversationId,
    ) -> Result<Option<Conversation>, StoreError>;
    async fn member_ids(&self, id: ConversationId) -> Result<Vec<UserId>, StoreError>;

    /// Stores a message under the next seq, or returns the one already stored
    /// under `(sender, client_id)`. An attachment must be the sender's upload
    /// to this conversation, described as uploaded.
    /// Creates a group, with its `created` and `added` event messages;
    /// returns it after the last of them.
    async fn create_group(
        &self,
        creator: UserId,
        spec: GroupSpec,
        now: Millis,
    ) -> Result<GroupChanged, StoreError>;
    /// Applies `change` by `actor`, checking that they may: admins add,
    /// remove, promote and rename; anyone leaves; anyone joins a public
    /// group. Groups that are not public are invisible to outsiders
    /// ([`StoreError::NotAMember`]).
    async fn change_group(
        &self,
        actor: UserId,
        conversation: ConversationId,
        change: GroupChange,
        now: Millis,
    ) -> Result<GroupChanged, StoreError>;
    /// Public groups whose hashtag starts with `prefix` (any case).
    async fn public_groups(&self, prefix: &str, limit: u32)
        -> Result<Vec<PublicGroup>, StoreError>;

    /// Stores a message (or an action on an earlier one, applied to its
    /// target in the same transaction) under the next seq. A client id the
    /// sender used before returns the original, unchanged.
    async fn append_message(&self, message: NewMessage) -> Result<Appended, StoreError>;

    async fn add_media(&self, record: &MediaRecord, now: Millis) -> Result<(), StoreError>;
    async fn media(&self, id: &str) -> Result<Option<MediaRecord>, StoreError>;
    /// Up to `limit` messages with seq > `after`, oldest first.
    async fn messages_after(
        &self,
        user: UserId,
        conversation: ConversationId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;
    /// Up to `limit` messages with seq < `before`, oldest first.
    async fn messages_before(
        &self,
        user: UserId,
        conversation: ConversationId,
        before: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;

    /// Moves `user`'s delivered or read cursor forward to `seq`, clamped to
    /// the conversation's last seq. Reading implies delivery, so a read
    /// receipt may move both. Returns the cursors that moved.
    async fn advance_receipt(
        &self,
        user: UserId,
        conversation: ConversationId,
        kind: ReceiptKind,
        seq: Seq,
    ) -> Result<Vec<(ReceiptKind, Seq)>, StoreError>;
}
