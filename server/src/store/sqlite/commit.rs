//! One batch of [`Write`]s as one SQLite transaction: this is the group
//! commit that lets the server ack tens of thousands of messages a second
//! with one fsync per batch.
//!
//! Seqs are counted in memory for the length of the batch (one read of a
//! conversation's counter, one update at the end), a plain message costs
//! one INSERT, and the senders' own cursors are moved once per batch. The
//! writer thread is SQLite's only writer, so nothing else can move a
//! counter meanwhile. A write that fails is undone alone (a statement, or
//! a savepoint for writes of several statements) and the batch goes on.

use std::collections::HashMap;

use natter_protocol::{
    Action, Attachment, ConversationId, GroupEvent, Message, Millis, ReceiptKind, Seq, UserId,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use uuid::Uuid;

use super::rows::{self, is_unique_violation, role_text, to_json};
use crate::store::written::{self, repeated, stored, Cursors};
use crate::store::{
    picture_hash, Appended, GroupStep, GroupTarget, GroupWrite, GroupWritten, History,
    MemberChange, Membership, NewMessage, Reader, StoreError, Write, Written,
};

/// A conversation's counters as the batch has moved them.
#[derive(Debug, Clone, Copy)]
struct Counter {
    last_seq: Seq,
    epoch: u64,
    changed: bool,
}

/// What the batch has changed and will write once at the end.
#[derive(Default)]
struct Pending {
    counters: HashMap<ConversationId, Counter>,
    /// Senders have seen their own messages: their cursors move to here.
    seen: HashMap<(ConversationId, UserId), Seq>,
}

impl Pending {
    fn counter(
        &mut self,
        tx: &Connection,
        id: ConversationId,
    ) -> Result<Option<&mut Counter>, StoreError> {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.counters.entry(id) {
            let found: Option<(Seq, u64)> = tx
                .prepare_cached("SELECT last_seq, epoch FROM conversations WHERE id = ?1")?
                .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?;
            let Some((last_seq, epoch)) = found else {
                return Ok(None);
            };
            slot.insert(Counter {
                last_seq,
                epoch,
                changed: false,
            });
        }
        Ok(self.counters.get_mut(&id))
    }

    fn saw(&mut self, conversation: ConversationId, user: UserId, seq: Seq) {
        let mark = self.seen.entry((conversation, user)).or_default();
        *mark = (*mark).max(seq);
    }

    /// Writes what the batch moved for `only` (or for everything).
    fn flush(&mut self, tx: &Connection, only: Option<ConversationId>) -> Result<(), StoreError> {
        let wanted = |id: &ConversationId| only.is_none_or(|only| only == *id);
        let mut update =
            tx.prepare_cached("UPDATE conversations SET last_seq = ?2, epoch = ?3 WHERE id = ?1")?;
        for (id, counter) in self.counters.iter_mut().filter(|(id, _)| wanted(id)) {
            if counter.changed {
                update.execute(params![id, counter.last_seq, counter.epoch])?;
                counter.changed = false;
            }
        }
        let mut seen = tx.prepare_cached(
            "UPDATE members SET delivered_seq = MAX(delivered_seq, ?3), read_seq = MAX(read_seq, ?3)
             WHERE conversation_id = ?1 AND user_id = ?2",
        )?;
        let marks: Vec<_> = self
            .seen
            .iter()
            .filter(|((id, _), _)| wanted(id))
            .map(|(key, seq)| (*key, *seq))
            .collect();
        for ((conversation, user), seq) in marks {
            seen.execute(params![conversation, user, seq])?;
            self.seen.remove(&(conversation, user));
        }
        Ok(())
    }
}

pub fn commit(
    conn: &mut Connection,
    batch: Vec<Write>,
) -> Result<Vec<Result<Written, StoreError>>, StoreError> {
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut pending = Pending::default();
    let mut results = Vec::with_capacity(batch.len());
    for write in batch {
        let outcome = match write {
            Write::Append { message, epoch }
                if message.action.is_none() && message.attachment.is_none() =>
            {
                append(&tx, &mut pending, message, epoch).map(Written::Appended)
            }
            Write::Append { message, epoch } => {
                undo_on_failure(&mut tx, &mut pending, |tx, pending| {
                    append(tx, pending, message, epoch)
                })
                .map(Written::Appended)
            }
            Write::Advance {
                user,
                conversation,
                delivered,
                read,
            } => advance(&tx, &mut pending, user, conversation, delivered, read)
                .map(Written::Advanced),
            Write::Group(group) => undo_on_failure(&mut tx, &mut pending, |tx, pending| {
                write_group(tx, pending, group)
            })
            .map(Written::Group),
            Write::Accept { user, conversation } => {
                undo_on_failure(&mut tx, &mut pending, |tx, pending| {
                    accept(tx, pending, user, conversation)
                })
                .map(Written::Accepted)
            }
        };
        results.push(outcome);
    }
    pending.flush(&tx, None)?;
    tx.commit()?;
    Ok(results)
}

/// Runs a write of several statements in a savepoint: if it fails, its
/// statements and its changes to the counters are undone.
fn undo_on_failure<T>(
    tx: &mut Transaction<'_>,
    pending: &mut Pending,
    write: impl FnOnce(&Connection, &mut Pending) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let saved_counters = pending.counters.clone();
    let saved_seen = pending.seen.clone();
    let savepoint = tx.savepoint()?;
    match write(&savepoint, pending) {
        Ok(value) => {
            savepoint.commit()?;
            Ok(value)
        }
        Err(err) => {
            // Dropping the savepoint rolls it back.
            drop(savepoint);
            pending.counters = saved_counters;
            pending.seen = saved_seen;
            Err(err)
        }
    }
}

fn append(
    tx: &Connection,
    pending: &mut Pending,
    new: NewMessage,
    epoch: u64,
) -> Result<Appended, StoreError> {
    // An action is applied before it is stored, so a repeat must be known
    // first; a plain message finds out from its INSERT.
    if new.action.is_some() {
        if let Some(existing) = rows::message_by_client_id(tx, new.sender, new.client_id)? {
            return repeated(existing, &new);
        }
    }
    let counter = *pending
        .counter(tx, new.conversation)?
        .ok_or(StoreError::NotFound)?;
    if counter.epoch != epoch {
        return Err(StoreError::Stale);
    }
    if let Some(reply_to) = new.reply_to {
        live_sender(tx, new.conversation, reply_to)?;
    }
    let removed_media = match &new.action {
        // A withheld reaction or edit stays with its sender: the target's
        // other reader never sees it. A deletion always applies.
        Some(action @ (Action::React { .. } | Action::Unreact { .. } | Action::Edit { .. }))
            if new.withheld_from.is_some() =>
        {
            live_sender(tx, new.conversation, action.target())?;
            None
        }
        Some(action) => act(tx, &new, action)?,
        None => None,
    };
    let seq = counter.last_seq + 1;
    let attachment = new.attachment.as_ref().map(to_json).transpose()?;
    let action = new.action.as_ref().map(to_json).transpose()?;
    let link_preview = new.link_preview.as_ref().map(to_json).transpose()?;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO messages
                 (conversation_id, seq, sender_id, client_id, body, sent_at, attachment, reply_to,
                  action, withheld_from, link_preview)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (client_id, sender_id) DO NOTHING",
        )?
        .execute(params![
            new.conversation,
            seq,
            new.sender,
            new.client_id.to_string(),
            new.body,
            new.sent_at,
            attachment,
            new.reply_to,
            action,
            new.withheld_from,
            link_preview
        ])?;
    if inserted == 0 {
        let existing = rows::message_by_client_id(tx, new.sender, new.client_id)?
            .ok_or_else(|| StoreError::Data("a conflicting message vanished".to_owned()))?;
        return repeated(existing, &new);
    }
    if let Some(attachment) = &new.attachment {
        let taken = tx
            .prepare_cached(
                "UPDATE media SET message_seq = ?2 WHERE id = ?1 AND message_seq IS NULL",
            )?
            .execute(params![attachment.id, seq])?;
        if taken == 0 {
            return Err(StoreError::AttachmentTaken);
        }
    }
    if let Some(counter) = pending.counters.get_mut(&new.conversation) {
        counter.last_seq = seq;
        counter.changed = true;
    }
    pending.saw(new.conversation, new.sender, seq);
    Ok(Appended {
        message: stored(&new, seq),
        fresh: true,
        removed_media,
    })
}

