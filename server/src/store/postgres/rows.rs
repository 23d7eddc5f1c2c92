//! Reading PostgreSQL rows into records: users, messages (with reactions),
//! conversations, memberships, media and reports. Every function takes a
//! connection, so the same reads serve the pool and a transaction.

use std::collections::HashMap;

use natter_protocol::{
    Conversation, ConversationId, ConversationKind, GroupInfo, Member, Message, Millis, Reaction,
    ReportReason, Seq, User, UserId,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::store::columns::{from_json, kind_from, media_kind, role_from};
use crate::store::{MediaRecord, Membership, Reader, Report, Seat, StoreError};

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::backend(err)
    }
}

/// Whether `err` is a UNIQUE (or primary key) violation.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// A seq, count or size as PostgreSQL's BIGINT keeps it.
pub fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A BIGINT read back as the unsigned number it was written from.
pub fn uint(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Data(format!("{value} is negative")))
}

fn seq_at(row: &PgRow, column: usize) -> Result<Seq, StoreError> {
    uint(row.try_get(column)?)
}

fn maybe_seq_at(row: &PgRow, column: usize) -> Result<Option<Seq>, StoreError> {
    row.try_get::<Option<i64>, _>(column)?.map(uint).transpose()
}

/// The columns [`user`] reads, first in a query.
macro_rules! user_columns {
    () => {
        "id, username, display_name, avatar_hash, deleted_at IS NOT NULL"
    };
}
pub(super) use user_columns;

/// A user from the five columns of `row` starting at `at`, as
/// [`user_columns`] reads them.
pub fn user(row: &PgRow, at: usize) -> Result<User, StoreError> {
    Ok(User {
        id: row.try_get(at)?,
        username: row.try_get(at + 1)?,
        display_name: row.try_get(at + 2)?,
        avatar: picture(row, at + 3)?,
        deleted: row.try_get(at + 4)?,
    })
}

/// A picture's URL, from the column holding its hash.
pub fn picture(row: &PgRow, column: usize) -> Result<Option<String>, StoreError> {
    Ok(row
        .try_get::<Option<String>, _>(column)?
        .map(|hash| natter_protocol::picture_url(&hash)))
}

pub async fn load_user(conn: &mut PgConnection, id: UserId) -> Result<Option<User>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .map(|row| user(&row, 0))
    .transpose()
}

/// The columns [`message`] reads, first in a query.
macro_rules! message_columns {
    () => {
        "conversation_id, seq, client_id, sender_id, body, sent_at, attachment, event, reply_to, \
         action, edited_at, deleted, link_preview"
    };
}

/// A message as stored, without its reactions (see [`with_reactions`]).
pub fn message(row: &PgRow) -> Result<Message, StoreError> {
    Ok(Message {
        conversation: row.try_get(0)?,
        seq: seq_at(row, 1)?,
        client_id: row.try_get::<Uuid, _>(2)?,
        sender: row.try_get(3)?,
        body: row.try_get(4)?,
        sent_at: row.try_get(5)?,
        attachment: from_json(row.try_get::<Option<&str>, _>(6)?)?,
        event: from_json(row.try_get::<Option<&str>, _>(7)?)?,
        reply_to: maybe_seq_at(row, 8)?,
        action: from_json(row.try_get::<Option<&str>, _>(9)?)?,
        edited_at: row.try_get(10)?,
        deleted: row.try_get(11)?,
        reactions: Vec::new(),
        link_preview: from_json(row.try_get::<Option<&str>, _>(12)?)?,
    })
}

