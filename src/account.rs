//! Which account this device last signed in to, kept in `localStorage` so
//! that the app can open from its cache when the server is unreachable.
//! Only the public profile (id and username) is kept; the session itself
//! stays in its HttpOnly cookie.

use natter_protocol::User;

const KEY: &str = "natter.account";

fn storage() -> Option<web_sys::Storage> {
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
