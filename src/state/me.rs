//! The person's own account, from this device: profile, password, logging
//! out, deleting it.

use leptos::prelude::WithUntracked;
use natter_protocol::{PasswordChange, ProfileUpdate};

use super::ChatStore;
use crate::account;
use crate::net::http::{Api, HttpError};

/// Why logging out did not finish.
#[derive(Debug, thiserror::Error)]
pub enum LogoutError {
    /// Logging out everywhere needs the server.
    #[error("{0}")]
    Server(#[from] HttpError),
    /// Logged out, but this device's copy of the chats could not be deleted.
    #[error("Logged out, but {0}.")]
    DeviceData(#[from] crate::cache::CacheError),
}

impl ChatStore {
    pub async fn update_profile(&self, update: &ProfileUpdate) -> Result<(), HttpError> {
        let user = Api::same_origin().update_profile(update).await?;
        account::remember(&user);
        self.update(|state| state.me = user);
        Ok(())
    }

    pub async fn change_password(&self, change: &PasswordChange) -> Result<(), HttpError> {
        Api::same_origin().change_password(change).await
    }

    /// Logs out of this device (offline too: the server hears of it once it
    /// can be reached), or of every device (which needs the server now);
    /// then deletes this device's copy of the chats if asked.
    pub async fn log_out(&self, everywhere: bool, delete_data: bool) -> Result<(), LogoutError> {
        // Read now: once the server has ended the session the chat goes.
        let me = self.state.with_untracked(|state| state.me.id);
        if everywhere {
            Api::same_origin().logout_everywhere().await?;
            account::forget();
            account::forget_traces().await;
        } else {
            account::log_out().await;
        }
        if delete_data {
            self.delete_device_data(me).await?;
        }
        Ok(())
    }

    /// Deletes the account; then what this device kept of it goes too.
    pub async fn delete_account(&self, password: &str) -> Result<(), HttpError> {
        let me = self.state.with_untracked(|state| state.me.id);
        Api::same_origin().delete_account(password).await?;
        account::forget();
        account::forget_traces().await;
        // The account is gone: a failure here leaves only an orphaned copy
        // that the next sign-in on this device never opens.
        let _ = self.delete_device_data(me).await;
        Ok(())
    }
}