/// Fills in the reactions of `messages` (all of one conversation) with one
/// query.
pub async fn with_reactions(
    conn: &mut PgConnection,
    mut messages: Vec<Message>,
) -> Result<Vec<Message>, StoreError> {
    let (Some(first), Some(last)) = (messages.first(), messages.last()) else {
        return Ok(messages);
    };
    let conversation = first.conversation;
    let (low, high) = (first.seq.min(last.seq), first.seq.max(last.seq));
    let rows = sqlx::query(
        "SELECT seq, emoji, user_id FROM reactions
         WHERE conversation_id = $1 AND seq BETWEEN $2 AND $3
         ORDER BY seq, created_at, user_id",
    )
    .bind(conversation)
    .bind(int(low))
    .bind(int(high))
    .fetch_all(conn)
    .await?;
    let mut by_seq: HashMap<Seq, Vec<Reaction>> = HashMap::new();
    for row in rows {
        let seq = seq_at(&row, 0)?;
        let emoji: String = row.try_get(1)?;
        let user: UserId = row.try_get(2)?;
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
pub async fn load_message(
    conn: &mut PgConnection,
    conversation: ConversationId,
    seq: Seq,
) -> Result<Option<Message>, StoreError> {
    let found = sqlx::query(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages WHERE conversation_id = $1 AND seq = $2"
    ))
    .bind(conversation)
    .bind(int(seq))
    .fetch_optional(&mut *conn)
    .await?
    .map(|row| message(&row))
    .transpose()?;
    Ok(with_reactions(conn, found.into_iter().collect())
        .await?
        .pop())
}

/// The message `sender` stored under `client_id`, without reactions (it is
/// wanted for its place, not its content).
pub async fn message_by_client_id(
    conn: &mut PgConnection,
    sender: UserId,
    client_id: Uuid,
) -> Result<Option<Message>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages WHERE client_id = $2 AND sender_id = $1"
    ))
    .bind(sender)
    .bind(client_id)
    .fetch_optional(conn)
    .await?
    .map(|row| message(&row))
    .transpose()
}

/// Which side of a seq a page of history is on.
#[derive(Debug, Clone, Copy)]
pub enum Page {
    After(Seq),
    Before(Seq),
}

/// Up to `limit` messages after `after` (ascending), or before `before`,
/// that `reader` reads: after their `from`, and none withheld from them.
pub async fn page(
    conn: &mut PgConnection,
    conversation: ConversationId,
    range: Page,
    limit: u32,
    reader: Reader,
) -> Result<Vec<Message>, StoreError> {
    let (query, seq) = match range {
        Page::After(after) => (
            concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages
                 WHERE conversation_id = $1 AND seq > $2 AND seq > $5
                   AND (withheld_from IS NULL OR withheld_from <> $4)
                 ORDER BY seq LIMIT $3"
            ),
            after,
        ),
        Page::Before(before) => (
            concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages
                 WHERE conversation_id = $1 AND seq < $2 AND seq > $5
                   AND (withheld_from IS NULL OR withheld_from <> $4)
                 ORDER BY seq DESC LIMIT $3"
            ),
            before,
        ),
    };
    let rows = sqlx::query(query)
        .bind(conversation)
        .bind(int(seq))
        .bind(i64::from(limit))
        .bind(reader.user)
        .bind(int(reader.from))
        .fetch_all(&mut *conn)
        .await?;
    let mut page = rows.iter().map(message).collect::<Result<Vec<_>, _>>()?;
    if matches!(range, Page::Before(_)) {
        page.reverse();
    }
    with_reactions(conn, page).await
}

