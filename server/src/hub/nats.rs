//! The hub of a cluster: each node delivers to its own devices, and rings
//! the other nodes' doorbells over NATS (core pub/sub: nothing is kept).
//!
//! What crosses NATS is small. A message is its conversation, its seq and
//! the users to tell: a node with a device of one of them reads it from the
//! database, once, and delivers it as if it had committed it. Receipts,
//! typing notices, profiles and group changes go whole (they are a few
//! hundred bytes, and typing exists nowhere else); so do ended sessions.
//!
//! NATS may lose doorbells (it restarts, a node's connection drops, a node
//! reads too slowly). Each node numbers what it publishes, and says its
//! latest number every second even when it has nothing to say (so that the
//! last doorbells before a quiet spell are missed for a second at most); a
//! node that sees a number skipped, or gets its connection back, tells every device it
//! serves to read all its conversations back from its cursors, as a device
//! whose own queue overflowed does for the conversations it lost. The
//! database stays the only source of truth.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use futures_util::StreamExt;
use natter_protocol::{ConversationId, Seq, UserId};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{Cached, Device, Ending, Event, Forget, FrameKind, Hub, LocalHub};
use crate::metrics::METRICS;
use crate::store::Store;

/// Where every node publishes, and listens.
const SUBJECT: &str = "natter.hub";
/// Doorbells waiting for the NATS client. Past this one is dropped, and the
/// next one skips a number so that the other nodes read everything back.
const OUTBOX: usize = 65_536;
/// How often a node says its latest number.
const BEAT: std::time::Duration = std::time::Duration::from_secs(1);
/// Messages read from the database at once for other nodes' doorbells
/// (delivered in the order they were heard).
const READS: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: async_nats::ConnectError,
    },
    #[error("cannot subscribe to NATS: {0}")]
    Subscribe(#[from] async_nats::SubscribeError),
}

/// What one node tells the others.
#[derive(Debug, Serialize, Deserialize)]
struct Doorbell {
    /// The node that published it.
    node: u64,
    /// Its number among that node's doorbells: 1, 2, 3…
    n: u64,
    /// Who should hear of it.
    users: Vec<UserId>,
    ring: Ring,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Ring {
    /// A committed message: read it from the database (by its sender's
    /// client id: one index lookup, and a new message has no reactions to
    /// read).
    Message {
        conversation: ConversationId,
        seq: Seq,
        sender: UserId,
        client_id: uuid::Uuid,
    },
    Frame {
        conversation: ConversationId,
        kind: FrameKind,
        frame: String,
    },
    Ended(Ending),
    /// Something nodes cache changed: forget it.
    Changed(Cached),
    /// Nothing: `n` is the node's latest number, not a new one.
    Beat,
}

pub struct NatsHub {
    local: Arc<LocalHub>,
    node: u64,
    outbox: mpsc::Sender<Doorbell>,
    /// A doorbell could not be queued: the next one skips a number.
    lost: Arc<AtomicBool>,
    client: async_nats::Client,
    /// What to do when another node changed something this one caches.
    forget: Arc<OnceLock<Forget>>,
}

impl NatsHub {
    /// Connects node `node` to the NATS server at `url`. Without NATS the
    /// node starts anyway, serves its own devices, and keeps trying.
    pub async fn connect(url: &str, node: u64, store: Arc<dyn Store>) -> Result<Self, NatsError> {
        let local = Arc::new(LocalHub::default());
        let forget: Arc<OnceLock<Forget>> = Arc::new(OnceLock::new());
        let gap = Gap {
            local: local.clone(),
            forget: forget.clone(),
        };
        let on_event = gap.clone();
        let client = async_nats::ConnectOptions::new()
            .name(format!("natter-{node:016x}"))
            .retry_on_initial_connect()
            .event_callback(move |event| {
                let gap = on_event.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            tracing::info!("connected to NATS; devices read back what they missed");
                            gap.close();
                        }
                        async_nats::Event::Disconnected => {
                            tracing::warn!("lost NATS; other nodes' news waits until it is back");
                        }
                        other => tracing::warn!(event = %other, "NATS"),
                    }
                }
            })
            .connect(url)
            .await
            .map_err(|source| NatsError::Connect {
                url: url.to_owned(),
                source,
            })?;
        let subscriber = client.subscribe(SUBJECT).await?;
        let (outbox, queued) = mpsc::channel(OUTBOX);
        let lost = Arc::new(AtomicBool::new(false));
        tokio::spawn(ring(client.clone(), queued, lost.clone(), node));
        tokio::spawn(listen(subscriber, node, gap, store));
        Ok(NatsHub {
            local,
            node,
            outbox,
            lost,
            client,
            forget,
        })
    }
}

impl Hub for NatsHub {
    fn publish(&self, users: &[UserId], event: Event) {
        let ring = match &event {
            Event::Message { message, .. } => Ring::Message {
                conversation: message.conversation,
                seq: message.seq,
                sender: message.sender,
                client_id: message.client_id,
            },
            Event::Frame {
                conversation,
                frame,
                kind,
            } => Ring::Frame {
                conversation: *conversation,
                kind: *kind,
                frame: frame.as_str().to_owned(),
            },
            Event::SessionEnded(ending) => Ring::Ended(*ending),
        };
        self.local.publish(users, event);
        self.ring(users.to_vec(), ring);
    }

    fn subscribe(&self, user: UserId) -> Device {
        self.local.subscribe(user)
    }

