//! One batch of [`Write`]s as one PostgreSQL transaction: the group commit
//! of a node, safe beside other nodes committing theirs.
//!
//! The batch first locks the row of every conversation it writes to, in id
//! order (`SELECT … FOR UPDATE`), and reads their counters: from then until
//! it commits no other node can take a seq in them, so seqs stay gap-free
//! and in commit order, and the fixed order keeps two batches from waiting
//! on each other. Seqs are then counted in memory and written once at the
//! end, with the senders' own cursors. Plain messages (no action, file or
//! reply) that follow each other in the batch are stored by one multi-row
//! INSERT, one round trip for the lot, unless one of them turns out to be a
//! repeat, when they are stored one by one instead. A write that can fail
//! after it has changed something runs in a savepoint and is undone alone; an error from
//! the database itself ends the batch, and a batch PostgreSQL chose as a
//! deadlock's victim (or a serialization failure) is run again whole, as
//! nothing of it was committed.

use std::collections::HashMap;

use natter_protocol::{
    Action, Attachment, ConversationId, GroupEvent, Message, Millis, ReceiptKind, Seq, UserId,
};
use sqlx::{Acquire, PgConnection, PgPool, Row};
use uuid::Uuid;

use super::rows::{self, int, is_unique_violation, uint};
use crate::store::columns::{role_text, to_json};
use crate::store::written::{self, repeated, stored, Cursors};
use crate::store::{
    picture_hash, Appended, GroupStep, GroupTarget, GroupWrite, GroupWritten, History,
    MemberChange, Membership, NewMessage, Reader, StoreError, Write, Written,
};

/// How often a batch is run again after PostgreSQL rolled it back to break
/// a deadlock.
const ATTEMPTS: usize = 4;

/// A conversation's counters as the batch has moved them.
#[derive(Debug, Clone, Copy)]
struct Counter {
    last_seq: Seq,
    epoch: u64,
    changed: bool,
}

/// What the batch has changed and will write once at the end.
#[derive(Default, Clone)]
struct Pending {
    counters: HashMap<ConversationId, Counter>,
    /// Senders have seen their own messages: their cursors move to here.
    seen: HashMap<(ConversationId, UserId), Seq>,
}

impl Pending {
    /// Locks the batch's conversations, in id order, and reads their
    /// counters.
    async fn lock(
        &mut self,
        tx: &mut PgConnection,
        ids: Vec<ConversationId>,
    ) -> Result<(), StoreError> {
        let rows = sqlx::query(
            "SELECT id, last_seq, epoch FROM conversations WHERE id = ANY($1)
             ORDER BY id FOR UPDATE",
        )
        .bind(ids)
        .fetch_all(tx)
        .await?;
        for row in rows {
            self.counters.insert(
                row.try_get(0)?,
                Counter {
                    last_seq: uint(row.try_get(1)?)?,
                    epoch: uint(row.try_get(2)?)?,
                    changed: false,
                },
            );
        }
        Ok(())
    }

    fn counter(&mut self, id: ConversationId) -> Result<&mut Counter, StoreError> {
        self.counters.get_mut(&id).ok_or(StoreError::NotFound)
    }

    fn saw(&mut self, conversation: ConversationId, user: UserId, seq: Seq) {
        let mark = self.seen.entry((conversation, user)).or_default();
        *mark = (*mark).max(seq);
    }

    /// Writes what the batch moved for `only` (or for everything).
    async fn flush(
        &mut self,
        tx: &mut PgConnection,
        only: Option<ConversationId>,
    ) -> Result<(), StoreError> {
        let wanted = |id: &ConversationId| only.is_none_or(|only| only == *id);
        for (id, counter) in self.counters.iter_mut().filter(|(id, _)| wanted(id)) {
            if counter.changed {
                sqlx::query("UPDATE conversations SET last_seq = $2, epoch = $3 WHERE id = $1")
                    .bind(id)
                    .bind(int(counter.last_seq))
                    .bind(int(counter.epoch))
                    .execute(&mut *tx)
                    .await?;
                counter.changed = false;
            }
        }
        let marks: Vec<_> = self
            .seen
            .iter()
            .filter(|((id, _), _)| wanted(id))
            .map(|(key, seq)| (*key, *seq))
            .collect();
        for ((conversation, user), seq) in marks {
            sqlx::query(
                "UPDATE members SET delivered_seq = GREATEST(delivered_seq, $3),
                                    read_seq = GREATEST(read_seq, $3)
                 WHERE conversation_id = $1 AND user_id = $2",
            )
            .bind(conversation)
            .bind(user)
            .bind(int(seq))
            .execute(&mut *tx)
            .await?;
            self.seen.remove(&(conversation, user));
        }
        Ok(())
    }
}

