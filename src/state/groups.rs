//! Making groups and changing them. Every change answers with the group as
//! it is now, which replaces this device's copy.

use natter_protocol::{Conversation, ConversationId, NewGroup, User, UserId};

use super::ChatStore;
use crate::net::http::{Api, HttpError};

impl ChatStore {
    /// Makes the group and opens it.
    pub async fn create_group(&self, group: &NewGroup) -> Result<(), HttpError> {
        let conversation = Api::same_origin().create_group(group).await?;
        let id = conversation.id;
        self.update(|state| {
            state.upsert(conversation);
            state.set_open(Some(id));
        });
        Ok(())
    }

    pub async fn add_member(&self, group: ConversationId, username: &str) -> Result<(), HttpError> {
        self.keep_group(Api::same_origin().add_member(group, username).await)
    }

    pub async fn rename_group(&self, group: ConversationId, name: &str) -> Result<(), HttpError> {
        self.keep_group(Api::same_origin().rename_group(group, name).await)
    }

    pub async fn remove_member(
        &self,
        group: ConversationId,
        user: UserId,
    ) -> Result<(), HttpError> {
        self.keep_group(Api::same_origin().remove_member(group, user).await)
    }

    pub async fn promote(&self, group: ConversationId, user: UserId) -> Result<(), HttpError> {
        self.keep_group(Api::same_origin().promote(group, user).await)
    }

    /// Who an admin removed from the public group `group`.
    pub async fn bans(&self, group: ConversationId) -> Result<Vec<User>, HttpError> {
        Api::same_origin().bans(group).await
    }

    pub async fn unban(&self, group: ConversationId, user: UserId) -> Result<(), HttpError> {
        self.keep_group(Api::same_origin().unban(group, user).await)
    }

    fn keep_group(&self, answer: Result<Conversation, HttpError>) -> Result<(), HttpError> {
        let conversation = answer?;
        self.update(|state| state.upsert(conversation));
        Ok(())
    }
}
