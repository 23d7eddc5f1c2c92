//! Older messages of a conversation, a page at a time: from this device
//! when its copy joins on without a hole, from the server otherwise.

use leptos::prelude::*;
use natter_protocol::ConversationId;

use super::{contiguous_tail, ChatStore};
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
        let complete = (page.len() as u32) < limit;
        self.update(|state| state.add_history(id, page, complete, false));
        Ok(true)
    }
}