pub async fn commit(
    pool: &PgPool,
    batch: &[Write],
) -> Result<Vec<Result<Written, StoreError>>, StoreError> {
    let mut attempt = 1;
    loop {
        match commit_once(pool, batch).await {
            Err(StoreError::Backend(err)) if attempt < ATTEMPTS && is_deadlock(&*err) => {
                attempt += 1;
                tracing::debug!(attempt, "batch rolled back by a deadlock; running it again");
            }
            outcome => return outcome,
        }
    }
}

/// Whether PostgreSQL rolled the transaction back to break a deadlock or a
/// serialization conflict: running it again is safe.
fn is_deadlock(err: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    let Some(sqlx::Error::Database(db)) = err.downcast_ref::<sqlx::Error>() else {
        return false;
    };
    matches!(db.code().as_deref(), Some("40P01" | "40001"))
}

async fn commit_once(
    pool: &PgPool,
    batch: &[Write],
) -> Result<Vec<Result<Written, StoreError>>, StoreError> {
    let mut tx = pool.begin().await?;
    let mut pending = Pending::default();
    let mut ids: Vec<ConversationId> = batch.iter().filter_map(conversation_of).collect();
    ids.sort_unstable();
    ids.dedup();
    pending.lock(&mut tx, ids).await?;
    let mut results = Vec::with_capacity(batch.len());
    let mut at = 0;
    while at < batch.len() {
        let run = batch[at..]
            .iter()
            .take_while(|write| plain(write).is_some())
            .count();
        if run > 1 {
            let plain: Vec<(&NewMessage, u64)> =
                batch[at..at + run].iter().filter_map(plain).collect();
            for outcome in append_plain(&mut tx, &mut pending, &plain).await? {
                // The database failed, not a rule: the transaction is no good.
                if let Err(StoreError::Backend(err)) = outcome {
                    return Err(StoreError::Backend(err));
                }
                results.push(outcome.map(Written::Appended));
            }
            at += run;
            continue;
        }
        let write = &batch[at];
        at += 1;
        let outcome = match write {
            Write::Append { message, epoch }
                if message.action.is_none() && message.attachment.is_none() =>
            {
                append(&mut tx, &mut pending, message, *epoch)
                    .await
                    .map(Written::Appended)
            }
            Write::Append { message, epoch } => {
                let saved = pending.clone();
                let mut savepoint = tx.begin().await?;
                let outcome = append(&mut savepoint, &mut pending, message, *epoch).await;
                settle(savepoint, &mut pending, saved, outcome)
                    .await?
                    .map(Written::Appended)
            }
            Write::Advance {
                user,
                conversation,
                delivered,
                read,
            } => advance(
                &mut tx,
                &mut pending,
                *user,
                *conversation,
                *delivered,
                *read,
            )
            .await
            .map(Written::Advanced),
            Write::Group(group) => {
                let saved = pending.clone();
                let mut savepoint = tx.begin().await?;
                let outcome = write_group(&mut savepoint, &mut pending, group).await;
                settle(savepoint, &mut pending, saved, outcome)
                    .await?
                    .map(Written::Group)
            }
            Write::Accept { user, conversation } => {
                let saved = pending.clone();
                let mut savepoint = tx.begin().await?;
                let outcome = accept(&mut savepoint, &mut pending, *user, *conversation).await;
                settle(savepoint, &mut pending, saved, outcome)
                    .await?
                    .map(Written::Accepted)
            }
        };
        match outcome {
            // The database failed, not a rule: the transaction is no good.
            Err(StoreError::Backend(err)) => return Err(StoreError::Backend(err)),
            outcome => results.push(outcome),
        }
    }
    pending.flush(&mut tx, None).await?;
    tx.commit().await?;
    Ok(results)
}

