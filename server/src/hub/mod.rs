//! Live fan-out of committed events to every connected device.
//!
//! The hub is a doorbell, not a mailbox: each device has a bounded queue,
//! and a device that falls behind loses the queued events but keeps the
//! list of conversations they were about, which its connection then reads
//! back from the store (a resync of just those conversations, from its own
//! cursors). That keeps the hub free to be replaced by a pub/sub engine
//! (NATS, say) spanning several server nodes.
//!
//! A queue costs nothing until it is used, so an idle device is cheap;
//! frames are serialised once per event, not once per recipient.
//!
//! [`LocalHub`] serves one node; [`nats::NatsHub`] serves a cluster, each
//! node ringing the others' doorbells over NATS.

pub mod nats;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::ws::Utf8Bytes;
use natter_protocol::{ConversationId, Message, ServerFrame, UserId};
use tokio::sync::Notify;

/// One device's connection, as events name it (to skip the device that
/// sent a message: it has its ack).
pub type DeviceId = u64;

/// What the hub carries, with the frame already serialised where that is
/// the same for every recipient.
#[derive(Debug, Clone)]
pub enum Event {
    Message {
        message: Arc<Message>,
        frame: Utf8Bytes,
        /// The device that sent it, which has its ack and does not need
        /// it sent back.
        origin: Option<DeviceId>,
    },
    /// A receipt, a typing notice or a conversation: the frame says it all.
    Frame {
        conversation: ConversationId,
        frame: Utf8Bytes,
        /// Conversation frames introduce a conversation to a device that
        /// did not know it; the others only pass on.
        kind: FrameKind,
    },
    /// Sessions ended (a logout, a password change, "sign out
    /// everywhere"): their sockets must close.
    SessionEnded(Ending),
}

/// Which of a user's sessions ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Ending {
    /// The one with this token hash.
    One([u8; 32]),
    /// All of them but the one with this token hash, if any.
    AllBut(Option<[u8; 32]>),
}

impl Ending {
    /// Whether the session with `token_hash` is among those ended.
    pub fn includes(&self, token_hash: &[u8; 32]) -> bool {
        match self {
            Ending::One(hash) => hash == token_hash,
            Ending::AllBut(kept) => kept.as_ref() != Some(token_hash),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FrameKind {
    Receipt,
    Typing,
    /// A member's new profile, sent under one conversation they share.
    Profile,
    /// What changed in a group, for devices that know it.
    Group,
    /// About the person, not a conversation (their block list, say).
    Personal,
    Conversation {
        last_seq: natter_protocol::Seq,
    },
}

/// [`ServerFrame::Message`] by reference, so that a message is serialised
/// without being copied first.
#[derive(serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum MessageFrame<'a> {
    Message { message: &'a Message },
}

impl Event {
    pub fn message(message: Arc<Message>, origin: Option<DeviceId>) -> Self {
        let frame = serde_json::to_string(&MessageFrame::Message { message: &message })
            .unwrap_or_else(|_| "{}".to_owned())
            .into();
        Event::Message {
            message,
            frame,
            origin,
        }
    }

    pub fn frame(conversation: ConversationId, kind: FrameKind, frame: &ServerFrame) -> Self {
        Event::Frame {
            conversation,
            frame: serialise(frame),
            kind,
        }
    }

    /// A frame about the person it is sent to, under no conversation: a
    /// device that misses it reads it again when it reconnects.
    pub fn personal(frame: &ServerFrame) -> Self {
        Event::Frame {
            conversation: 0,
            frame: serialise(frame),
            kind: FrameKind::Personal,
        }
    }

    /// The conversation this event is about, if any.
    fn conversation(&self) -> Option<ConversationId> {
        match self {
            Event::Message { message, .. } => Some(message.conversation),
            Event::Frame {
                conversation, kind, ..
            } if !matches!(kind, FrameKind::Typing | FrameKind::Personal) => Some(*conversation),
            _ => None,
        }
    }
}

/// A frame as JSON text. Encoding our own types cannot fail; if it ever
/// did, the recipient gets an empty object, which it ignores.
pub fn serialise(frame: &ServerFrame) -> Utf8Bytes {
    serde_json::to_string(frame)
        .unwrap_or_else(|_| "{}".to_owned())
        .into()
}

/// How many events a device may have waiting before it must resync.
pub const DEVICE_BACKLOG: usize = 4096;

/// A cache entry every node keeps of its own: the memberships and block
/// lists the rules read on every frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Cached {
    Membership(ConversationId),
    Blocks(UserId),
}

/// What a node does when another node changed something it may cache:
/// forget that entry (`None`: anything may have changed; forget all).
pub type Forget = Arc<dyn Fn(Option<Cached>) + Send + Sync>;

pub trait Hub: Send + Sync + 'static {
    /// Delivers `event` to every device of every user in `users`.
    fn publish(&self, users: &[UserId], event: Event);
    /// A new device of `user`; it stops receiving when dropped.
    fn subscribe(&self, user: UserId) -> Device;
    /// Whether events reach every node (for `/readyz`).
    fn is_ready(&self) -> bool {
        true
    }
    /// Tells the other nodes that `what` changed here (one node alone has
    /// nobody to tell).
    fn changed(&self, _what: Cached) {}
    /// Sets what this node does when another says something changed.
    fn on_changed(&self, _forget: Forget) {}
}

/// A device's queue: what the hub delivered and the device has not taken.
#[derive(Default)]
pub struct Queue {
    state: Mutex<QueueState>,
    ready: Notify,
}

#[derive(Default)]
struct QueueState {
    events: VecDeque<Event>,
    /// Conversations whose events were dropped because the device lagged.
    lagged: BTreeSet<ConversationId>,
    /// A logout, kept apart so that it is never dropped.
    ended: Vec<Ending>,
    /// Events of any conversation may have been lost (a cluster's doorbells
    /// went missing): read them all back.
    resync: bool,
}

/// What a device takes from its queue at once.
#[derive(Default)]
pub struct Taken {
    pub events: Vec<Event>,
    pub lagged: BTreeSet<ConversationId>,
    pub ended: Vec<Ending>,
    /// Read every conversation back from the cursors.
    pub resync: bool,
}

impl Queue {
    fn push(&self, event: Event) {
        {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if let Event::SessionEnded(ending) = event {
                state.ended.push(ending);
            } else if state.events.len() < DEVICE_BACKLOG {
                state.events.push_back(event);
            } else {
                // Too far behind: what is queued is read back from the
                // store instead, conversation by conversation.
                let dropped: Vec<_> = state
                    .events
                    .drain(..)
                    .chain(std::iter::once(event))
                    .filter_map(|event| event.conversation())
                    .collect();
                state.lagged.extend(dropped);
                state.events.shrink_to_fit();
            }
        }
        self.ready.notify_one();
    }

