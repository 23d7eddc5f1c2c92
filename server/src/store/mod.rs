//! The durable source of truth, behind the [`Store`] trait.
//!
//! A store offers transactional primitives and says nothing about who may
//! do what: those rules live in [`crate::chat`], written once for every
//! backend. What a store does guarantee, whatever the backend:
//! - every method that changes data returns only after the change is
//!   durable (acks depend on it);
//! - a sender's client id is stored once: sending it again returns the
//!   original message ([`Appended::fresh`] false), by a unique constraint;
//! - each conversation's seqs are gap-free and increase in commit order;
//! - a write made on the strength of a conversation's membership names the
//!   [`Membership::epoch`] it saw, and is refused as [`StoreError::Stale`] if
//!   the membership changed since (optimistic concurrency: no rule is
//!   re-checked in SQL, and none is applied to a membership nobody looked
//!   at).
//!
//! [`sqlite`] is the embedded default, [`postgres`] the store of a cluster
//! of nodes; [`suite`] is the behaviour every backend must have.

pub mod columns;
pub mod postgres;
pub mod sqlite;
#[cfg(test)]
pub mod suite;
pub mod written;

use async_trait::async_trait;
use natter_protocol::{
    Action, Attachment, Conversation, ConversationId, ConversationKind, GroupEvent, MediaKind,
    Message, Millis, Mute, PublicGroup, ReceiptKind, ReportReason, Role, Seq, User, UserId,
};
use uuid::Uuid;

/// Why a store call failed. Backend errors are boxed, so the trait names
/// no driver.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("that username is taken")]
    UsernameTaken,
    #[error("that hashtag is taken")]
    HashtagTaken,
    #[error("client id {0} was already used for another conversation")]
    ClientIdReused(Uuid),
    /// What the write depends on is not there (no such conversation, or no
    /// such member).
    #[error("not found")]
    NotFound,
    /// A reply or action names a message that is not there to answer or
    /// act on (missing, an action or event itself, or deleted).
    #[error("no such message to answer or act on")]
    BadTarget,
    /// The upload is attached to another message already.
    #[error("that upload is attached to another message")]
    AttachmentTaken,
    /// The membership changed after the writer looked at it: look again.
    #[error("the conversation changed meanwhile")]
    Stale,
    #[error(
        "the database was written by a newer Natter (schema {found}, this build knows {known})"
    )]
    SchemaTooNew { found: i64, known: i64 },
    /// A value could not be turned into, or read back from, its stored form.
    #[error("stored data is not valid: {0}")]
    Data(String),
    /// The backend failed (I/O, the database engine, a lost task).
    #[error("database error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn backend(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(err))
    }
}

/// Who is in a conversation, as the rules need it. `epoch` changes with
/// every change to the group, so a write can say which membership it was
/// decided on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub id: ConversationId,
    pub kind: ConversationKind,
    pub epoch: u64,
    /// Public groups have one.
    pub hashtag: Option<String>,
    pub seats: Vec<Seat>,
    /// Who may not join this group again (removed from it while it was
    /// public), until an admin lets them.
    pub banned: Vec<UserId>,
}

/// One member's place in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seat {
    pub user: UserId,
    pub role: Role,
    pub joined_at: Millis,
    /// The member reads the conversation's messages after this seq (0:
    /// all of them).
    pub history_from: Seq,
    /// Set while the seat is a message request from this person.
    pub request_from: Option<UserId>,
    /// The member's account ended (a 1:1 keeps their seat).
    pub ended: bool,
}

impl Membership {
    pub fn seat(&self, user: UserId) -> Option<&Seat> {
        self.seats.iter().find(|seat| seat.user == user)
    }

    pub fn includes(&self, user: UserId) -> bool {
        self.seat(user).is_some()
    }

    pub fn user_ids(&self) -> Vec<UserId> {
        self.seats.iter().map(|seat| seat.user).collect()
    }

    pub fn is_banned(&self, user: UserId) -> bool {
        self.banned.contains(&user)
    }

    /// How `user`, a member, reads this conversation.
    pub fn reader(&self, user: UserId) -> Option<Reader> {
        self.seat(user).map(|seat| Reader {
            user,
            from: seat.history_from,
        })
    }
}

/// The most devices one person has pushed to: each message is one request
/// per device, to addresses the person chose.
pub const MAX_PUSH_DEVICES: u32 = 10;

