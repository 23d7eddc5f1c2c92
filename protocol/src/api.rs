//! HTTP request and response bodies, and the records that both HTTP and the
//! WebSocket carry (users, conversations, messages).

use serde::{Deserialize, Serialize};

use crate::tagged::tagged_enum;
use uuid::Uuid;

use crate::Millis;

pub type UserId = i64;
pub type ConversationId = i64;
/// A message's place in its conversation: gap-free, starting at 1.
pub type Seq = u64;

/// A user as others see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    /// The name as its owner typed it; uniqueness ignores case.
    pub username: String,
    /// The name they chose to be shown by, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Where their picture is: a URL under [`PICTURES_PATH`] that
    /// changes whenever the picture does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// The account was deleted: shown as "Deleted account", its messages
    /// are tombstones.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// Where avatars and group pictures are served, by the hash of their
/// content: a picture's URL never changes meaning, so it may be cached
/// for good, and frames carry the URL instead of the picture.
pub const PICTURES_PATH: &str = "/api/avatars/";

/// The URL of the picture with this content hash.
pub fn picture_url(hash: &str) -> String {
    format!("{PICTURES_PATH}{hash}")
}

impl User {
    /// What to call them: their display name, else their username.
    pub fn shown_name(&self) -> &str {
        if self.deleted {
            return "Deleted account";
        }
        self.display_name.as_deref().unwrap_or(&self.username)
    }
}

/// The answer to `GET /api/session`: who is signed in, if anyone. Being
/// signed out is an answer, not an error, so an app starting signed out
/// sees no failed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user: Option<User>,
}

/// Body of `PATCH /api/me`: the profile as it should be (absent or empty
/// fields are cleared).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileUpdate {
    #[serde(default)]
    pub display_name: Option<String>,
    /// A new picture as a small JPEG `data:` URL; the current picture's URL
    /// keeps it.
    #[serde(default)]
    pub avatar: Option<String>,
}

/// Body of `POST /api/signup` and `POST /api/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// Body of `POST /api/me/delete`: the password, to confirm.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountDeletion {
    pub password: String,
}

/// Body of `POST /api/password`: the current password, and the new one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
}

/// Why someone or something is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportReason {
    Spam,
    Harassment,
    /// Nudity or sexual content.
    Sexual,
    /// Violence or threats.
    Violence,
    /// Pretending to be someone else.
    Impersonation,
    /// Someone who seems to be a child.
    Underage,
    Other,
}

impl ReportReason {
    pub const ALL: [ReportReason; 7] = [
        ReportReason::Spam,
        ReportReason::Harassment,
        ReportReason::Sexual,
        ReportReason::Violence,
        ReportReason::Impersonation,
        ReportReason::Underage,
        ReportReason::Other,
    ];

    /// As people read it.
    pub fn label(self) -> &'static str {
        match self {
            ReportReason::Spam => "Spam or scam",
            ReportReason::Harassment => "Harassment or bullying",
            ReportReason::Sexual => "Nudity or sexual content",
            ReportReason::Violence => "Violence or threats",
            ReportReason::Impersonation => "Pretending to be someone else",
            ReportReason::Underage => "May be under age",
            ReportReason::Other => "Something else",
        }
    }
}

/// A conversation whose notifications the user silenced (on all their
/// devices). Mentions of them in a muted group still notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mute {
    pub conversation: ConversationId,
    /// Until when; `None`: until they unmute it.
    pub until: Option<Millis>,
}

impl Mute {
    /// Whether it still silences the conversation at `now`.
    pub fn holds_at(&self, now: Millis) -> bool {
        self.until.is_none_or(|until| now < until)
    }
}

/// Body of `PUT /api/conversations/{id}/mute`. The length, not the end:
/// the server's clock decides when it ends, whatever the device's says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MuteFor {
    /// For how long, in milliseconds (at most [`MAX_MUTE_MS`]); `None`
    /// (`null`): until unmuted. Required: a missing length is a mistake,
    /// not "for good" (`deserialize_with` keeps serde from defaulting it).
    #[serde(deserialize_with = "Option::deserialize")]
    pub for_ms: Option<u64>,
}

/// The longest mute with an end: a year. Longer is "until unmuted".
pub const MAX_MUTE_MS: u64 = 366 * 24 * 3_600_000;

/// Answer to `GET /api/push`: the server's VAPID public key (RFC 8292),
/// an uncompressed P-256 point in unpadded base64url, as
/// `pushManager.subscribe` takes it for `applicationServerKey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushKey {
    pub key: String,
}

/// Body of `PUT /api/push/subscription`: this device's push subscription,
/// as the browser's `PushSubscription.toJSON()` gives it, and whether its
/// notifications may show the messages' text. One per device (session): a
/// new one replaces the old.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushSubscription {
    /// The push service's URL for this device: https, on a public address.
    pub endpoint: String,
    pub keys: PushKeys,
    pub previews: bool,
}

