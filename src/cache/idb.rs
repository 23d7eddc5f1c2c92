//! The IndexedDB [`Cache`]: one database per account.
//!
//! Object stores use out-of-line string keys: conversation ids and
//! `conversation:seq` pairs are zero-padded, so key order is numeric order and
//! a range read walks one conversation in seq order. Outbox keys start with
//! the time the message was typed, which keeps the outbox in typing order.
//!
//! The schema is versioned by [`Version`]; opening an older database runs
//! every migration from its version up to [`Version::CURRENT`], in order.

use std::collections::BTreeMap;

use futures::FutureExt;
use indexed_db_futures::database::Database;
use indexed_db_futures::error::{DomException, Error as IdbError, OpenDbError};
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::query_source::QuerySource;
use indexed_db_futures::transaction::{Transaction, TransactionMode};
use indexed_db_futures::KeyRange;
use natter_protocol::{Action, Conversation, ConversationId, Message, Seq, User, UserId};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Blob, IdbCursorDirection};

use super::json::Json;
use super::{
    bucket_conversation, bucket_key, message_key, outbox_key, Batch, Cache, CacheError, FileKey,
    Snapshot,
};
use crate::model::search::{self, SearchIndex};
use crate::model::{actions, Outgoing};

const PROFILE: &str = "profile";
const CONVERSATIONS: &str = "conversations";
const MESSAGES: &str = "messages";
const OUTBOX: &str = "outbox";
const META: &str = "meta";
const FILES: &str = "files";
/// The search index: a text of one line per message, in buckets of
/// consecutive seqs (see `model::search`).
const SEARCH: &str = "search";
const ALL: [&str; 7] = [
    PROFILE,
    CONVERSATIONS,
    MESSAGES,
    OUTBOX,
    META,
    FILES,
    SEARCH,
];
/// Set in `meta` once the search index holds every saved message (made
/// from them the first time it is needed; kept by every write since).
const SEARCH_BUILT: &str = "search-built";

/// The schema versions, oldest first. Never change a released one: add the
/// next and its step in [`migrate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// Profile, conversations, messages and the outbox.
    V1 = 1,
    /// Adds `meta` (which conversation was open).
    V2 = 2,
    /// Adds `files`: media waiting for upload, and media kept for offline.
    V3 = 3,
    /// Adds `search`, the search index.
    V4 = 4,
}

impl Version {
    pub const CURRENT: Version = Version::V4;
    const ALL: [Version; 4] = [Version::V1, Version::V2, Version::V3, Version::V4];
}

/// Creates what `version` adds on top of the one before.
fn migrate(db: &Database, version: Version) -> Result<(), IdbError> {
    match version {
        Version::V1 => {
            for store in [PROFILE, CONVERSATIONS, MESSAGES, OUTBOX] {
                db.create_object_store(store).build()?;
            }
        }
        Version::V2 => {
            db.create_object_store(META).build()?;
        }
        Version::V3 => {
            db.create_object_store(FILES).build()?;
        }
        Version::V4 => {
            db.create_object_store(SEARCH).build()?;
        }
    }
    Ok(())
}

/// How long opening may take before the app goes on without the cache.
const OPEN_PATIENCE_MS: u32 = 5_000;

pub struct IdbCache {
    db: Database,
}

impl IdbCache {
    /// The database holding `user`'s chats on this device.
    pub fn database_name(user: UserId) -> String {
        format!("natter-account-{user}")
    }

    /// Opens (creating or upgrading) the database of `user`. An upgrade
    /// that another tab blocks for too long gives up with
    /// [`CacheError::Blocked`] rather than keep the app waiting.
    pub async fn open(user: UserId) -> Result<Self, CacheError> {
        let name = Self::database_name(user);
        let open = Self::open_at(&name, Version::CURRENT).fuse();
        let timeout = gloo_timers::future::TimeoutFuture::new(OPEN_PATIENCE_MS).fuse();
        futures::pin_mut!(open, timeout);
        futures::select! {
            opened = open => opened,
            () = timeout => Err(CacheError::Blocked),
        }
    }

