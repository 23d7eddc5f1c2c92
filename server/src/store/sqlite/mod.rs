//! The embedded SQLite store.
//!
//! One connection in WAL mode with `synchronous=FULL`: a commit has reached
//! the disk when `COMMIT` returns, which is what lets the server ack after it.
//! Calls run on tokio's blocking pool so that fsyncs never stall the async
//! workers. Group changes live in [`groups`].

mod groups;
mod messages;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use natter_protocol::{
    limits::canonical_username, Conversation, ConversationId, ConversationKind, GroupInfo,
    MediaKind, Member, Message, Millis, PublicGroup, ReceiptKind, Role, Seq, User, UserId,
};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use messages::MESSAGE_COLUMNS;

use super::{
    migrations, Appended, GroupChange, GroupChanged, GroupSpec, MediaRecord, NewMessage, Store,
    StoreError, StoredCredentials,
};
use crate::now_millis;

#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let path = path.to_owned();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut conn = Connection::open(&path)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            // Deleted and edited text is overwritten in the file, not just
            // unlinked ("delete for everyone" means gone from the server).
            conn.pragma_update(None, "secure_delete", "ON")?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            migrations::migrate(&mut conn)?;
            Ok(conn)
        })
        .await
        .map_err(|err| StoreError::Task(err.to_string()))??;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `job` on the blocking pool with the connection.
    async fn with<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave a half-done
            // transaction behind (rusqlite rolls back on drop), so a poisoned
            // lock is still safe to use.
            let mut guard = conn.lock().unwrap_or_else(|poison| poison.into_inner());
            job(&mut guard)
        })
        .await
        .map_err(|err| StoreError::Task(err.to_string()))?
    }
}

/// The columns [`user_from_row`] reads, first in a query.
const USER_COLUMNS: &str = "id, username, display_name, avatar";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        display_name: row.get(2)?,
        avatar: row.get(3)?,
    })
}

fn conversion_error(
    column: usize,
    err: impl std::error::Error + Send + Sync + 'static,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(err))
}

fn kind_from(text: &str) -> Option<MediaKind> {
    match text {
        "image" => Some(MediaKind::Image),
        "video" => Some(MediaKind::Video),
        "voice" => Some(MediaKind::Voice),
        _ => None,
    }
}

fn media_from_row(row: &Row<'_>) -> rusqlite::Result<MediaRecord> {
    let kind: String = row.get(3)?;
    let kind = kind_from(&kind).ok_or_else(|| {
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
    })
}

const MEDIA_COLUMNS: &str = "id, uploader_id, conversation_id, kind, content_type, size";

fn load_media(conn: &Connection, id: &str) -> rusqlite::Result<Option<MediaRecord>> {
    conn.query_row(
        &format!("SELECT {MEDIA_COLUMNS} FROM media WHERE id = ?1"),
        [id],
        media_from_row,
    )
    .optional()
}

fn is_member(conn: &Connection, user: UserId, id: ConversationId) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM members WHERE conversation_id = ?1 AND user_id = ?2",
        params![id, user],
        |_| Ok(()),
    )
    .optional()
    .map(|found| found.is_some())
}