/// The sender of message `seq`, if it can be answered or acted on: it
/// exists, is a visible message and is not deleted.
fn live_sender(
    tx: &Connection,
    conversation: ConversationId,
    seq: Seq,
) -> Result<UserId, StoreError> {
    tx.prepare_cached(
        "SELECT sender_id FROM messages
         WHERE conversation_id = ?1 AND seq = ?2
           AND action IS NULL AND event IS NULL AND deleted = 0",
    )?
    .query_row(params![conversation, seq], |row| row.get(0))
    .optional()?
    .ok_or(StoreError::BadTarget)
}

/// Applies `action` to its live target; returns the upload a deletion
/// removed. Whether the sender may is the rules' business, decided before.
fn act(tx: &Connection, new: &NewMessage, action: &Action) -> Result<Option<String>, StoreError> {
    let conversation = new.conversation;
    let seq = action.target();
    live_sender(tx, conversation, seq)?;
    match action {
        Action::React { emoji, .. } => {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO reactions (conversation_id, seq, user_id, emoji, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![conversation, seq, new.sender, emoji, new.sent_at])?;
        }
        Action::Unreact { emoji, .. } => {
            tx.prepare_cached(
                "DELETE FROM reactions
                 WHERE conversation_id = ?1 AND seq = ?2 AND user_id = ?3 AND emoji = ?4",
            )?
            .execute(params![conversation, seq, new.sender, emoji])?;
        }
        Action::Edit { body, .. } => {
            tx.prepare_cached(
                "UPDATE messages SET body = ?3, edited_at = ?4
                 WHERE conversation_id = ?1 AND seq = ?2",
            )?
            .execute(params![conversation, seq, body, new.sent_at])?;
        }
        Action::Delete { .. } => return delete(tx, conversation, seq),
    }
    Ok(None)
}