    /// Opens `name` at `version`, migrating up to it. Tests use older versions
    /// to check the upgrade path.
    pub async fn open_at(name: &str, version: Version) -> Result<Self, CacheError> {
        let target = version as u32;
        let db = Database::open(name)
            .with_version(target)
            .with_on_blocked(|_| Ok(()))
            .with_on_upgrade_needed(move |event, db| {
                let from = event.old_version() as u32;
                for step in Version::ALL {
                    let number = step as u32;
                    if number > from && number <= target {
                        migrate(&db, step)?;
                    }
                }
                Ok(())
            })
            .await
            .map_err(open_error)?;
        Ok(IdbCache { db })
    }

    /// Deletes the database of `user` from this device.
    pub async fn delete(user: UserId) -> Result<(), CacheError> {
        Database::delete_by_name(&Self::database_name(user))
            .map_err(open_error)?
            .await
            .map_err(error)
    }

    /// Resolves when another tab wants this database upgraded or deleted
    /// (or the browser closed it). The caller must then stop using it and
    /// [`close`](Self::close) it, or the other tab waits.
    pub async fn displaced(&self) {
        match self.db.version_changes() {
            Ok(mut changes) => {
                changes.recv().await;
            }
            // Without the event, this tab cannot be asked to step aside.
            Err(_) => futures::future::pending().await,
        }
    }

    /// Closes the connection, letting other tabs upgrade or delete it.
    pub fn close(&self) {
        self.db.clone().close();
    }
}

/// Files (as browser `Blob`s, which IndexedDB stores natively) by
/// [`FileKey`]. Not part of [`Cache`]: only a browser has them.
impl IdbCache {
    pub async fn put_file(&self, key: &FileKey, file: &Blob) -> Result<(), CacheError> {
        let tx = self.files_transaction(TransactionMode::Readwrite)?;
        tx.object_store(FILES)
            .map_err(error)?
            .put(JsValue::from(file.clone()))
            .with_key(key.to_string())
            .build()
            .map_err(error)?;
        tx.commit().await.map_err(error)
    }

    pub async fn file(&self, key: &FileKey) -> Result<Option<Blob>, CacheError> {
        let tx = self.files_transaction(TransactionMode::Readonly)?;
        let value: Option<JsValue> = tx
            .object_store(FILES)
            .map_err(error)?
            .get(key.to_string())
            .primitive()
            .map_err(error)?
            .await
            .map_err(error)?;
        Ok(value.and_then(|value| value.dyn_into().ok()))
    }

    pub async fn delete_file(&self, key: &FileKey) -> Result<(), CacheError> {
        let tx = self.files_transaction(TransactionMode::Readwrite)?;
        tx.object_store(FILES)
            .map_err(error)?
            .delete(key.to_string())
            .build()
            .map_err(error)?;
        tx.commit().await.map_err(error)
    }

    fn files_transaction(&self, mode: TransactionMode) -> Result<Transaction<'_>, CacheError> {
        self.db
            .transaction(FILES)
            .with_mode(mode)
            .build()
            .map_err(error)
    }
}

/// Puts `record` under `key` in `store`, within the store's transaction.
fn put<T: Serialize>(store: &ObjectStore<'_>, key: String, record: &T) -> Result<(), CacheError> {
    store
        .put(Json(record))
        .with_key(key)
        .primitive()
        .map_err(error)?;
    Ok(())
}

fn open_error(err: OpenDbError) -> CacheError {
    match err {
        OpenDbError::Base(base) => error(base),
        other => CacheError::Unavailable(other.to_string()),
    }
}

fn error(err: IdbError) -> CacheError {
    match err {
        IdbError::DomException(DomException::Other(exception))
            if exception.name() == "QuotaExceededError" =>
        {
            CacheError::QuotaExceeded
        }
        IdbError::DomException(DomException::InvalidStateError(exception)) => {
            // The database was closed or deleted underneath us (e.g. the
            // user cleared site data in another tab).
            CacheError::Unavailable(exception.message())
        }
        other => CacheError::Failed(other.to_string()),
    }
}