fn load_conversation(conn: &Connection, id: ConversationId) -> Result<Conversation, StoreError> {
    let (kind, last_seq, created_at, name, picture, hashtag): ConversationRow = conn.query_row(
        "SELECT kind, last_seq, created_at, name, picture, hashtag FROM conversations WHERE id = ?1",
        [id],
        |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
            ))
        },
    )?;
    let kind = match kind.as_str() {
        "direct" => ConversationKind::Direct,
        "group" => ConversationKind::Group,
        other => {
            return Err(StoreError::Data(format!(
                "conversation {id} has unknown kind {other:?}"
            )))
        }
    };
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.username, u.display_name, u.avatar, m.delivered_seq, m.read_seq, m.role
         FROM members m JOIN users u ON u.id = m.user_id
         WHERE m.conversation_id = ?1 ORDER BY u.id",
    )?;
    let members = stmt
        .query_map([id], |row| {
            Ok(Member {
                user: user_from_row(row)?,
                delivered: row.get(4)?,
                read: row.get(5)?,
                role: role_from(&row.get::<_, String>(6)?),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // The newest message worth showing in a list: actions only change
    // earlier messages.
    let last_visible: Option<Seq> = conn
        .query_row(
            "SELECT seq FROM messages WHERE conversation_id = ?1 AND action IS NULL
             ORDER BY seq DESC LIMIT 1",
            [id],
            |row| row.get(0),
        )
        .optional()?;
    let last_message = match last_visible {
        Some(seq) => messages::load(conn, id, seq)?,
        None => None,
    };
    Ok(Conversation {
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
    })
}

type ConversationRow = (
    String,
    Seq,
    Millis,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn role_from(text: &str) -> Role {
    match text {
        "admin" => Role::Admin,
        _ => Role::Member,
    }
}

fn is_unique_violation(err: &rusqlite::Error) -> bool {
    matches!(
        err,
        rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::ConstraintViolation
    )
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_user(&self, username: &str, password_hash: &str) -> Result<User, StoreError> {
        let username = username.to_owned();
        let password_hash = password_hash.to_owned();
        self.with(move |conn| {
            let key = canonical_username(&username);
            let inserted = conn.execute(
                "INSERT INTO users (username, username_key, password_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![username, key, password_hash, now_millis()],
            );
            match inserted {
                Ok(_) => Ok(User {
                    id: conn.last_insert_rowid(),
                    username,
                    display_name: None,
                    avatar: None,
                }),
                Err(err) if is_unique_violation(&err) => Err(StoreError::UsernameTaken),
                Err(err) => Err(err.into()),
            }
        })
        .await
    }

    async fn update_profile(
        &self,
        user: UserId,
        display_name: Option<String>,
        avatar: Option<String>,
    ) -> Result<User, StoreError> {
        self.with(move |conn| {
            conn.query_row(
                &format!(
                    "UPDATE users SET display_name = ?2, avatar = ?3 WHERE id = ?1
                     RETURNING {USER_COLUMNS}"
                ),
                params![user, display_name, avatar],
                user_from_row,
            )
            .optional()?
            .ok_or(StoreError::NoSuchUser)
        })
        .await
    }

    async fn credentials(&self, username: &str) -> Result<Option<StoredCredentials>, StoreError> {
        let key = canonical_username(username);
        self.with(move |conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {USER_COLUMNS}, password_hash FROM users WHERE username_key = ?1"
                    ),
                    [key],
                    |row| {
                        Ok(StoredCredentials {
                            user: user_from_row(row)?,
                            password_hash: row.get(4)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<User>, StoreError> {
        let key = canonical_username(username);
        self.with(move |conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {USER_COLUMNS} FROM users WHERE username_key = ?1"),
                    [key],
                    user_from_row,
                )
                .optional()?)
        })
        .await
    }

    async fn create_session(
        &self,
        token_hash: [u8; 32],
        user: UserId,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        self.with(move |conn| {
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
                params![&token_hash[..], user, expires_at],
            )?;
            Ok(())
        })
        .await
    }

    async fn session_user(
        &self,
        token_hash: [u8; 32],
        now: Millis,
    ) -> Result<Option<User>, StoreError> {
        self.with(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT u.id, u.username, u.display_name, u.avatar
                     FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                    params![&token_hash[..], now],
                    user_from_row,
                )
                .optional()?)
        })
        .await
    }

    async fn delete_session(&self, token_hash: [u8; 32]) -> Result<(), StoreError> {
        self.with(move |conn| {
            conn.execute(
                "DELETE FROM sessions WHERE token_hash = ?1",
                [&token_hash[..]],
            )?;
            Ok(())
        })
        .await
    }

    async fn open_direct(
        &self,
        me: UserId,
        other: UserId,
        now: Millis,
    ) -> Result<(Conversation, bool), StoreError> {
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let exists: bool = tx
                .query_row("SELECT 1 FROM users WHERE id = ?1", [other], |_| Ok(()))
                .optional()?
                .is_some();
            if !exists {
                return Err(StoreError::NoSuchUser);
            }
            let key = format!("{}:{}", me.min(other), me.max(other));
            let found: Option<ConversationId> = tx
                .query_row(
                    "SELECT id FROM conversations WHERE direct_key = ?1",
                    [&key],
                    |row| row.get(0),
                )
                .optional()?;
            let (id, created) = match found {
                Some(id) => (id, false),
                None => {
                    tx.execute(
                        "INSERT INTO conversations (kind, direct_key, created_at)
                         VALUES ('direct', ?1, ?2)",
                        params![key, now],
                    )?;
                    let id = tx.last_insert_rowid();
                    let mut add = tx.prepare_cached(
                        "INSERT OR IGNORE INTO members (conversation_id, user_id) VALUES (?1, ?2)",
                    )?;
                    add.execute(params![id, me])?;
                    add.execute(params![id, other])?;
                    (id, true)
                }
            };
            let conversation = load_conversation(&tx, id)?;
            tx.commit()?;
            Ok((conversation, created))
        })
        .await
    }

    async fn conversations(&self, user: UserId) -> Result<Vec<Conversation>, StoreError> {
        self.with(move |conn| {
            let ids = conn
                .prepare_cached("SELECT conversation_id FROM members WHERE user_id = ?1")?
                .query_map([user], |row| row.get::<_, ConversationId>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            ids.into_iter()
                .map(|id| load_conversation(conn, id))
                .collect()
        })
        .await
    }

    async fn conversation(
        &self,
        user: UserId,
        id: ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        self.with(move |conn| {
            if !is_member(conn, user, id)? {
                return Ok(None);
            }
            load_conversation(conn, id).map(Some)
        })
        .await
    }

    async fn member_ids(&self, id: ConversationId) -> Result<Vec<UserId>, StoreError> {
        self.with(move |conn| {
            Ok(conn
                .prepare_cached("SELECT user_id FROM members WHERE conversation_id = ?1")?
                .query_map([id], |row| row.get(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn create_group(
        &self,
        creator: UserId,
        spec: GroupSpec,
        now: Millis,
    ) -> Result<GroupChanged, StoreError> {
        self.with(move |conn| groups::create(conn, creator, spec, now))
            .await
    }

    async fn change_group(
        &self,
        actor: UserId,
        conversation: ConversationId,
        change: GroupChange,
        now: Millis,
    ) -> Result<GroupChanged, StoreError> {
        self.with(move |conn| groups::change(conn, actor, conversation, change, now))
            .await
    }

    async fn public_groups(
        &self,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<PublicGroup>, StoreError> {
        let prefix = prefix.to_owned();
        self.with(move |conn| groups::public(conn, &prefix, limit))
            .await
    }

    async fn append_message(&self, message: NewMessage) -> Result<Appended, StoreError> {
        self.with(move |conn| messages::append(conn, message)).await
    }

    async fn add_media(&self, record: &MediaRecord, now: Millis) -> Result<(), StoreError> {
        let record = record.clone();
        self.with(move |conn| {
            conn.execute(
                "INSERT INTO media
                     (id, uploader_id, conversation_id, kind, content_type, size, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    record.id,
                    record.uploader,
                    record.conversation,
                    record.kind.as_str(),
                    record.content_type,
                    record.size,
                    now
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn media(&self, id: &str) -> Result<Option<MediaRecord>, StoreError> {
        let id = id.to_owned();
        self.with(move |conn| Ok(load_media(conn, &id)?)).await
    }

    async fn messages_after(
        &self,
        user: UserId,
        conversation: ConversationId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        self.with(move |conn| {
            if !is_member(conn, user, conversation)? {
                return Err(StoreError::NotAMember);
            }
            conn.prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages
                     WHERE conversation_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            ))?
            .query_map(params![conversation, after, limit], messages::from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(StoreError::from)
            .and_then(|page| messages::with_reactions(conn, page))
        })
        .await
    }

    async fn messages_before(
        &self,
        user: UserId,
        conversation: ConversationId,
        before: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        self.with(move |conn| {
            if !is_member(conn, user, conversation)? {
                return Err(StoreError::NotAMember);
            }
            let mut page = conn
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages
                     WHERE conversation_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"
                ))?
                .query_map(params![conversation, before, limit], messages::from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            page.reverse();
            messages::with_reactions(conn, page)
        })
        .await
    }

    async fn advance_receipt(
        &self,
        user: UserId,
        conversation: ConversationId,
        kind: ReceiptKind,
        seq: Seq,
    ) -> Result<Vec<(ReceiptKind, Seq)>, StoreError> {
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let cursors: Option<(Seq, Seq, Seq)> = tx
                .query_row(
                    "SELECT m.delivered_seq, m.read_seq, c.last_seq
                     FROM members m JOIN conversations c ON c.id = m.conversation_id
                     WHERE m.conversation_id = ?1 AND m.user_id = ?2",
                    params![conversation, user],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .optional()?;
            let Some((delivered, read, last)) = cursors else {
                return Err(StoreError::NotAMember);
            };
            let target = seq.min(last);
            let mut moved = Vec::new();
            if target > delivered {
                moved.push((ReceiptKind::Delivered, target));
            }
            if kind == ReceiptKind::Read && target > read {
                moved.push((ReceiptKind::Read, target));
            }
            for (kind, value) in &moved {
                let column = match kind {
                    ReceiptKind::Delivered => "delivered_seq",
                    ReceiptKind::Read => "read_seq",
                };
                tx.execute(
                    &format!(
                        "UPDATE members SET {column} = ?3
                         WHERE conversation_id = ?1 AND user_id = ?2"
                    ),
                    params![conversation, user, value],
                )?;
            }
            tx.commit()?;
            Ok(moved)
        })
        .await
    }
}
