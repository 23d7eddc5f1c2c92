//! Accounts: signing up, logging in, and who a session belongs to.

use std::net::IpAddr;

use natter_protocol::limits::{self, canonical_username};
use natter_protocol::{Credentials, PasswordChange, User};

use super::{Chat, ChatError};
use crate::hub::{Ending, Event};
use crate::now_millis;
use crate::{auth, password};

/// A new session: the token goes to the browser (in a cookie), never to
/// the store, which keeps only its hash.
pub struct Session {
    pub user: User,
    pub token: String,
}

impl Chat {
    /// Makes an account; an address may make only so many an hour.
    pub async fn sign_up(
        &self,
        credentials: Credentials,
        from: IpAddr,
    ) -> Result<Session, ChatError> {
        limits::check_username(&credentials.username)?;
        limits::check_password(&credentials.password)?;
        self.throttle
            .sign_up(from)
            .map_err(|retry_after_secs| ChatError::TooManySignUps { retry_after_secs })?;
        let password = credentials.password;
        let hash = self
            .hashing
            .run(move || password::hash(&password))
            .await
            .map_err(|_| ChatError::Busy)?
            .map_err(ChatError::internal)?;
        let user = self.store.create_user(&credentials.username, &hash).await?;
        tracing::info!(user = user.id, "signed up");
        self.start_session(user).await
    }

    /// Wrong password and unknown user look the same and take the same
    /// time. Lengths are checked before anything else, and an attempt is
    /// counted (see [`crate::throttle`]) before its password is hashed.
    pub async fn log_in(
        &self,
        credentials: Credentials,
        from: IpAddr,
    ) -> Result<Session, ChatError> {
        if limits::check_username(&credentials.username).is_err()
            || credentials.password.chars().count() > limits::PASSWORD_MAX
        {
            return Err(ChatError::BadCredentials);
        }
        let key = canonical_username(&credentials.username);
        self.throttle
            .attempt(&key, from)
            .map_err(|retry_after_secs| ChatError::TooManyAttempts { retry_after_secs })?;
        let stored = self.store.credentials(&key).await?;
        let password = credentials.password;
        let hash = stored.as_ref().map(|s| s.password_hash.clone());
        let verified = self
            .hashing
            .run(move || password::verify(hash.as_deref(), &password))
            .await;
        match (stored, verified) {
            (_, Err(_)) => {
                self.throttle.withdraw(&key, from);
                Err(ChatError::Busy)
            }
            (Some(stored), Ok(true)) => {
                self.throttle.succeeded(&key, from);
                // Told only to whoever knows the password.
                if self.store.is_suspended(stored.user.id).await? {
                    return Err(ChatError::Suspended);
                }
                self.start_session(stored.user).await
            }
            _ => Err(ChatError::BadCredentials),
        }
    }

    async fn start_session(&self, user: User) -> Result<Session, ChatError> {
        let (token, token_hash) = auth::new_token();
        self.store
            .create_session(token_hash, user.id, auth::session_expiry())
            .await?;
        Ok(Session { user, token })
    }

    /// The user of an unexpired session.
    pub async fn session_user(&self, token_hash: [u8; 32]) -> Result<Option<User>, ChatError> {
        Ok(self.store.session_user(token_hash, now_millis()).await?)
    }

    /// Changes the password of the session's user, who must know the
    /// current one; every other session of the account ends.
    pub async fn change_password(
        &self,
        user: &User,
        token_hash: [u8; 32],
        change: PasswordChange,
    ) -> Result<(), ChatError> {
        limits::check_password(&change.new)?;
        if change.current.chars().count() > limits::PASSWORD_MAX {
            return Err(ChatError::WrongPassword);
        }
        let key = canonical_username(&user.username);
        let stored = self
            .store
            .credentials(&key)
            .await?
            .ok_or(ChatError::NotAMember)?;
        let current = change.current;
        let valid = self
            .hashing
            .run(move || password::verify(Some(&stored.password_hash), &current))
            .await
            .map_err(|_| ChatError::Busy)?;
        if !valid {
            return Err(ChatError::WrongPassword);
        }
        let new = change.new;
        let hash = self
            .hashing
            .run(move || password::hash(&new))
            .await
            .map_err(|_| ChatError::Busy)?
            .map_err(ChatError::internal)?;
        self.store.set_password(user.id, &hash).await?;
        self.store
            .delete_sessions(user.id, Some(token_hash))
            .await?;
        self.hub.publish(
            &[user.id],
            Event::SessionEnded(Ending::AllBut(Some(token_hash))),
        );
        Ok(())
    }

    /// Deletes expired sessions; runs every hour.
    pub async fn purge_sessions(&self) -> Result<u64, ChatError> {
        Ok(self.store.purge_sessions(now_millis()).await?)
    }
}
