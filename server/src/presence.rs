//! Who is here: each connected tab's session and whether it is on screen,
//! so that Web Push is sent only to people who would not see the message
//! otherwise. In memory, for this server node: a cluster shares it the way
//! it shares the hub.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use natter_protocol::UserId;

use crate::hub::DeviceId;

#[derive(Default)]
pub struct Presence {
    users: Mutex<HashMap<UserId, Vec<Tab>>>,
}

struct Tab {
    device: DeviceId,
    /// The token hash of the session it is signed in with.
    session: [u8; 32],
    visible: bool,
}

impl Presence {
    /// A tab of `user` connected (not on screen until it says so); it is
    /// gone when the returned guard drops.
    pub fn arrive(self: &Arc<Self>, user: UserId, device: DeviceId, session: [u8; 32]) -> Here {
        self.lock().entry(user).or_default().push(Tab {
            device,
            session,
            visible: false,
        });
        Here {
            presence: self.clone(),
            user,
            device,
        }
    }

    /// Whether one of `user`'s tabs is on screen.
    pub fn on_screen(&self, user: UserId) -> bool {
        self.lock()
            .get(&user)
            .is_some_and(|tabs| tabs.iter().any(|tab| tab.visible))
    }

    /// Whether a tab signed in with `session` is connected: that device
    /// shows its own notifications.
    pub fn connected(&self, user: UserId, session: &[u8; 32]) -> bool {
        self.lock()
            .get(&user)
            .is_some_and(|tabs| tabs.iter().any(|tab| &tab.session == session))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Vec<Tab>>> {
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A connected tab's place in [`Presence`].
pub struct Here {
    presence: Arc<Presence>,
    user: UserId,
    device: DeviceId,
}

impl Here {
    pub fn set_visible(&self, visible: bool) {
        let mut users = self.presence.lock();
        if let Some(tab) = users
            .get_mut(&self.user)
            .and_then(|tabs| tabs.iter_mut().find(|tab| tab.device == self.device))
        {
            tab.visible = visible;
        }
    }
}

impl Drop for Here {
    fn drop(&mut self) {
        let mut users = self.presence.lock();
        if let Some(tabs) = users.get_mut(&self.user) {
            tabs.retain(|tab| tab.device != self.device);
            if tabs.is_empty() {
                users.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tab_is_here_until_it_goes_and_on_screen_when_it_says_so() {
        let presence = Arc::new(Presence::default());
        let tab = presence.arrive(7, 1, [1; 32]);
        let other = presence.arrive(7, 2, [2; 32]);
        assert!(!presence.on_screen(7));
        assert!(presence.connected(7, &[1; 32]));
        tab.set_visible(true);
        assert!(presence.on_screen(7));
        assert!(!presence.on_screen(8));
        drop(tab);
        assert!(!presence.on_screen(7));
        assert!(!presence.connected(7, &[1; 32]));
        assert!(presence.connected(7, &[2; 32]));
        drop(other);
        assert!(presence.lock().is_empty());
    }
}
