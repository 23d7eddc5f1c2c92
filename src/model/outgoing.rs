//! What this device sends: messages typed here that the server has not
//! acknowledged yet, with their files.

use natter_protocol::{Action, Attachment, ConversationId, LinkPreview, Millis, Seq};
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
    /// The card of a link in the text, as the server read it when the
    /// message was written.
    #[serde(default)]
    pub link_preview: Option<Box<LinkPreview>>,
}

/// The file of an outgoing message, before and after its upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredMedia", into = "StoredMedia")]
pub enum OutgoingMedia {
    /// Only on this device: the file waits in the cache under the message's
    /// client id, and the attachment's `id` is empty.
    Local(Attachment),
    /// Uploaded: the message can go.
    Uploaded(Attachment),
}

/// [`OutgoingMedia`] as the cache keeps it: `{"stage": …, "attachment": …}`.
/// A plain struct rather than serde's adjacent tagging, which would add a
/// second decoder of every attachment to the app for the case of the
/// attachment written before the stage.
#[derive(Serialize, Deserialize)]
struct StoredMedia {
    stage: Stage,
    attachment: Attachment,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stage {
    Local,
    Uploaded,
}

impl From<StoredMedia> for OutgoingMedia {
    fn from(StoredMedia { stage, attachment }: StoredMedia) -> Self {
        match stage {
            Stage::Local => OutgoingMedia::Local(attachment),
            Stage::Uploaded => OutgoingMedia::Uploaded(attachment),
        }
    }
}

impl From<OutgoingMedia> for StoredMedia {
    fn from(media: OutgoingMedia) -> Self {
        let (stage, attachment) = match media {
            OutgoingMedia::Local(attachment) => (Stage::Local, attachment),
            OutgoingMedia::Uploaded(attachment) => (Stage::Uploaded, attachment),
        };
        StoredMedia { stage, attachment }
    }
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

#[cfg(test)]
mod tests {
    use natter_protocol::{Attachment, MediaKind};
    use serde_json::json;

    use super::OutgoingMedia;

    fn photo(id: &str) -> Attachment {
        Attachment {
            id: id.to_owned(),
            kind: MediaKind::Image,
            content_type: "image/jpeg".to_owned(),
            size: 10,
            width: None,
            height: None,
            duration_ms: None,
            waveform: Vec::new(),
            thumbnail: None,
        }
    }

    #[test]
    fn media_keeps_the_shape_the_cache_already_holds() {
        let media = OutgoingMedia::Uploaded(photo("m1"));
        let stored = serde_json::to_value(&media).unwrap();
        assert_eq!(
            stored,
            json!({"stage": "uploaded", "attachment": serde_json::to_value(photo("m1")).unwrap()})
        );
        let attachment_first = format!(
            r#"{{"attachment":{},"stage":"local"}}"#,
            serde_json::to_string(&photo("")).unwrap()
        );
        assert_eq!(
            serde_json::from_str::<OutgoingMedia>(&attachment_first).unwrap(),
            OutgoingMedia::Local(photo(""))
        );
        assert!(serde_json::from_value::<OutgoingMedia>(json!({"stage": "sent"})).is_err());
    }
}
