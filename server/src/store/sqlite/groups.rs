//! Groups in SQLite: creating them, changing their membership, name and
//! admins, and finding public ones. Every change writes an event message in
//! the same transaction, so it gets a seq and is replayed like a message.

use natter_protocol::limits::{canonical_hashtag, MAX_GROUP_MEMBERS};
use natter_protocol::{
    ConversationId, GroupEvent, GroupEventKind, Message, Millis, PublicGroup, Role, Seq, User,
    UserId,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use uuid::Uuid;

use super::{is_unique_violation, load_conversation, role_from, user_from_row, USER_COLUMNS};
use crate::store::{GroupChange, GroupChanged, GroupSpec, StoreError};

pub fn create(
    conn: &mut Connection,
    creator: UserId,
    spec: GroupSpec,
    now: Millis,
) -> Result<GroupChanged, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut others = spec.members.clone();
    others.sort_unstable();
    others.dedup();
    others.retain(|id| *id != creator);
    if others.len() + 1 > MAX_GROUP_MEMBERS {
        return Err(StoreError::GroupFull);
    }
    let inserted = tx.execute(
        "INSERT INTO conversations (kind, name, picture, hashtag, hashtag_key, created_at)
         VALUES ('group', ?1, ?2, ?3, ?4, ?5)",
        params![
            spec.name,
            spec.picture,
            spec.hashtag,
            spec.hashtag.as_deref().map(canonical_hashtag),
            now
        ],
    );
    match inserted {
        Err(err) if is_unique_violation(&err) => return Err(StoreError::HashtagTaken),
        other => other?,
    };
    let id = tx.last_insert_rowid();
    add_member(&tx, id, creator, Role::Admin, now)?;
    let mut message = append_event(
        &tx,
        id,
        creator,
        GroupEventKind::Created {
            name: spec.name.clone(),
        },
        now,
    )?;
    for other in &others {
        let user = user(&tx, *other)?;
        add_member(&tx, id, *other, Role::Member, now)?;
        message = append_event(&tx, id, creator, GroupEventKind::Added { user }, now)?;
    }
    let conversation = load_conversation(&tx, id)?;
    tx.commit()?;
    let mut audience = others;
    audience.push(creator);
    Ok(GroupChanged {
        conversation,
        message,
        audience,
    })
}

