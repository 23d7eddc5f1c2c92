//! HTTP request and response bodies, and the records that both HTTP and the
//! WebSocket carry (users, conversations, messages).

use serde::{Deserialize, Serialize};
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
}

/// Body of `POST /api/signup` and `POST /api/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
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
    NotFound,
    Forbidden,
    TooManyAttempts,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    Direct,
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
}

/// A stored message. `seq` orders it in its conversation; `client_id` is the
/// id its sender's device gave it, unique per sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