/// A message with nothing to check or apply but its place: no action, no
/// file, no reply.
fn plain(write: &Write) -> Option<(&NewMessage, u64)> {
    match write {
        Write::Append { message, epoch }
            if message.action.is_none()
                && message.attachment.is_none()
                && message.reply_to.is_none()
                && message.link_preview.is_none() =>
        {
            Some((message, *epoch))
        }
        _ => None,
    }
}

/// Stores consecutive plain messages with one INSERT. Each gets the next
/// seq of its conversation; a repeated client id (stored before, by this
/// batch or by another node's) undoes the INSERT, and they are stored one
/// by one instead, so that repeats take no seq.
async fn append_plain(
    tx: &mut PgConnection,
    pending: &mut Pending,
    run: &[(&NewMessage, u64)],
) -> Result<Vec<Result<Appended, StoreError>>, StoreError> {
    let mut counters = pending.counters.clone();
    let mut placed: Vec<Option<Seq>> = Vec::with_capacity(run.len());
    for (message, epoch) in run {
        placed.push(match counters.get_mut(&message.conversation) {
            Some(counter) if counter.epoch == *epoch => {
                counter.last_seq += 1;
                counter.changed = true;
                Some(counter.last_seq)
            }
            _ => None,
        });
    }
    let fresh: Vec<(&NewMessage, Seq)> = run
        .iter()
        .zip(&placed)
        .filter_map(|((message, _), seq)| seq.map(|seq| (*message, seq)))
        .collect();
    let mut savepoint = (&mut *tx).begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO messages
             (conversation_id, seq, sender_id, client_id, body, sent_at, withheld_from)
         SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::uuid[], $5::text[],
                              $6::bigint[], $7::bigint[])
         ON CONFLICT (client_id, sender_id) DO NOTHING",
    )
    .bind(
        fresh
            .iter()
            .map(|(m, _)| m.conversation)
            .collect::<Vec<_>>(),
    )
    .bind(fresh.iter().map(|(_, seq)| int(*seq)).collect::<Vec<_>>())
    .bind(fresh.iter().map(|(m, _)| m.sender).collect::<Vec<_>>())
    .bind(fresh.iter().map(|(m, _)| m.client_id).collect::<Vec<_>>())
    .bind(
        fresh
            .iter()
            .map(|(m, _)| m.body.clone())
            .collect::<Vec<_>>(),
    )
    .bind(fresh.iter().map(|(m, _)| m.sent_at).collect::<Vec<_>>())
    .bind(
        fresh
            .iter()
            .map(|(m, _)| m.withheld_from)
            .collect::<Vec<_>>(),
    )
    .execute(&mut *savepoint)
    .await?
    .rows_affected();
    if inserted != fresh.len() as u64 {
        savepoint.rollback().await?;
        let mut outcomes = Vec::with_capacity(run.len());
        for (message, epoch) in run {
            outcomes.push(append(tx, pending, message, *epoch).await);
        }
        return Ok(outcomes);
    }
    savepoint.commit().await?;
    pending.counters = counters;
    let mut outcomes = Vec::with_capacity(run.len());
    for ((message, epoch), seq) in run.iter().zip(placed) {
        let Some(seq) = seq else {
            let counter = pending.counters.get(&message.conversation);
            outcomes.push(Err(match counter {
                Some(counter) if counter.epoch != *epoch => StoreError::Stale,
                _ => StoreError::NotFound,
            }));
            continue;
        };
        pending.saw(message.conversation, message.sender, seq);
        outcomes.push(Ok(Appended {
            message: stored(message, seq),
            fresh: true,
            removed_media: None,
        }));
    }
    Ok(outcomes)
}

