//! Searching the messages saved on this device: the index is read from the
//! cache once and kept until the cache changes; results are the messages
//! themselves, newest first.

use std::rc::Rc;

use leptos::prelude::*;

use natter_protocol::{ConversationId, Message, Seq};

use super::ChatStore;
use crate::cache::{Cache, CacheError};
use crate::model::search::{Hit, SearchIndex};

/// The most results a search shows.
const SHOWN: usize = 50;

/// What a search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The newest [`SHOWN`] at most.
    pub results: Vec<Message>,
    /// How many messages match in all.
    pub total: usize,
}

impl ChatStore {
    /// The saved messages in which every word of `query` starts a word, in
    /// `conversation` only if given, but for those the app keeps out of
    /// sight. Works offline: it reads only this device's copy.
    pub async fn search(
        &self,
        query: &str,
        conversation: Option<ConversationId>,
    ) -> Result<Found, CacheError> {
        let Some(cache) = self.cache.get_value() else {
            return Err(self.cache_problem.get_untracked().unwrap_or_else(|| {
                CacheError::Unavailable("the chats are not saved on this device yet".to_owned())
            }));
        };
        let index = match self.search_index.get_value() {
            Some(index) => index,
            None => {
                let index = Rc::new(cache.search_index().await?);
                self.search_index.set_value(Some(index.clone()));
                index
            }
        };
        crate::perf::measure(
            "natter:search-query",
            self.found(&*cache, &index, query, conversation),
        )
        .await
    }

    /// The query's answer from a loaded index: the newest hits, read from
    /// the conversations in memory or the device's copy.
    async fn found(
        &self,
        cache: &impl Cache,
        index: &SearchIndex,
        query: &str,
        conversation: Option<ConversationId>,
    ) -> Result<Found, CacheError> {
        // Not what the app keeps out of sight: a blocked person's messages,
        // strangers' requests not accepted yet.
        let (hits, total) = self.state.with_untracked(|state| {
            let shown = |hit: &Hit| {
                conversation.is_none_or(|only| only == hit.conversation)
                    && !state.blocks(hit.sender)
                    && state
                        .conversations
                        .get(&hit.conversation)
                        .is_none_or(|c| !c.is_request(state.me.id))
            };
            crate::perf::measure_now("natter:search-match", || index.search(query, shown, SHOWN))
        });
        // Those not in memory are read from the device's copy in one go.
        let mut results: Vec<Option<Message>> = self.state.with_untracked(|state| {
            hits.iter()
                .map(|hit| {
                    state
                        .conversations
                        .get(&hit.conversation)
                        .and_then(|c| c.messages.get(&hit.seq).cloned())
                })
                .collect()
        });
        let missing: Vec<(ConversationId, Seq)> = hits
            .iter()
            .zip(&results)
            .filter(|(_, shown)| shown.is_none())
            .map(|(hit, _)| (hit.conversation, hit.seq))
            .collect();
        if !missing.is_empty() {
            let mut saved = cache.messages_at(&missing).await?.into_iter().peekable();
            for (hit, slot) in hits.iter().zip(results.iter_mut()) {
                if slot.is_none()
                    && saved
                        .peek()
                        .is_some_and(|m| (m.conversation, m.seq) == (hit.conversation, hit.seq))
                {
                    *slot = saved.next();
                }
            }
        }
        let results = results.into_iter().flatten().collect();
        Ok(Found { results, total })
    }

    /// Opens `conversation` on its message `seq` (the message list loads
    /// the pages up to it).
    pub fn jump_to(&self, conversation: ConversationId, seq: Seq) {
        self.jump.set(Some((conversation, seq)));
        self.open(Some(conversation));
    }
}