/// The record under `key` in `store`, if there is one.
async fn one<T: DeserializeOwned>(
    tx: &Transaction<'_>,
    store: &str,
    key: &str,
) -> Result<Option<T>, CacheError> {
    let found: Option<Json<T>> = tx
        .object_store(store)
        .map_err(error)?
        .get(key)
        .primitive()
        .map_err(error)?
        .await
        .map_err(error)?;
    Ok(found.map(|Json(record)| record))
}

/// Every record in `store`, in key order.
async fn all<T: DeserializeOwned>(tx: &Transaction<'_>, store: &str) -> Result<Vec<T>, CacheError> {
    tx.object_store(store)
        .map_err(error)?
        .get_all()
        .primitive()
        .map_err(error)?
        .await
        .map_err(error)?
        .map(|record: Result<Json<T>, _>| record.map(|Json(record)| record))
        .collect::<Result<_, _>>()
        .map_err(error)
}

/// Turns every saved message of `senders` into a tombstone and drops the
/// files kept for them (their accounts ended). Reads the whole store once:
/// it happens once per ended account.
async fn erase(tx: &Transaction<'_>, senders: &[UserId]) -> Result<Vec<Message>, CacheError> {
    let mut found = Vec::new();
    each_message(tx, |message| {
        let theirs = senders.contains(&message.sender)
            && message.event.is_none()
            && message.action.is_none()
            && !message.deleted;
        if theirs {
            found.push(message);
        }
    })
    .await?;
    let messages = tx.object_store(MESSAGES).map_err(error)?;
    let files = tx.object_store(FILES).map_err(error)?;
    for message in &mut found {
        if let Some(file) = super::tombstone(message) {
            files
                .delete(FileKey::Media(file).to_string())
                .build()
                .map_err(error)?;
        }
        put(
            &messages,
            message_key(message.conversation, message.seq),
            &*message,
        )?;
    }
    Ok(found)
}

/// Calls `visit` with every saved message, in key order: one walk of the
/// whole store, for what happens once (an ended account, a first index).
async fn each_message(
    tx: &Transaction<'_>,
    mut visit: impl FnMut(Message),
) -> Result<(), CacheError> {
    let messages = tx.object_store(MESSAGES).map_err(error)?;
    let cursor = messages
        .open_cursor()
        .serde()
        .map_err(error)?
        .await
        .map_err(error)?;
    if let Some(mut cursor) = cursor {
        while let Some(Json(message)) =
            cursor.next_record::<Json<Message>>().await.map_err(error)?
        {
            visit(message);
        }
    }
    Ok(())
}

/// Brings the search index's buckets up to date with `changed`, the
/// messages as they are now saved.
async fn reindex(tx: &Transaction<'_>, changed: &[&Message]) -> Result<(), CacheError> {
    let mut buckets: BTreeMap<String, Vec<&Message>> = BTreeMap::new();
    for message in changed {
        let key = bucket_key(message.conversation, search::bucket_of(message.seq));
        buckets.entry(key).or_default().push(message);
    }
    let store = tx.object_store(SEARCH).map_err(error)?;
    for (key, messages) in buckets {
        let saved: Option<String> = store
            .get(key.clone())
            .primitive()
            .map_err(error)?
            .await
            .map_err(error)?;
        let text = search::rewrite_bucket(saved.as_deref().unwrap_or_default(), &messages);
        if text.is_empty() {
            store.delete(key).build().map_err(error)?;
        } else {
            store.put(text).with_key(key).primitive().map_err(error)?;
        }
    }
    Ok(())
}

fn conversation_key(id: ConversationId) -> String {
    format!("{id:020}")
}

