//! Who is in which conversation, in memory: the rules ask it on every
//! frame, and audiences come from it instead of a second store trip.
//!
//! A cache, not a source of truth: an entry is read from the store when
//! missing, replaced when a group write commits, and never replaced by an
//! older epoch. A write decided on an entry names its epoch, so a stale
//! entry can only cost a retry, never a wrong decision. In a cluster every
//! node keeps its own: a change committed here is announced through the
//! hub, and the other nodes forget their entry (reads decided on it, such
//! as history pages, are then at most that announcement late).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use natter_protocol::ConversationId;

use crate::hub::{Cached, Hub};
use crate::store::{Membership, Store, StoreError};

/// The most conversations kept; past it the cache starts again empty
/// (entries are cheap to read back).
const CAPACITY: usize = 200_000;

pub struct Roster {
    store: Arc<dyn Store>,
    hub: Arc<dyn Hub>,
    entries: RwLock<HashMap<ConversationId, Arc<Membership>>>,
    /// Counts what was forgotten, so that a read begun before a change was
    /// announced does not put its old answer back.
    forgotten: AtomicU64,
}

impl Roster {
    pub fn new(store: Arc<dyn Store>, hub: Arc<dyn Hub>) -> Self {
        Roster {
            store,
            hub,
            entries: RwLock::new(HashMap::new()),
            forgotten: AtomicU64::new(0),
        }
    }

    pub fn cached(&self, id: ConversationId) -> Option<Arc<Membership>> {
        self.entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }

    /// The membership of `id`, read from the store if not cached; `None`
    /// when there is no such conversation.
    pub async fn get(&self, id: ConversationId) -> Result<Option<Arc<Membership>>, StoreError> {
        if let Some(found) = self.cached(id) {
            return Ok(Some(found));
        }
        self.reload(id).await
    }

    /// Reads `id` from the store again.
    pub async fn reload(&self, id: ConversationId) -> Result<Option<Arc<Membership>>, StoreError> {
        let before = self.forgotten.load(Ordering::SeqCst);
        match self.store.membership(id).await? {
            Some(membership) => Ok(Some(self.keep(membership, Some(before)))),
            None => {
                self.forget(id);
                Ok(None)
            }
        }
    }

    /// Keeps `membership` unless a newer one is already kept; returns the
    /// one kept.
    pub fn put(&self, membership: Membership) -> Arc<Membership> {
        self.keep(membership, None)
    }

    /// [`Roster::put`], unless something was forgotten since `read_at` (the
    /// count when the store was asked): then the answer is not kept. The
    /// count is checked under the lock a forget takes too.
    fn keep(&self, membership: Membership, read_at: Option<u64>) -> Arc<Membership> {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if read_at.is_some_and(|read_at| read_at != self.forgotten.load(Ordering::SeqCst)) {
            return Arc::new(membership);
        }
        if let Some(kept) = entries.get(&membership.id) {
            if kept.epoch > membership.epoch {
                return kept.clone();
            }
        }
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        let membership = Arc::new(membership);
        entries.insert(membership.id, membership.clone());
        membership
    }

    pub fn forget(&self, id: ConversationId) {
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Keeps `membership`, just committed here, and tells the other nodes.
    pub fn committed(&self, membership: Membership) -> Arc<Membership> {
        let id = membership.id;
        let kept = self.put(membership);
        self.hub.changed(Cached::Membership(id));
        kept
    }

    /// Forgets `id`, whose membership a write here changed, and tells the
    /// other nodes.
    pub fn changed(&self, id: ConversationId) {
        self.forget(id);
        self.hub.changed(Cached::Membership(id));
    }
}