/// A conversation with its members, their cursors and its newest visible
/// message, as `reader` reads it.
pub async fn load_conversation(
    conn: &mut PgConnection,
    id: ConversationId,
    reader: Reader,
) -> Result<Option<Conversation>, StoreError> {
    let Some(row) = sqlx::query(
        "SELECT kind, last_seq, created_at, name, picture_hash, hashtag
         FROM conversations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let kind = kind_from(id, row.try_get(0)?)?;
    let last_seq = seq_at(&row, 1)?;
    let created_at: Millis = row.try_get(2)?;
    let name: Option<String> = row.try_get(3)?;
    let picture = picture(&row, 4)?;
    let hashtag: Option<String> = row.try_get(5)?;
    let members = sqlx::query(
        "SELECT u.id, u.username, u.display_name, u.avatar_hash, u.deleted_at IS NOT NULL,
                m.delivered_seq, m.read_seq, m.role, m.request_from IS NOT NULL
         FROM members m JOIN users u ON u.id = m.user_id
         WHERE m.conversation_id = $1 ORDER BY u.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(Member {
            user: user(row, 0)?,
            delivered: seq_at(row, 5)?,
            read: seq_at(row, 6)?,
            role: role_from(row.try_get(7)?),
            pending: row.try_get(8)?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    // The newest message worth showing in a list (actions only change
    // earlier messages), and the newest the reader may count (messages
    // withheld from them are not theirs to count).
    let newest = sqlx::query(
        "SELECT
             (SELECT seq FROM messages
              WHERE conversation_id = $1 AND action IS NULL AND seq > $3
                AND (withheld_from IS NULL OR withheld_from <> $2)
              ORDER BY seq DESC LIMIT 1),
             (SELECT seq FROM messages
              WHERE conversation_id = $1 AND (withheld_from IS NULL OR withheld_from <> $2)
              ORDER BY seq DESC LIMIT 1)",
    )
    .bind(id)
    .bind(reader.user)
    .bind(int(reader.from))
    .fetch_one(&mut *conn)
    .await?;
    let last_visible = maybe_seq_at(&newest, 0)?;
    let newest_not_withheld = maybe_seq_at(&newest, 1)?;
    let last_seq = newest_not_withheld.unwrap_or(0).min(last_seq);
    let last_message = match last_visible {
        Some(seq) => Box::pin(load_message(conn, id, seq)).await?,
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

pub async fn load_membership(
    conn: &mut PgConnection,
    id: ConversationId,
) -> Result<Option<Membership>, StoreError> {
    let Some(row) = sqlx::query("SELECT kind, epoch, hashtag FROM conversations WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let kind = kind_from(id, row.try_get(0)?)?;
    let epoch = uint(row.try_get(1)?)?;
    let hashtag: Option<String> = row.try_get(2)?;
    let seats = sqlx::query(
        "SELECT m.user_id, m.role, m.joined_at, m.history_from, m.request_from,
                u.deleted_at IS NOT NULL
         FROM members m JOIN users u ON u.id = m.user_id
         WHERE m.conversation_id = $1 ORDER BY m.joined_at, m.user_id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(Seat {
            user: row.try_get(0)?,
            role: role_from(row.try_get(1)?),
            joined_at: row.try_get(2)?,
            history_from: seq_at(row, 3)?,
            request_from: row.try_get(4)?,
            ended: row.try_get(5)?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let banned =
        sqlx::query_scalar("SELECT user_id FROM bans WHERE conversation_id = $1 ORDER BY user_id")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    Ok(Some(Membership {
        id,
        kind,
        epoch,
        hashtag,
        seats,
        banned,
    }))
}

/// The columns [`media`] reads.
macro_rules! media_columns {
    () => {
        "id, uploader_id, conversation_id, kind, content_type, size, message_seq"
    };
}
pub(super) use media_columns;

pub fn media(row: &PgRow) -> Result<MediaRecord, StoreError> {
    let kind: &str = row.try_get(3)?;
    let kind =
        media_kind(kind).ok_or_else(|| StoreError::Data(format!("unknown media kind {kind:?}")))?;
    Ok(MediaRecord {
        id: row.try_get(0)?,
        uploader: row.try_get(1)?,
        conversation: row.try_get(2)?,
        kind,
        content_type: row.try_get(4)?,
        size: uint(row.try_get(5)?)?,
        message_seq: maybe_seq_at(row, 6)?,
    })
}

/// Reports, oldest first, with the people they name.
pub async fn reports(
    conn: &mut PgConnection,
    include_resolved: bool,
    limit: u32,
) -> Result<Vec<Report>, StoreError> {
    let rows = sqlx::query(
        "SELECT r.id, r.reporter_id, r.reported_id, r.conversation_id, r.seq, r.reason, r.note,
                r.context, r.created_at, r.resolved_at, r.resolution
         FROM reports r
         WHERE $1 OR r.resolved_at IS NULL
         ORDER BY r.created_at, r.id LIMIT $2",
    )
    .bind(include_resolved)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    let mut reports = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get(0)?;
        let mut person = async |column: usize| {
            let user: UserId = row.try_get(column)?;
            load_user(&mut *conn, user)
                .await?
                .ok_or_else(|| StoreError::Data(format!("report {id} names a missing user")))
        };
        let reporter = person(1).await?;
        let reported = person(2).await?;
        let reason: Option<ReportReason> = from_json(row.try_get::<Option<&str>, _>(5)?)?;
        let context: Option<Vec<Message>> = from_json(row.try_get::<Option<&str>, _>(7)?)?;
        let resolved_at: Option<Millis> = row.try_get(9)?;
        let resolution: Option<String> = row.try_get(10)?;
        reports.push(Report {
            id,
            reporter,
            reported,
            conversation: row.try_get(3)?,
            seq: maybe_seq_at(&row, 4)?,
            reason: reason.ok_or_else(|| StoreError::Data(format!("report {id} has no reason")))?,
            note: row.try_get(6)?,
            context: context.unwrap_or_default(),
            created_at: row.try_get(8)?,
            resolved: resolved_at.map(|at| (at, resolution.unwrap_or_default())),
        });
    }
    Ok(reports)
}
