//! WebSocket frames. Every frame is one JSON text message with a `type` tag.

use serde::{Deserialize, Serialize};

use crate::tagged::tagged_enum;
use uuid::Uuid;

use crate::api::{
    Action, Attachment, Conversation, ConversationId, GroupInfo, LinkPreview, Member, Message,
    Mute, Seq, User, UserId,
};
use crate::Millis;

/// How far a client has seen a conversation; sent in `hello` so that the
/// server replays only what the client is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub conversation: ConversationId,
    pub seq: Seq,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    /// The member's device has stored the messages.
    Delivered,
    /// The member has had the messages on screen.
    Read,
}

tagged_enum! {
    /// Frames a client sends.
    #[derive(Debug, Clone, PartialEq)]
    pub enum ClientFrame {
        /// Must be the first frame. `cursors` lists what the client already has;
        /// conversations it does not list are replayed from their start.
        Hello {
            version: u32,
            #[serde(default)]
            cursors: Vec<Cursor>,
        },
        /// Store a message. Resending the same `client_id` is safe: the server
        /// answers with the same `ack` and stores nothing new.
        Send {
            conversation: ConversationId,
            client_id: Uuid,
            body: String,
            /// A file uploaded to this conversation beforehand (boxed: most
            /// messages have none).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            attachment: Option<Box<Attachment>>,
            /// The seq of the message this one answers.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            reply_to: Option<Seq>,
            /// Makes this an action on an earlier message; `body` is then empty
            /// and there is no attachment or reply.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            action: Option<Action>,
            /// The card of a link in `body`, from `GET /api/previews`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            link_preview: Option<Box<LinkPreview>>,
        },
        /// Everything up to `seq` in `conversation` is delivered or read.
        Receipt {
            conversation: ConversationId,
            kind: ReceiptKind,
            seq: Seq,
        },
        /// The user is typing in `conversation`. Clients send it at most every
        /// few seconds while typing; it is relayed, never stored.
        Typing { conversation: ConversationId },
        /// Application-level heartbeat: browsers cannot send WebSocket pings.
        Ping { nonce: u64 },
        /// Whether this tab is on screen; sent after `hello` and whenever it
        /// changes (until then, a tab counts as not on screen). While one of
        /// a person's tabs is, the server sends their devices no Web Push.
        Visible { visible: bool },
    }
}

tagged_enum! {
    /// Frames the server sends.
    #[derive(Debug, Clone, PartialEq)]
    pub enum ServerFrame {
        /// The answer to `hello`: who you are. Replay follows, then `synced`.
        Welcome {
            version: u32,
            user: User,
        },
        /// The message with this `client_id` is durably stored as `seq`.
        Ack {
            client_id: Uuid,
            conversation: ConversationId,
            seq: Seq,
            sent_at: Millis,
        },
        /// A message in one of your conversations, yours from other tabs included.
        Message {
            message: Message,
        },
        /// A member's delivered or read cursor moved forward.
        Receipt {
            conversation: ConversationId,
            user: UserId,
            kind: ReceiptKind,
            seq: Seq,
        },
        /// A conversation you are in was created, or its membership changed.
        Conversation {
            conversation: Conversation,
        },
        /// A group you are in changed: members added, removed or made admins,
        /// or a new name. Only what changed; a device that did not know the
        /// group gets `conversation` instead.
        Group {
            conversation: ConversationId,
            group: GroupInfo,
            /// Members added, or whose role changed, as they are now.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            members: Vec<Member>,
            /// Members who left or were removed.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            removed: Vec<UserId>,
        },
        /// Someone you share a conversation with (or you, on another device)
        /// changed their display name or picture. Sent once per person, not
        /// per conversation, and small: the picture is a URL.
        Profile {
            user: User,
        },
        /// You deleted this conversation (a message request) on another
        /// device: forget it.
        Gone {
            conversation: ConversationId,
        },
        /// The people you block, as they are now (sent to your devices when
        /// you block or unblock someone; read them with `GET /api/blocks`
        /// after connecting).
        Blocked {
            users: Vec<User>,
        },
        /// The conversations you muted, as they are now (sent to your
        /// devices when you mute or unmute one; read them with
        /// `GET /api/mutes` after connecting).
        Mutes {
            mutes: Vec<Mute>,
        },
        /// `user` is typing in `conversation`; show it for a few seconds
        /// ([`TYPING_SHOWN_MS`]) unless another `typing` or a message from them
        /// comes first.
        Typing {
            conversation: ConversationId,
            user: UserId,
        },
        /// Replay after `hello` is complete: from here on, frames are live.
        Synced,
        /// Something a frame asked for was refused. The connection stays up.
        Error {
            code: ErrorCode,
            message: String,
            /// The `client_id` of the refused `send`, when there was one.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            client_id: Option<Uuid>,
        },
        Pong {
            nonce: u64,
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame was not JSON, or not a frame this version knows.
    MalformedFrame,
    /// A frame came before `hello`, or `hello` came twice.
    UnexpectedFrame,
    UnsupportedVersion,
    /// The message body is empty or over the length limit.
    InvalidMessage,
    /// You are not a member of that conversation (or it does not exist).
    NotAMember,
    /// The server failed; the same frame may be retried.
    Internal,
}

/// How often a typing client repeats `typing`, in milliseconds.
pub const TYPING_EVERY_MS: u64 = 3_000;
/// How long a `typing` is shown without another, in milliseconds.
pub const TYPING_SHOWN_MS: u64 = 6_000;

impl ErrorCode {
    /// Whether resending the same frame can never succeed. Server failures
    /// are retried; everything else is shown to the user.
    pub fn is_permanent(self) -> bool {
        !matches!(self, ErrorCode::Internal)
    }
}

impl ServerFrame {
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ServerFrame::Error {
            code,
            message: message.into(),
            client_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn client_frames_have_a_type_tag() {
        let frame = ClientFrame::Send {
            conversation: 7,
            client_id: Uuid::nil(),
            body: "hi\nthere".into(),
            attachment: None,
            action: None,
            reply_to: None,
            link_preview: None,
        };
        let value = serde_json::to_value(&frame).unwrap();
        assert_eq!(
            value,
            json!({"type": "send", "conversation": 7,
                   "client_id": "00000000-0000-0000-0000-000000000000", "body": "hi\nthere"})
        );
        let back: ClientFrame = serde_json::from_value(value).unwrap();
        assert_eq!(back, frame);
    }

    #[test]
    fn hello_cursors_default_to_empty() {
        let frame: ClientFrame = serde_json::from_str(r#"{"type":"hello","version":1}"#).unwrap();
        assert_eq!(
            frame,
            ClientFrame::Hello {
                version: 1,
                cursors: vec![]
            }
        );
    }

    #[test]
    fn unknown_frames_are_refused() {
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"shout"}"#).is_err());
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"send"}"#).is_err());
    }

    #[test]
    fn error_frames_omit_a_missing_client_id() {
        let frame = ServerFrame::error(ErrorCode::NotAMember, "no");
        let text = serde_json::to_string(&frame).unwrap();
        assert_eq!(
            text,
            r#"{"type":"error","code":"not_a_member","message":"no"}"#
        );
    }
}