    /// Marks every conversation as possibly missed.
    fn push_resync(&self) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).resync = true;
        self.ready.notify_one();
    }

    /// Everything waiting, up to `max` events (more stay for the next
    /// call, and the device is woken for them).
    pub fn take(&self, max: usize) -> Taken {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let count = state.events.len().min(max);
        let events: Vec<Event> = state.events.drain(..count).collect();
        if state.events.is_empty() && state.events.capacity() > 64 {
            // Keep an idle device small after a burst.
            state.events = VecDeque::new();
        } else if !state.events.is_empty() {
            self.ready.notify_one();
        }
        Taken {
            events,
            lagged: std::mem::take(&mut state.lagged),
            ended: std::mem::take(&mut state.ended),
            resync: std::mem::take(&mut state.resync),
        }
    }

    /// Resolves when something has been pushed since the last `take` (at
    /// once if it already has).
    pub async fn ready(&self) {
        self.ready.notified().await;
    }
}

/// A subscription: the device's queue, removed from the hub when dropped.
pub struct Device {
    pub id: DeviceId,
    pub queue: Arc<Queue>,
    unsubscribe: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl Drop for Device {
    fn drop(&mut self) {
        if let Some(unsubscribe) = self.unsubscribe.take() {
            unsubscribe();
        }
    }
}

/// A hub for a single server process.
#[derive(Default)]
pub struct LocalHub {
    inner: Arc<LocalInner>,
}

/// A user's connected devices.
type Devices = Vec<(DeviceId, Arc<Queue>)>;

#[derive(Default)]
struct LocalInner {
    users: RwLock<HashMap<UserId, Devices>>,
    next: std::sync::atomic::AtomicU64,
}

impl LocalHub {
    /// Whether any of `users` has a device here.
    pub fn has_any(&self, users: &[UserId]) -> bool {
        let map = self.inner.users.read().unwrap_or_else(|p| p.into_inner());
        users.iter().any(|user| map.contains_key(user))
    }

