//! Which account this device last signed in to, kept in `localStorage` so
//! that the app can open from its cache when the server is unreachable.
//! Only the public profile (id and username) is kept; the session itself
//! stays in its HttpOnly cookie. Signing up and logging in go through here
//! too, because they must first send a queued logout.
//!
//! A logout made offline is kept here too, and sent when the server can be
//! reached: before anything else at start, before the next sign-in, and
//! when the browser comes back online. Until then the session's cookie
//! stays in the browser, but the app treats it as ended.

use natter_protocol::{Credentials, User};
use wasm_bindgen_futures::JsFuture;

use crate::net::http::{Api, HttpError};

const KEY: &str = "natter.account";
const LOGOUT_KEY: &str = "natter.logout-pending";
/// The service worker's cache of avatars and group pictures.
const PICTURES_CACHE: &str = "natter-pictures";

/// This origin's `localStorage`, where the device's own choices live.
pub(crate) fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn remember(user: &User) {
    if let (Some(storage), Ok(json)) = (storage(), serde_json::to_string(user)) {
        // Without storage the app only loses its offline start.
        let _ = storage.set_item(KEY, &json);
    }
}

pub fn remembered() -> Option<User> {
    let json = storage()?.get_item(KEY).ok().flatten()?;
    serde_json::from_str(&json).ok()
}

pub fn forget() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(KEY);
    }
}

/// Logs this device out: the server is told now if it can be, else later
/// (see the module's docs). Either way the device is signed out at once.
pub async fn log_out() {
    if let Err(err) = Api::same_origin().logout().await {
        if !is_final(&err) {
            queue_logout();
        }
    }
    forget();
    forget_traces().await;
}

/// Whether the server answered for good: the session is over either way.
fn is_final(err: &HttpError) -> bool {
    matches!(err, HttpError::Api { status, .. } if *status < 500 && *status != 429)
}

fn queue_logout() {
    if let Some(storage) = storage() {
        let _ = storage.set_item(LOGOUT_KEY, "1");
    }
}

pub fn logout_pending() -> bool {
    storage()
        .and_then(|storage| storage.get_item(LOGOUT_KEY).ok().flatten())
        .is_some()
}

/// Sends a queued logout, if there is one; `Err` while the server cannot
/// be reached (it stays queued).
pub async fn send_queued_logout() -> Result<(), HttpError> {
    if !logout_pending() {
        return Ok(());
    }
    match Api::same_origin().logout().await {
        Err(err) if !is_final(&err) => Err(err),
        _ => {
            if let Some(storage) = storage() {
                let _ = storage.remove_item(LOGOUT_KEY);
            }
            Ok(())
        }
    }
}

/// Deletes what this device shows or keeps for the signed-out person
/// outside their chats: saved avatars and group pictures, notifications
/// still on screen (they may quote messages), a share never sent.
pub async fn forget_traces() {
    crate::notify::close_all().await;
    crate::share::discard().await;
    let Some(caches) = web_sys::window().and_then(|window| window.caches().ok()) else {
        return;
    };
    // A failure leaves pictures that are re-fetched anyway, for whoever
    // signs in: they are not secrets, only not this device's business.
    let _ = JsFuture::from(caches.delete(PICTURES_CACHE)).await;
}

/// Makes the account and signs this device in to it. This device's last
/// logout goes first, or it would never be sent once the new session's
/// cookie replaces the old one.
pub async fn sign_up(credentials: &Credentials) -> Result<User, HttpError> {
    send_queued_logout().await?;
    Api::same_origin().signup(credentials).await
}

/// Signs this device in (after sending its queued logout, as above).
pub async fn log_in(credentials: &Credentials) -> Result<User, HttpError> {
    send_queued_logout().await?;
    Api::same_origin().login(credentials).await
}