/// Deletes message `seq` for everyone: its text, file, reactions and the
/// text of its edits go; a tombstone stays. Returns its upload's id.
fn delete(
    tx: &Connection,
    conversation: ConversationId,
    seq: Seq,
) -> Result<Option<String>, StoreError> {
    let attachment: Option<Attachment> = tx
        .prepare_cached("SELECT attachment FROM messages WHERE conversation_id = ?1 AND seq = ?2")?
        .query_row(params![conversation, seq], |row| {
            row.get::<_, Option<String>>(0)
        })?
        .map(|json| serde_json::from_str(&json))
        .transpose()
        .map_err(|err| StoreError::Data(err.to_string()))?;
    if let Some(attachment) = &attachment {
        tx.prepare_cached("DELETE FROM media WHERE id = ?1")?
            .execute([&attachment.id])?;
    }
    tx.prepare_cached(
        "UPDATE messages SET body = '', attachment = NULL, link_preview = NULL, edited_at = NULL,
             deleted = 1
         WHERE conversation_id = ?1 AND seq = ?2",
    )?
    .execute(params![conversation, seq])?;
    tx.prepare_cached("DELETE FROM reactions WHERE conversation_id = ?1 AND seq = ?2")?
        .execute(params![conversation, seq])?;
    // Earlier edits carry text too: keep them, without it.
    let emptied = to_json(&Action::Edit {
        target: seq,
        body: String::new(),
    })?;
    tx.prepare_cached(
        "UPDATE messages SET action = ?3
         WHERE conversation_id = ?1 AND action IS NOT NULL
           AND json_extract(action, '$.type') = 'edit'
           AND json_extract(action, '$.target') = ?2",
    )?
    .execute(params![conversation, seq, emptied])?;
    Ok(attachment.map(|attachment| attachment.id))
}

