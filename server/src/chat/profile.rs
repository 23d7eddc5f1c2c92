//! The profile (display name and avatar) that contacts see, and the
//! pictures (avatars and group pictures) served by their content hash.

use std::collections::HashSet;

use natter_protocol::{
    limits, Conversation, ProfileUpdate, ServerFrame, User, UserId, PICTURES_PATH,
};

use super::{Chat, ChatError};
use crate::hub::{Event, FrameKind};

impl Chat {
    /// Sets the display name and avatar: a new picture comes as a `data:`
    /// URL, the current one's URL keeps it. Everyone who shares a
    /// conversation with the user, and the user's other devices, get one
    /// small `profile` frame.
    pub async fn update_profile(
        &self,
        user: UserId,
        update: ProfileUpdate,
    ) -> Result<User, ChatError> {
        let display_name = match update.display_name.as_deref() {
            Some(name) => limits::check_display_name(name)?,
            None => None,
        };
        let avatar = match update.avatar.filter(|avatar| !avatar.is_empty()) {
            Some(url) if url.starts_with(PICTURES_PATH) => {
                Some(self.current_avatar(user, &url).await?)
            }
            Some(picture) => {
                limits::check_group_picture(&picture)?;
                Some(picture)
            }
            None => None,
        };
        let user = self
            .store
            .update_profile(user, display_name, avatar)
            .await?;
        self.announce_profile(&user).await?;
        Ok(user)
    }

    /// The picture behind `url`, which must be `user`'s current avatar.
    async fn current_avatar(&self, user: UserId, url: &str) -> Result<String, ChatError> {
        let current = self.store.user(user).await?.and_then(|user| user.avatar);
        let hash = url.trim_start_matches(PICTURES_PATH);
        match (current, self.store.picture(hash).await?) {
            (Some(current), Some(picture)) if current == url => Ok(picture),
            _ => Err(ChatError::Invalid(limits::Invalid::GroupPicture)),
        }
    }

    /// Tells each person who shares a conversation with `user` once (but
    /// for those who block them).
    async fn announce_profile(&self, user: &User) -> Result<(), ChatError> {
        // Those who block them are never told.
        let untold = self.blocks.of(user.id).await?.blocked_by.clone();
        let shared = self.store.conversations_of(user.id).await?;
        self.tell_once(user, &shared, untold);
        Ok(())
    }

    /// Sends `user`'s profile once to each member of `shared` but those in
    /// `untold`. The frame goes out under one conversation they share, so
    /// that a device that misses it reads that conversation back, members
    /// and their profiles included.
    pub(super) fn tell_once(&self, user: &User, shared: &[Conversation], untold: Vec<UserId>) {
        let frame = ServerFrame::Profile { user: user.clone() };
        let mut told: HashSet<UserId> = untold.into_iter().collect();
        for conversation in shared {
            let audience: Vec<UserId> = conversation
                .members
                .iter()
                .map(|member| member.user.id)
                .filter(|member| told.insert(*member))
                .collect();
            if !audience.is_empty() {
                let event = Event::frame(conversation.id, FrameKind::Profile, &frame);
                self.hub.publish(&audience, event);
            }
        }
    }

    /// An avatar or group picture by its content hash, as JPEG bytes.
    pub async fn picture(&self, hash: &str) -> Result<Vec<u8>, ChatError> {
        use base64::Engine;
        let well_formed = hash.len() == 32 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        if !well_formed {
            return Err(ChatError::NoSuchFile);
        }
        let data_url = self
            .store
            .picture(hash)
            .await?
            .ok_or(ChatError::NoSuchFile)?;
        let encoded = data_url
            .split_once(',')
            .map(|(_, encoded)| encoded)
            .ok_or(ChatError::NoSuchFile)?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| ChatError::NoSuchFile)
    }
}