pub fn change(
    conn: &mut Connection,
    actor: UserId,
    id: ConversationId,
    change: GroupChange,
    now: Millis,
) -> Result<GroupChanged, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: Option<(String, Option<String>)> = tx
        .query_row(
            "SELECT kind, hashtag FROM conversations WHERE id = ?1",
            [id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((kind, hashtag)) = found else {
        return Err(StoreError::NotAMember);
    };
    let actor_role = role_of(&tx, id, actor)?;
    if kind != "group" {
        return Err(match actor_role {
            Some(_) => StoreError::NotAGroup,
            None => StoreError::NotAMember,
        });
    }
    let before = member_ids(&tx, id)?;
    let admin = || match actor_role {
        Some(Role::Admin) => Ok(()),
        Some(Role::Member) => Err(StoreError::NotAdmin),
        None => Err(StoreError::NotAMember),
    };
    let event = match change {
        GroupChange::Join => {
            if hashtag.is_none() {
                return Err(StoreError::NotAMember);
            }
            if actor_role.is_some() {
                return Err(StoreError::AlreadyMember);
            }
            ensure_room(&before)?;
            add_member(&tx, id, actor, Role::Member, now)?;
            GroupEventKind::Joined
        }
        GroupChange::Add(user_id) => {
            admin()?;
            if before.contains(&user_id) {
                return Err(StoreError::AlreadyMember);
            }
            ensure_room(&before)?;
            let added = user(&tx, user_id)?;
            add_member(&tx, id, user_id, Role::Member, now)?;
            GroupEventKind::Added { user: added }
        }
        GroupChange::Remove(user_id) if user_id == actor => {
            if actor_role.is_none() {
                return Err(StoreError::NotAMember);
            }
            remove_member(&tx, id, actor)?;
            GroupEventKind::Left
        }
        GroupChange::Remove(user_id) => {
            admin()?;
            if !before.contains(&user_id) {
                return Err(StoreError::NoSuchMember);
            }
            let removed = user(&tx, user_id)?;
            remove_member(&tx, id, user_id)?;
            GroupEventKind::Removed { user: removed }
        }
        GroupChange::Promote(user_id) => {
            admin()?;
            match role_of(&tx, id, user_id)? {
                None => return Err(StoreError::NoSuchMember),
                Some(Role::Admin) => return Err(StoreError::AlreadyAdmin),
                Some(Role::Member) => {}
            }
            set_role(&tx, id, user_id, Role::Admin)?;
            GroupEventKind::Promoted {
                user: user(&tx, user_id)?,
            }
        }
        GroupChange::Rename(name) => {
            admin()?;
            tx.execute(
                "UPDATE conversations SET name = ?2 WHERE id = ?1",
                params![id, name],
            )?;
            GroupEventKind::Renamed { name }
        }
    };
    let message = append_event(&tx, id, actor, event, now)?;
    keep_an_admin(&tx, id)?;
    let conversation = load_conversation(&tx, id)?;
    tx.commit()?;
    let mut audience = before;
    audience.extend(conversation.members.iter().map(|m| m.user.id));
    audience.sort_unstable();
    audience.dedup();
    Ok(GroupChanged {
        conversation,
        message,
        audience,
    })
}

pub fn public(conn: &Connection, prefix: &str, limit: u32) -> Result<Vec<PublicGroup>, StoreError> {
    // Hashtags use [a-z0-9_], all below '{': this range is the prefix.
    let low = canonical_hashtag(prefix);
    let high = format!("{low}{{");
    let groups = conn
        .prepare_cached(
            "SELECT c.id, c.name, c.hashtag, c.picture,
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
                picture: row.get(3)?,
                members: row.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(groups)
}

fn ensure_room(members: &[UserId]) -> Result<(), StoreError> {
    if members.len() >= MAX_GROUP_MEMBERS {
        Err(StoreError::GroupFull)
    } else {
        Ok(())
    }
}

fn user(tx: &Transaction<'_>, id: UserId) -> Result<User, StoreError> {
    tx.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
        [id],
        user_from_row,
    )
    .optional()?
    .ok_or(StoreError::NoSuchUser)
}

fn member_ids(tx: &Transaction<'_>, id: ConversationId) -> Result<Vec<UserId>, StoreError> {
    Ok(tx
        .prepare_cached("SELECT user_id FROM members WHERE conversation_id = ?1")?
        .query_map([id], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

fn role_of(
    tx: &Transaction<'_>,
    id: ConversationId,
    user: UserId,
) -> Result<Option<Role>, StoreError> {
    Ok(tx
        .query_row(
            "SELECT role FROM members WHERE conversation_id = ?1 AND user_id = ?2",
            params![id, user],
            |row| row.get::<_, String>(0),
        )
        .optional()?
        .map(|role| role_from(&role)))
}

fn role_text(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Member => "member",
    }
}

/// Adds `user`, whose unread count starts at the group's newest message.
fn add_member(
    tx: &Transaction<'_>,
    id: ConversationId,
    user: UserId,
    role: Role,
    now: Millis,
) -> Result<(), StoreError> {
    let last: Seq = tx.query_row(
        "SELECT last_seq FROM conversations WHERE id = ?1",
        [id],
        |row| row.get(0),
    )?;
    tx.execute(
        "INSERT INTO members (conversation_id, user_id, delivered_seq, read_seq, role, joined_at)
         VALUES (?1, ?2, ?3, ?3, ?4, ?5)",
        params![id, user, last, role_text(role), now],
    )?;
    Ok(())
}

fn remove_member(tx: &Transaction<'_>, id: ConversationId, user: UserId) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM members WHERE conversation_id = ?1 AND user_id = ?2",
        params![id, user],
    )?;
    Ok(())
}

fn set_role(
    tx: &Transaction<'_>,
    id: ConversationId,
    user: UserId,
    role: Role,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE members SET role = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
        params![id, user, role_text(role)],
    )?;
    Ok(())
}

/// A group whose last admin left gets its longest-standing member as admin,
/// so it can still be managed.
fn keep_an_admin(tx: &Transaction<'_>, id: ConversationId) -> Result<(), StoreError> {
    let has_admin = tx
        .query_row(
            "SELECT 1 FROM members WHERE conversation_id = ?1 AND role = 'admin'",
            [id],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !has_admin {
        tx.execute(
            "UPDATE members SET role = 'admin'
             WHERE conversation_id = ?1 AND user_id = (
                 SELECT user_id FROM members WHERE conversation_id = ?1
                 ORDER BY joined_at, user_id LIMIT 1)",
            [id],
        )?;
    }
    Ok(())
}

/// Writes the message recording `event`, sent by `actor`, as the next seq.
fn append_event(
    tx: &Transaction<'_>,
    id: ConversationId,
    actor: UserId,
    kind: GroupEventKind,
    now: Millis,
) -> Result<Message, StoreError> {
    let event = GroupEvent {
        by: user(tx, actor)?,
        kind,
    };
    let json = serde_json::to_string(&event).map_err(|err| StoreError::Data(err.to_string()))?;
    let seq: Seq = tx.query_row(
        "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ?1 RETURNING last_seq",
        [id],
        |row| row.get(0),
    )?;
    let client_id = Uuid::new_v4();
    tx.execute(
        "INSERT INTO messages (conversation_id, seq, sender_id, client_id, body, sent_at, event)
         VALUES (?1, ?2, ?3, ?4, '', ?5, ?6)",
        params![id, seq, actor, client_id.to_string(), now, json],
    )?;
    tx.execute(
        "UPDATE members SET delivered_seq = ?3, read_seq = ?3
         WHERE conversation_id = ?1 AND user_id = ?2",
        params![id, actor, seq],
    )?;
    Ok(Message {
        conversation: id,
        seq,
        client_id,
        sender: actor,
        body: String::new(),
        sent_at: now,
        attachment: None,
        event: Some(event),
        reply_to: None,
        action: None,
        edited_at: None,
        deleted: false,
        reactions: Vec::new(),
    })
}