fn advance(
    tx: &Connection,
    pending: &mut Pending,
    user: UserId,
    conversation: ConversationId,
    delivered: Option<Seq>,
    read: Option<Seq>,
) -> Result<Vec<(ReceiptKind, Seq)>, StoreError> {
    let last = pending
        .counter(tx, conversation)?
        .ok_or(StoreError::NotFound)?
        .last_seq;
    let cursors: Option<(Seq, Seq)> = tx
        .prepare_cached(
            "SELECT delivered_seq, read_seq FROM members
             WHERE conversation_id = ?1 AND user_id = ?2",
        )?
        .query_row(params![conversation, user], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    let (delivered_was, read_was) = cursors.ok_or(StoreError::NotFound)?;
    let mut cursors = Cursors {
        delivered: delivered_was,
        read: read_was,
    };
    let moved = cursors.advance(delivered, read, last);
    if !moved.is_empty() {
        tx.prepare_cached(
            "UPDATE members SET delivered_seq = ?3, read_seq = ?4
             WHERE conversation_id = ?1 AND user_id = ?2",
        )?
        .execute(params![conversation, user, cursors.delivered, cursors.read])?;
    }
    Ok(moved)
}

fn write_group(
    tx: &Connection,
    pending: &mut Pending,
    group: GroupWrite,
) -> Result<GroupWritten, StoreError> {
    let GroupWrite { target, steps, now } = group;
    let id = match target {
        GroupTarget::Create {
            name,
            hashtag,
            picture,
        } => {
            let key = hashtag
                .as_deref()
                .map(natter_protocol::limits::canonical_hashtag);
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO conversations
                        (kind, name, picture, picture_hash, hashtag, hashtag_key, created_at)
                     VALUES ('group', ?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    name,
                    picture,
                    picture.as_deref().map(picture_hash),
                    hashtag,
                    key,
                    now
                ]);
            match inserted {
                Err(err) if is_unique_violation(&err) => return Err(StoreError::HashtagTaken),
                other => other?,
            };
            let id = tx.last_insert_rowid();
            pending.counters.insert(
                id,
                Counter {
                    last_seq: 0,
                    epoch: 0,
                    changed: false,
                },
            );
            id
        }
        GroupTarget::Existing {
            conversation,
            epoch,
        } => {
            let counter = pending
                .counter(tx, conversation)?
                .ok_or(StoreError::NotFound)?;
            if counter.epoch != epoch {
                return Err(StoreError::Stale);
            }
            counter.epoch += 1;
            counter.changed = true;
            conversation
        }
    };
    let mut messages = Vec::with_capacity(steps.len());
    let mut removed_media = Vec::new();
    for GroupStep { changes, event } in steps {
        for change in changes {
            // Whoever adds someone has them as a contact.
            if let MemberChange::Add(user, ..) = change {
                if user != event.by.id {
                    tx.prepare_cached(
                        "INSERT OR IGNORE INTO contacts (owner_id, other_id) VALUES (?1, ?2)",
                    )?
                    .execute(params![event.by.id, user])?;
                }
            }
            removed_media.extend(change_member(tx, pending, id, change, now)?);
        }
        messages.push(append_event(tx, pending, id, event, now)?);
    }
    pending.flush(tx, Some(id))?;
    // Every member reads the group's newest event, and members are sent
    // it whole: read as its first member reads it.
    let reader = Reader::everything(0);
    let conversation = rows::load_conversation(tx, id, reader)?.ok_or(StoreError::NotFound)?;
    let membership = rows::load_membership(tx, id)?.ok_or(StoreError::NotFound)?;
    Ok(GroupWritten {
        conversation,
        membership,
        messages,
        removed_media,
    })
}

