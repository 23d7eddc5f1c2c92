//! Web Push, the use cases: a device subscribes (or stops), and each new
//! message is pushed to the members who would not see it otherwise.
//!
//! Whom a message is pushed to: every member it was delivered to but its
//! sender, with a subscribed device, and no tab on screen; not to a device
//! whose own tab is connected (in the background, it shows the
//! notification itself); not in a conversation they muted, unless it is a
//! group message that mentions them; never from someone they block (in a
//! shared group the app folds such messages away, so a push must not show
//! them either). What it says follows the app's own
//! notifications: the sender or group, and the text unless the device
//! turned previews off or the message is a stranger's request.
//!
//! Pushing happens off the write path: the pipeline hands each committed
//! message over (a set lookup when nobody in it subscribed), and a task of
//! its own reads what it needs and calls the push services, a few at once.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use natter_protocol::mentions::mentions;
use natter_protocol::{
    preview, Conversation, ConversationKind, Message, PushSubscription, UserId, MAX_PUSH_ENDPOINT,
};
use serde::Serialize;
use tokio::sync::{mpsc, Semaphore};

use super::blocking::BlockList;
use super::{Chat, ChatError};
use crate::presence::Presence;
use crate::push::{Delivery, PushService};
use crate::store::{Membership, PushDevice, Store};

/// Messages waiting to be pushed; past this, new ones are dropped (and
/// logged): a push is a courtesy, the message itself is safe.
const QUEUE: usize = 4096;
/// Pushes in flight at once.
const CONCURRENT: usize = 32;

/// What the pipeline calls for each new message; cheap when nobody in the
/// conversation has a subscribed device.
pub struct Pusher {
    service: Arc<PushService>,
    /// Everyone who subscribed a device since the server started, or
    /// before. Nobody is taken out (a stale entry costs one read), so that
    /// a subscription made while a message is being pushed is never missed.
    subscribed: RwLock<HashSet<UserId>>,
    queue: mpsc::Sender<Committed>,
}

/// A message to push, with those it may be pushed to.
struct Committed {
    message: Arc<Message>,
    membership: Arc<Membership>,
    recipients: Vec<UserId>,
}

impl Pusher {
    /// Starts the pushing task; `subscribed` is everyone with a subscribed
    /// device in the store.
    pub fn start(
        service: Arc<PushService>,
        store: Arc<dyn Store>,
        presence: Arc<Presence>,
        blocks: Arc<BlockList>,
        subscribed: Vec<UserId>,
    ) -> Arc<Self> {
        let (queue, waiting) = mpsc::channel(QUEUE);
        let worker = Worker {
            service: service.clone(),
            store,
            presence,
            blocks,
            in_flight: Arc::new(Semaphore::new(CONCURRENT)),
        };
        tokio::spawn(worker.run(waiting));
        Arc::new(Pusher {
            service,
            subscribed: RwLock::new(subscribed.into_iter().collect()),
            queue,
        })
    }

    /// `message` was committed and delivered to `audience`.
    pub fn committed(
        &self,
        message: &Arc<Message>,
        membership: &Arc<Membership>,
        audience: &[UserId],
    ) {
        if !message.is_visible_message() || message.deleted {
            return;
        }
        let recipients: Vec<UserId> = {
            let subscribed = self.subscribed.read().unwrap_or_else(|p| p.into_inner());
            audience
                .iter()
                .filter(|user| **user != message.sender && subscribed.contains(user))
                .copied()
                .collect()
        };
        if recipients.is_empty() {
            return;
        }
        let committed = Committed {
            message: message.clone(),
            membership: membership.clone(),
            recipients,
        };
        if self.queue.try_send(committed).is_err() {
            tracing::warn!("push queue full: a message was not pushed");
        }
    }
}

impl Chat {
    /// The key devices subscribe with.
    pub fn push_key(&self) -> Result<String, ChatError> {
        let pusher = self.push.as_ref().ok_or(ChatError::PushOff)?;
        Ok(pusher.service.public_key())
    }

    /// Keeps the push subscription of the device signed in with `session`.
    pub async fn subscribe_push(
        &self,
        user: UserId,
        session: [u8; 32],
        subscription: PushSubscription,
        now: natter_protocol::Millis,
    ) -> Result<(), ChatError> {
        let pusher = self.push.as_ref().ok_or(ChatError::PushOff)?;
        let device = checked(user, session, subscription, pusher)?;
        self.store.put_push_device(&device, now).await?;
        pusher
            .subscribed
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user);
        Ok(())
    }

    /// Forgets the push subscription of the device signed in with
    /// `session`, if it had one.
    pub async fn unsubscribe_push(&self, session: [u8; 32]) -> Result<(), ChatError> {
        Ok(self.store.delete_push_device(session).await?)
    }
}