impl Cache for IdbCache {
    async fn load(&self, recent: u32) -> Result<Snapshot, CacheError> {
        let tx = self
            .db
            .transaction(ALL)
            .with_mode(TransactionMode::Readonly)
            .build()
            .map_err(error)?;
        let me: Option<User> = one(&tx, PROFILE, "me").await?;
        let blocked: Option<Vec<User>> = one(&tx, PROFILE, "blocked").await?;
        let open: Option<Option<ConversationId>> = one(&tx, META, "open").await?;
        let conversations: Vec<Conversation> = all(&tx, CONVERSATIONS).await?;
        let outbox: Vec<Outgoing> = all(&tx, OUTBOX).await?;
        drop(tx);
        let mut messages = Vec::new();
        for conversation in &conversations {
            messages.extend(
                self.messages_before(conversation.id, Seq::MAX >> 1, recent)
                    .await?,
            );
        }
        Ok(Snapshot {
            me,
            conversations,
            messages,
            outbox,
            open: open.flatten(),
            blocked: blocked.unwrap_or_default(),
        })
    }

    async fn write(&self, batch: &Batch) -> Result<(), CacheError> {
        // Only the stores the batch touches: smaller transactions, and a
        // batch that touches no newer store works on an older schema too.
        let mut stores = Vec::new();
        if batch.me.is_some() || batch.blocked.is_some() {
            stores.push(PROFILE);
        }
        if batch.open.is_some() {
            stores.push(META);
        }
        if !batch.conversations.is_empty() || !batch.forgotten.is_empty() {
            stores.push(CONVERSATIONS);
        }
        if !batch.messages.is_empty()
            || !batch.actions.is_empty()
            || !batch.forgotten.is_empty()
            || !batch.erased.is_empty()
        {
            stores.push(MESSAGES);
        }
        // A database older than the index (an older build's writes, in
        // tests) has no index to keep: it is made when first needed.
        let indexed =
            stores.contains(&MESSAGES) && self.db.object_store_names().any(|name| name == SEARCH);
        if indexed {
            stores.push(SEARCH);
        }
        // A message deleted for everyone takes its kept file along.
        let deletes = batch
            .actions
            .iter()
            .any(|applied| matches!(applied.action, Action::Delete { .. }));
        if deletes || !batch.erased.is_empty() {
            stores.push(FILES);
        }
        if !batch.outbox_put.is_empty() || !batch.outbox_remove.is_empty() {
            stores.push(OUTBOX);
        }
        if stores.is_empty() {
            return Ok(());
        }
        let tx = self
            .db
            .transaction(stores)
            .with_mode(TransactionMode::Readwrite)
            .build()
            .map_err(error)?;
        if let Some(me) = &batch.me {
            let store = tx.object_store(PROFILE).map_err(error)?;
            put(&store, String::from("me"), me)?;
        }
        if let Some(blocked) = &batch.blocked {
            let store = tx.object_store(PROFILE).map_err(error)?;
            put(&store, String::from("blocked"), blocked)?;
        }
        if let Some(open) = batch.open {
            let store = tx.object_store(META).map_err(error)?;
            put(&store, String::from("open"), &open)?;
        }
        if !batch.conversations.is_empty() {
            let store = tx.object_store(CONVERSATIONS).map_err(error)?;
            for conversation in &batch.conversations {
                put(&store, conversation_key(conversation.id), conversation)?;
            }
        }
        // What the search index must change: the messages as now saved.
        let mut acted_on: Vec<Message> = Vec::new();
        if !batch.messages.is_empty() || !batch.actions.is_empty() {
            let store = tx.object_store(MESSAGES).map_err(error)?;
            for applied in &batch.actions {
                let key = message_key(applied.conversation, applied.action.target());
                let saved: Option<Json<Message>> = store
                    .get(key.clone())
                    .primitive()
                    .map_err(error)?
                    .await
                    .map_err(error)?;
                if let Some(Json(mut target)) = saved {
                    let file = target
                        .attachment
                        .as_ref()
                        .map(|a| FileKey::Media(a.id.clone()));
                    actions::apply(&mut target, &applied.action, applied.actor, applied.at);
                    if let (true, Some(file)) = (target.deleted, file) {
                        let files = tx.object_store(FILES).map_err(error)?;
                        files.delete(file.to_string()).build().map_err(error)?;
                    }
                    put(&store, key, &target)?;
                    acted_on.push(target);
                }
            }
            for message in &batch.messages {
                put(
                    &store,
                    message_key(message.conversation, message.seq),
                    message,
                )?;
            }
        }
        let erased = if batch.erased.is_empty() {
            Vec::new()
        } else {
            erase(&tx, &batch.erased).await?
        };
        // In the order they were written above: the last version counts.
        let changed: Vec<&Message> = acted_on
            .iter()
            .chain(&batch.messages)
            .chain(&erased)
            .collect();
        if indexed && !changed.is_empty() {
            reindex(&tx, &changed).await?;
        }
        for id in &batch.forgotten {
            let conversations = tx.object_store(CONVERSATIONS).map_err(error)?;
            conversations
                .delete(conversation_key(*id))
                .build()
                .map_err(error)?;
            let messages = tx.object_store(MESSAGES).map_err(error)?;
            let range = KeyRange::Bound(message_key(*id, 0), false, message_key(*id + 1, 0), true);
            messages.delete::<String, _>(range).build().map_err(error)?;
            if indexed {
                let index = tx.object_store(SEARCH).map_err(error)?;
                let range =
                    KeyRange::Bound(bucket_key(*id, 0), false, bucket_key(*id + 1, 0), true);
                index.delete::<String, _>(range).build().map_err(error)?;
            }
        }
        if !batch.outbox_put.is_empty() || !batch.outbox_remove.is_empty() {
            let store = tx.object_store(OUTBOX).map_err(error)?;
            for outgoing in &batch.outbox_remove {
                store.delete(outbox_key(outgoing)).build().map_err(error)?;
            }
            for outgoing in &batch.outbox_put {
                put(&store, outbox_key(outgoing), outgoing)?;
            }
        }
        tx.commit().await.map_err(error)
    }

