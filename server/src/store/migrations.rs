//! The SQLite schema, as an ordered list of migrations.
//!
//! `PRAGMA user_version` records how many have run. A migration is never
//! edited once released: changes go in a new one at the end.

use rusqlite::Connection;

use super::StoreError;

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
];

/// The schema version this build writes.
pub const CURRENT: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`CURRENT`], one transaction per migration.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
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
}