/// The subscription's keys (RFC 8291), unpadded base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushKeys {
    /// The device's P-256 public key, uncompressed (65 bytes).
    pub p256dh: String,
    /// The authentication secret (16 bytes).
    pub auth: String,
}

/// The longest push endpoint accepted, in bytes.
pub const MAX_PUSH_ENDPOINT: usize = 2048;

/// Body of `POST /api/reports`: a person, or one of their messages (a
/// conversation and a seq), with a reason. A report from a conversation
/// carries what the reporter could see of it, as context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReport {
    pub user: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<ConversationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<Seq>,
    pub reason: ReportReason,
    #[serde(default)]
    pub note: String,
}

/// Answer to `POST /api/reports`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFiled {
    pub id: i64,
}

/// Body of `POST /api/conversations`: open, or start, the 1:1 conversation
/// with this user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpenDirect {
    pub username: String,
}

/// The body of every HTTP error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ApiErrorCode,
    /// A sentence for the person using the app.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorCode {
    InvalidInput,
    BadCredentials,
    Unauthenticated,
    UsernameTaken,
    /// A public group already uses that hashtag.
    HashtagTaken,
    /// The group has reached its member limit.
    GroupFull,
    /// That person is already in the group.
    AlreadyMember,
    NotFound,
    Forbidden,
    TooManyAttempts,
    /// Too many requests of this kind from this account or address;
    /// `Retry-After` says when to try again.
    RateLimited,
    /// The server is too busy to answer now; `Retry-After` says when to.
    Busy,
    /// The day's upload allowance is used up.
    QuotaExceeded,
    /// The link could not be previewed (the message says why).
    NoPreview,
    TooLarge,
    UnsupportedMediaType,
    Internal,
}

/// A member of a conversation and how far they have got in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user: User,
    /// The highest seq this member's device has stored.
    pub delivered: Seq,
    /// The highest seq this member has had on screen.
    pub read: Seq,
    #[serde(default, skip_serializing_if = "Role::is_member")]
    pub role: Role,
    /// Has not accepted the conversation yet: it is a message request
    /// (someone they never wrote to started it, or added them).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
}

/// What a member may do in a group. In a 1:1 conversation both are members.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    Member,
    /// May add, remove and promote members, and rename the group.
    Admin,
}

impl Role {
    pub fn is_member(&self) -> bool {
        *self == Role::Member
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    Direct,
    Group,
}

/// What only a group has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    pub name: String,
    /// Where its picture is (see [`picture_url`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// Public groups have one (without the `#`); anyone may find and join
    /// them by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashtag: Option<String>,
}

/// What the conversation list needs to draw one row, and what a client needs
/// to compute receipts for its own messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub kind: ConversationKind,
    /// Everyone in it, the requesting user included.
    pub members: Vec<Member>,
    /// The newest message, if any.
    pub last_message: Option<Message>,
    /// The highest seq assigned so far (0 when empty).
    pub last_seq: Seq,
    pub created_at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupInfo>,
}

/// A stored message. `seq` orders it in its conversation; `client_id` is the
/// id its sender's device gave it, unique per sender.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub conversation: ConversationId,
    pub seq: Seq,
    pub client_id: Uuid,
    pub sender: UserId,
    /// The text, or the caption of an attachment (then possibly empty).
    pub body: String,
    pub sent_at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
    /// Set on the messages the server writes when a group changes; the
    /// sender is who changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<GroupEvent>,
    /// The message this one answers, by seq.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Seq>,
    /// Set on a message that acts on an earlier one (a reaction, an edit, a
    /// deletion). Such messages are not shown; clients apply them to their
    /// target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    /// When the text was last edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<Millis>,
    /// Deleted for everyone: the text and file are gone; a tombstone stays.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// Reactions, by emoji, in the order first used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// What a link in the text is, as the sender's server read it (boxed:
    /// most messages have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_preview: Option<Box<LinkPreview>>,
}

/// Who reacted to a message with one emoji.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub users: Vec<UserId>,
}

tagged_enum! {
    /// What an action message does to its target, an earlier message of the
    /// same conversation.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub enum Action {
        /// Adds the sender's `emoji` to the target.
        React { target: Seq, emoji: String },
        /// Takes it back.
        Unreact { target: Seq, emoji: String },
        /// Replaces the target's text (the target's sender only). Once the
        /// target is deleted, the server keeps its edits without their text.
        Edit { target: Seq, body: String },
        /// Deletes the target for everyone (its sender only).
        Delete { target: Seq },
    }
}

impl Action {
    pub fn target(&self) -> Seq {
        match self {
            Action::React { target, .. }
            | Action::Unreact { target, .. }
            | Action::Edit { target, .. }
            | Action::Delete { target } => *target,
        }
    }
}

impl Message {
    /// Whether it is shown as a message (not an action or a group event).
    pub fn is_visible_message(&self) -> bool {
        self.action.is_none() && self.event.is_none()
    }
}

