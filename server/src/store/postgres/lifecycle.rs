//! The end of an account, as in the SQLite store: everything it owned
//! goes, and what others keep of it (its seat in 1:1 chats, its messages'
//! places in conversations) becomes a tombstone. The row stays, so that the
//! username is reserved for a while and tombstones still name a sender.

use natter_protocol::{Millis, UserId};
use sqlx::PgPool;

use crate::store::StoreError;

/// Deletes what `user` owned and turns their messages into tombstones, in
/// one transaction; returns the ids of their uploads, whose files should
/// go. Group seats must have been given up before (by the group rules).
pub async fn delete_account(
    pool: &PgPool,
    user: UserId,
    now: Millis,
) -> Result<Vec<String>, StoreError> {
    let mut tx = pool.begin().await?;
    let uploads = sqlx::query_scalar("DELETE FROM media WHERE uploader_id = $1 RETURNING id")
        .bind(user)
        .fetch_all(&mut *tx)
        .await?;
    for statement in [
        "UPDATE messages SET body = '', attachment = NULL, link_preview = NULL, edited_at = NULL,
             deleted = TRUE
         WHERE sender_id = $1 AND event IS NULL AND action IS NULL",
        // Their edits carry text, and their reactions say who they were.
        "UPDATE messages SET action = jsonb_set(action::jsonb, '{body}', '\"\"')::text
         WHERE sender_id = $1 AND action IS NOT NULL AND action::jsonb ->> 'type' = 'edit'",
        "DELETE FROM reactions WHERE user_id = $1",
        "DELETE FROM sessions WHERE user_id = $1",
        "DELETE FROM blocks WHERE blocker_id = $1 OR blocked_id = $1",
        "DELETE FROM contacts WHERE owner_id = $1 OR other_id = $1",
        "DELETE FROM bans WHERE user_id = $1",
    ] {
        sqlx::query(statement).bind(user).execute(&mut *tx).await?;
    }
    let changed = sqlx::query(
        "UPDATE users SET display_name = NULL, avatar = NULL, avatar_hash = NULL,
             password_hash = '', deleted_at = $2
         WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(user)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await?;
    Ok(uploads)
}

/// Lets the usernames of accounts deleted before `before` be taken again.
pub async fn free_usernames(pool: &PgPool, before: Millis) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE users SET username_key = 'deleted:' || id
         WHERE deleted_at IS NOT NULL AND deleted_at < $1
           AND username_key NOT LIKE 'deleted:%'",
    )
    .bind(before)
    .execute(pool)
    .await?
    .rows_affected())
}
