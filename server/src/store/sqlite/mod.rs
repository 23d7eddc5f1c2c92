//! The embedded SQLite store.
//!
//! WAL mode with `synchronous=FULL`: a commit has reached the disk when
//! `COMMIT` returns, which is what lets the server ack after it. One
//! connection writes, on its own thread ([`writer`]), so that fsyncs never
//! stall the async workers and batches of writes share one fsync
//! ([`commit`]); [`lifecycle`] ends accounts; reads use a small pool of read-only connections and never
//! wait behind a write (WAL readers see the last commit).

mod commit;
mod lifecycle;
mod push;
mod rows;
mod schema;
mod writer;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use natter_protocol::{
    limits::{canonical_hashtag, canonical_username},
    Conversation, ConversationId, Message, Millis, Mute, PublicGroup, Seq, User, UserId,
};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use uuid::Uuid;

use self::rows::{is_unique_violation, Page, MEDIA_COLUMNS, USER_COLUMNS};
use self::writer::{Readers, Writer};
use super::{
    picture_hash, Blocks, FiledReport, MediaRecord, Membership, PushDevice, Reader, Report, Store,
    StoreError, StoredCredentials, Write, Written,
};
use crate::now_millis;

pub use self::schema::CURRENT as SCHEMA_VERSION;

/// How many read-only connections serve reads at once.
const READERS: usize = 4;

pub struct SqliteStore {
    writer: Writer,
    readers: Readers,
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(StoreError::backend)?;
    }
    let mut conn = Connection::open(path)?;
    writer_settings(&conn)?;
    schema::migrate(&mut conn)?;
    Ok(conn)
}

/// The write connection's settings (public for the benchmark's storage
/// floor, which must store exactly as the writer does).
pub fn writer_settings(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // The pages a batch touches stay in memory between batches.
    conn.pragma_update(None, "cache_size", -65536)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Deleted and edited text is overwritten in the file, not just
    // unlinked ("delete for everyone" means gone from the server).
    conn.pragma_update(None, "secure_delete", "ON")?;
    configure(conn)
}

