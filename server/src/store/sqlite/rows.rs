//! Reading SQLite rows into records: users, messages (with reactions),
//! conversations, memberships and media. Every statement is prepared once
//! per connection and cached.

use std::collections::HashMap;

use natter_protocol::{
    Conversation, ConversationId, ConversationKind, GroupInfo, Member, Message, Millis, Reaction,
    ReportReason, Seq, User, UserId,
};
use rusqlite::{params, Connection, OptionalExtension, Row};
use uuid::Uuid;

use crate::store::columns::{kind_from, media_kind, role_from};
pub use crate::store::columns::{role_text, to_json};
use crate::store::{MediaRecord, Membership, Reader, Report, Seat, StoreError};

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        StoreError::backend(err)
    }
}

/// Whether `err` is a UNIQUE (or primary key) violation.
pub fn is_unique_violation(err: &rusqlite::Error) -> bool {
    matches!(
        err,
        rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::ConstraintViolation
    )
}

fn conversion_error(
    column: usize,
    err: impl std::error::Error + Send + Sync + 'static,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(err))
}

fn json<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    column: usize,
) -> rusqlite::Result<Option<T>> {
    let text: Option<String> = row.get(column)?;
    text.map(|json| serde_json::from_str(&json))
        .transpose()
        .map_err(|err| conversion_error(column, err))
}

/// The columns [`user`] reads, first in a query.
pub const USER_COLUMNS: &str = "id, username, display_name, avatar_hash, deleted_at IS NOT NULL";

/// A user from the first five columns of `row`, as [`USER_COLUMNS`] reads
/// them.
pub fn user(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        display_name: row.get(2)?,
        avatar: picture(row, 3)?,
        deleted: row.get(4)?,
    })
}

/// A picture's URL, from the column holding its hash.
pub fn picture(row: &Row<'_>, column: usize) -> rusqlite::Result<Option<String>> {
    Ok(row
        .get::<_, Option<String>>(column)?
        .map(|hash| natter_protocol::picture_url(&hash)))
}

pub fn load_user(conn: &Connection, id: UserId) -> Result<Option<User>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"))?
        .query_row([id], user)
        .optional()?)
}

/// The columns [`message`] reads, first in a query.
pub const MESSAGE_COLUMNS: &str = "conversation_id, seq, client_id, sender_id, body, sent_at, \
     attachment, event, reply_to, action, edited_at, deleted, link_preview";

/// A message as stored, without its reactions (see [`with_reactions`]).
pub fn message(row: &Row<'_>) -> rusqlite::Result<Message> {
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
        link_preview: json(row, 12)?,
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

/// The condition that keeps the messages a reader reads, whose user and
/// `from` are the statement's parameters `user` and `from`.
fn reads(user: usize, from: usize) -> String {
    format!("seq > ?{from} AND (withheld_from IS NULL OR withheld_from <> ?{user})")
}

/// One message by seq, with its reactions.
pub fn load_message(
    conn: &Connection,
    conversation: ConversationId,
    seq: Seq,
) -> Result<Option<Message>, StoreError> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND seq = ?2"
        ))?
        .query_row(params![conversation, seq], message)
        .optional()?;
    Ok(with_reactions(conn, found.into_iter().collect())?.pop())
}

/// The message `sender` stored under `client_id`, without reactions (it is
/// wanted for its place, not its content).
pub fn message_by_client_id(
    conn: &Connection,
    sender: UserId,
    client_id: Uuid,
) -> Result<Option<Message>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE client_id = ?2 AND sender_id = ?1"
        ))?
        .query_row(params![sender, client_id.to_string()], message)
        .optional()?)
}

/// Up to `limit` messages after `after` (ascending), or before `before`,
/// that `reader` reads.
pub fn page(
    conn: &Connection,
    conversation: ConversationId,
    range: Page,
    limit: u32,
    reader: Reader,
) -> Result<Vec<Message>, StoreError> {
    let who = (reader.user, reader.from);
    let page = match range {
        Page::After(after) => conn
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE conversation_id = ?1 AND seq > ?2 AND {} ORDER BY seq LIMIT ?3",
                reads(4, 5)
            ))?
            .query_map(params![conversation, after, limit, who.0, who.1], message)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
        Page::Before(before) => {
            let mut page = conn
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages
                     WHERE conversation_id = ?1 AND seq < ?2 AND {}
                     ORDER BY seq DESC LIMIT ?3",
                    reads(4, 5)
                ))?
                .query_map(params![conversation, before, limit, who.0, who.1], message)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            page.reverse();
            page
        }
    };
    with_reactions(conn, page)
}

/// Which side of a seq a page of history is on.
#[derive(Debug, Clone, Copy)]
pub enum Page {
    After(Seq),
    Before(Seq),
}

