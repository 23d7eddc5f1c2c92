//! What moderators do, from the server's machine (see [`crate::admin`]):
//! read and resolve reports, suspend and restore accounts, delete a
//! message for everyone. A suspended account cannot log in or be found,
//! and its sessions end at once (its sockets close).

use natter_protocol::{Action, ConversationId, Millis, Seq, UserId};
use uuid::Uuid;

use super::pipeline::{Done, Work};
use super::{Chat, ChatError};
use crate::hub::{Ending, Event};
use crate::store::{NewMessage, Report};

/// The most reports one listing returns.
const LISTED: u32 = 500;

impl Chat {
    /// Open reports (or all of them), oldest first.
    pub async fn reports(&self, include_resolved: bool) -> Result<Vec<Report>, ChatError> {
        Ok(self.store.reports(include_resolved, LISTED).await?)
    }

    pub async fn resolve_report(&self, id: i64, note: &str, now: Millis) -> Result<(), ChatError> {
        if self.store.resolve_report(id, note, now).await? {
            Ok(())
        } else {
            Err(ChatError::NoSuchReport)
        }
    }

    /// Suspends the account called `username`: it cannot log in or be
    /// found, and every session ends now. Returns its id.
    pub async fn suspend(&self, username: &str, now: Millis) -> Result<UserId, ChatError> {
        let user = self.account_named(username).await?;
        self.store.set_suspended(user, Some(now)).await?;
        self.store.delete_sessions(user, None).await?;
        self.hub
            .publish(&[user], Event::SessionEnded(Ending::AllBut(None)));
        Ok(user)
    }

    pub async fn unsuspend(&self, username: &str) -> Result<UserId, ChatError> {
        let user = self.account_named(username).await?;
        self.store.set_suspended(user, None).await?;
        Ok(user)
    }

    /// Deletes message `seq` of `conversation` for everyone, as a
    /// deletion by its sender would (its text and file go; a tombstone
    /// stays), whoever sent it.
    pub async fn delete_message(
        &self,
        conversation: ConversationId,
        seq: Seq,
        now: Millis,
    ) -> Result<(), ChatError> {
        let target = self
            .store
            .message(conversation, seq)
            .await?
            .ok_or(ChatError::BadTarget)?;
        let message = NewMessage {
            sender: target.sender,
            conversation,
            client_id: Uuid::now_v7(),
            body: String::new(),
            attachment: None,
            reply_to: None,
            action: Some(Action::Delete { target: seq }),
            sent_at: now,
            withheld_from: None,
            link_preview: None,
        };
        let ticket = self
            .pipeline
            .queue(Work::Send {
                message,
                origin: None,
            })
            .await?;
        match ticket.await {
            Ok(Ok(Done::Sent(_))) => Ok(()),
            Ok(Err(super::pipeline::PipelineError::Refused(err))) => Err(err),
            _ => Err(ChatError::internal(super::pipeline::Stopped)),
        }
    }

    /// An account by username, suspended or not.
    async fn account_named(&self, username: &str) -> Result<UserId, ChatError> {
        self.store
            .user_by_name(username)
            .await?
            .map(|user| user.id)
            .ok_or_else(|| ChatError::NoSuchUsername(username.to_owned()))
    }
}
