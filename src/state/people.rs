//! Finding people and public groups, and starting chats with them.

use leptos::prelude::*;
use natter_protocol::{ConversationId, PublicGroup, User};

use super::ChatStore;
use crate::net::http::{Api, HttpError};

impl ChatStore {
    /// Opens the chat with `username`, starting it if there is none.
    pub async fn open_chat_with(&self, username: &str) -> Result<(), HttpError> {
        let conversation = Api::same_origin().open_direct(username).await?;
        let id = conversation.id;
        self.update(|state| {
            state.upsert(conversation);
            state.set_open(Some(id));
        });
        Ok(())
    }

    /// The person named `username`.
    pub async fn find_user(&self, username: &str) -> Result<User, HttpError> {
        Api::same_origin().find_user(username).await
    }

    /// Public groups whose hashtag starts with `prefix`.
    pub async fn search_groups(&self, prefix: &str) -> Result<Vec<PublicGroup>, HttpError> {
        Api::same_origin().search_groups(prefix).await
    }

    /// Joins the public group `group` (unless already in it) and opens it.
    pub async fn join_group(&self, group: ConversationId) -> Result<(), HttpError> {
        let known = self.state.with_untracked(|state| {
            state
                .conversations
                .get(&group)
                .is_some_and(|c| c.includes(state.me.id))
        });
        let joined = if known {
            None
        } else {
            Some(Api::same_origin().join_group(group).await?)
        };
        self.update(|state| {
            if let Some(conversation) = joined {
                state.upsert(conversation);
            }
            state.set_open(Some(group));
        });
        Ok(())
    }
}
