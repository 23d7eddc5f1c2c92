//! What this device sends: messages typed here that the server has not
//! acknowledged yet, with their files.

use natter_protocol::{Action, Attachment, ConversationId, Millis, Seq};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
