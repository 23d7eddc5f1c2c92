//! A [`Cache`] in memory: for tests, and for browsers that refuse IndexedDB.

use std::cell::RefCell;
use std::collections::BTreeMap;

use natter_protocol::{Conversation, ConversationId, Message, Seq, User};

use super::{bucket_key, message_key, outbox_key, Batch, Cache, CacheError, Snapshot};
use crate::model::search::{self, SearchIndex};
use crate::model::{actions, Outgoing};

#[derive(Debug, Default)]
pub struct MemoryCache {
    data: RefCell<Data>,
}

#[derive(Debug, Default)]
struct Data {
    me: Option<User>,
    conversations: BTreeMap<ConversationId, Conversation>,
    messages: BTreeMap<String, Message>,
    outbox: BTreeMap<String, Outgoing>,
    open: Option<ConversationId>,
    blocked: Vec<User>,
}

impl Cache for MemoryCache {
    async fn load(&self, recent: u32) -> Result<Snapshot, CacheError> {
        let data = self.data.borrow();
        let mut messages = Vec::new();
        for id in data.conversations.keys() {
            let range = message_key(*id, 0)..message_key(*id + 1, 0);
            let mut newest: Vec<Message> = data
                .messages
                .range(range)
                .rev()
                .take(recent as usize)
                .map(|(_, m)| m.clone())
                .collect();
            newest.reverse();
            messages.extend(newest);
        }
        Ok(Snapshot {
            me: data.me.clone(),
            conversations: data.conversations.values().cloned().collect(),
            messages,
            outbox: data.outbox.values().cloned().collect(),
            open: data.open,
            blocked: data.blocked.clone(),
        })
    }

    async fn write(&self, batch: &Batch) -> Result<(), CacheError> {
        let mut data = self.data.borrow_mut();
        if let Some(me) = &batch.me {
            data.me = Some(me.clone());
        }
        for conversation in &batch.conversations {
            data.conversations
                .insert(conversation.id, conversation.clone());
        }
        for applied in &batch.actions {
            let key = message_key(applied.conversation, applied.action.target());
            if let Some(target) = data.messages.get_mut(&key) {
                actions::apply(target, &applied.action, applied.actor, applied.at);
            }
        }
        for message in &batch.messages {
            data.messages.insert(
                message_key(message.conversation, message.seq),
                message.clone(),
            );
        }
        for outgoing in &batch.outbox_remove {
            data.outbox.remove(&outbox_key(outgoing));
        }
        for outgoing in &batch.outbox_put {
            data.outbox.insert(outbox_key(outgoing), outgoing.clone());
        }
        if let Some(open) = batch.open {
            data.open = open;
        }
        if let Some(blocked) = &batch.blocked {
            data.blocked = blocked.clone();
        }
        for message in data.messages.values_mut() {
            if batch.erased.contains(&message.sender)
                && message.event.is_none()
                && message.action.is_none()
            {
                super::tombstone(message);
            }
        }
        for id in &batch.forgotten {
            data.conversations.remove(id);
            let range = message_key(*id, 0)..message_key(*id + 1, 0);
            let keys: Vec<String> = data.messages.range(range).map(|(k, _)| k.clone()).collect();
            for key in keys {
                data.messages.remove(&key);
            }
        }
        Ok(())
    }

    async fn messages_before(
        &self,
        conversation: ConversationId,
        before: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, CacheError> {
        let data = self.data.borrow();
        let saved = message_key(conversation, 0)..message_key(conversation, before);
        let Some(newest) = data.messages.range(saved).next_back().map(|(_, m)| m.seq) else {
            return Ok(Vec::new());
        };
        let end = newest + 1;
        let low = end.saturating_sub(Seq::from(limit)).max(1);
        let page = message_key(conversation, low)..message_key(conversation, end);
        Ok(data.messages.range(page).map(|(_, m)| m.clone()).collect())
    }

    async fn messages_at(
        &self,
        keys: &[(ConversationId, Seq)],
    ) -> Result<Vec<Message>, CacheError> {
        let data = self.data.borrow();
        Ok(keys
            .iter()
            .filter_map(|(conversation, seq)| data.messages.get(&message_key(*conversation, *seq)))
            .cloned()
            .collect())
    }

    async fn search_index(&self) -> Result<SearchIndex, CacheError> {
        let data = self.data.borrow();
        let mut buckets: BTreeMap<String, (ConversationId, String)> = BTreeMap::new();
        for message in data.messages.values() {
            if let Some(words) = search::words_of(message) {
                let key = bucket_key(message.conversation, search::bucket_of(message.seq));
                let bucket = buckets
                    .entry(key)
                    .or_insert_with(|| (message.conversation, String::new()));
                bucket.1.push_str(&search::line(message, &words));
            }
        }
        Ok(SearchIndex::from_buckets(
            buckets.values().map(|(id, text)| (*id, text.as_str())),
        ))
    }

    async fn clear(&self) -> Result<(), CacheError> {
        *self.data.borrow_mut() = Data::default();
        Ok(())
    }
}
