//! The end of an account, and taking one's data along first.
//!
//! Deleting (password confirmed): the person leaves every group through
//! the group rules (admins hand over, empty groups close), then their
//! uploads, sessions, blocks, contacts and profile go and their messages
//! become tombstones; everyone who shared a conversation with them gets a
//! `profile` frame saying the account is deleted, so that their devices
//! turn its messages into tombstones too. The username stays reserved for
//! [`USERNAME_RESERVED_MILLIS`].
//!
//! Exporting: [`Chat::export_plan`] says what a person's data is; the
//! transport reads their messages page by page
//! ([`Chat::export_page`]) and streams it all as one archive.

use natter_protocol::{
    limits, Conversation, ConversationId, ConversationKind, Message, Millis, Mute, User, UserId,
};

use super::groups::GroupChange;
use super::{Chat, ChatError};
use crate::hub::{Ending, Event};
use crate::password;
use crate::store::{MediaRecord, Reader};

/// How long a deleted account's username stays taken: 30 days, so that
/// nobody can pose as them to their contacts right away.
pub const USERNAME_RESERVED_MILLIS: Millis = 30 * 24 * 3600 * 1000;

/// What an export holds, but for the messages, which are read in pages.
pub struct ExportPlan {
    pub profile: User,
    pub blocked: Vec<User>,
    pub mutes: Vec<Mute>,
    pub conversations: Vec<Conversation>,
    pub uploads: Vec<MediaRecord>,
}

impl Chat {
    /// Deletes `user`'s account once their password is confirmed.
    pub async fn delete_account(
        &self,
        user: &User,
        password: String,
        now: Millis,
    ) -> Result<(), ChatError> {
        self.confirm_password(user, password).await?;
        let shared = self.store.conversations_of(user.id).await?;
        for conversation in shared.iter().filter(|c| c.kind == ConversationKind::Group) {
            match self
                .change_group(user, conversation.id, GroupChange::Remove(user.id), now)
                .await
            {
                Ok(_) | Err(ChatError::NotAMember) => {}
                Err(err) => return Err(err),
            }
        }
        let uploads = self.store.delete_account(user.id, now).await?;
        super::send::remove_files(&uploads, &self.media);
        self.hub
            .publish(&[user.id], Event::SessionEnded(Ending::AllBut(None)));
        self.blocks.changed(&[user.id]);
        for conversation in &shared {
            self.roster.changed(conversation.id);
        }
        // One profile frame saying so to each person who shared a
        // conversation with them.
        if let Some(deleted) = self.store.user(user.id).await? {
            self.tell_once(&deleted, &shared, vec![deleted.id]);
        }
        tracing::info!(user = user.id, "account deleted");
        Ok(())
    }

    /// Frees the usernames of accounts deleted long enough ago.
    pub async fn free_usernames(&self, now: Millis) -> Result<u64, ChatError> {
        Ok(self
            .store
            .free_usernames(now - USERNAME_RESERVED_MILLIS)
            .await?)
    }

    async fn confirm_password(&self, user: &User, password: String) -> Result<(), ChatError> {
        if password.chars().count() > limits::PASSWORD_MAX {
            return Err(ChatError::WrongPassword);
        }
        let key = limits::canonical_username(&user.username);
        let stored = self
            .store
            .credentials(&key)
            .await?
            .ok_or(ChatError::NotAMember)?;
        let valid = self
            .hashing
            .run(move || password::verify(Some(&stored.password_hash), &password))
            .await
            .map_err(|_| ChatError::Busy)?;
        if valid {
            Ok(())
        } else {
            Err(ChatError::WrongPassword)
        }
    }

    /// Everything of `user`'s an export holds at `now`, but for the
    /// messages.
    pub async fn export_plan(&self, user: &User, now: Millis) -> Result<ExportPlan, ChatError> {
        Ok(ExportPlan {
            profile: self
                .store
                .user(user.id)
                .await?
                .unwrap_or_else(|| user.clone()),
            blocked: self.store.blocked_users(user.id).await?,
            mutes: self.store.mutes(user.id, now).await?,
            conversations: self.conversations(user.id).await?,
            uploads: self.store.uploads_of(user.id).await?,
        })
    }

    /// Up to `limit` messages of `conversation` after `after`, as `user`
    /// reads them (for an export).
    pub async fn export_page(
        &self,
        user: UserId,
        conversation: ConversationId,
        after: natter_protocol::Seq,
        limit: u32,
    ) -> Result<Vec<Message>, ChatError> {
        let reader: Reader = self
            .member_of(user, conversation)
            .await?
            .reader(user)
            .ok_or(ChatError::NotAMember)?;
        Ok(self
            .store
            .messages_after(conversation, after, limit, reader)
            .await?)
    }
}
