//! The end of an account: everything it owned goes, and what others keep
//! of it (its seat in 1:1 chats, its messages' places in conversations)
//! becomes a tombstone. The row stays, so that the username is reserved for
//! a while and tombstones still name a sender.

use natter_protocol::{Action, Millis, UserId};
use rusqlite::{params, Connection, TransactionBehavior};

use super::rows::to_json;
use crate::store::StoreError;

/// Deletes what `user` owned and turns their messages into tombstones, in
/// one transaction; returns the ids of their uploads, whose files should
/// go. Group seats must have been given up before (by the group rules).
pub fn delete_account(
    conn: &mut Connection,
    user: UserId,
    now: Millis,
) -> Result<Vec<String>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let uploads = tx
        .prepare_cached("DELETE FROM media WHERE uploader_id = ?1 RETURNING id")?
        .query_map([user], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    tx.prepare_cached(
        "UPDATE messages SET body = '', attachment = NULL, link_preview = NULL, edited_at = NULL,
             deleted = 1
         WHERE sender_id = ?1 AND event IS NULL AND action IS NULL",
    )?
    .execute([user])?;
    // Their edits carry text, and their reactions say who they were.
    let emptied = to_json(&Action::Edit {
        target: 0,
        body: String::new(),
    })?;
    tx.prepare_cached(
        "UPDATE messages SET action = json_set(?2, '$.target', json_extract(action, '$.target'))
         WHERE sender_id = ?1 AND action IS NOT NULL
           AND json_extract(action, '$.type') = 'edit'",
    )?
    .execute(params![user, emptied])?;
    tx.prepare_cached("DELETE FROM reactions WHERE user_id = ?1")?
        .execute([user])?;
    for statement in [
        "DELETE FROM sessions WHERE user_id = ?1",
        "DELETE FROM blocks WHERE blocker_id = ?1 OR blocked_id = ?1",
        "DELETE FROM contacts WHERE owner_id = ?1 OR other_id = ?1",
        "DELETE FROM bans WHERE user_id = ?1",
    ] {
        tx.prepare_cached(statement)?.execute([user])?;
    }
    let changed = tx
        .prepare_cached(
            "UPDATE users SET display_name = NULL, avatar = NULL, avatar_hash = NULL,
                 password_hash = '', deleted_at = ?2
             WHERE id = ?1 AND deleted_at IS NULL",
        )?
        .execute(params![user, now])?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit()?;
    Ok(uploads)
}

/// Lets the usernames of accounts deleted before `before` be taken again.
pub fn free_usernames(conn: &Connection, before: Millis) -> Result<u64, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE users SET username_key = 'deleted:' || id
             WHERE deleted_at IS NOT NULL AND deleted_at < ?1
               AND username_key NOT LIKE 'deleted:%'",
        )?
        .execute([before])? as u64)
}
