//! The PostgreSQL store, for a cluster of Natter nodes sharing one
//! database.
//!
//! Every node connects to the same database through its own pool. Each
//! node's pipeline still commits its writes in batches (one transaction,
//! one WAL flush, per batch), and [`commit`] keeps seqs gap-free between
//! nodes by locking the batch's conversations first. The schema lives in
//! `server/migrations/postgres/` and is applied at start by sqlx's
//! migrator, which refuses a database that has migrations this build does
//! not know. Reads go to the pool and see the last commit.

mod commit;
mod lifecycle;
mod rows;

use async_trait::async_trait;
use natter_protocol::{
    limits::{canonical_hashtag, canonical_username},
    Conversation, ConversationId, Message, Millis, Mute, PublicGroup, Seq, User, UserId,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use self::rows::{int, is_unique_violation, media_columns, uint, user_columns, Page};
use super::columns::to_json;
use super::{
    picture_hash, Blocks, FiledReport, MediaRecord, Membership, PushDevice, Reader, Report, Store,
    StoreError, StoredCredentials, Write, Written, MAX_PUSH_DEVICES,
};
use crate::now_millis;

/// The schema's migrations, built into the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// How many connections one node keeps open: its batch writer, the
/// reads of its sockets and its HTTP requests.
const CONNECTIONS: u32 = 16;

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`)
    /// and migrates it.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await.map_err(|err| match err {
            sqlx::migrate::MigrateError::VersionMissing(found) => StoreError::SchemaTooNew {
                found,
                known: MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0),
            },
            other => StoreError::backend(other),
        })?;
        Ok(PostgresStore { pool })
    }

    async fn connection(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, StoreError> {
        Ok(self.pool.acquire().await?)
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn create_user(&self, username: &str, password_hash: &str) -> Result<User, StoreError> {
        let inserted = sqlx::query_scalar(
            "INSERT INTO users (username, username_key, password_hash, created_at)
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(username)
        .bind(canonical_username(username))
        .bind(password_hash)
        .bind(now_millis())
        .fetch_one(&self.pool)
        .await;
        match inserted {
            Ok(id) => Ok(User {
                id,
                username: username.to_owned(),
                display_name: None,
                avatar: None,
                deleted: false,
            }),
            Err(err) if is_unique_violation(&err) => Err(StoreError::UsernameTaken),
            Err(err) => Err(err.into()),
        }
    }

    async fn update_profile(
        &self,
        user: UserId,
        display_name: Option<String>,
        avatar: Option<String>,
    ) -> Result<User, StoreError> {
        let hash = avatar.as_deref().map(picture_hash);
        sqlx::query(concat!(
            "UPDATE users SET display_name = $2, avatar = $3, avatar_hash = $4
             WHERE id = $1 RETURNING ",
            user_columns!()
        ))
        .bind(user)
        .bind(display_name)
        .bind(avatar)
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| rows::user(&row, 0))
        .transpose()?
        .ok_or(StoreError::NotFound)
    }

    async fn credentials(&self, username: &str) -> Result<Option<StoredCredentials>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", password_hash FROM users WHERE username_key = $1 AND deleted_at IS NULL"
        ))
        .bind(canonical_username(username))
        .fetch_optional(&self.pool)
        .await?
        .map(|row| {
            Ok(StoredCredentials {
                user: rows::user(&row, 0)?,
                password_hash: row.try_get(5)?,
            })
        })
        .transpose()
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<User>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE username_key = $1"
        ))
        .bind(canonical_username(username))
        .fetch_optional(&self.pool)
        .await?
        .map(|row| rows::user(&row, 0))
        .transpose()
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        rows::load_user(&mut *self.connection().await?, id).await
    }

    async fn picture(&self, hash: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT avatar FROM users WHERE avatar_hash = $1
             UNION ALL
             SELECT picture FROM conversations WHERE picture_hash = $1
             LIMIT 1",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?
        .flatten())
    }

    async fn create_session(
        &self,
        token_hash: [u8; 32],
        user: UserId,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)")
            .bind(&token_hash[..])
            .bind(user)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn session_user(
        &self,
        token_hash: [u8; 32],
        now: Millis,
    ) -> Result<Option<User>, StoreError> {
        sqlx::query(
            "SELECT u.id, u.username, u.display_name, u.avatar_hash, u.deleted_at IS NOT NULL
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(&token_hash[..])
        .bind(now)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| rows::user(&row, 0))
        .transpose()
    }

    async fn delete_session(&self, token_hash: [u8; 32]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(&token_hash[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_sessions(
        &self,
        user: UserId,
        keep: Option<[u8; 32]>,
    ) -> Result<(), StoreError> {
        let keep = keep.map(|hash| hash.to_vec()).unwrap_or_default();
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user)
            .bind(keep)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn purge_sessions(&self, now: Millis) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn set_password(&self, user: UserId, password_hash: &str) -> Result<(), StoreError> {
        let changed = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(user)
            .bind(password_hash)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn open_direct(
        &self,
        a: UserId,
        b: UserId,
        request: bool,
        now: Millis,
    ) -> Result<(Conversation, bool), StoreError> {
        let mut tx = self.pool.begin().await?;
        if rows::load_user(&mut tx, b).await?.is_none()
            || rows::load_user(&mut tx, a).await?.is_none()
        {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "INSERT INTO contacts (owner_id, other_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(a)
        .bind(b)
        .execute(&mut *tx)
        .await?;
        let key = format!("{}:{}", a.min(b), a.max(b));
        let created: Option<ConversationId> = sqlx::query_scalar(
            "INSERT INTO conversations (kind, direct_key, created_at) VALUES ('direct', $1, $2)
             ON CONFLICT (direct_key) DO NOTHING RETURNING id",
        )
        .bind(&key)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        // An existing conversation is locked before its seats change, as a
        // batch writing to it would lock it.
        let (id, last, existed) = match created {
            Some(id) => (id, 0, false),
            None => {
                let row = sqlx::query(
                    "SELECT id, last_seq FROM conversations WHERE direct_key = $1 FOR UPDATE",
                )
                .bind(&key)
                .fetch_one(&mut *tx)
                .await?;
                (row.try_get(0)?, uint(row.try_get(1)?)?, true)
            }
        };
        // A seat given back after a deleted request starts afresh.
        let seat = "INSERT INTO members
                        (conversation_id, user_id, joined_at, delivered_seq, read_seq,
                         history_from, request_from)
                    VALUES ($1, $2, $3, $4, $4, $4, $5)
                    ON CONFLICT DO NOTHING";
        sqlx::query(seat)
            .bind(id)
            .bind(a)
            .bind(now)
            .bind(int(last))
            .bind(None::<UserId>)
            .execute(&mut *tx)
            .await?;
        let seated = sqlx::query(seat)
            .bind(id)
            .bind(b)
            .bind(now)
            .bind(int(last))
            .bind(request.then_some(a))
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if seated && existed {
            sqlx::query("UPDATE conversations SET epoch = epoch + 1 WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let conversation = rows::load_conversation(&mut tx, id, Reader::everything(a))
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok((conversation, seated))
    }

    async fn knows(&self, owner: UserId, other: UserId) -> Result<bool, StoreError> {
        Ok(
            sqlx::query("SELECT 1 FROM contacts WHERE owner_id = $1 AND other_id = $2")
                .bind(owner)
                .bind(other)
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    async fn leave_direct(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let kind: Option<String> =
            sqlx::query_scalar("SELECT kind FROM conversations WHERE id = $1 FOR UPDATE")
                .bind(conversation)
                .fetch_optional(&mut *tx)
                .await?;
        if kind.as_deref() != Some("direct") {
            return Err(StoreError::NotFound);
        }
        let left = sqlx::query("DELETE FROM members WHERE conversation_id = $1 AND user_id = $2")
            .bind(conversation)
            .bind(user)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if left == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("UPDATE conversations SET epoch = epoch + 1 WHERE id = $1")
            .bind(conversation)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn direct_pair(
        &self,
        conversation: ConversationId,
    ) -> Result<Option<(UserId, UserId)>, StoreError> {
        let key: Option<Option<String>> =
            sqlx::query_scalar("SELECT direct_key FROM conversations WHERE id = $1")
                .bind(conversation)
                .fetch_optional(&self.pool)
                .await?;
        Ok(key.flatten().and_then(|key| {
            let (low, high) = key.split_once(':')?;
            Some((low.parse().ok()?, high.parse().ok()?))
        }))
    }

    async fn conversations_of(&self, user: UserId) -> Result<Vec<Conversation>, StoreError> {
        let mut conn = self.connection().await?;
        let seats = sqlx::query(
            "SELECT conversation_id, history_from FROM members WHERE user_id = $1
             ORDER BY conversation_id",
        )
        .bind(user)
        .fetch_all(&mut *conn)
        .await?;
        let mut conversations = Vec::with_capacity(seats.len());
        for seat in seats {
            let reader = Reader {
                user,
                from: uint(seat.try_get(1)?)?,
            };
            conversations
                .extend(rows::load_conversation(&mut conn, seat.try_get(0)?, reader).await?);
        }
        Ok(conversations)
    }

    async fn conversation(
        &self,
        id: ConversationId,
        reader: Reader,
    ) -> Result<Option<Conversation>, StoreError> {
        rows::load_conversation(&mut *self.connection().await?, id, reader).await
    }

    async fn membership(&self, id: ConversationId) -> Result<Option<Membership>, StoreError> {
        rows::load_membership(&mut *self.connection().await?, id).await
    }

    async fn public_groups(
        &self,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<PublicGroup>, StoreError> {
        // Hashtags use [a-z0-9_], all below '{': this range is the prefix.
        let low = canonical_hashtag(prefix);
        let high = format!("{low}{{");
        sqlx::query(
            "SELECT c.id, c.name, c.hashtag, c.picture_hash,
                    (SELECT COUNT(*) FROM members m WHERE m.conversation_id = c.id)
             FROM conversations c
             WHERE c.hashtag_key >= $1 AND c.hashtag_key < $2
             ORDER BY c.hashtag_key LIMIT $3",
        )
        .bind(low)
        .bind(high)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let members: i64 = row.try_get(4)?;
            Ok(PublicGroup {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                hashtag: row.try_get(2)?,
                picture: rows::picture(row, 3)?,
                members: u32::try_from(members).unwrap_or(u32::MAX),
            })
        })
        .collect()
    }

    async fn message(
        &self,
        conversation: ConversationId,
        seq: Seq,
    ) -> Result<Option<Message>, StoreError> {
        rows::load_message(&mut *self.connection().await?, conversation, seq).await
    }

    async fn message_by_client_id(
        &self,
        sender: UserId,
        client_id: Uuid,
    ) -> Result<Option<Message>, StoreError> {
        rows::message_by_client_id(&mut *self.connection().await?, sender, client_id).await
    }

    async fn messages_after(
        &self,
        conversation: ConversationId,
        after: Seq,
        limit: u32,
        reader: Reader,
    ) -> Result<Vec<Message>, StoreError> {
        let mut conn = self.connection().await?;
        rows::page(&mut conn, conversation, Page::After(after), limit, reader).await
    }

    async fn messages_before(
        &self,
        conversation: ConversationId,
        before: Seq,
        limit: u32,
        reader: Reader,
    ) -> Result<Vec<Message>, StoreError> {
        let mut conn = self.connection().await?;
        rows::page(&mut conn, conversation, Page::Before(before), limit, reader).await
    }

    async fn add_media(&self, record: &MediaRecord, now: Millis) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO media
                 (id, uploader_id, conversation_id, kind, content_type, size, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&record.id)
        .bind(record.uploader)
        .bind(record.conversation)
        .bind(record.kind.as_str())
        .bind(&record.content_type)
        .bind(int(record.size))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn media(&self, id: &str) -> Result<Option<MediaRecord>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            media_columns!(),
            " FROM media WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| rows::media(&row))
        .transpose()
    }

    async fn uploaded_since(&self, user: UserId, since: Millis) -> Result<u64, StoreError> {
        let total: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(size), 0)::bigint FROM media
             WHERE uploader_id = $1 AND created_at >= $2",
        )
        .bind(user)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        uint(total)
    }

    async fn take_unattached(&self, before: Millis) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "DELETE FROM media WHERE message_seq IS NULL AND created_at < $1 RETURNING id",
        )
        .bind(before)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn block(&self, blocker: UserId, blocked: UserId, now: Millis) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO blocks (blocker_id, blocked_id, blocked_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(blocker)
        .bind(blocked)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2")
            .bind(blocker)
            .bind(blocked)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn blocks(&self, user: UserId) -> Result<Blocks, StoreError> {
        let blocking = sqlx::query_scalar("SELECT blocked_id FROM blocks WHERE blocker_id = $1")
            .bind(user)
            .fetch_all(&self.pool)
            .await?;
        let blocked_by = sqlx::query_scalar("SELECT blocker_id FROM blocks WHERE blocked_id = $1")
            .bind(user)
            .fetch_all(&self.pool)
            .await?;
        Ok(Blocks {
            blocking,
            blocked_by,
        })
    }

    async fn blocked_users(&self, user: UserId) -> Result<Vec<User>, StoreError> {
        sqlx::query(
            "SELECT u.id, u.username, u.display_name, u.avatar_hash, u.deleted_at IS NOT NULL
             FROM blocks b JOIN users u ON u.id = b.blocked_id
             WHERE b.blocker_id = $1 ORDER BY b.blocked_at DESC, u.id",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| rows::user(row, 0))
        .collect()
    }

    async fn mute(
        &self,
        user: UserId,
        conversation: ConversationId,
        until: Option<Millis>,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query(
            "UPDATE members SET muted = TRUE, muted_until = $3
             WHERE conversation_id = $1 AND user_id = $2",
        )
        .bind(conversation)
        .bind(user)
        .bind(until)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    async fn unmute(&self, user: UserId, conversation: ConversationId) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE members SET muted = FALSE, muted_until = NULL
             WHERE conversation_id = $1 AND user_id = $2",
        )
        .bind(conversation)
        .bind(user)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn mutes(&self, user: UserId, now: Millis) -> Result<Vec<Mute>, StoreError> {
        sqlx::query(
            "SELECT conversation_id, muted_until FROM members
             WHERE user_id = $1 AND muted AND (muted_until IS NULL OR muted_until > $2)
             ORDER BY conversation_id",
        )
        .bind(user)
        .bind(now)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(Mute {
                conversation: row.try_get(0)?,
                until: row.try_get(1)?,
            })
        })
        .collect()
    }

    async fn put_push_device(&self, device: &PushDevice, now: Millis) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM push_devices WHERE session_hash = $1 OR endpoint = $2")
            .bind(&device.session[..])
            .bind(&device.endpoint)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO push_devices
                 (session_hash, user_id, endpoint, p256dh, auth, previews, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&device.session[..])
        .bind(device.user)
        .bind(&device.endpoint)
        .bind(&device.p256dh)
        .bind(&device.auth)
        .bind(device.previews)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM push_devices WHERE user_id = $1 AND session_hash NOT IN (
                 SELECT session_hash FROM push_devices WHERE user_id = $1
                 ORDER BY created_at DESC, added DESC LIMIT $2)",
        )
        .bind(device.user)
        .bind(i64::from(MAX_PUSH_DEVICES))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_push_device(&self, token_hash: [u8; 32]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM push_devices WHERE session_hash = $1")
            .bind(&token_hash[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn drop_push_endpoint(&self, endpoint: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM push_devices WHERE endpoint = $1")
            .bind(endpoint)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn push_devices(&self, user: UserId) -> Result<Vec<PushDevice>, StoreError> {
        sqlx::query(
            "SELECT session_hash, endpoint, p256dh, auth, previews FROM push_devices
             WHERE user_id = $1 ORDER BY created_at, added",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let session: Vec<u8> = row.try_get(0)?;
            let session: [u8; 32] = session.try_into().map_err(|_| {
                StoreError::Data("a push device's session hash is not 32 bytes".to_owned())
            })?;
            Ok(PushDevice {
                user,
                session,
                endpoint: row.try_get(1)?,
                p256dh: row.try_get(2)?,
                auth: row.try_get(3)?,
                previews: row.try_get(4)?,
            })
        })
        .collect()
    }

    async fn push_users(&self) -> Result<Vec<UserId>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT DISTINCT user_id FROM push_devices")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn add_report(&self, report: &FiledReport) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO reports
                 (reporter_id, reported_id, conversation_id, seq, reason, note, context,
                  created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(report.reporter)
        .bind(report.reported)
        .bind(report.conversation)
        .bind(report.seq.map(int))
        .bind(to_json(&report.reason)?)
        .bind(&report.note)
        .bind(to_json(&report.context)?)
        .bind(report.at)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn reports(&self, include_resolved: bool, limit: u32) -> Result<Vec<Report>, StoreError> {
        rows::reports(&mut *self.connection().await?, include_resolved, limit).await
    }

    async fn resolve_report(&self, id: i64, note: &str, now: Millis) -> Result<bool, StoreError> {
        let changed = sqlx::query(
            "UPDATE reports SET resolved_at = $2, resolution = $3
             WHERE id = $1 AND resolved_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .bind(note)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    async fn set_suspended(&self, user: UserId, since: Option<Millis>) -> Result<bool, StoreError> {
        let changed = sqlx::query("UPDATE users SET suspended_at = $2 WHERE id = $1")
            .bind(user)
            .bind(since)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(changed == 1)
    }

    async fn is_suspended(&self, user: UserId) -> Result<bool, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT suspended_at IS NOT NULL FROM users WHERE id = $1")
                .bind(user)
                .fetch_optional(&self.pool)
                .await?
                .unwrap_or(false),
        )
    }

    async fn delete_account(&self, user: UserId, now: Millis) -> Result<Vec<String>, StoreError> {
        lifecycle::delete_account(&self.pool, user, now).await
    }

    async fn free_usernames(&self, before: Millis) -> Result<u64, StoreError> {
        lifecycle::free_usernames(&self.pool, before).await
    }

    async fn uploads_of(&self, user: UserId) -> Result<Vec<MediaRecord>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            media_columns!(),
            " FROM media WHERE uploader_id = $1 AND message_seq IS NOT NULL ORDER BY created_at"
        ))
        .bind(user)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(rows::media)
        .collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Nothing to do here: PostgreSQL keeps an updated row's old version
    /// until autovacuum reclaims it and its WAL until it is recycled, and
    /// offers no way to overwrite either on demand (`VACUUM FULL` would
    /// rewrite the whole table under an exclusive lock at every deletion).
    /// docs/DEPLOY.md says so, with the settings that shorten the time.
    async fn forget_deleted(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn commit(
        &self,
        batch: Vec<Write>,
    ) -> Result<Vec<Result<Written, StoreError>>, StoreError> {
        commit::commit(&self.pool, &batch).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::store_suite!(crate::testing::postgres::fresh_store());

    /// Two nodes (two pools on one database) commit batches into the same
    /// conversations at once, each batch naming them in another order:
    /// every message is stored once, and each conversation's seqs are
    /// gap-free.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn nodes_share_seqs_without_gaps() {
        use std::sync::Arc;

        use crate::store::NewMessage;

        let (first, database) = crate::testing::postgres::fresh_store().await;
        let second = PostgresStore::open(&database.url).await.unwrap();
        let ann = first.create_user("ann", "x").await.unwrap();
        let mut conversations = Vec::new();
        for n in 0..3 {
            let other = first.create_user(&format!("bob{n}"), "x").await.unwrap();
            let (conversation, _) = first.open_direct(ann.id, other.id, false, 1).await.unwrap();
            let membership = first.membership(conversation.id).await.unwrap().unwrap();
            conversations.push((conversation.id, membership.epoch));
        }
        let nodes = [Arc::new(first), Arc::new(second)];
        let batches = (0..40).map(|b| {
            let node = nodes[b % 2].clone();
            let mut order = conversations.clone();
            order.rotate_left(b % 3);
            if b % 2 == 1 {
                order.reverse();
            }
            tokio::spawn(async move {
                let batch = (0..25)
                    .map(|n| {
                        let (conversation, epoch) = order[n % order.len()];
                        Write::Append {
                            message: NewMessage {
                                sender: ann.id,
                                conversation,
                                client_id: Uuid::now_v7(),
                                body: format!("{b}:{n}"),
                                attachment: None,
                                reply_to: None,
                                action: None,
                                sent_at: 1,
                                withheld_from: None,
                                link_preview: None,
                            },
                            epoch,
                        }
                    })
                    .collect();
                let written = node.commit(batch).await.unwrap();
                assert!(written
                    .iter()
                    .all(|w| matches!(w, Ok(Written::Appended(appended)) if appended.fresh)));
            })
        });
        for batch in futures_util::future::join_all(batches).await {
            batch.unwrap();
        }
        let mut total = 0;
        for (id, _) in conversations {
            let stored = nodes[1]
                .messages_after(id, 0, 10_000, Reader::everything(0))
                .await
                .unwrap();
            let seqs: Vec<Seq> = stored.iter().map(|m| m.seq).collect();
            assert_eq!(seqs, (1..=seqs.len() as Seq).collect::<Vec<_>>());
            total += seqs.len();
        }
        assert_eq!(total, 40 * 25);
    }

    /// Plain messages in a row go in one INSERT; one decided on an old
    /// membership among them is refused alone and takes no seq, and a
    /// repeat among them is answered with the original.
    #[tokio::test]
    async fn a_row_of_plain_messages_keeps_its_gaps_and_repeats_right() {
        use crate::store::NewMessage;

        let (store, _database) = crate::testing::postgres::fresh_store().await;
        let ann = store.create_user("ann", "x").await.unwrap();
        let bob = store.create_user("bob", "x").await.unwrap();
        let (conversation, _) = store.open_direct(ann.id, bob.id, false, 1).await.unwrap();
        let epoch = store
            .membership(conversation.id)
            .await
            .unwrap()
            .unwrap()
            .epoch;
        let text = |body: &str| NewMessage {
            sender: ann.id,
            conversation: conversation.id,
            client_id: Uuid::now_v7(),
            body: body.to_owned(),
            attachment: None,
            reply_to: None,
            action: None,
            sent_at: 1,
            withheld_from: None,
            link_preview: None,
        };
        let append = |message: &NewMessage, epoch| Write::Append {
            message: message.clone(),
            epoch,
        };
        let (first, stale, second) = (text("one"), text("old"), text("two"));
        let seqs = |written: Vec<Result<Written, StoreError>>| -> Vec<Result<(Seq, bool), String>> {
            written
                .into_iter()
                .map(|w| match w {
                    Ok(Written::Appended(a)) => Ok((a.message.seq, a.fresh)),
                    Ok(other) => Err(format!("{other:?}")),
                    Err(err) => Err(err.to_string()),
                })
                .collect()
        };
        let written = store
            .commit(vec![
                append(&first, epoch),
                append(&stale, epoch + 1),
                append(&second, epoch),
            ])
            .await
            .unwrap();
        assert_eq!(
            seqs(written),
            vec![
                Ok((1, true)),
                Err(StoreError::Stale.to_string()),
                Ok((2, true))
            ]
        );
        let third = text("three");
        let written = store
            .commit(vec![
                append(&third, epoch),
                append(&first, epoch),
                append(&third, epoch),
            ])
            .await
            .unwrap();
        assert_eq!(
            seqs(written),
            vec![Ok((3, true)), Ok((1, false)), Ok((3, false))]
        );
        let stored = store
            .messages_after(conversation.id, 0, 10, Reader::everything(0))
            .await
            .unwrap();
        let bodies: Vec<&str> = stored.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies, ["one", "two", "three"]);
    }

    #[tokio::test]
    async fn a_newer_schema_is_refused() {
        let (store, database) = crate::testing::postgres::fresh_store().await;
        sqlx::query(
            "INSERT INTO _sqlx_migrations
                 (version, description, success, checksum, execution_time)
             VALUES (99999999, 'from a newer build', TRUE, '\\x00', 0)",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        drop(store);
        assert!(matches!(
            PostgresStore::open(&database.url).await,
            Err(StoreError::SchemaTooNew {
                found: 99999999,
                ..
            })
        ));
    }
}