    async fn messages_before(
        &self,
        conversation: ConversationId,
        before: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, CacheError> {
        crate::perf::measure(
            "natter:idb-page",
            self.read_page(conversation, before, limit),
        )
        .await
    }

    async fn messages_at(
        &self,
        keys: &[(ConversationId, Seq)],
    ) -> Result<Vec<Message>, CacheError> {
        let tx = self
            .db
            .transaction(MESSAGES)
            .with_mode(TransactionMode::Readonly)
            .build()
            .map_err(error)?;
        let store = tx.object_store(MESSAGES).map_err(error)?;
        // Every read asked for before any is awaited: one round of the
        // transaction, not one per message.
        let mut reads = Vec::with_capacity(keys.len());
        for (conversation, seq) in keys {
            reads.push(
                store
                    .get(message_key(*conversation, *seq))
                    .primitive()
                    .map_err(error)?,
            );
        }
        let mut found = Vec::with_capacity(keys.len());
        for read in reads {
            let saved: Option<Json<Message>> = read.await.map_err(error)?;
            found.extend(saved.map(|Json(message)| message));
        }
        Ok(found)
    }

    async fn search_index(&self) -> Result<SearchIndex, CacheError> {
        crate::perf::measure("natter:search-index", self.read_search_index()).await
    }

    async fn clear(&self) -> Result<(), CacheError> {
        let tx = self
            .db
            .transaction(ALL)
            .with_mode(TransactionMode::Readwrite)
            .build()
            .map_err(error)?;
        for store in ALL {
            tx.object_store(store)
                .map_err(error)?
                .clear()
                .map_err(error)?;
        }
        tx.commit().await.map_err(error)
    }
}

impl IdbCache {
    /// Every bucket of the search index, made first if it never was.
    async fn read_search_index(&self) -> Result<SearchIndex, CacheError> {
        let tx = self
            .db
            .transaction([META, SEARCH])
            .with_mode(TransactionMode::Readonly)
            .build()
            .map_err(error)?;
        let built: Option<bool> = one(&tx, META, SEARCH_BUILT).await?;
        drop(tx);
        if built != Some(true) {
            self.build_search_index().await?;
        }
        let tx = self
            .db
            .transaction(SEARCH)
            .with_mode(TransactionMode::Readonly)
            .build()
            .map_err(error)?;
        let store = tx.object_store(SEARCH).map_err(error)?;
        let keys: Vec<String> = store
            .get_all_keys()
            .primitive()
            .map_err(error)?
            .await
            .map_err(error)?
            .collect::<Result<_, _>>()
            .map_err(error)?;
        let buckets: Vec<String> = store
            .get_all()
            .primitive()
            .map_err(error)?
            .await
            .map_err(error)?
            .collect::<Result<_, _>>()
            .map_err(error)?;
        Ok(SearchIndex::from_buckets(
            keys.iter()
                .zip(&buckets)
                .filter_map(|(key, bucket)| Some((bucket_conversation(key)?, bucket.as_str()))),
        ))
    }