/// The conversation a write locks (a new group has no row yet).
fn conversation_of(write: &Write) -> Option<ConversationId> {
    match write {
        Write::Append { message, .. } => Some(message.conversation),
        Write::Advance { conversation, .. } | Write::Accept { conversation, .. } => {
            Some(*conversation)
        }
        Write::Group(GroupWrite {
            target: GroupTarget::Existing { conversation, .. },
            ..
        }) => Some(*conversation),
        Write::Group(_) => None,
    }
}

/// Keeps a savepoint's write if it succeeded; otherwise rolls it back and
/// puts the counters back as they were before it. The outer error is the
/// database failing to do either.
async fn settle<T>(
    savepoint: sqlx::Transaction<'_, sqlx::Postgres>,
    pending: &mut Pending,
    saved: Pending,
    outcome: Result<T, StoreError>,
) -> Result<Result<T, StoreError>, StoreError> {
    match outcome {
        Ok(value) => {
            savepoint.commit().await?;
            Ok(Ok(value))
        }
        Err(err) => {
            savepoint.rollback().await?;
            *pending = saved;
            Ok(Err(err))
        }
    }
}

async fn append(
    tx: &mut PgConnection,
    pending: &mut Pending,
    new: &NewMessage,
    epoch: u64,
) -> Result<Appended, StoreError> {
    // An action is applied before it is stored, so a repeat must be known
    // first; a plain message finds out from its INSERT.
    if new.action.is_some() {
        if let Some(existing) = rows::message_by_client_id(tx, new.sender, new.client_id).await? {
            return repeated(existing, new);
        }
    }
    let counter = *pending.counter(new.conversation)?;
    if counter.epoch != epoch {
        return Err(StoreError::Stale);
    }
    if let Some(reply_to) = new.reply_to {
        live_sender(tx, new.conversation, reply_to).await?;
    }
    let removed_media = match &new.action {
        // A withheld reaction or edit stays with its sender: the target's
        // other reader never sees it. A deletion always applies.
        Some(action @ (Action::React { .. } | Action::Unreact { .. } | Action::Edit { .. }))
            if new.withheld_from.is_some() =>
        {
            live_sender(tx, new.conversation, action.target()).await?;
            None
        }
        Some(action) => act(tx, new, action).await?,
        None => None,
    };
    let seq = counter.last_seq + 1;
    let attachment = new.attachment.as_ref().map(to_json).transpose()?;
    let action = new.action.as_ref().map(to_json).transpose()?;
    let link_preview = new.link_preview.as_ref().map(to_json).transpose()?;
    let inserted = sqlx::query(
        "INSERT INTO messages
             (conversation_id, seq, sender_id, client_id, body, sent_at, attachment, reply_to,
              action, withheld_from, link_preview)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (client_id, sender_id) DO NOTHING",
    )
    .bind(new.conversation)
    .bind(int(seq))
    .bind(new.sender)
    .bind(new.client_id)
    .bind(&new.body)
    .bind(new.sent_at)
    .bind(attachment)
    .bind(new.reply_to.map(int))
    .bind(action)
    .bind(new.withheld_from)
    .bind(link_preview)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        let existing = rows::message_by_client_id(tx, new.sender, new.client_id)
            .await?
            .ok_or_else(|| StoreError::Data("a conflicting message vanished".to_owned()))?;
        return repeated(existing, new);
    }
    if let Some(attachment) = &new.attachment {
        let taken =
            sqlx::query("UPDATE media SET message_seq = $2 WHERE id = $1 AND message_seq IS NULL")
                .bind(&attachment.id)
                .bind(int(seq))
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if taken == 0 {
            return Err(StoreError::AttachmentTaken);
        }
    }
    let counter = pending.counter(new.conversation)?;
    counter.last_seq = seq;
    counter.changed = true;
    pending.saw(new.conversation, new.sender, seq);
    Ok(Appended {
        message: stored(new, seq),
        fresh: true,
        removed_media,
    })
}

