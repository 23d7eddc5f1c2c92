//! How records are spelled in columns, the same for every backend: roles,
//! conversation and media kinds as words, attachments, events and actions
//! as the JSON the protocol sends.

use natter_protocol::{ConversationId, ConversationKind, MediaKind, Role};

use super::StoreError;

/// Turns a value into the JSON text a column keeps.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|err| StoreError::Data(err.to_string()))
}

/// Reads back what [`to_json`] wrote.
pub fn from_json<T: serde::de::DeserializeOwned>(
    text: Option<&str>,
) -> Result<Option<T>, StoreError> {
    text.map(serde_json::from_str)
        .transpose()
        .map_err(|err| StoreError::Data(err.to_string()))
}

pub fn role_from(text: &str) -> Role {
    match text {
        "admin" => Role::Admin,
        _ => Role::Member,
    }
}

pub fn role_text(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Member => "member",
    }
}

pub fn kind_from(id: ConversationId, text: &str) -> Result<ConversationKind, StoreError> {
    match text {
        "direct" => Ok(ConversationKind::Direct),
        "group" => Ok(ConversationKind::Group),
        other => Err(StoreError::Data(format!(
            "conversation {id} has unknown kind {other:?}"
        ))),
    }
}

pub fn media_kind(text: &str) -> Option<MediaKind> {
    match text {
        "image" => Some(MediaKind::Image),
        "video" => Some(MediaKind::Video),
        "voice" => Some(MediaKind::Voice),
        _ => None,
    }
}
