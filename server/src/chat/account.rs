//! Accounts: signing up, logging in, and who a session belongs to.

use std::net::IpAddr;

use natter_protocol::limits::{self, canonical_username};
use natter_protocol::{Credentials, User};

use super::{Chat, ChatError};
use crate::auth;
use crate::now_millis;

/// A new session: the token goes to the browser (in a cookie), never to
/// the store, which keeps only its hash.
pub struct Session {
    pub user: User,
    pub token: String,
}

impl Chat {
    pub async fn sign_up(&self, credentials: Credentials) -> Result<Session, ChatError> {
        limits::check_username(&credentials.username)?;
        limits::check_password(&credentials.password)?;
        let password = credentials.password;
        let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
            .await
            .map_err(ChatError::internal)?
            .map_err(ChatError::internal)?;
        let user = self.store.create_user(&credentials.username, &hash).await?;
        tracing::info!(user = user.id, "signed up");
        self.start_session(user).await
    }

    /// Wrong password and unknown user look the same and take the same
    /// time; failures are limited per username and per address.
    pub async fn log_in(
        &self,
        credentials: Credentials,
        from: IpAddr,
    ) -> Result<Session, ChatError> {
        let key = canonical_username(&credentials.username);
        if let Err(retry_after_secs) = self.throttle.check(&key, from) {
            return Err(ChatError::TooManyAttempts { retry_after_secs });
        }
        let stored = self.store.credentials(&credentials.username).await?;
        let password = credentials.password;
        let hash = stored.as_ref().map(|s| s.password_hash.clone());
        let valid =
            tokio::task::spawn_blocking(move || auth::verify_password(hash.as_deref(), &password))
                .await
                .map_err(ChatError::internal)?;
        match stored {
            Some(stored) if valid => {
                self.throttle.record_success(&key);
                self.start_session(stored.user).await
            }
            _ => {
                self.throttle.record_failure(&key, from);
                Err(ChatError::BadCredentials)
            }
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
}