/// Base64url, with or without padding (browsers leave it out).
const KEYS: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `subscription` as a device to push to, once its endpoint and keys pass.
fn checked(
    user: UserId,
    session: [u8; 32],
    subscription: PushSubscription,
    pusher: &Pusher,
) -> Result<PushDevice, ChatError> {
    let bad = |why: String| ChatError::BadPushSubscription(why);
    if subscription.endpoint.len() > MAX_PUSH_ENDPOINT {
        return Err(bad(format!(
            "its endpoint is longer than {MAX_PUSH_ENDPOINT} bytes"
        )));
    }
    let endpoint = pusher
        .service
        .reach()
        .check(&subscription.endpoint)
        .map_err(|err| bad(format!("its endpoint: {err}")))?;
    let p256dh = KEYS
        .decode(&subscription.keys.p256dh)
        .ok()
        .filter(|key| {
            web_push_native::p256::PublicKey::from_sec1_bytes(key).is_ok() && key.len() == 65
        })
        .ok_or_else(|| bad("p256dh is not an uncompressed P-256 public key".to_owned()))?;
    let auth = KEYS
        .decode(&subscription.keys.auth)
        .ok()
        .filter(|auth| auth.len() == 16)
        .ok_or_else(|| bad("auth is not a 16-byte secret".to_owned()))?;
    Ok(PushDevice {
        user,
        session,
        endpoint: endpoint.into(),
        p256dh,
        auth,
        previews: subscription.previews,
    })
}

/// What a push carries to the service worker (`sw.js` reads it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payload {
    pub conversation: natter_protocol::ConversationId,
    pub title: String,
    pub body: String,
}

/// One message's notification, with and without its text.
struct Notice {
    conversation: natter_protocol::ConversationId,
    title: String,
    quoting: String,
    quiet: String,
}

impl Notice {
    fn payload(&self, previews: bool) -> Vec<u8> {
        let payload = Payload {
            conversation: self.conversation,
            title: self.title.clone(),
            body: if previews { &self.quoting } else { &self.quiet }.clone(),
        };
        serde_json::to_vec(&payload).unwrap_or_default()
    }
}

/// What a notification about `message`, for `user`, says.
fn notice(conversation: &Conversation, message: &Message, user: UserId) -> Notice {
    let sender = conversation
        .members
        .iter()
        .find(|member| member.user.id == message.sender)
        .map_or("Someone", |member| member.user.shown_name());
    let group = conversation.group.as_ref().map(|group| group.name.as_str());
    let title = group.unwrap_or(sender).to_owned();
    let request = conversation
        .members
        .iter()
        .any(|member| member.user.id == user && member.pending);
    let quiet = if request {
        "New message request"
    } else {
        "New message"
    };
    let quoting = if request {
        quiet.to_owned()
    } else if group.is_some() {
        format!("{sender}: {}", preview::line(message))
    } else {
        preview::line(message)
    };
    Notice {
        conversation: conversation.id,
        title,
        quoting,
        quiet: quiet.to_owned(),
    }
}

struct Worker {
    service: Arc<PushService>,
    store: Arc<dyn Store>,
    presence: Arc<Presence>,
    blocks: Arc<BlockList>,
    in_flight: Arc<Semaphore>,
}

impl Worker {
    async fn run(self, mut waiting: mpsc::Receiver<Committed>) {
        while let Some(committed) = waiting.recv().await {
            // Names and who is a request: read once per message, when a
            // first recipient needs them.
            let mut conversation = None;
            for &user in &committed.recipients {
                match self
                    .devices_to_tell(&committed, &mut conversation, user)
                    .await
                {
                    Ok(Some((devices, notice))) => {
                        for device in devices {
                            let payload = notice.payload(device.previews);
                            self.push(device, payload).await;
                        }
                    }
                    Ok(None) => {}
                    Err(err) => tracing::warn!(user, error = %err, "cannot decide on a push"),
                }
            }
        }
    }

