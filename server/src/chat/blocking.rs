//! Blocking, with Signal's semantics: the blocked person is not told, and
//! nothing of theirs reaches the blocker.
//!
//! - In a 1:1 conversation their messages are acked to them as usual but
//!   withheld from the blocker (stored, never read back to them; a
//!   withheld reaction or edit is not applied), so they see their messages
//!   sent and never delivered. The blocker cannot write to them until they
//!   unblock.
//! - In a shared group their messages still reach the blocker, whose app
//!   shows them folded away.
//! - Neither hears the other's typing or receipts; the blocker does not
//!   hear of their profile changes, of a 1:1 conversation they start, and
//!   cannot be added by them to a group.
//!
//! Who blocks whom is asked on every receipt and typing notice, so each
//! person's blocks are kept in memory, read from the store when first
//! needed and dropped when they change.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use natter_protocol::{Millis, ServerFrame, User, UserId};

use super::{Chat, ChatError};
use crate::hub::{Cached, Event, Hub};
use crate::store::{Blocks, Store, StoreError};

/// The most people whose blocks are kept; past it the cache starts again
/// empty (entries are one indexed read each).
const CAPACITY: usize = 100_000;

/// Each person's blocks, as a cache in front of the store.
pub struct BlockList {
    store: Arc<dyn Store>,
    hub: Arc<dyn Hub>,
    entries: RwLock<HashMap<UserId, Arc<Blocks>>>,
    /// Counts what was forgotten, so that a read begun before a change was
    /// announced does not put its old answer back.
    forgotten: AtomicU64,
}

impl BlockList {
    pub fn new(store: Arc<dyn Store>, hub: Arc<dyn Hub>) -> Self {
        BlockList {
            store,
            hub,
            entries: RwLock::new(HashMap::new()),
            forgotten: AtomicU64::new(0),
        }
    }

    /// Whom `user` blocks and who blocks `user`.
    pub async fn of(&self, user: UserId) -> Result<Arc<Blocks>, StoreError> {
        let cached = self
            .entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&user)
            .cloned();
        if let Some(blocks) = cached {
            return Ok(blocks);
        }
        let before = self.forgotten.load(Ordering::SeqCst);
        let blocks = Arc::new(self.store.blocks(user).await?);
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        // Forgotten meanwhile (checked under the lock a forget takes too):
        // answer, but keep nothing.
        if self.forgotten.load(Ordering::SeqCst) != before {
            return Ok(blocks);
        }
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(user, blocks.clone());
        Ok(blocks)
    }

    /// Whether `blocker` blocks `other`.
    pub async fn blocks(&self, blocker: UserId, other: UserId) -> Result<bool, StoreError> {
        Ok(self.of(blocker).await?.blocking.contains(&other))
    }

    /// Everyone who must not hear of what `actor` does to each other: the
    /// people who block them and the people they block.
    pub async fn apart_from(&self, actor: UserId) -> Result<Vec<UserId>, StoreError> {
        let blocks = self.of(actor).await?;
        Ok(blocks
            .blocked_by
            .iter()
            .chain(&blocks.blocking)
            .copied()
            .collect())
    }

    /// Drops every cached entry that mentions `user` (an account that
    /// ended).
    /// Forgets `user`'s entry and every entry naming them.
    pub fn forget_user(&self, user: UserId) {
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        entries.retain(|owner, blocks| {
            *owner != user && !blocks.blocking.contains(&user) && !blocks.blocked_by.contains(&user)
        });
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Forgets what a change here made stale, here and on the other nodes.
    pub fn changed(&self, users: &[UserId]) {
        for user in users {
            self.forget_user(*user);
            self.hub.changed(Cached::Blocks(*user));
        }
    }
}

impl Chat {
    /// `blocker` blocks `blocked`; their own devices hear of it.
    pub async fn block(
        &self,
        blocker: UserId,
        blocked: UserId,
        now: Millis,
    ) -> Result<Vec<User>, ChatError> {
        if blocker == blocked {
            return Err(ChatError::BlockYourself);
        }
        if self.store.user(blocked).await?.is_none() {
            return Err(ChatError::NoSuchMember);
        }
        self.store.block(blocker, blocked, now).await?;
        self.blocks_changed(blocker, blocked).await
    }

    pub async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<Vec<User>, ChatError> {
        self.store.unblock(blocker, blocked).await?;
        self.blocks_changed(blocker, blocked).await
    }

    /// The people `user` blocks, most recently blocked first.
    pub async fn blocked_users(&self, user: UserId) -> Result<Vec<User>, ChatError> {
        Ok(self.store.blocked_users(user).await?)
    }

    async fn blocks_changed(
        &self,
        blocker: UserId,
        blocked: UserId,
    ) -> Result<Vec<User>, ChatError> {
        self.blocks.changed(&[blocker, blocked]);
        let users = self.store.blocked_users(blocker).await?;
        let frame = ServerFrame::Blocked {
            users: users.clone(),
        };
        self.hub.publish(&[blocker], Event::personal(&frame));
        Ok(users)
    }
}
