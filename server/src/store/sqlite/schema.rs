//! The SQLite schema, as an ordered list of migrations.
//!
//! `PRAGMA user_version` records how many have run. A migration is never
//! edited once released: changes go in a new one at the end.

use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;

use crate::store::{picture_hash, StoreError};

const MIGRATIONS: &[&str] = &[
    // 1: accounts, sessions, 1:1 conversations and messages.
    r#"
    CREATE TABLE users (
        id            INTEGER PRIMARY KEY,
        username      TEXT NOT NULL,
        username_key  TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_at    INTEGER NOT NULL
    );
    CREATE TABLE sessions (
        token_hash BLOB PRIMARY KEY,
        user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX sessions_user ON sessions(user_id);
    CREATE TABLE conversations (
        id         INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL,
        -- "low:high" user ids for direct conversations, so each pair has one.
        direct_key TEXT UNIQUE,
        last_seq   INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE members (
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        delivered_seq   INTEGER NOT NULL DEFAULT 0,
        read_seq        INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (conversation_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX members_user ON members(user_id);
    CREATE TABLE messages (
        id              INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq             INTEGER NOT NULL,
        sender_id       INTEGER NOT NULL REFERENCES users(id),
        client_id       TEXT NOT NULL,
        body            TEXT NOT NULL,
        sent_at         INTEGER NOT NULL,
        UNIQUE (conversation_id, seq),
        UNIQUE (sender_id, client_id)
    );
    "#,
    // 2: media files, and attachments on messages (JSON, as sent).
    r#"
    CREATE TABLE media (
        id              TEXT PRIMARY KEY,
        uploader_id     INTEGER NOT NULL REFERENCES users(id),
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        kind            TEXT NOT NULL,
        content_type    TEXT NOT NULL,
        size            INTEGER NOT NULL,
        created_at      INTEGER NOT NULL
    );
    ALTER TABLE messages ADD COLUMN attachment TEXT;
    "#,
    // 3: groups (name, picture, public hashtag), roles, group events.
    r#"
    ALTER TABLE conversations ADD COLUMN name TEXT;
    ALTER TABLE conversations ADD COLUMN picture TEXT;
    ALTER TABLE conversations ADD COLUMN hashtag TEXT;
    -- The hashtag folded to lower case: unique, and searched by prefix.
    ALTER TABLE conversations ADD COLUMN hashtag_key TEXT;
    CREATE UNIQUE INDEX conversations_hashtag ON conversations(hashtag_key);
    ALTER TABLE members ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
    ALTER TABLE members ADD COLUMN joined_at INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN event TEXT;
    "#,
    // 4: replies, actions on messages (edits, deletions, reactions).
    r#"
    ALTER TABLE messages ADD COLUMN reply_to INTEGER;
    ALTER TABLE messages ADD COLUMN action TEXT;
    ALTER TABLE messages ADD COLUMN edited_at INTEGER;
    ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE reactions (
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq             INTEGER NOT NULL,
        user_id         INTEGER NOT NULL REFERENCES users(id),
        emoji           TEXT NOT NULL,
        created_at      INTEGER NOT NULL,
        PRIMARY KEY (conversation_id, seq, user_id, emoji)
    ) WITHOUT ROWID;
    "#,
    // 5: profiles.
    r#"
    ALTER TABLE users ADD COLUMN display_name TEXT;
    ALTER TABLE users ADD COLUMN avatar TEXT;
    "#,
    // 6: membership epochs, for writes decided on a membership that must
    // not have changed since.
    r#"
    ALTER TABLE conversations ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
    "#,
    // 7: messages kept in conversation order (the table is its own index
    // by conversation and seq, so a message is one insert into it and one
    // into the client-id key), and the client-id key with the client id
    // first: apps make time-ordered (v7) ids, so new keys land at the end
    // of it and a batch of messages dirties a page or two of it rather
    // than one per sender.
    r#"
    CREATE TABLE messages_v7 (
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq             INTEGER NOT NULL,
        sender_id       INTEGER NOT NULL REFERENCES users(id),
        client_id       TEXT NOT NULL,
        body            TEXT NOT NULL,
        sent_at         INTEGER NOT NULL,
        attachment      TEXT,
        event           TEXT,
        reply_to        INTEGER,
        action          TEXT,
        edited_at       INTEGER,
        deleted         INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (conversation_id, seq),
        UNIQUE (client_id, sender_id)
    ) WITHOUT ROWID;
    INSERT INTO messages_v7
        (conversation_id, seq, sender_id, client_id, body, sent_at, attachment, event,
         reply_to, action, edited_at, deleted)
    SELECT conversation_id, seq, sender_id, client_id, body, sent_at, attachment, event,
           reply_to, action, edited_at, deleted
    FROM messages;
    DROP TABLE messages;
    ALTER TABLE messages_v7 RENAME TO messages;
    "#,
    // 8: an upload attaches to one message (the seq it is attached to),
    // and what the upload quota and the collection of unattached uploads
    // look up.
    r#"
    ALTER TABLE media ADD COLUMN message_seq INTEGER;
    UPDATE media SET message_seq = (
        SELECT m.seq FROM messages m
        WHERE m.conversation_id = media.conversation_id
          AND m.attachment IS NOT NULL
          AND json_extract(m.attachment, '$.id') = media.id
    );
    CREATE INDEX media_uploads ON media(uploader_id, created_at);
    CREATE INDEX media_unattached ON media(created_at) WHERE message_seq IS NULL;
    "#,
    // 9: pictures are served by the hash of their content, and rows that
    // list people read the hash, never the picture.
    r#"
    ALTER TABLE users ADD COLUMN avatar_hash TEXT;
    ALTER TABLE conversations ADD COLUMN picture_hash TEXT;
    UPDATE users SET avatar_hash = natter_picture_hash(avatar) WHERE avatar IS NOT NULL;
    UPDATE conversations SET picture_hash = natter_picture_hash(picture)
        WHERE picture IS NOT NULL;
    CREATE INDEX users_avatar_hash ON users(avatar_hash) WHERE avatar_hash IS NOT NULL;
    CREATE INDEX conversations_picture_hash ON conversations(picture_hash)
        WHERE picture_hash IS NOT NULL;
    "#,
    // 10: safety. Members added to a group read it from when they joined;
    // 1:1 messages from someone blocked are withheld from the blocker;
    // bans from public groups; blocks.
    r#"
    ALTER TABLE members ADD COLUMN history_from INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN withheld_from INTEGER;
    CREATE TABLE bans (
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        banned_at       INTEGER NOT NULL,
        PRIMARY KEY (conversation_id, user_id)
    ) WITHOUT ROWID;
    CREATE TABLE blocks (
        blocker_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        blocked_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        blocked_at INTEGER NOT NULL,
        PRIMARY KEY (blocker_id, blocked_id)
    ) WITHOUT ROWID;
    CREATE INDEX blocks_blocked ON blocks(blocked_id);
    "#,
    // 11: reports for moderators (with what the reporter could see, as
    // JSON), and suspended accounts.
    r#"
    CREATE TABLE reports (
        id              INTEGER PRIMARY KEY,
        reporter_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        reported_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        conversation_id INTEGER,
        seq             INTEGER,
        reason          TEXT NOT NULL,
        note            TEXT,
        context         TEXT NOT NULL,
        created_at      INTEGER NOT NULL,
        resolved_at     INTEGER,
        resolution      TEXT
    );
    CREATE INDEX reports_open ON reports(created_at) WHERE resolved_at IS NULL;
    ALTER TABLE users ADD COLUMN suspended_at INTEGER;
    "#,
    // 12: message requests. A seat whose `request_from` is set is a
    // request from that person, until accepted; `contacts` holds who has
    // written to (or accepted, or added) whom.
    r#"
    ALTER TABLE members ADD COLUMN request_from INTEGER;
    CREATE TABLE contacts (
        owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        other_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (owner_id, other_id)
    ) WITHOUT ROWID;
    "#,
    // 13: deleted accounts (a tombstone row keeps the username reserved
    // for a while, and names the sender of their messages' tombstones).
    r#"
    ALTER TABLE users ADD COLUMN deleted_at INTEGER;
    CREATE INDEX users_deleted ON users(deleted_at) WHERE deleted_at IS NOT NULL;
    "#,
    // 14: muted conversations, per member (until a time, or for good).
    r#"
    ALTER TABLE members ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE members ADD COLUMN muted_until INTEGER;
    "#,
    // 15: Web Push subscriptions, one per session (a device); an endpoint
    // belongs to one of them.
    r#"
    CREATE TABLE push_devices (
        session_hash BLOB PRIMARY KEY REFERENCES sessions(token_hash) ON DELETE CASCADE,
        user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        endpoint     TEXT NOT NULL UNIQUE,
        p256dh       BLOB NOT NULL,
        auth         BLOB NOT NULL,
        previews     INTEGER NOT NULL,
        created_at   INTEGER NOT NULL
    );
    CREATE INDEX push_devices_user ON push_devices(user_id);
    "#,
    // 16: link previews on messages (JSON, as sent).
    r#"
    ALTER TABLE messages ADD COLUMN link_preview TEXT;
    "#,
];

/// The schema version this build writes.
pub const CURRENT: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`CURRENT`], one transaction per migration.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    // Migration 9 hashes pictures as the server does.
    conn.create_scalar_function(
        "natter_picture_hash",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(picture_hash(&ctx.get::<String>(0)?)),
    )?;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > CURRENT {
        return Err(StoreError::SchemaTooNew {
            found,
            known: CURRENT,
        });
    }
    for (index, script) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(script)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer_schemas() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, CURRENT);
        conn.pragma_update(None, "user_version", CURRENT + 1)
            .unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(StoreError::SchemaTooNew { .. })
        ));
    }

    #[test]
    fn messages_survive_the_rebuild_of_their_table() {
        let mut conn = Connection::open_in_memory().unwrap();
        for script in &MIGRATIONS[..6] {
            conn.execute_batch(script).unwrap();
        }
        conn.pragma_update(None, "user_version", 6).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, username, username_key, password_hash, created_at)
                 VALUES (1, 'ann', 'ann', 'x', 0);
             INSERT INTO conversations (id, kind, direct_key, last_seq, created_at)
                 VALUES (1, 'direct', '1:1', 1, 0);
             INSERT INTO messages (conversation_id, seq, sender_id, client_id, body, sent_at, reply_to)
                 VALUES (1, 1, 1, '00000000-0000-0000-0000-000000000001', 'kept', 5, NULL);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let kept: (String, i64) = conn
            .query_row(
                "SELECT body, sent_at FROM messages WHERE client_id = ?1 AND sender_id = 1",
                ["00000000-0000-0000-0000-000000000001"],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!(kept, ("kept".to_owned(), 5));
        let duplicate = conn.execute(
            "INSERT INTO messages (conversation_id, seq, sender_id, client_id, body, sent_at)
             VALUES (1, 2, 1, '00000000-0000-0000-0000-000000000001', 'again', 6)",
            [],
        );
        assert!(
            duplicate.is_err(),
            "a client id is still stored once per sender"
        );
    }

    #[test]
    fn stored_pictures_get_the_hash_they_are_served_by() {
        let mut conn = Connection::open_in_memory().unwrap();
        for script in &MIGRATIONS[..8] {
            conn.execute_batch(script).unwrap();
        }
        conn.pragma_update(None, "user_version", 8).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, username, username_key, password_hash, created_at, avatar)
                 VALUES (1, 'ann', 'ann', 'x', 0, 'data:image/jpeg;base64,AAAA'),
                        (2, 'bob', 'bob', 'x', 0, NULL);
             INSERT INTO conversations (id, kind, name, picture, created_at)
                 VALUES (1, 'group', 'g', 'data:image/jpeg;base64,BBBB', 0);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let hashes: Vec<Option<String>> = conn
            .prepare("SELECT avatar_hash FROM users ORDER BY id")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            hashes,
            vec![Some(picture_hash("data:image/jpeg;base64,AAAA")), None]
        );
        let group: String = conn
            .query_row("SELECT picture_hash FROM conversations", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(group, picture_hash("data:image/jpeg;base64,BBBB"));
    }
}