    /// The devices of `user` to push `committed` to, and what to say; none
    /// when they would see it anyway or do not want to hear of it.
    async fn devices_to_tell(
        &self,
        committed: &Committed,
        conversation: &mut Option<Conversation>,
        user: UserId,
    ) -> Result<Option<(Vec<PushDevice>, Notice)>, ChatError> {
        let message = &committed.message;
        if self.presence.on_screen(user) || self.blocks.blocks(user, message.sender).await? {
            return Ok(None);
        }
        let devices: Vec<PushDevice> = self
            .store
            .push_devices(user)
            .await?
            .into_iter()
            .filter(|device| !self.presence.connected(user, &device.session))
            .collect();
        if devices.is_empty() {
            return Ok(None);
        }
        if conversation.is_none() {
            let Some(reader) = committed.membership.reader(message.sender) else {
                return Ok(None);
            };
            *conversation = self
                .store
                .conversation(message.conversation, reader)
                .await?;
        }
        let Some(conversation) = conversation.as_ref() else {
            return Ok(None);
        };
        let now = crate::now_millis();
        let muted = self
            .store
            .mutes(user, now)
            .await?
            .iter()
            .any(|mute| mute.conversation == message.conversation);
        if muted {
            let username = conversation
                .members
                .iter()
                .find(|member| member.user.id == user)
                .map(|member| member.user.username.as_str());
            let mentioned = conversation.kind == ConversationKind::Group
                && username.is_some_and(|name| mentions(&message.body, name));
            if !mentioned {
                return Ok(None);
            }
        }
        Ok(Some((devices, notice(conversation, message, user))))
    }

    /// Sends one push in the background, a few at a time; forgets the
    /// device if its push service says it is gone.
    async fn push(&self, device: PushDevice, payload: Vec<u8>) {
        let Ok(permit) = self.in_flight.clone().acquire_owned().await else {
            return;
        };
        let service = self.service.clone();
        let store = self.store.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match service.send(&device, &payload).await {
                Ok(Delivery::Accepted) => {}
                Ok(Delivery::Gone) => {
                    if let Err(err) = store.drop_push_endpoint(&device.endpoint).await {
                        tracing::warn!(error = %err, "cannot forget a gone push subscription");
                    }
                }
                Ok(Delivery::Refused(status)) => {
                    tracing::info!(user = device.user, status, "a push service refused a push");
                }
                Err(err) => tracing::info!(user = device.user, error = %err, "push failed"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_protocol::{MediaKind, Member, Role, User};

    fn member(id: UserId, name: &str, pending: bool) -> Member {
        Member {
            user: User {
                id,
                username: name.to_owned(),
                display_name: None,
                avatar: None,
                deleted: false,
            },
            delivered: 0,
            read: 0,
            role: Role::Member,
            pending,
        }
    }

    fn conversation(group: Option<&str>, members: Vec<Member>) -> Conversation {
        Conversation {
            id: 3,
            kind: if group.is_some() {
                ConversationKind::Group
            } else {
                ConversationKind::Direct
            },
            members,
            last_message: None,
            last_seq: 1,
            created_at: 0,
            group: group.map(|name| natter_protocol::GroupInfo {
                name: name.to_owned(),
                picture: None,
                hashtag: None,
            }),
        }
    }

    fn message(body: &str) -> Message {
        Message {
            conversation: 3,
            seq: 1,
            sender: 1,
            body: body.to_owned(),
            ..Message::default()
        }
    }

    #[test]
    fn a_notice_names_the_sender_or_group_and_quotes_unless_told_not_to() {
        let direct = conversation(None, vec![member(1, "ann", false), member(2, "bob", false)]);
        let said = notice(&direct, &message("hi bob\nsecond line"), 2);
        assert_eq!(said.title, "ann");
        assert_eq!(said.quoting, "hi bob");
        assert_eq!(said.quiet, "New message");

        let group = conversation(
            Some("Climbing"),
            vec![member(1, "ann", false), member(2, "bob", false)],
        );
        let said = notice(&group, &message(&"x".repeat(100)), 2);
        assert_eq!(said.title, "Climbing");
        assert_eq!(
            said.quoting,
            format!("ann: {}…", "x".repeat(preview::LONGEST))
        );

        let request = conversation(None, vec![member(1, "ann", false), member(2, "bob", true)]);
        let said = notice(&request, &message("buy my stuff"), 2);
        assert_eq!(said.quoting, "New message request");
        assert_eq!(said.quiet, "New message request");
    }

    #[test]
    fn a_notice_says_what_a_message_carries() {
        let direct = conversation(None, vec![member(1, "ann", false), member(2, "bob", false)]);
        let mut voice = message("");
        voice.attachment = Some(natter_protocol::Attachment {
            id: "v".into(),
            kind: MediaKind::Voice,
            content_type: "audio/webm".into(),
            size: 1,
            width: None,
            height: None,
            duration_ms: Some(1000),
            waveform: Vec::new(),
            thumbnail: None,
        });
        assert_eq!(notice(&direct, &voice, 2).quoting, "🎤 Voice message");
    }
}
