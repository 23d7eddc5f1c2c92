//! Live fan-out of events to every connected device of a user.
//!
//! The hub is a doorbell, not a mailbox: it may drop events for a device that
//! falls behind, and the device's connection then reads what it missed back
//! from the store. That keeps the hub free to be replaced by a pub/sub engine
//! (NATS, say) spanning several server nodes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use natter_protocol::{Conversation, ConversationId, Message, ReceiptKind, Seq, UserId};
use tokio::sync::broadcast;

/// What the hub carries. Payloads are shared, not copied, per recipient.
#[derive(Debug, Clone)]
pub enum Event {
    Message(Arc<Message>),
    Receipt {
        conversation: ConversationId,
        user: UserId,
        kind: ReceiptKind,
        seq: Seq,
    },
    Conversation(Arc<Conversation>),
    /// A member is typing; relayed, never stored.
    Typing {
        conversation: ConversationId,
        user: UserId,
    },
    /// The session with this token hash logged out: its sockets must close.
    SessionEnded([u8; 32]),
}

/// How many events a device may fall behind before it must resync from the
/// store.
const DEVICE_BACKLOG: usize = 1024;

pub trait Hub: Send + Sync + 'static {
    /// Delivers `event` to every subscription of every user in `users`.
    fn publish(&self, users: &[UserId], event: Event);
    /// A new subscription for one device of `user`. A lagging receiver gets
    /// `RecvError::Lagged` and must resync from the store.
    fn subscribe(&self, user: UserId) -> broadcast::Receiver<Event>;
}

/// A hub for a single server process.
#[derive(Default)]
pub struct LocalHub {
    users: Mutex<HashMap<UserId, broadcast::Sender<Event>>>,
}

impl Hub for LocalHub {
    fn publish(&self, users: &[UserId], event: Event) {
        let mut map = self
            .users
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        for user in users {
            if let Some(sender) = map.get(user) {
                if sender.send(event.clone()).is_err() {
                    // Every device of this user has disconnected.
                    map.remove(user);
                }
            }
        }
    }

    fn subscribe(&self, user: UserId) -> broadcast::Receiver<Event> {
        let mut map = self
            .users
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        map.entry(user)
            .or_insert_with(|| broadcast::channel(DEVICE_BACKLOG).0)
            .subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(seq: Seq) -> Event {
        Event::Receipt {
            conversation: 1,
            user: 2,
            kind: ReceiptKind::Read,
            seq,
        }
    }

    #[tokio::test]
    async fn every_device_of_a_user_gets_the_event() {
        let hub = LocalHub::default();
        let mut tab1 = hub.subscribe(7);
        let mut tab2 = hub.subscribe(7);
        let mut other = hub.subscribe(8);
        hub.publish(&[7], receipt(3));
        assert!(matches!(
            tab1.recv().await,
            Ok(Event::Receipt { seq: 3, .. })
        ));
        assert!(matches!(
            tab2.recv().await,
            Ok(Event::Receipt { seq: 3, .. })
        ));
        assert!(other.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_lagging_device_is_told_so() {
        let hub = LocalHub::default();
        let mut slow = hub.subscribe(7);
        for seq in 0..(DEVICE_BACKLOG as u64 + 10) {
            hub.publish(&[7], receipt(seq));
        }
        assert!(matches!(
            slow.recv().await,
            Err(broadcast::error::RecvError::Lagged(_))
        ));
    }
}