/// A device's Web Push subscription (RFC 8030/8291): where its push
/// service takes messages for it, and the keys to encrypt them with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushDevice {
    pub user: UserId,
    /// The session (the device) it belongs to: it ends with it.
    pub session: [u8; 32],
    pub endpoint: String,
    /// The device's P-256 public key, uncompressed (65 bytes).
    pub p256dh: Vec<u8>,
    /// Its authentication secret (16 bytes).
    pub auth: Vec<u8>,
    /// Whether notifications may quote the messages' text.
    pub previews: bool,
}

/// Whose eyes a read is for: a member reads the messages after `from` (a
/// member added to a group reads it from when they joined), and none that
/// were withheld from them (see [`NewMessage::withheld_from`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    pub user: UserId,
    pub from: Seq,
}

impl Reader {
    /// Someone who reads everything: for the store's own checks and tests.
    pub fn everything(user: UserId) -> Self {
        Reader { user, from: 0 }
    }
}

/// A message to store, as the rules allowed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub sender: UserId,
    pub conversation: ConversationId,
    pub client_id: Uuid,
    pub body: String,
    pub attachment: Option<Attachment>,
    pub reply_to: Option<Seq>,
    pub action: Option<Action>,
    /// A card for a link in `body`, checked by the use case.
    pub link_preview: Option<Box<natter_protocol::LinkPreview>>,
    pub sent_at: Millis,
    /// Kept from this member: stored and acked as usual, but never read
    /// back to them (a 1:1 message from someone they block). A withheld
    /// reaction or edit is kept, not applied.
    pub withheld_from: Option<UserId>,
}

/// A write whose outcome gets a place in a conversation's order (or moves
/// a member along it). The pipeline in [`crate::chat`] gathers them from
/// every connection and hands them over in batches, each committed as one
/// transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Stores a message under the next seq, unless its client id was used
    /// before. `epoch` is the membership the sender was allowed on. An
    /// action is applied to its target (a live message of the same
    /// conversation), a reply's target must be a live message too, and an
    /// attachment's upload is taken by this message (one upload, one
    /// message).
    Append { message: NewMessage, epoch: u64 },
    /// Moves a member's receipt cursors forward (never back), each clamped
    /// to the conversation's last seq.
    Advance {
        user: UserId,
        conversation: ConversationId,
        delivered: Option<Seq>,
        read: Option<Seq>,
    },
    /// Creates or changes a group: each step's changes, then its event
    /// message.
    Group(GroupWrite),
    /// A member accepts the request their seat is: it becomes an ordinary
    /// seat, and they have the requester as a contact. Changes the
    /// membership's epoch.
    Accept {
        user: UserId,
        conversation: ConversationId,
    },
}

/// The outcome of one [`Write`]. Its variants are large and unboxed on
/// purpose: outcomes live for one batch, and boxing would cost every
/// message an allocation on the hot path.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Appended(Appended),
    /// The cursors that moved.
    Advanced(Vec<(ReceiptKind, Seq)>),
    Group(GroupWritten),
    /// The membership after an acceptance.
    Accepted(Membership),
}

/// The outcome of [`Write::Append`].
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

/// A group to create or change, decided by the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupWrite {
    pub target: GroupTarget,
    pub steps: Vec<GroupStep>,
    pub now: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupTarget {
    /// A new group.
    Create {
        name: String,
        hashtag: Option<String>,
        picture: Option<String>,
    },
    /// An existing one, as it was at `epoch`.
    Existing {
        conversation: ConversationId,
        epoch: u64,
    },
}

/// Changes to a group and the event message that records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupStep {
    pub changes: Vec<MemberChange>,
    pub event: GroupEvent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    /// Joins with the unread count starting at the group's newest message,
    /// reading the history as [`History`] says.
    Add(UserId, Role, History),
    Remove(UserId),
    SetRole(UserId, Role),
    Rename(String),
    /// The member's seat (just added) is a request from the second user,
    /// until they accept it.
    Request(UserId, UserId),
    /// May not join again until unbanned (or added by an admin).
    Ban(UserId),
    Unban(UserId),
    /// The group is closed for good: its hashtag is freed and its messages
    /// and files are erased (nobody is left to read them).
    Close,
}

/// What a new member reads of a group's past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// Everything (the group is being created with them).
    Whole,
    /// Only what is written from now on.
    FromNow,
}

/// A group after a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupWritten {
    pub conversation: Conversation,
    pub membership: Membership,
    /// One event message per step, in order.
    pub messages: Vec<Message>,
    /// Uploads the write erased (a closed group's), whose files should go.
    pub removed_media: Vec<String>,
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
    /// The message it is attached to, once one took it.
    pub message_seq: Option<Seq>,
}

