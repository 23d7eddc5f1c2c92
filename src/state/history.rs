//! Older messages of a conversation, a page at a time: from this device
//! when its copy joins on without a hole, from the server otherwise.

use leptos::prelude::*;
use natter_protocol::{ConversationId, Message, Seq};

use super::{ChatState, ChatStore};
use crate::model::actions;
use crate::net::http::{Api, HttpError};

impl ChatStore {
    /// Adds the page of at most `limit` messages before the oldest one
    /// shown. False when there was nothing more to load.
    pub async fn load_older(&self, id: ConversationId, limit: u32) -> Result<bool, HttpError> {
        let (oldest, more) = self.state.with_untracked(|state| state.history_edge(id));
        if !more {
            return Ok(false);
        }
        if let Some(before) = oldest {
            let saved = self.saved_history(id, before, limit).await;
            let usable = contiguous_tail(saved, before);
            if !usable.is_empty() {
                let complete = usable.first().is_some_and(|m| m.seq == 1);
                self.update(|state| state.add_history(id, usable, complete, true));
                return Ok(true);
            }
        }
        let page = Api::same_origin().history(id, oldest, limit).await?;
        // Not by the page's length: the server caps pages (at `MAX_PAGE`),
        // so a short page is not the end. The end is seq 1, or nothing
        // more this member may read.
        let complete = page.first().is_none_or(|m| m.seq == 1);
        self.update(|state| state.add_history(id, page, complete, false));
        Ok(true)
    }
}

impl ChatState {
    /// Adds older history. `saved` says whether it came from the device
    /// cache (so need not be saved again) rather than from the server.
    pub fn add_history(
        &mut self,
        conversation: ConversationId,
        page: Vec<Message>,
        complete: bool,
        saved: bool,
    ) {
        if let Some(state) = self.conversations.get_mut(&conversation) {
            for mut message in page {
                // The server applied these already; only the stub is kept.
                message.action = message.action.as_ref().map(actions::stub);
                if state.insert(message.clone()) && !saved {
                    self.changes.messages.push(message);
                }
            }
            state.history_complete |= complete || state.messages.contains_key(&1);
        }
    }

    /// The oldest loaded seq of `conversation`, and whether anything older
    /// is left to load.
    pub fn history_edge(&self, conversation: ConversationId) -> (Option<Seq>, bool) {
        self.conversations
            .get(&conversation)
            .map_or((None, false), |state| {
                let oldest = state.messages.keys().next().copied();
                let more = !state.history_complete && state.info.last_seq > 0;
                (oldest, more)
            })
    }
}

/// The part of a page of saved messages (oldest first, all before
/// `before`) that joins on to `before` without a hole: a gap in the device's
/// copy must be filled from the server, not skipped over.
pub fn contiguous_tail(page: Vec<Message>, before: Seq) -> Vec<Message> {
    let mut expected = before;
    let mut start = page.len();
    for (index, message) in page.iter().enumerate().rev() {
        if message.seq + 1 != expected {
            break;
        }
        expected = message.seq;
        start = index;
    }
    page.into_iter().skip(start).collect()
}
