//! Messages in SQLite: reading them back (with their reactions), and
//! appending one — a message, a reply, or an action that changes an earlier
//! message in the same transaction.

use std::collections::HashMap;

use natter_protocol::{Action, Attachment, ConversationId, Message, Reaction, Seq};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use uuid::Uuid;

use super::{conversion_error, is_member, load_media};
use crate::store::{Appended, NewMessage, StoreError};

pub const MESSAGE_COLUMNS: &str = "conversation_id, seq, client_id, sender_id, body, sent_at, \
     attachment, event, reply_to, action, edited_at, deleted";

fn json<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    column: usize,
) -> rusqlite::Result<Option<T>> {
    let text: Option<String> = row.get(column)?;
    text.map(|json| serde_json::from_str(&json))
        .transpose()
        .map_err(|err| conversion_error(column, err))
}

/// A message as stored, without its reactions (see [`with_reactions`]).
pub fn from_row(row: &Row<'_>) -> rusqlite::Result<Message> {
    let client_id: String = row.get(2)?;
    let client_id = Uuid::parse_str(&client_id).map_err(|err| conversion_error(2, err))?;
    Ok(Message {
        conversation: row.get(0)?,
        seq: row.get(1)?,
        client_id,
        sender: row.get(3)?,
        body: row.get(4)?,
        sent_at: row.get(5)?,
        attachment: json(row, 6)?,
        event: json(row, 7)?,
        reply_to: row.get(8)?,
        action: json(row, 9)?,
        edited_at: row.get(10)?,
        deleted: row.get(11)?,
        reactions: Vec::new(),
    })
}

/// Fills in the reactions of `messages` (all of one conversation) with one
/// query.
pub fn with_reactions(
    conn: &Connection,
    mut messages: Vec<Message>,
) -> Result<Vec<Message>, StoreError> {
    let (Some(first), Some(last)) = (messages.first(), messages.last()) else {
        return Ok(messages);
    };
    let conversation = first.conversation;
    let (low, high) = (first.seq.min(last.seq), first.seq.max(last.seq));
    let mut by_seq: HashMap<Seq, Vec<Reaction>> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT seq, emoji, user_id FROM reactions
         WHERE conversation_id = ?1 AND seq BETWEEN ?2 AND ?3
         ORDER BY seq, created_at, user_id",
    )?;
    let rows = stmt.query_map(params![conversation, low, high], |row| {
        Ok((row.get::<_, Seq>(0)?, row.get::<_, String>(1)?, row.get(2)?))
    })?;
    for row in rows {
        let (seq, emoji, user) = row?;
        let reactions = by_seq.entry(seq).or_default();
        match reactions.iter_mut().find(|r| r.emoji == emoji) {
            Some(reaction) => reaction.users.push(user),
            None => reactions.push(Reaction {
                emoji,
                users: vec![user],
            }),
        }
    }
    for message in &mut messages {
        if let Some(reactions) = by_seq.remove(&message.seq) {
            message.reactions = reactions;
        }
    }
    Ok(messages)
}

/// One message by seq, with its reactions.
pub fn load(
    conn: &Connection,
    conversation: ConversationId,
    seq: Seq,
) -> Result<Option<Message>, StoreError> {
    let found = conn
        .query_row(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND seq = ?2"
            ),
            params![conversation, seq],
            from_row,
        )
        .optional()?;
    Ok(with_reactions(conn, found.into_iter().collect())?.pop())
}