/// The content hash a picture (an avatar or a group picture, stored as a
/// `data:` URL) is served by: 128 bits of its SHA-256, in hex. Unguessable,
/// so a picture's URL is only known to those shown it.
pub fn picture_hash(data_url: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(data_url.as_bytes())[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A report, as the rules accepted it: the context is what the reporter
/// could see of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiledReport {
    pub reporter: UserId,
    pub reported: UserId,
    pub conversation: Option<ConversationId>,
    pub seq: Option<Seq>,
    pub reason: ReportReason,
    pub note: Option<String>,
    pub context: Vec<Message>,
    pub at: Millis,
}

/// A kept report, for moderators.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub id: i64,
    pub reporter: User,
    pub reported: User,
    pub conversation: Option<ConversationId>,
    pub seq: Option<Seq>,
    pub reason: ReportReason,
    pub note: Option<String>,
    pub context: Vec<Message>,
    pub created_at: Millis,
    /// When it was resolved, and the moderator's note.
    pub resolved: Option<(Millis, String)>,
}

/// One person's blocks, both ways.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blocks {
    /// Whom they block.
    pub blocking: Vec<UserId>,
    /// Who blocks them.
    pub blocked_by: Vec<UserId>,
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
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// An avatar or group picture (its `data:` URL) by [`picture_hash`].
    async fn picture(&self, hash: &str) -> Result<Option<String>, StoreError>;

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
    /// Deletes every session of `user` but `keep`.
    async fn delete_sessions(&self, user: UserId, keep: Option<[u8; 32]>)
        -> Result<(), StoreError>;
    /// Deletes the sessions that expired before `now`; returns how many.
    async fn purge_sessions(&self, now: Millis) -> Result<u64, StoreError>;
    async fn set_password(&self, user: UserId, password_hash: &str) -> Result<(), StoreError>;

    /// The 1:1 conversation between two users, created if needed (one per
    /// pair, by a unique key), as `a` reads it; `a` has `b` as a contact
    /// from now on. A new conversation is a request from `a` to `b` when
    /// `request` says so; an existing one without `b` gives them their
    /// seat back (as a request too, then). The flag tells whether this call
    /// created it.
    async fn open_direct(
        &self,
        a: UserId,
        b: UserId,
        request: bool,
        now: Millis,
    ) -> Result<(Conversation, bool), StoreError>;
    /// Whether `owner` has `other` as a contact (wrote to them first,
    /// accepted their request, or added them to a group).
    async fn knows(&self, owner: UserId, other: UserId) -> Result<bool, StoreError>;
    /// Takes `user`'s seat in a 1:1 conversation away (a chat they
    /// deleted); the other person's next `open_direct` gives it back.
    async fn leave_direct(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), StoreError>;
    /// The two people a 1:1 conversation is between, seated or not.
    async fn direct_pair(
        &self,
        conversation: ConversationId,
    ) -> Result<Option<(UserId, UserId)>, StoreError>;
    /// Every conversation `user` has a seat in, as they read it (see
    /// [`Reader`]: its newest message and last seq are the newest they
    /// read).
    async fn conversations_of(&self, user: UserId) -> Result<Vec<Conversation>, StoreError>;
    async fn conversation(
        &self,
        id: ConversationId,
        reader: Reader,
    ) -> Result<Option<Conversation>, StoreError>;
    async fn membership(&self, id: ConversationId) -> Result<Option<Membership>, StoreError>;
    /// Public groups whose hashtag starts with `prefix` (any case).
    async fn public_groups(&self, prefix: &str, limit: u32)
        -> Result<Vec<PublicGroup>, StoreError>;

    /// One message, with its reactions.
    async fn message(
        &self,
        conversation: ConversationId,
        seq: Seq,
    ) -> Result<Option<Message>, StoreError>;
    /// The message `sender` stored under `client_id`, if any.
    async fn message_by_client_id(
        &self,
        sender: UserId,
        client_id: Uuid,
    ) -> Result<Option<Message>, StoreError>;
    /// Up to `limit` messages with seq > `after` that `reader` reads,
    /// oldest first.
    async fn messages_after(
        &self,
        conversation: ConversationId,
        after: Seq,
        limit: u32,
        reader: Reader,
    ) -> Result<Vec<Message>, StoreError>;
    /// Up to `limit` messages with seq < `before` that `reader` reads,
    /// oldest first.
    async fn messages_before(
        &self,
        conversation: ConversationId,
        before: Seq,
        limit: u32,
        reader: Reader,
    ) -> Result<Vec<Message>, StoreError>;

    async fn add_media(&self, record: &MediaRecord, now: Millis) -> Result<(), StoreError>;
    async fn media(&self, id: &str) -> Result<Option<MediaRecord>, StoreError>;
    /// How many bytes `user` has uploaded since `since`.
    async fn uploaded_since(&self, user: UserId, since: Millis) -> Result<u64, StoreError>;
    /// Deletes the records of uploads made before `before` that no message
    /// took; returns their ids, whose files should go too.
    async fn take_unattached(&self, before: Millis) -> Result<Vec<String>, StoreError>;

    /// `blocker` blocks `blocked` (again: no change).
    async fn block(&self, blocker: UserId, blocked: UserId, now: Millis) -> Result<(), StoreError>;
    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<(), StoreError>;
    /// Whom `user` blocks and who blocks `user`.
    async fn blocks(&self, user: UserId) -> Result<Blocks, StoreError>;
    /// The people `user` blocks, most recently blocked first.
    async fn blocked_users(&self, user: UserId) -> Result<Vec<User>, StoreError>;

    /// Mutes `conversation` for its member `user` until `until` (`None`:
    /// until unmuted); false when they are not a member.
    async fn mute(
        &self,
        user: UserId,
        conversation: ConversationId,
        until: Option<Millis>,
    ) -> Result<bool, StoreError>;
    async fn unmute(&self, user: UserId, conversation: ConversationId) -> Result<(), StoreError>;
    /// The conversations `user` has muted that are still muted at `now`.
    async fn mutes(&self, user: UserId, now: Millis) -> Result<Vec<Mute>, StoreError>;

    /// Keeps `device`'s Web Push subscription, replacing the one its
    /// session had and any other that used its endpoint (a browser that
    /// moved to another account), and only the person's newest
    /// [`MAX_PUSH_DEVICES`]. It goes when the session ends.
    async fn put_push_device(&self, device: &PushDevice, now: Millis) -> Result<(), StoreError>;
    /// Forgets the subscription of the session with `token_hash`.
    async fn delete_push_device(&self, token_hash: [u8; 32]) -> Result<(), StoreError>;
    /// Forgets the subscription with this endpoint (its push service said it
    /// is gone).
    async fn drop_push_endpoint(&self, endpoint: &str) -> Result<(), StoreError>;
    /// `user`'s subscribed devices.
    async fn push_devices(&self, user: UserId) -> Result<Vec<PushDevice>, StoreError>;
    /// Everyone with at least one subscribed device.
    async fn push_users(&self) -> Result<Vec<UserId>, StoreError>;

    /// Keeps a report; returns its id.
    async fn add_report(&self, report: &FiledReport) -> Result<i64, StoreError>;
    /// Reports, oldest first: the open ones, or all of them.
    async fn reports(&self, include_resolved: bool, limit: u32) -> Result<Vec<Report>, StoreError>;
    /// Marks a report resolved; false when there is no such open report.
    async fn resolve_report(&self, id: i64, note: &str, now: Millis) -> Result<bool, StoreError>;
    /// Suspends `user` from `since` on, or lifts it (`None`); false when
    /// there is no such user.
    async fn set_suspended(&self, user: UserId, since: Option<Millis>) -> Result<bool, StoreError>;
    async fn is_suspended(&self, user: UserId) -> Result<bool, StoreError>;

    /// Ends `user`'s account: their uploads, sessions, blocks, contacts and
    /// profile go, their messages become tombstones (no text, no file),
    /// their username stays reserved; returns their uploads' ids, whose
    /// files should go. Their group seats must be given up first.
    async fn delete_account(&self, user: UserId, now: Millis) -> Result<Vec<String>, StoreError>;
    /// Frees the usernames of accounts deleted before `before`.
    async fn free_usernames(&self, before: Millis) -> Result<u64, StoreError>;
    /// Every upload `user` made that a message took, oldest first.
    async fn uploads_of(&self, user: UserId) -> Result<Vec<MediaRecord>, StoreError>;

    /// Whether the database answers (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Makes what deletions removed unrecoverable from the store's files
    /// (a log of old pages, say), as far as the backend can.
    async fn forget_deleted(&self) -> Result<(), StoreError>;

    /// Commits `batch` as one transaction, in order. Each write succeeds or
    /// fails on its own (a refused write changes nothing); the outer error
    /// means nothing was committed.
    async fn commit(
        &self,
        batch: Vec<Write>,
    ) -> Result<Vec<Result<Written, StoreError>>, StoreError>;
}