    fn is_ready(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    fn changed(&self, what: Cached) {
        self.ring(Vec::new(), Ring::Changed(what));
    }

    fn on_changed(&self, forget: Forget) {
        if self.forget.set(forget).is_err() {
            tracing::error!("a second cache was wired to the hub; it is ignored");
        }
    }
}

impl NatsHub {
    /// Queues a doorbell for the other nodes.
    fn ring(&self, users: Vec<UserId>, ring: Ring) {
        let doorbell = Doorbell {
            node: self.node,
            n: 0,
            users,
            ring,
        };
        if self.outbox.try_send(doorbell).is_err() {
            self.lost.store(true, Ordering::Relaxed);
        }
    }
}

/// What a node does when it may have missed doorbells: its devices read
/// their conversations back, and its caches start again.
#[derive(Clone)]
struct Gap {
    local: Arc<LocalHub>,
    forget: Arc<OnceLock<Forget>>,
}

impl Gap {
    fn close(&self) {
        METRICS.nats_gaps.inc();
        if let Some(forget) = self.forget.get() {
            forget(None);
        }
        self.local.resync_all();
    }

    fn forget(&self, what: Cached) {
        if let Some(forget) = self.forget.get() {
            forget(Some(what));
        }
    }
}

/// Numbers and publishes this node's doorbells, in the order they were
/// queued.
async fn ring(
    client: async_nats::Client,
    mut queued: mpsc::Receiver<Doorbell>,
    lost: Arc<AtomicBool>,
    node: u64,
) {
    let mut n = 0;
    let mut beat = tokio::time::interval(BEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let mut doorbell = tokio::select! {
            queued = queued.recv() => match queued {
                Some(doorbell) => doorbell,
                None => return,
            },
            _ = beat.tick() => Doorbell {
                node,
                n: 0,
                users: Vec::new(),
                ring: Ring::Beat,
            },
        };
        if !matches!(doorbell.ring, Ring::Beat) {
            n += 1;
        }
        if lost.swap(false, Ordering::Relaxed) {
            tracing::warn!("NATS doorbells were dropped; other nodes will read back");
            n += 1;
        }
        doorbell.n = n;
        let Ok(payload) = serde_json::to_vec(&Stamped::now(&doorbell)) else {
            continue;
        };
        match client.publish(SUBJECT, payload.into()).await {
            Ok(()) => {
                METRICS.nats_published.inc();
            }
            Err(err) => {
                tracing::warn!(error = %err, "a NATS publish failed; other nodes will read back");
                n += 1;
            }
        }
    }
}

/// A doorbell with the time it was published, for the lag metric.
#[derive(Serialize, Deserialize)]
struct Stamped<D> {
    at: i64,
    doorbell: D,
}

impl<'a> Stamped<&'a Doorbell> {
    fn now(doorbell: &'a Doorbell) -> Self {
        Stamped {
            at: crate::now_millis(),
            doorbell,
        }
    }
}

/// Hears the other nodes' doorbells and delivers to the devices here.
async fn listen(subscriber: async_nats::Subscriber, node: u64, gap: Gap, store: Arc<dyn Store>) {
    let mut heard: HashMap<u64, u64> = HashMap::new();
    let local = gap.local.clone();
    let wanted = subscriber.filter_map(move |message| {
        let wanted = match serde_json::from_slice::<Stamped<Doorbell>>(&message.payload) {
            Ok(Stamped { at, doorbell }) if doorbell.node != node => {
                METRICS.nats_heard.inc();
                let lag = crate::now_millis().saturating_sub(at).max(0);
                METRICS.nats_lag_seconds.set(lag as f64 / 1000.0);
                let previous = heard.insert(doorbell.node, doorbell.n);
                let missing = match doorbell.ring {
                    Ring::Beat => previous.is_some_and(|previous| doorbell.n > previous),
                    _ => previous.is_some_and(|previous| doorbell.n != previous + 1),
                };
                if missing {
                    tracing::warn!(from = doorbell.node, "NATS doorbells missing; reading back");
                    gap.close();
                }
                match doorbell.ring {
                    Ring::Changed(what) => {
                        gap.forget(what);
                        None
                    }
                    Ring::Beat => None,
                    _ => gap.local.has_any(&doorbell.users).then_some(doorbell),
                }
            }
            Ok(_) => None,
            Err(err) => {
                tracing::warn!(error = %err, "an unreadable NATS doorbell");
                None
            }
        };
        std::future::ready(wanted)
    });
    let mut deliveries = wanted
        .map(|doorbell| {
            let (store, local) = (store.clone(), local.clone());
            async move {
                let event = match doorbell.ring {
                    Ring::Message {
                        conversation,
                        seq,
                        sender,
                        client_id,
                    } => {
                        match store.message_by_client_id(sender, client_id).await {
                            Ok(Some(message))
                                if message.conversation == conversation && message.seq == seq =>
                            {
                                Event::message(Arc::new(message), None)
                            }
                            // Erased since (a closed group): nothing to tell.
                            Ok(_) => return None,
                            Err(err) => {
                                tracing::warn!(error = %err, "reading a doorbell's message failed");
                                local.resync_all();
                                return None;
                            }
                        }
                    }
                    Ring::Frame {
                        conversation,
                        kind,
                        frame,
                    } => Event::Frame {
                        conversation,
                        frame: frame.into(),
                        kind,
                    },
                    Ring::Ended(ending) => Event::SessionEnded(ending),
                    Ring::Changed(_) | Ring::Beat => return None,
                };
                Some((doorbell.users, event))
            }
        })
        .buffered(READS);
    while let Some(delivery) = deliveries.next().await {
        if let Some((users, event)) = delivery {
            local.publish(&users, event);
        }
    }
}