    /// Makes the search index from every saved message, in one
    /// transaction: once per device (messages saved before there was an
    /// index).
    async fn build_search_index(&self) -> Result<(), CacheError> {
        let tx = self
            .db
            .transaction([MESSAGES, SEARCH, META])
            .with_mode(TransactionMode::Readwrite)
            .build()
            .map_err(error)?;
        let mut buckets: BTreeMap<String, String> = BTreeMap::new();
        each_message(&tx, |message| {
            if let Some(words) = search::words_of(&message) {
                let key = bucket_key(message.conversation, search::bucket_of(message.seq));
                buckets
                    .entry(key)
                    .or_default()
                    .push_str(&search::line(&message, &words));
            }
        })
        .await?;
        let store = tx.object_store(SEARCH).map_err(error)?;
        store.clear().map_err(error)?;
        for (key, text) in buckets {
            store.put(text).with_key(key).primitive().map_err(error)?;
        }
        tx.object_store(META)
            .map_err(error)?
            .put(Json(true))
            .with_key(String::from(SEARCH_BUILT))
            .primitive()
            .map_err(error)?;
        tx.commit().await.map_err(error)
    }

    /// One history page, newest last: `Cache::messages_before` without its
    /// performance measure.
    async fn read_page(
        &self,
        conversation: ConversationId,
        before: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, CacheError> {
        let tx = self
            .db
            .transaction(MESSAGES)
            .with_mode(TransactionMode::Readonly)
            .build()
            .map_err(error)?;
        let store = tx.object_store(MESSAGES).map_err(error)?;
        // The newest saved message before `before`, by one step of a cursor…
        let below = KeyRange::Bound(
            message_key(conversation, 0),
            false,
            message_key(conversation, before),
            true,
        );
        let newest = store
            .open_cursor()
            .with_query::<String, _>(below)
            .with_direction(IdbCursorDirection::Prev)
            .serde()
            .map_err(error)?
            .await
            .map_err(error)?;
        let Some(mut newest) = newest else {
            return Ok(Vec::new());
        };
        let Some(Json(top)) = newest.next_record::<Json<Message>>().await.map_err(error)? else {
            return Ok(Vec::new());
        };
        if limit == 0 {
            return Ok(Vec::new());
        }
        // …then the page up to it in one read: seqs are numbered without
        // gaps, so it is one key range (`getAll` is about twice as fast as
        // walking a cursor), and a hole in the device's copy only makes the
        // page shorter.
        let end = top.seq + 1;
        let low = end.saturating_sub(Seq::from(limit)).max(1);
        let range = KeyRange::Bound(
            message_key(conversation, low),
            false,
            message_key(conversation, end),
            true,
        );
        store
            .get_all()
            .with_query::<String, _>(range)
            .primitive()
            .map_err(error)?
            .await
            .map_err(error)?
            .map(|record: Result<Json<Message>, _>| record.map(|Json(message)| message))
            .collect::<Result<_, _>>()
            .map_err(error)
    }
}
