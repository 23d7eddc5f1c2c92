//! Blocking, reporting, muting and message requests from this device: the server is the judge (it keeps the
//! blocked person's 1:1 messages from reaching the user), the device keeps
//! the list so that a shared group's messages from a blocked person are
//! shown folded, offline too.

use leptos::task::spawn_local;
use natter_protocol::{ConversationId, NewReport, User, UserId};

use super::ChatStore;
use crate::net::http::{Api, HttpError};

impl ChatStore {
    /// Reads the list again (it may have changed on another device while
    /// this one was away).
    pub(super) fn refresh_blocked(&self) {
        let store = *self;
        spawn_local(async move {
            if let Ok(users) = Api::same_origin().blocked().await {
                store.update(|state| state.set_blocked(users));
            }
        });
    }

    /// Reads the conversations the user muted (on any device).
    pub(super) fn refresh_mutes(&self) {
        let store = *self;
        spawn_local(async move {
            if let Ok(mutes) = Api::same_origin().mutes().await {
                store.update(|state| state.mutes = mutes);
            }
        });
    }

    /// Mutes `conversation` on all the user's devices for `length`
    /// milliseconds (`None`: until unmuted).
    pub async fn mute(
        &self,
        conversation: ConversationId,
        length: Option<u64>,
    ) -> Result<(), HttpError> {
        let mutes = Api::same_origin().mute(conversation, length).await?;
        self.update(|state| state.mutes = mutes);
        Ok(())
    }

    pub async fn unmute(&self, conversation: ConversationId) -> Result<(), HttpError> {
        let mutes = Api::same_origin().unmute(conversation).await?;
        self.update(|state| state.mutes = mutes);
        Ok(())
    }

    pub async fn block(&self, user: UserId) -> Result<(), HttpError> {
        let users = Api::same_origin().block(user).await?;
        self.keep_blocked(users);
        Ok(())
    }

    pub async fn unblock(&self, user: UserId) -> Result<(), HttpError> {
        let users = Api::same_origin().unblock(user).await?;
        self.keep_blocked(users);
        Ok(())
    }

    /// Accepts the message request `conversation` is.
    pub async fn accept(&self, conversation: ConversationId) -> Result<(), HttpError> {
        let accepted = Api::same_origin().accept(conversation).await?;
        self.update(|state| state.upsert(accepted));
        Ok(())
    }

    /// Deletes `conversation` (a message request, or any chat): the user
    /// leaves it, and this device forgets it.
    pub async fn delete_chat(&self, conversation: ConversationId) -> Result<(), HttpError> {
        Api::same_origin().delete_chat(conversation).await?;
        self.update(|state| state.forget(conversation));
        Ok(())
    }

    /// Sends a report to Natter's moderators.
    pub async fn report(&self, report: &NewReport) -> Result<(), HttpError> {
        Api::same_origin().report(report).await.map(|_| ())
    }

    fn keep_blocked(&self, users: Vec<User>) {
        self.update(|state| state.set_blocked(users));
    }
}