/// The sender of message `seq`, if it can be answered or acted on: it
/// exists, is a visible message and is not deleted.
async fn live_sender(
    tx: &mut PgConnection,
    conversation: ConversationId,
    seq: Seq,
) -> Result<UserId, StoreError> {
    sqlx::query_scalar(
        "SELECT sender_id FROM messages
         WHERE conversation_id = $1 AND seq = $2
           AND action IS NULL AND event IS NULL AND NOT deleted",
    )
    .bind(conversation)
    .bind(int(seq))
    .fetch_optional(tx)
    .await?
    .ok_or(StoreError::BadTarget)
}

/// Applies `action` to its live target; returns the upload a deletion
/// removed. Whether the sender may is the rules' business, decided before.
async fn act(
    tx: &mut PgConnection,
    new: &NewMessage,
    action: &Action,
) -> Result<Option<String>, StoreError> {
    let conversation = new.conversation;
    let seq = action.target();
    live_sender(tx, conversation, seq).await?;
    match action {
        Action::React { emoji, .. } => {
            sqlx::query(
                "INSERT INTO reactions (conversation_id, seq, user_id, emoji, created_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(conversation)
            .bind(int(seq))
            .bind(new.sender)
            .bind(emoji)
            .bind(new.sent_at)
            .execute(tx)
            .await?;
        }
        Action::Unreact { emoji, .. } => {
            sqlx::query(
                "DELETE FROM reactions
                 WHERE conversation_id = $1 AND seq = $2 AND user_id = $3 AND emoji = $4",
            )
            .bind(conversation)
            .bind(int(seq))
            .bind(new.sender)
            .bind(emoji)
            .execute(tx)
            .await?;
        }
        Action::Edit { body, .. } => {
            sqlx::query(
                "UPDATE messages SET body = $3, edited_at = $4
                 WHERE conversation_id = $1 AND seq = $2",
            )
            .bind(conversation)
            .bind(int(seq))
            .bind(body)
            .bind(new.sent_at)
            .execute(tx)
            .await?;
        }
        Action::Delete { .. } => return delete(tx, conversation, seq).await,
    }
    Ok(None)
}

/// Deletes message `seq` for everyone: its text, file, reactions and the
/// text of its edits go; a tombstone stays. Returns its upload's id.
async fn delete(
    tx: &mut PgConnection,
    conversation: ConversationId,
    seq: Seq,
) -> Result<Option<String>, StoreError> {
    let attachment: Option<String> = sqlx::query_scalar(
        "SELECT attachment FROM messages WHERE conversation_id = $1 AND seq = $2",
    )
    .bind(conversation)
    .bind(int(seq))
    .fetch_one(&mut *tx)
    .await?;
    let attachment: Option<Attachment> = crate::store::columns::from_json(attachment.as_deref())?;
    if let Some(attachment) = &attachment {
        sqlx::query("DELETE FROM media WHERE id = $1")
            .bind(&attachment.id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "UPDATE messages SET body = '', attachment = NULL, link_preview = NULL, edited_at = NULL,
             deleted = TRUE
         WHERE conversation_id = $1 AND seq = $2",
    )
    .bind(conversation)
    .bind(int(seq))
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM reactions WHERE conversation_id = $1 AND seq = $2")
        .bind(conversation)
        .bind(int(seq))
        .execute(&mut *tx)
        .await?;
    // Earlier edits carry text too: keep them, without it.
    let emptied = to_json(&Action::Edit {
        target: seq,
        body: String::new(),
    })?;
    sqlx::query(
        "UPDATE messages SET action = $3
         WHERE conversation_id = $1 AND action IS NOT NULL
           AND action::jsonb ->> 'type' = 'edit'
           AND (action::jsonb ->> 'target')::bigint = $2",
    )
    .bind(conversation)
    .bind(int(seq))
    .bind(emptied)
    .execute(&mut *tx)
    .await?;
    Ok(attachment.map(|attachment| attachment.id))
}

async fn advance(
    tx: &mut PgConnection,
    pending: &mut Pending,
    user: UserId,
    conversation: ConversationId,
    delivered: Option<Seq>,
    read: Option<Seq>,
) -> Result<Vec<(ReceiptKind, Seq)>, StoreError> {
    let last = pending.counter(conversation)?.last_seq;
    let cursors = sqlx::query(
        "SELECT delivered_seq, read_seq FROM members WHERE conversation_id = $1 AND user_id = $2",
    )
    .bind(conversation)
    .bind(user)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let mut cursors = Cursors {
        delivered: uint(cursors.try_get(0)?)?,
        read: uint(cursors.try_get(1)?)?,
    };
    let moved = cursors.advance(delivered, read, last);
    if !moved.is_empty() {
        sqlx::query(
            "UPDATE members SET delivered_seq = $3, read_seq = $4
             WHERE conversation_id = $1 AND user_id = $2",
        )
        .bind(conversation)
        .bind(user)
        .bind(int(cursors.delivered))
        .bind(int(cursors.read))
        .execute(&mut *tx)
        .await?;
    }
    Ok(moved)
}

async fn write_group(
    tx: &mut PgConnection,
    pending: &mut Pending,
    group: &GroupWrite,
) -> Result<GroupWritten, StoreError> {
    let GroupWrite { target, steps, now } = group;
    let now = *now;
    let id = match target {
        GroupTarget::Create {
            name,
            hashtag,
            picture,
        } => {
            let key = hashtag
                .as_deref()
                .map(natter_protocol::limits::canonical_hashtag);
            let inserted = sqlx::query_scalar(
                "INSERT INTO conversations
                    (kind, name, picture, picture_hash, hashtag, hashtag_key, created_at)
                 VALUES ('group', $1, $2, $3, $4, $5, $6)
                 RETURNING id",
            )
            .bind(name)
            .bind(picture)
            .bind(picture.as_deref().map(picture_hash))
            .bind(hashtag)
            .bind(key)
            .bind(now)
            .fetch_one(&mut *tx)
            .await;
            let id: ConversationId = match inserted {
                Err(err) if is_unique_violation(&err) => return Err(StoreError::HashtagTaken),
                other => other?,
            };
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
            let counter = pending.counter(*conversation)?;
            if counter.epoch != *epoch {
                return Err(StoreError::Stale);
            }
            counter.epoch += 1;
            counter.changed = true;
            *conversation
        }
    };
    let mut messages = Vec::with_capacity(steps.len());
    let mut removed_media = Vec::new();
    for GroupStep { changes, event } in steps {
        for change in changes {
            // Whoever adds someone has them as a contact.
            if let MemberChange::Add(user, ..) = change {
                if *user != event.by.id {
                    sqlx::query(
                        "INSERT INTO contacts (owner_id, other_id) VALUES ($1, $2)
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(event.by.id)
                    .bind(user)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            removed_media.extend(change_member(tx, pending, id, change, now).await?);
        }
        messages.push(append_event(tx, pending, id, event, now).await?);
    }
    pending.flush(tx, Some(id)).await?;
    // Every member reads the group's newest event, and members are sent
    // it whole: read as its first member reads it.
    let conversation = rows::load_conversation(tx, id, Reader::everything(0))
        .await?
        .ok_or(StoreError::NotFound)?;
    let membership = rows::load_membership(tx, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(GroupWritten {
        conversation,
        membership,
        messages,
        removed_media,
    })
}

/// Applies one change; returns the uploads it erased.
async fn change_member(
    tx: &mut PgConnection,
    pending: &mut Pending,
    id: ConversationId,
    change: &MemberChange,
    now: Millis,
) -> Result<Vec<String>, StoreError> {
    match change {
        MemberChange::Add(user, role, history) => {
            // Their unread count starts at the group's newest message.
            let last = pending.counter(id)?.last_seq;
            let history_from = match history {
                History::Whole => 0,
                History::FromNow => last,
            };
            sqlx::query(
                "INSERT INTO members
                     (conversation_id, user_id, delivered_seq, read_seq, role, joined_at,
                      history_from)
                 VALUES ($1, $2, $3, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(user)
            .bind(int(last))
            .bind(role_text(*role))
            .bind(now)
            .bind(int(history_from))
            .execute(tx)
            .await?;
        }
        MemberChange::Remove(user) => {
            sqlx::query("DELETE FROM members WHERE conversation_id = $1 AND user_id = $2")
                .bind(id)
                .bind(user)
                .execute(tx)
                .await?;
            pending.seen.remove(&(id, *user));
        }
        MemberChange::SetRole(user, role) => {
            sqlx::query("UPDATE members SET role = $3 WHERE conversation_id = $1 AND user_id = $2")
                .bind(id)
                .bind(user)
                .bind(role_text(*role))
                .execute(tx)
                .await?;
        }
        MemberChange::Rename(name) => {
            sqlx::query("UPDATE conversations SET name = $2 WHERE id = $1")
                .bind(id)
                .bind(name)
                .execute(tx)
                .await?;
        }
        MemberChange::Request(user, from) => {
            sqlx::query(
                "UPDATE members SET request_from = $3 WHERE conversation_id = $1 AND user_id = $2",
            )
            .bind(id)
            .bind(user)
            .bind(from)
            .execute(tx)
            .await?;
        }
        MemberChange::Ban(user) => {
            sqlx::query(
                "INSERT INTO bans (conversation_id, user_id, banned_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(user)
            .bind(now)
            .execute(tx)
            .await?;
        }
        MemberChange::Unban(user) => {
            sqlx::query("DELETE FROM bans WHERE conversation_id = $1 AND user_id = $2")
                .bind(id)
                .bind(user)
                .execute(tx)
                .await?;
        }
        MemberChange::Close => return close(tx, id).await,
    }
    Ok(Vec::new())
}

/// `user` accepts the request their seat in `id` is.
async fn accept(
    tx: &mut PgConnection,
    pending: &mut Pending,
    user: UserId,
    id: ConversationId,
) -> Result<Membership, StoreError> {
    let from: Option<UserId> = sqlx::query_scalar(
        "SELECT request_from FROM members WHERE conversation_id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    if let Some(from) = from {
        sqlx::query(
            "UPDATE members SET request_from = NULL WHERE conversation_id = $1 AND user_id = $2",
        )
        .bind(id)
        .bind(user)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO contacts (owner_id, other_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(user)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        let counter = pending.counter(id)?;
        counter.epoch += 1;
        counter.changed = true;
        pending.flush(tx, Some(id)).await?;
    }
    rows::load_membership(tx, id)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Closes a group for good: its hashtag is freed, and its messages, their
/// reactions and its uploads are erased. Returns the uploads' ids.
async fn close(tx: &mut PgConnection, id: ConversationId) -> Result<Vec<String>, StoreError> {
    let uploads = sqlx::query_scalar("DELETE FROM media WHERE conversation_id = $1 RETURNING id")
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
    for statement in [
        "DELETE FROM reactions WHERE conversation_id = $1",
        "DELETE FROM messages WHERE conversation_id = $1",
        "DELETE FROM bans WHERE conversation_id = $1",
        "UPDATE conversations SET hashtag = NULL, hashtag_key = NULL, picture = NULL,
             picture_hash = NULL
         WHERE id = $1",
    ] {
        sqlx::query(statement).bind(id).execute(&mut *tx).await?;
    }
    Ok(uploads)
}

/// Writes the message recording `event` as the next seq.
async fn append_event(
    tx: &mut PgConnection,
    pending: &mut Pending,
    id: ConversationId,
    event: &GroupEvent,
    now: Millis,
) -> Result<Message, StoreError> {
    let counter = pending.counter(id)?;
    counter.last_seq += 1;
    counter.changed = true;
    let seq = counter.last_seq;
    let actor = event.by.id;
    let client_id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO messages (conversation_id, seq, sender_id, client_id, body, sent_at, event)
         VALUES ($1, $2, $3, $4, '', $5, $6)",
    )
    .bind(id)
    .bind(int(seq))
    .bind(actor)
    .bind(client_id)
    .bind(now)
    .bind(to_json(event)?)
    .execute(tx)
    .await?;
    pending.saw(id, actor, seq);
    Ok(written::event(id, seq, client_id, event.clone(), now))
}
