//! The application layer: what people can do, each use case in one file,
//! written once for every transport and every backend.
//!
//! A use case validates its input, applies the rules (who may do what),
//! asks the [`Store`] for what it needs (writes that take a place in a
//! conversation's order go through the [`pipeline`]), decides who hears of
//! it, publishes to the [`Hub`] and cleans up after itself. HTTP and
//! WebSocket only parse, call a use case and answer; each maps
//! [`ChatError`] once.
//!
//! # Layout
//! - [`send`]: messages, media, replies and actions; [`send::may_send`] is
//!   where "who may send to this conversation" is decided.
//! - [`receipt`], [`typing`]: delivery and read cursors; typing notices.
//! - [`blocking`]: who blocks whom, and what that keeps apart.
//! - [`muting`]: conversations whose notifications a member silenced.
//! - [`push`]: Web Push subscriptions, and whom a new message is pushed to.
//! - [`requests`]: message requests, until accepted.
//! - [`report`], [`moderation`]: reports by people, and what moderators
//!   do about them (suspensions, deletions).
//! - [`direct`]: finding people, starting a 1:1 conversation.
//! - [`groups`]: creating and changing groups, with their admin rules.
//! - [`reading`]: the conversations and history a member may read.
//! - [`media`]: who may upload to a conversation and fetch its files.
//! - [`account`], [`logout`], [`profile`]: signing up and logging in,
//!   logging out, the display name and avatar; [`lifecycle`]: deleting an
//!   account, and exporting its data.
//! - [`pipeline`]: the batched, ordered write path.
//! - [`roster`]: memberships in memory.
//! - [`error`]: [`ChatError`], in people's words.

pub mod account;
pub mod blocking;
pub mod direct;
pub mod error;
pub mod groups;
pub mod lifecycle;
pub mod logout;
pub mod media;
pub mod moderation;
pub mod muting;
pub mod pipeline;
pub mod profile;
pub mod push;
pub mod reading;
pub mod receipt;
pub mod report;
pub mod requests;
pub mod roster;
pub mod send;
pub mod typing;

use std::sync::Arc;

use natter_protocol::{ConversationId, UserId};

use self::blocking::BlockList;
pub use self::error::ChatError;
use self::pipeline::Pipeline;
use self::roster::Roster;
use crate::hashing::Hashing;
use crate::hub::{Cached, Hub};
use crate::media::MediaStorage;
use crate::presence::Presence;
use crate::push::PushService;
use crate::store::{Membership, Store};
use crate::throttle::Throttle;

/// Every use case, over the backends the server was started with. Cheap
/// to clone.
#[derive(Clone)]
pub struct Chat {
    store: Arc<dyn Store>,
    hub: Arc<dyn Hub>,
    media: Arc<dyn MediaStorage>,
    roster: Arc<Roster>,
    blocks: Arc<BlockList>,
    /// Who has a tab connected, and on screen.
    presence: Arc<Presence>,
    /// Web Push, when the server sends it.
    push: Option<Arc<push::Pusher>>,
    pipeline: Pipeline,
    throttle: Arc<Throttle>,
    hashing: Arc<Hashing>,
    /// Bytes one account may upload a day.
    upload_quota: u64,
}

/// Web Push as the server starts it: its service, and everyone the store
/// has a subscribed device for.
pub struct PushSetup {
    pub service: PushService,
    pub subscribed: Vec<UserId>,
}

/// What an account or an address may do, as configured.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub sign_ups_per_hour: u32,
    pub upload_quota_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            sign_ups_per_hour: Throttle::SIGN_UPS,
            upload_quota_bytes: 1_000_000_000,
        }
    }
}

impl Chat {
    /// Starts the write pipeline (so this must run inside a tokio runtime),
    /// with the default limits.
    /// No Web Push.
    pub fn new(store: Arc<dyn Store>, hub: Arc<dyn Hub>, media: Arc<dyn MediaStorage>) -> Self {
        Self::with_limits(store, hub, media, Limits::default(), None)
    }

    /// The same, with limits of its own, and Web Push if set up.
    pub fn with_limits(
        store: Arc<dyn Store>,
        hub: Arc<dyn Hub>,
        media: Arc<dyn MediaStorage>,
        limits: Limits,
        push: Option<PushSetup>,
    ) -> Self {
        let roster = Arc::new(Roster::new(store.clone(), hub.clone()));
        let presence = Arc::new(Presence::default());
        let blocks = Arc::new(BlockList::new(store.clone(), hub.clone()));
        // What other nodes of a cluster change, this one reads again.
        let (forget_roster, forget_blocks) = (roster.clone(), blocks.clone());
        hub.on_changed(Arc::new(move |what| match what {
            Some(Cached::Membership(id)) => forget_roster.forget(id),
            Some(Cached::Blocks(user)) => forget_blocks.forget_user(user),
            None => {
                forget_roster.clear();
                forget_blocks.clear();
            }
        }));
        let push = push.map(|setup| {
            push::Pusher::start(
                Arc::new(setup.service),
                store.clone(),
                presence.clone(),
                blocks.clone(),
                setup.subscribed,
            )
        });
        let pipeline = Pipeline::start(
            store.clone(),
            hub.clone(),
            roster.clone(),
            media.clone(),
            push.clone(),
        );
        Chat {
            presence,
            push,
            blocks,
            store,
            hub,
            media,
            roster,
            pipeline,
            throttle: Arc::new(Throttle::new(limits.sign_ups_per_hour)),
            hashing: Arc::new(Hashing::default()),
            upload_quota: limits.upload_quota_bytes,
        }
    }

    /// Resolves once every write queued so far is committed.
    pub async fn settle(&self) {
        if let Ok(ticket) = self.pipeline.queue(pipeline::Work::Settle).await {
            let _ = ticket.await;
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn hub(&self) -> &Arc<dyn Hub> {
        &self.hub
    }

    pub fn presence(&self) -> &Arc<Presence> {
        &self.presence
    }

    pub fn media_storage(&self) -> &Arc<dyn MediaStorage> {
        &self.media
    }

    /// The membership of a conversation `user` is in; otherwise
    /// [`ChatError::NotAMember`], whether or not it exists. Memberships
    /// are nearly always cached; reading one is boxed, so that the many
    /// callers' states stay small.
    async fn member_of(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<Arc<Membership>, ChatError> {
        let membership = match self.roster.cached(conversation) {
            Some(membership) => Some(membership),
            None => Box::pin(self.roster.reload(conversation)).await?,
        };
        membership
            .filter(|membership| membership.includes(user))
            .ok_or(ChatError::NotAMember)
    }
}