fn open_reader(path: &PathBuf) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn)?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let path = path.to_owned();
        let writer_path = path.clone();
        let conn = tokio::task::spawn_blocking(move || open_writer(&writer_path))
            .await
            .map_err(StoreError::backend)??;
        Ok(SqliteStore {
            writer: Writer::spawn(conn)?,
            readers: Readers::new(READERS, move || open_reader(&path)),
        })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_user(&self, username: &str, password_hash: &str) -> Result<User, StoreError> {
        let username = username.to_owned();
        let password_hash = password_hash.to_owned();
        self.writer
            .run(move |conn| {
                let key = canonical_username(&username);
                let inserted = conn
                    .prepare_cached(
                        "INSERT INTO users (username, username_key, password_hash, created_at)
                         VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![username, key, password_hash, now_millis()]);
                match inserted {
                    Ok(_) => Ok(User {
                        id: conn.last_insert_rowid(),
                        username,
                        display_name: None,
                        avatar: None,
                        deleted: false,
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
        self.writer
            .run(move |conn| {
                let hash = avatar.as_deref().map(picture_hash);
                conn.prepare_cached(&format!(
                    "UPDATE users SET display_name = ?2, avatar = ?3, avatar_hash = ?4
                     WHERE id = ?1 RETURNING {USER_COLUMNS}"
                ))?
                .query_row(params![user, display_name, avatar, hash], rows::user)
                .optional()?
                .ok_or(StoreError::NotFound)
            })
            .await
    }

    async fn credentials(&self, username: &str) -> Result<Option<StoredCredentials>, StoreError> {
        let key = canonical_username(username);
        self.readers
            .run(move |conn| {
                Ok(conn
                    .prepare_cached(&format!(
                        "SELECT {USER_COLUMNS}, password_hash FROM users
                         WHERE username_key = ?1 AND deleted_at IS NULL"
                    ))?
                    .query_row([key], |row| {
                        Ok(StoredCredentials {
                            user: rows::user(row)?,
                            password_hash: row.get(5)?,
                        })
                    })
                    .optional()?)
            })
            .await
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<User>, StoreError> {
        let key = canonical_username(username);
        self.readers
            .run(move |conn| {
                Ok(conn
                    .prepare_cached(&format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE username_key = ?1"
                    ))?
                    .query_row([key], rows::user)
                    .optional()?)
            })
            .await
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.readers
            .run(move |conn| rows::load_user(conn, id))
            .await
    }

    async fn picture(&self, hash: &str) -> Result<Option<String>, StoreError> {
        let hash = hash.to_owned();
        self.readers
            .run(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT avatar FROM users WHERE avatar_hash = ?1
                         UNION ALL
                         SELECT picture FROM conversations WHERE picture_hash = ?1
                         LIMIT 1",
                    )?
                    .query_row([hash], |row| row.get(0))
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
        self.writer
            .run(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![&token_hash[..], user, expires_at])?;
                Ok(())
            })
            .await
    }

    async fn session_user(
        &self,
        token_hash: [u8; 32],
        now: Millis,
    ) -> Result<Option<User>, StoreError> {
        self.readers
            .run(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT u.id, u.username, u.display_name, u.avatar_hash, u.deleted_at IS NOT NULL
                         FROM sessions s JOIN users u ON u.id = s.user_id
                         WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                    )?
                    .query_row(params![&token_hash[..], now], rows::user)
                    .optional()?)
            })
            .await
    }

    async fn delete_session(&self, token_hash: [u8; 32]) -> Result<(), StoreError> {
        self.writer
            .run(move |conn| {
                conn.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?
                    .execute([&token_hash[..]])?;
                Ok(())
            })
            .await
    }

    async fn delete_sessions(
        &self,
        user: UserId,
        keep: Option<[u8; 32]>,
    ) -> Result<(), StoreError> {
        self.writer
            .run(move |conn| {
                let keep = keep.map(|hash| hash.to_vec()).unwrap_or_default();
                conn.prepare_cached(
                    "DELETE FROM sessions WHERE user_id = ?1 AND token_hash != ?2",
                )?
                .execute(params![user, keep])?;
                Ok(())
            })
            .await
    }

    async fn purge_sessions(&self, now: Millis) -> Result<u64, StoreError> {
        self.writer
            .run(move |conn| {
                Ok(conn
                    .prepare_cached("DELETE FROM sessions WHERE expires_at <= ?1")?
                    .execute([now])? as u64)
            })
            .await
    }

    async fn set_password(&self, user: UserId, password_hash: &str) -> Result<(), StoreError> {
        let password_hash = password_hash.to_owned();
        self.writer
            .run(move |conn| {
                let changed = conn
                    .prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")?
                    .execute(params![user, password_hash])?;
                if changed == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            })
            .await
    }

    async fn open_direct(
        &self,
        a: UserId,
        b: UserId,
        request: bool,
        now: Millis,
    ) -> Result<(Conversation, bool), StoreError> {
        self.writer
            .run(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                if rows::load_user(&tx, b)?.is_none() || rows::load_user(&tx, a)?.is_none() {
                    return Err(StoreError::NotFound);
                }
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO contacts (owner_id, other_id) VALUES (?1, ?2)",
                )?
                .execute(params![a, b])?;
                let key = format!("{}:{}", a.min(b), a.max(b));
                let found: Option<(ConversationId, Seq)> = tx
                    .prepare_cached("SELECT id, last_seq FROM conversations WHERE direct_key = ?1")?
                    .query_row([&key], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()?;
                let (id, last) = match found {
                    Some(found) => found,
                    None => {
                        tx.prepare_cached(
                            "INSERT INTO conversations (kind, direct_key, created_at)
                             VALUES ('direct', ?1, ?2)",
                        )?
                        .execute(params![key, now])?;
                        (tx.last_insert_rowid(), 0)
                    }
                };
                // A seat given back after a deleted request starts afresh.
                let mut add = tx.prepare_cached(
                    "INSERT OR IGNORE INTO members
                         (conversation_id, user_id, joined_at, delivered_seq, read_seq,
                          history_from, request_from)
                     VALUES (?1, ?2, ?3, ?4, ?4, ?4, ?5)",
                )?;
                add.execute(params![id, a, now, last, None::<UserId>])?;
                let seated = add.execute(params![id, b, now, last, request.then_some(a)])? == 1;
                drop(add);
                if seated && found.is_some() {
                    tx.prepare_cached("UPDATE conversations SET epoch = epoch + 1 WHERE id = ?1")?
                        .execute([id])?;
                }
                let created = seated;
                let conversation = rows::load_conversation(&tx, id, Reader::everything(a))?
                    .ok_or(StoreError::NotFound)?;
                tx.commit()?;
                Ok((conversation, created))
            })
            .await
    }

    async fn knows(&self, owner: UserId, other: UserId) -> Result<bool, StoreError> {
        self.readers
            .run(move |conn| {
                Ok(conn
                    .prepare_cached("SELECT 1 FROM contacts WHERE owner_id = ?1 AND other_id = ?2")?
                    .query_row(params![owner, other], |_| Ok(()))
                    .optional()?
                    .is_some())
            })
            .await
    }

    async fn leave_direct(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), StoreError> {
        self.writer
            .run(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let left = tx
                    .prepare_cached(
                        "DELETE FROM members WHERE conversation_id = ?1 AND user_id = ?2
                           AND EXISTS (SELECT 1 FROM conversations
                                       WHERE id = ?1 AND kind = 'direct')",
                    )?
                    .execute(params![conversation, user])?;
                if left == 0 {
                    return Err(StoreError::NotFound);
                }
                tx.prepare_cached("UPDATE conversations SET epoch = epoch + 1 WHERE id = ?1")?
                    .execute([conversation])?;
                tx.commit()?;
                Ok(())
            })
            .await
    }

    async fn direct_pair(
        &self,
        conversation: ConversationId,
    ) -> Result<Option<(UserId, UserId)>, StoreError> {
        self.readers
            .run(move |conn| {
                let key: Option<Option<String>> = conn
                    .prepare_cached("SELECT direct_key FROM conversations WHERE id = ?1")?
                    .query_row([conversation], |row| row.get(0))
                    .optional()?;
                Ok(key.flatten().and_then(|key| {
                    let (low, high) = key.split_once(':')?;
                    Some((low.parse().ok()?, high.parse().ok()?))
                }))
            })
            .await
    }

    async fn conversations_of(&self, user: UserId) -> Result<Vec<Conversation>, StoreError> {
        self.readers
            .run(move |conn| {
                let seats = conn
                    .prepare_cached(
                        "SELECT conversation_id, history_from FROM members WHERE user_id = ?1",
                    )?
                    .query_map([user], |row| {
                        Ok((row.get::<_, ConversationId>(0)?, row.get::<_, Seq>(1)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let mut conversations = Vec::with_capacity(seats.len());
                for (id, from) in seats {
                    let reader = Reader { user, from };
                    conversations.extend(rows::load_conversation(conn, id, reader)?);
                }
                Ok(conversations)
            })
            .await
    }

    async fn conversation(
        &self,
        id: ConversationId,
        reader: Reader,
    ) -> Result<Option<Conversation>, StoreError> {
        self.readers
            .run(move |conn| rows::load_conversation(conn, id, reader))
            .await
    }

    async fn membership(&self, id: ConversationId) -> Result<Option<Membership>, StoreError> {
        self.readers
            .run(move |conn| rows::load_membership(conn, id))
            .await
    }

    async fn public_groups(
        &self,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<PublicGroup>, StoreError> {
        // Hashtags use [a-z0-9_], all below '{': this range is the prefix.
        let low = canonical_hashtag(prefix);
        let high = format!("{low}{{");
        self.readers
            .run(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT c.id, c.name, c.hashtag, c.picture_hash,
                                (SELECT COUNT(*) FROM members m WHERE m.conversation_id = c.id)
                         FROM conversations c
                         WHERE c.hashtag_key >= ?1 AND c.hashtag_key < ?2
                         ORDER BY c.hashtag_key LIMIT ?3",
                    )?
                    .query_map(params![low, high, limit], |row| {
                        Ok(PublicGroup {
                            id: row.get(0)?,
                            name: row.get(1)?,
                            hashtag: row.get(2)?,
                            picture: rows::picture(row, 3)?,
                            members: row.get(4)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    async fn message(
        &self,
        conversation: ConversationId,
        seq: Seq,
    ) -> Result<Option<Message>, StoreError> {
        self.readers
            .run(move |conn| rows::load_message(conn, conversation, seq))
            .await
    }

    async fn message_by_client_id(
        &self,
        sender: UserId,
        client_id: Uuid,
    ) -> Result<Option<Message>, StoreError> {
        self.readers
            .run(move |conn| rows::message_by_client_id(conn, sender, client_id))
            .await
    }

    async fn messages_after(
        &self,
        conversation: ConversationId,
        after: Seq,
        limit: u32,
        reader: Reader,
    ) -> Result<Vec<Message>, StoreError> {
        self.readers
            .run(move |conn| rows::page(conn, conversation, Page::After(after), limit, reader))
            .await
    }

    async fn messages_before(
        &self,
        conversation: ConversationId,
        before: Seq,
        limit: u32,
        reader: Reader,
    ) -> Result<Vec<Message>, StoreError> {
        self.readers
            .run(move |conn| rows::page(conn, conversation, Page::Before(before), limit, reader))
            .await
    }

    async fn add_media(&self, record: &MediaRecord, now: Millis) -> Result<(), StoreError> {
        let record = record.clone();
        self.writer
            .run(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO media
                         (id, uploader_id, conversation_id, kind, content_type, size, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    record.id,
                    record.uploader,
                    record.conversation,
                    record.kind.as_str(),
                    record.content_type,
                    record.size,
                    now
                ])?;
                Ok(())
            })
            .await
    }

    async fn media(&self, id: &str) -> Result<Option<MediaRecord>, StoreError> {
        let id = id.to_owned();
        self.readers
            .run(move |conn| {
                Ok(conn
                    .prepare_cached(&format!("SELECT {MEDIA_COLUMNS} FROM media WHERE id = ?1"))?
                    .query_row([id], rows::media)
                    .optional()?)
            })
            .await
    }

    async fn uploaded_since(&self, user: UserId, since: Millis) -> Result<u64, StoreError> {
        self.readers
            .run(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT COALESCE(SUM(size), 0) FROM media
                         WHERE uploader_id = ?1 AND created_at >= ?2",
                    )?
                    .query_row(params![user, since], |row| row.get(0))?)
            })
            .await
    }

    async fn take_unattached(&self, before: Millis) -> Result<Vec<String>, StoreError> {
        self.writer
            .run(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "DELETE FROM media WHERE message_seq IS NULL AND created_at < ?1
                         RETURNING id",
                    )?
                    .query_map([before], |row| row.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()?)
            })
            .await
    }

    /// Deleted text is overwritten in the database (`secure_delete`), but
    /// the WAL keeps the pages as they were until a checkpoint: copy them
    /// in and empty it. Readers in the middle of a read can keep a
    /// checkpoint from finishing; the next deletion tries again.
    async fn block(&self, blocker: UserId, blocked: UserId, now: Millis) -> Result<(), StoreError> {
        self.writer
            .run(move |conn| {
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO blocks (blocker_id, blocked_id, blocked_at)
                     VALUES (?1, ?2, ?3)",
                )?
                .execute(params![blocker, blocked, now])?;
                Ok(())
            })
            .await
    }

    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<(), StoreError> {
        self.writer
            .run(move |conn| {
                conn.prepare_cached(
                    "DELETE FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2",
                )?
                .execute(params![blocker, blocked])?;
                Ok(())
            })
            .await
    }

    async fn blocks(&self, user: UserId) -> Result<Blocks, StoreError> {
        self.readers
            .run(move |conn| {
                let blocking = conn
                    .prepare_cached("SELECT blocked_id FROM blocks WHERE blocker_id = ?1")?
                    .query_map([user], |row| row.get(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let blocked_by = conn
                    .prepare_cached("SELECT blocker_id FROM blocks WHERE blocked_id = ?1")?
                    .query_map([user], |row| row.get(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(Blocks {
                    blocking,
                    blocked_by,
                })
            })
            .await
    }

    async fn blocked_users(&self, user: UserId) -> Result<Vec<User>, StoreError> {
        self.readers
            .run(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT u.id, u.username, u.display_name, u.avatar_hash, u.deleted_at IS NOT NULL
                         FROM blocks b JOIN users u ON u.id = b.blocked_id
                         WHERE b.blocker_id = ?1 ORDER BY b.blocked_at DESC, u.id",
                    )?
                    .query_map([user], rows::user)?
                    .collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    async fn mute(
        &self,
        user: UserId,
        conversation: ConversationId,
        until: Option<Millis>,
    ) -> Result<bool, StoreError> {
        self.writer
            .run(move |conn| {
                let changed = conn
                    .prepare_cached(
                        "UPDATE members SET muted = 1, muted_until = ?3
                         WHERE conversation_id = ?1 AND user_id = ?2",
                    )?
                    .execute(params![conversation, user, until])?;
                Ok(changed == 1)
            })
            .await
    }

    async fn unmute(&self, user: UserId, conversation: ConversationId) -> Result<(), StoreError> {
        self.writer
            .run(move |conn| {
                conn.prepare_cached(
                    "UPDATE members SET muted = 0, muted_until = NULL
                     WHERE conversation_id = ?1 AND user_id = ?2",
                )?
                .execute(params![conversation, user])?;
                Ok(())
            })
            .await
    }

    async fn mutes(&self, user: UserId, now: Millis) -> Result<Vec<Mute>, StoreError> {
        self.readers
            .run(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT conversation_id, muted_until FROM members
                         WHERE user_id = ?1 AND muted = 1
                           AND (muted_until IS NULL OR muted_until > ?2)
                         ORDER BY conversation_id",
                    )?
                    .query_map(params![user, now], |row| {
                        Ok(Mute {
                            conversation: row.get(0)?,
                            until: row.get(1)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    async fn put_push_device(&self, device: &PushDevice, now: Millis) -> Result<(), StoreError> {
        let device = device.clone();
        self.writer
            .run(move |conn| push::put(conn, &device, now))
            .await
    }

    async fn delete_push_device(&self, token_hash: [u8; 32]) -> Result<(), StoreError> {
        self.writer
            .run(move |conn| {
                conn.prepare_cached("DELETE FROM push_devices WHERE session_hash = ?1")?
                    .execute([&token_hash[..]])?;
                Ok(())
            })
            .await
    }

    async fn drop_push_endpoint(&self, endpoint: &str) -> Result<(), StoreError> {
        let endpoint = endpoint.to_owned();
        self.writer
            .run(move |conn| {
                conn.prepare_cached("DELETE FROM push_devices WHERE endpoint = ?1")?
                    .execute([endpoint])?;
                Ok(())
            })
            .await
    }

    async fn push_devices(&self, user: UserId) -> Result<Vec<PushDevice>, StoreError> {
        self.readers
            .run(move |conn| push::of_user(conn, user))
            .await
    }

    async fn push_users(&self) -> Result<Vec<UserId>, StoreError> {
        self.readers
            .run(move |conn| {
                Ok(conn
                    .prepare_cached("SELECT DISTINCT user_id FROM push_devices")?
                    .query_map([], |row| row.get(0))?
                    .collect::<rusqlite::Result<Vec<UserId>>>()?)
            })
            .await
    }

    async fn add_report(&self, report: &FiledReport) -> Result<i64, StoreError> {
        let report = report.clone();
        self.writer
            .run(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO reports
                         (reporter_id, reported_id, conversation_id, seq, reason, note, context,
                          created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![
                    report.reporter,
                    report.reported,
                    report.conversation,
                    report.seq,
                    rows::to_json(&report.reason)?,
                    report.note,
                    rows::to_json(&report.context)?,
                    report.at
                ])?;
                Ok(conn.last_insert_rowid())
            })
            .await
    }

    async fn reports(&self, include_resolved: bool, limit: u32) -> Result<Vec<Report>, StoreError> {
        self.readers
            .run(move |conn| rows::reports(conn, include_resolved, limit))
            .await
    }

    async fn resolve_report(&self, id: i64, note: &str, now: Millis) -> Result<bool, StoreError> {
        let note = note.to_owned();
        self.writer
            .run(move |conn| {
                let changed = conn
                    .prepare_cached(
                        "UPDATE reports SET resolved_at = ?2, resolution = ?3
                         WHERE id = ?1 AND resolved_at IS NULL",
                    )?
                    .execute(params![id, now, note])?;
                Ok(changed == 1)
            })
            .await
    }

    async fn set_suspended(&self, user: UserId, since: Option<Millis>) -> Result<bool, StoreError> {
        self.writer
            .run(move |conn| {
                let changed = conn
                    .prepare_cached("UPDATE users SET suspended_at = ?2 WHERE id = ?1")?
                    .execute(params![user, since])?;
                Ok(changed == 1)
            })
            .await
    }

    async fn is_suspended(&self, user: UserId) -> Result<bool, StoreError> {
        self.readers
            .run(move |conn| {
                Ok(conn
                    .prepare_cached("SELECT suspended_at IS NOT NULL FROM users WHERE id = ?1")?
                    .query_row([user], |row| row.get(0))
                    .optional()?
                    .unwrap_or(false))
            })
            .await
    }

    async fn delete_account(&self, user: UserId, now: Millis) -> Result<Vec<String>, StoreError> {
        self.writer
            .run(move |conn| lifecycle::delete_account(conn, user, now))
            .await
    }

    async fn free_usernames(&self, before: Millis) -> Result<u64, StoreError> {
        self.writer
            .run(move |conn| lifecycle::free_usernames(conn, before))
            .await
    }

    async fn uploads_of(&self, user: UserId) -> Result<Vec<MediaRecord>, StoreError> {
        self.readers
            .run(move |conn| {
                Ok(conn
                    .prepare_cached(&format!(
                        "SELECT {MEDIA_COLUMNS} FROM media
                         WHERE uploader_id = ?1 AND message_seq IS NOT NULL ORDER BY created_at"
                    ))?
                    .query_map([user], rows::media)?
                    .collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.readers
            .run(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    async fn forget_deleted(&self) -> Result<(), StoreError> {
        self.writer
            .run(|conn| {
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
                Ok(())
            })
            .await
    }

    async fn commit(
        &self,
        batch: Vec<Write>,
    ) -> Result<Vec<Result<Written, StoreError>>, StoreError> {
        self.writer
            .run(move |conn| commit::commit(conn, batch))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::store_suite!(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("suite.sqlite3"))
            .await
            .expect("open");
        (store, dir)
    });

    #[tokio::test]
    async fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("newer.sqlite3");
        drop(SqliteStore::open(&path).await.unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        assert!(matches!(
            SqliteStore::open(&path).await,
            Err(StoreError::SchemaTooNew { .. })
        ));
    }
}