pub fn append(conn: &mut Connection, new: NewMessage) -> Result<Appended, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let existing = tx
        .query_row(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE sender_id = ?1 AND client_id = ?2"
            ),
            params![new.sender, new.client_id.to_string()],
            from_row,
        )
        .optional()?;
    if let Some(message) = existing {
        return if message.conversation == new.conversation {
            Ok(Appended {
                message,
                fresh: false,
                removed_media: None,
            })
        } else {
            Err(StoreError::ClientIdReused(new.client_id))
        };
    }
    if !is_member(&tx, new.sender, new.conversation)? {
        return Err(StoreError::NotAMember);
    }
    if let Some(attachment) = &new.attachment {
        let upload = load_media(&tx, &attachment.id)?;
        let matches = upload.is_some_and(|upload| {
            upload.uploader == new.sender
                && upload.conversation == new.conversation
                && upload.kind == attachment.kind
                && upload.content_type == attachment.content_type
                && upload.size == attachment.size
        });
        if !matches {
            return Err(StoreError::BadAttachment);
        }
    }
    if let Some(reply_to) = new.reply_to {
        target(&tx, new.conversation, reply_to)?;
    }
    let removed_media = match &new.action {
        Some(action) => act(&tx, &new, action)?,
        None => None,
    };
    let attachment = new
        .attachment
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|err| StoreError::Data(err.to_string()))?;
    let action = new
        .action
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|err| StoreError::Data(err.to_string()))?;
    let seq: Seq = tx.query_row(
        "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ?1 RETURNING last_seq",
        [new.conversation],
        |row| row.get(0),
    )?;
    tx.execute(
        "INSERT INTO messages
             (conversation_id, seq, sender_id, client_id, body, sent_at, attachment, reply_to, action)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            new.conversation,
            seq,
            new.sender,
            new.client_id.to_string(),
            new.body,
            new.sent_at,
            attachment,
            new.reply_to,
            action
        ],
    )?;
    // The sender has obviously seen their own message.
    tx.execute(
        "UPDATE members SET delivered_seq = ?3, read_seq = ?3
         WHERE conversation_id = ?1 AND user_id = ?2",
        params![new.conversation, new.sender, seq],
    )?;
    tx.commit()?;
    Ok(Appended {
        message: Message {
            conversation: new.conversation,
            seq,
            client_id: new.client_id,
            sender: new.sender,
            body: new.body,
            sent_at: new.sent_at,
            attachment: new.attachment,
            event: None,
            reply_to: new.reply_to,
            action: new.action,
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
        },
        fresh: true,
        removed_media,
    })
}

/// The sender of message `seq`, if it can be answered or acted on: it
/// exists, is a visible message and is not deleted.
fn target(tx: &Transaction<'_>, conversation: ConversationId, seq: Seq) -> Result<i64, StoreError> {
    tx.query_row(
        "SELECT sender_id FROM messages
         WHERE conversation_id = ?1 AND seq = ?2
           AND action IS NULL AND event IS NULL AND deleted = 0",
        params![conversation, seq],
        |row| row.get(0),
    )
    .optional()?
    .ok_or(StoreError::BadTarget)
}

/// Applies `action` to its target, checking that the sender may; returns
/// the upload a deletion removed.
fn act(
    tx: &Transaction<'_>,
    new: &NewMessage,
    action: &Action,
) -> Result<Option<String>, StoreError> {
    let conversation = new.conversation;
    let seq = action.target();
    let owner = target(tx, conversation, seq)?;
    match action {
        Action::React { emoji, .. } => {
            tx.execute(
                "INSERT OR IGNORE INTO reactions (conversation_id, seq, user_id, emoji, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![conversation, seq, new.sender, emoji, new.sent_at],
            )?;
        }
        Action::Unreact { emoji, .. } => {
            tx.execute(
                "DELETE FROM reactions
                 WHERE conversation_id = ?1 AND seq = ?2 AND user_id = ?3 AND emoji = ?4",
                params![conversation, seq, new.sender, emoji],
            )?;
        }
        Action::Edit { body, .. } => {
            if owner != new.sender {
                return Err(StoreError::NotYours);
            }
            tx.execute(
                "UPDATE messages SET body = ?3, edited_at = ?4
                 WHERE conversation_id = ?1 AND seq = ?2",
                params![conversation, seq, body, new.sent_at],
            )?;
        }
        Action::Delete { .. } => {
            if owner != new.sender {
                return Err(StoreError::NotYours);
            }
            let attachment: Option<Attachment> = tx
                .query_row(
                    "SELECT attachment FROM messages WHERE conversation_id = ?1 AND seq = ?2",
                    params![conversation, seq],
                    |row| row.get::<_, Option<String>>(0),
                )?
                .map(|json| serde_json::from_str(&json))
                .transpose()
                .map_err(|err| StoreError::Data(err.to_string()))?;
            if let Some(attachment) = &attachment {
                tx.execute("DELETE FROM media WHERE id = ?1", [&attachment.id])?;
            }
            tx.execute(
                "UPDATE messages SET body = '', attachment = NULL, edited_at = NULL, deleted = 1
                 WHERE conversation_id = ?1 AND seq = ?2",
                params![conversation, seq],
            )?;
            tx.execute(
                "DELETE FROM reactions WHERE conversation_id = ?1 AND seq = ?2",
                params![conversation, seq],
            )?;
            // Earlier edits carry text too: keep them, without it.
            let emptied = serde_json::to_string(&Action::Edit {
                target: seq,
                body: String::new(),
            })
            .map_err(|err| StoreError::Data(err.to_string()))?;
            tx.execute(
                "UPDATE messages SET action = ?3
                 WHERE conversation_id = ?1 AND action IS NOT NULL
                   AND json_extract(action, '$.type') = 'edit'
                   AND json_extract(action, '$.target') = ?2",
                params![conversation, seq, emptied],
            )?;
            return Ok(attachment.map(|attachment| attachment.id));
        }
    }
    Ok(None)
}