/// Applies one change; returns the uploads it erased.
fn change_member(
    tx: &Connection,
    pending: &mut Pending,
    id: ConversationId,
    change: MemberChange,
    now: Millis,
) -> Result<Vec<String>, StoreError> {
    match change {
        MemberChange::Add(user, role, history) => {
            // Their unread count starts at the group's newest message.
            let last = pending
                .counter(tx, id)?
                .ok_or(StoreError::NotFound)?
                .last_seq;
            let history_from = match history {
                History::Whole => 0,
                History::FromNow => last,
            };
            tx.prepare_cached(
                "INSERT INTO members
                     (conversation_id, user_id, delivered_seq, read_seq, role, joined_at,
                      history_from)
                 VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![id, user, last, role_text(role), now, history_from])?;
        }
        MemberChange::Remove(user) => {
            tx.prepare_cached("DELETE FROM members WHERE conversation_id = ?1 AND user_id = ?2")?
                .execute(params![id, user])?;
            pending.seen.remove(&(id, user));
        }
        MemberChange::SetRole(user, role) => {
            tx.prepare_cached(
                "UPDATE members SET role = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
            )?
            .execute(params![id, user, role_text(role)])?;
        }
        MemberChange::Rename(name) => {
            tx.prepare_cached("UPDATE conversations SET name = ?2 WHERE id = ?1")?
                .execute(params![id, name])?;
        }
        MemberChange::Request(user, from) => {
            tx.prepare_cached(
                "UPDATE members SET request_from = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
            )?
            .execute(params![id, user, from])?;
        }
        MemberChange::Ban(user) => {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO bans (conversation_id, user_id, banned_at)
                 VALUES (?1, ?2, ?3)",
            )?
            .execute(params![id, user, now])?;
        }
        MemberChange::Unban(user) => {
            tx.prepare_cached("DELETE FROM bans WHERE conversation_id = ?1 AND user_id = ?2")?
                .execute(params![id, user])?;
        }
        MemberChange::Close => return close(tx, id),
    }
    Ok(Vec::new())
}

/// `user` accepts the request their seat in `id` is.
fn accept(
    tx: &Connection,
    pending: &mut Pending,
    user: UserId,
    id: ConversationId,
) -> Result<Membership, StoreError> {
    let from: Option<Option<UserId>> = tx
        .prepare_cached(
            "SELECT request_from FROM members WHERE conversation_id = ?1 AND user_id = ?2",
        )?
        .query_row(params![id, user], |row| row.get(0))
        .optional()?;
    let from = from.ok_or(StoreError::NotFound)?;
    if let Some(from) = from {
        tx.prepare_cached(
            "UPDATE members SET request_from = NULL WHERE conversation_id = ?1 AND user_id = ?2",
        )?
        .execute(params![id, user])?;
        tx.prepare_cached("INSERT OR IGNORE INTO contacts (owner_id, other_id) VALUES (?1, ?2)")?
            .execute(params![user, from])?;
        let counter = pending.counter(tx, id)?.ok_or(StoreError::NotFound)?;
        counter.epoch += 1;
        counter.changed = true;
        pending.flush(tx, Some(id))?;
    }
    rows::load_membership(tx, id)?.ok_or(StoreError::NotFound)
}

/// Closes a group for good: its hashtag is freed, and its messages, their
/// reactions and its uploads are erased. Returns the uploads' ids.
fn close(tx: &Connection, id: ConversationId) -> Result<Vec<String>, StoreError> {
    let uploads = tx
        .prepare_cached("DELETE FROM media WHERE conversation_id = ?1 RETURNING id")?
        .query_map([id], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    tx.prepare_cached("DELETE FROM reactions WHERE conversation_id = ?1")?
        .execute([id])?;
    tx.prepare_cached("DELETE FROM messages WHERE conversation_id = ?1")?
        .execute([id])?;
    tx.prepare_cached("DELETE FROM bans WHERE conversation_id = ?1")?
        .execute([id])?;
    tx.prepare_cached(
        "UPDATE conversations SET hashtag = NULL, hashtag_key = NULL, picture = NULL,
             picture_hash = NULL
         WHERE id = ?1",
    )?
    .execute([id])?;
    Ok(uploads)
}

/// Writes the message recording `event` as the next seq.
fn append_event(
    tx: &Connection,
    pending: &mut Pending,
    id: ConversationId,
    event: GroupEvent,
    now: Millis,
) -> Result<Message, StoreError> {
    let counter = pending.counter(tx, id)?.ok_or(StoreError::NotFound)?;
    counter.last_seq += 1;
    counter.changed = true;
    let seq = counter.last_seq;
    let actor = event.by.id;
    let client_id = Uuid::new_v4();
    tx.prepare_cached(
        "INSERT INTO messages (conversation_id, seq, sender_id, client_id, body, sent_at, event)
         VALUES (?1, ?2, ?3, ?4, '', ?5, ?6)",
    )?
    .execute(params![
        id,
        seq,
        actor,
        client_id.to_string(),
        now,
        to_json(&event)?
    ])?;
    pending.saw(id, actor, seq);
    Ok(written::event(id, seq, client_id, event, now))
}