/// A change to a group, recorded as a message so that it is ordered,
/// cached and replayed like one. It names who made it, since they may have
/// left by the time someone reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupEvent {
    pub by: User,
    pub kind: GroupEventKind,
}

impl GroupEvent {
    /// The user with id `id`, if this event names them (as the one who made
    /// it, or the one it was done to).
    pub fn user(&self, id: UserId) -> Option<&User> {
        let subject = match &self.kind {
            GroupEventKind::Added { user }
            | GroupEventKind::Removed { user }
            | GroupEventKind::Promoted { user } => Some(user),
            _ => None,
        };
        std::iter::once(&self.by)
            .chain(subject)
            .find(|user| user.id == id)
    }
}

tagged_enum! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum GroupEventKind {
        Created {
            name: String,
        },
        Added {
            user: User,
        },
        /// `by` joined a public group.
        Joined,
        Removed {
            user: User,
        },
        /// `by` left.
        Left,
        Renamed {
            name: String,
        },
        Promoted {
            user: User,
        },
        /// `user`, banned when removed from the public group, may join again.
        Unbanned {
            user: User,
        },
    }
}

/// Body of `POST /api/groups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewGroup {
    pub name: String,
    /// Usernames to add besides the creator.
    #[serde(default)]
    pub members: Vec<String>,
    /// Makes the group public under this hashtag (with or without `#`).
    #[serde(default)]
    pub hashtag: Option<String>,
    /// A small JPEG `data:` URL.
    #[serde(default)]
    pub picture: Option<String>,
}

/// Body of `POST /api/groups/{id}/members`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddMember {
    pub username: String,
}

/// Body of `PATCH /api/groups/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenameGroup {
    pub name: String,
}

/// A public group as search lists it (`GET /api/groups?hashtag=prefix`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicGroup {
    pub id: ConversationId,
    pub name: String,
    pub hashtag: String,
    /// Where its picture is (see [`picture_url`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    pub members: u32,
}

/// Query of `GET /api/groups`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupSearch {
    pub hashtag: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Video,
    Voice,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Voice => "voice",
        }
    }
}

/// The answer to an upload (`POST /api/media`): the file is stored and may
/// now be attached to one message in the conversation it was uploaded to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    pub kind: MediaKind,
    pub content_type: String,
    pub size: u64,
}

/// What a message says about its media file. The thumbnail, waveform and
/// duration are made on the sender's device and travel with the message, so
/// that a chat can draw it before (or without) downloading the file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attachment {
    /// The upload's id; the file is at `/api/media/{id}`.
    pub id: String,
    pub kind: MediaKind,
    pub content_type: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Video and voice length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u32>,
    /// Voice: loudness peaks, 0–255, evenly spread over the recording.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waveform: Vec<u8>,
    /// Image and video: a small JPEG (longest side ≤ 320 px) as a `data:`
    /// URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
}

/// A link's card: what the page says it is, read by the server (never by
/// a reader's device, so that the site learns nothing of who reads).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LinkPreview {
    /// The link as the message's text holds it.
    pub url: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<PreviewImage>,
}

/// A page's picture, made small and served by Natter at
/// `/api/previews/images/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PreviewImage {
    /// The SHA-256 of the JPEG, in lowercase hex.
    pub id: String,
    pub width: u32,
    pub height: u32,
}

/// `GET /api/previews?url=…`: what the server found at a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkInfo {
    /// The card, when the page has a title to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<LinkPreview>,
    /// Where the link led, after redirects.
    pub final_url: String,
    /// The page forbids being shown in another site's frame
    /// (`X-Frame-Options`, or CSP `frame-ancestors`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refuses_frames: bool,
}

/// The server's upload limits (`GET /api/limits`), so that the app can refuse
/// a file that is too large before uploading any of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaLimits {
    pub image_bytes: u64,
    pub video_bytes: u64,
    pub voice_bytes: u64,
    pub voice_ms: u32,
}

impl MediaLimits {
    pub fn bytes(&self, kind: MediaKind) -> u64 {
        match kind {
            MediaKind::Image => self.image_bytes,
            MediaKind::Video => self.video_bytes,
            MediaKind::Voice => self.voice_bytes,
        }
    }
}

impl Default for MediaLimits {
    /// The server's defaults.
    fn default() -> Self {
        MediaLimits {
            image_bytes: 20_000_000,
            video_bytes: 100_000_000,
            voice_bytes: 10_000_000,
            voice_ms: crate::limits::MAX_VOICE_MS,
        }
    }
}

/// Query of `POST /api/media`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadQuery {
    pub conversation: ConversationId,
    pub kind: MediaKind,
}

/// Query of `GET /api/conversations/{id}/messages`: up to `limit` messages
/// with seq strictly below `before` (or the newest, without it), oldest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HistoryQuery {
    pub before: Option<Seq>,
    pub limit: Option<u32>,
}