    /// Tells every device here to read all its conversations back from its
    /// cursors.
    pub fn resync_all(&self) {
        let map = self.inner.users.read().unwrap_or_else(|p| p.into_inner());
        for (_, queue) in map.values().flatten() {
            queue.push_resync();
        }
    }
}

impl Hub for LocalHub {
    fn publish(&self, users: &[UserId], event: Event) {
        let map = self.inner.users.read().unwrap_or_else(|p| p.into_inner());
        for user in users {
            for (_, queue) in map.get(user).into_iter().flatten() {
                queue.push(event.clone());
            }
        }
    }

    fn subscribe(&self, user: UserId) -> Device {
        let id = self
            .inner
            .next
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let queue = Arc::new(Queue::default());
        self.inner
            .users
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(user)
            .or_default()
            .push((id, queue.clone()));
        let inner = self.inner.clone();
        Device {
            id,
            queue,
            unsubscribe: Some(Box::new(move || {
                let mut map = inner.users.write().unwrap_or_else(|p| p.into_inner());
                if let Some(devices) = map.get_mut(&user) {
                    devices.retain(|(device, _)| *device != id);
                    if devices.is_empty() {
                        map.remove(&user);
                    }
                }
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(conversation: ConversationId) -> Event {
        Event::frame(
            conversation,
            FrameKind::Receipt,
            &ServerFrame::Receipt {
                conversation,
                user: 2,
                kind: natter_protocol::ReceiptKind::Read,
                seq: 1,
            },
        )
    }

    #[test]
    fn a_message_frame_is_the_protocol_s() {
        let message = Message {
            conversation: 4,
            seq: 9,
            client_id: uuid::Uuid::nil(),
            sender: 2,
            body: "hi \"there\"".into(),
            sent_at: 5,
            attachment: None,
            event: None,
            reply_to: Some(3),
            action: None,
            edited_at: None,
            deleted: false,
            link_preview: None,
            reactions: Vec::new(),
        };
        let Event::Message { frame, .. } = Event::message(Arc::new(message.clone()), None) else {
            panic!("a message event");
        };
        let read: ServerFrame = serde_json::from_str(frame.as_str()).unwrap();
        assert_eq!(read, ServerFrame::Message { message });
    }

    #[tokio::test]
    async fn every_device_of_a_user_gets_the_event() {
        let hub = LocalHub::default();
        let tab1 = hub.subscribe(7);
        let tab2 = hub.subscribe(7);
        let other = hub.subscribe(8);
        hub.publish(&[7], receipt(3));
        tab1.queue.ready().await;
        assert_eq!(tab1.queue.take(10).events.len(), 1);
        assert_eq!(tab2.queue.take(10).events.len(), 1);
        assert!(other.queue.take(10).events.is_empty());
        drop(tab2);
        hub.publish(&[7], receipt(3));
        assert_eq!(tab1.queue.take(10).events.len(), 1);
    }

    #[tokio::test]
    async fn a_lagging_device_learns_which_conversations_to_read_again() {
        let hub = LocalHub::default();
        let slow = hub.subscribe(7);
        for n in 0..DEVICE_BACKLOG as i64 + 10 {
            hub.publish(&[7], receipt(n % 3));
        }
        hub.publish(&[7], Event::SessionEnded(Ending::One([1; 32])));
        let taken = slow.queue.take(usize::MAX);
        assert!(taken.events.len() < 20);
        assert_eq!(taken.lagged.into_iter().collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(
            taken.ended,
            vec![Ending::One([1; 32])],
            "a logout is never dropped"
        );
        assert!(Ending::AllBut(Some([2; 32])).includes(&[1; 32]));
        assert!(!Ending::AllBut(Some([2; 32])).includes(&[2; 32]));
    }

    #[tokio::test]
    async fn a_message_names_the_device_that_sent_it() {
        let hub = LocalHub::default();
        let sender = hub.subscribe(7);
        let other_tab = hub.subscribe(7);
        let message = Arc::new(Message {
            conversation: 1,
            seq: 1,
            client_id: uuid::Uuid::nil(),
            sender: 7,
            body: "hi".into(),
            sent_at: 0,
            attachment: None,
            event: None,
            reply_to: None,
            action: None,
            edited_at: None,
            deleted: false,
            link_preview: None,
            reactions: Vec::new(),
        });
        hub.publish(&[7], Event::message(message, Some(sender.id)));
        // The sender's connection only moves its cursor: it has the ack.
        for device in [&sender, &other_tab] {
            let events = device.queue.take(10).events;
            assert!(matches!(
                events.as_slice(),
                [Event::Message { origin: Some(origin), .. }] if *origin == sender.id
            ));
        }
    }
}