type ConversationRow = (
    String,
    Seq,
    Millis,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// A conversation with its members, their cursors and its newest visible
/// message, as `reader` reads it.
pub fn load_conversation(
    conn: &Connection,
    id: ConversationId,
    reader: Reader,
) -> Result<Option<Conversation>, StoreError> {
    let found: Option<ConversationRow> = conn
        .prepare_cached(
            "SELECT kind, last_seq, created_at, name, picture_hash, hashtag
             FROM conversations WHERE id = ?1",
        )?
        .query_row([id], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                picture(row, 4)?,
                row.get(5)?,
            ))
        })
        .optional()?;
    let Some((kind, last_seq, created_at, name, picture, hashtag)) = found else {
        return Ok(None);
    };
    let kind = kind_from(id, &kind)?;
    let members = conn
        .prepare_cached(
            "SELECT u.id, u.username, u.display_name, u.avatar_hash, u.deleted_at IS NOT NULL,
                    m.delivered_seq, m.read_seq, m.role, m.request_from IS NOT NULL
             FROM members m JOIN users u ON u.id = m.user_id
             WHERE m.conversation_id = ?1 ORDER BY u.id",
        )?
        .query_map([id], |row| {
            Ok(Member {
                user: user(row)?,
                delivered: row.get(5)?,
                read: row.get(6)?,
                role: role_from(&row.get::<_, String>(7)?),
                pending: row.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // The newest message worth showing in a list: actions only change
    // earlier messages.
    let last_visible: Option<Seq> = conn
        .prepare_cached(&format!(
            "SELECT seq FROM messages
             WHERE conversation_id = ?1 AND action IS NULL AND {}
             ORDER BY seq DESC LIMIT 1",
            reads(2, 3)
        ))?
        .query_row(params![id, reader.user, reader.from], |row| row.get(0))
        .optional()?;
    // Messages withheld from the reader are not theirs to count either.
    let newest_not_withheld: Option<Seq> = conn
        .prepare_cached(
            "SELECT seq FROM messages WHERE conversation_id = ?1
               AND (withheld_from IS NULL OR withheld_from <> ?2)
             ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(params![id, reader.user], |row| row.get(0))
        .optional()?;
    let last_seq = newest_not_withheld.unwrap_or(0).min(last_seq);
    let last_message = match last_visible {
        Some(seq) => load_message(conn, id, seq)?,
        None => None,
    };
    Ok(Some(Conversation {
        id,
        kind,
        members,
        last_message,
        last_seq,
        created_at,
        group: match (kind, name) {
            (ConversationKind::Group, Some(name)) => Some(GroupInfo {
                name,
                picture,
                hashtag,
            }),
            _ => None,
        },
    }))
}

pub fn load_membership(
    conn: &Connection,
    id: ConversationId,
) -> Result<Option<Membership>, StoreError> {
    let found: Option<(String, u64, Option<String>)> = conn
        .prepare_cached("SELECT kind, epoch, hashtag FROM conversations WHERE id = ?1")?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .optional()?;
    let Some((kind, epoch, hashtag)) = found else {
        return Ok(None);
    };
    let seats = conn
        .prepare_cached(
            "SELECT m.user_id, m.role, m.joined_at, m.history_from, m.request_from,
                    u.deleted_at IS NOT NULL
             FROM members m JOIN users u ON u.id = m.user_id
             WHERE m.conversation_id = ?1 ORDER BY m.joined_at, m.user_id",
        )?
        .query_map([id], |row| {
            Ok(Seat {
                user: row.get(0)?,
                role: role_from(&row.get::<_, String>(1)?),
                joined_at: row.get(2)?,
                history_from: row.get(3)?,
                request_from: row.get(4)?,
                ended: row.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let banned = conn
        .prepare_cached("SELECT user_id FROM bans WHERE conversation_id = ?1 ORDER BY user_id")?
        .query_map([id], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(Membership {
        id,
        kind: kind_from(id, &kind)?,
        epoch,
        hashtag,
        seats,
        banned,
    }))
}

pub const MEDIA_COLUMNS: &str =
    "id, uploader_id, conversation_id, kind, content_type, size, message_seq";

pub fn media(row: &Row<'_>) -> rusqlite::Result<MediaRecord> {
    let kind: String = row.get(3)?;
    let kind = media_kind(&kind).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            3,
            rusqlite::types::Type::Text,
            format!("unknown media kind {kind:?}").into(),
        )
    })?;
    Ok(MediaRecord {
        id: row.get(0)?,
        uploader: row.get(1)?,
        conversation: row.get(2)?,
        kind,
        content_type: row.get(4)?,
        size: row.get(5)?,
        message_seq: row.get(6)?,
    })
}

/// Reports, oldest first, with the people they name.
pub fn reports(
    conn: &Connection,
    include_resolved: bool,
    limit: u32,
) -> Result<Vec<Report>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, r.reporter_id, r.reported_id, r.conversation_id, r.seq, r.reason, r.note,
                r.context, r.created_at, r.resolved_at, r.resolution
         FROM reports r
         WHERE ?1 OR r.resolved_at IS NULL
         ORDER BY r.created_at, r.id LIMIT ?2",
    )?;
    type Row = (
        i64,
        UserId,
        UserId,
        Option<ConversationId>,
        Option<Seq>,
        Option<ReportReason>,
        Option<String>,
        Option<Vec<Message>>,
        Millis,
        Option<Millis>,
        Option<String>,
    );
    let found = stmt
        .query_map(params![include_resolved, limit], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                json(row, 5)?,
                row.get(6)?,
                json(row, 7)?,
                row.get(8)?,
                row.get(9)?,
                row.get(10)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<Row>>>()?;
    let mut reports = Vec::with_capacity(found.len());
    for (id, reporter, reported, conversation, seq, reason, note, context, at, done, resolution) in
        found
    {
        let person = |id: UserId| {
            load_user(conn, id)?
                .ok_or_else(|| StoreError::Data(format!("report {id} names a missing user")))
        };
        reports.push(Report {
            id,
            reporter: person(reporter)?,
            reported: person(reported)?,
            conversation,
            seq,
            reason: reason.ok_or_else(|| StoreError::Data(format!("report {id} has no reason")))?,
            note,
            context: context.unwrap_or_default(),
            created_at: at,
            resolved: done.map(|at| (at, resolution.unwrap_or_default())),
        });
    }
    Ok(reports)
}
