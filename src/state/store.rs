//! [`ChatStore`]: the reactive handle on [`ChatState`] that components share
//! through context, the session's [`Host`], and the bridge to the device
//! cache: every change the state records is written to IndexedDB.
//!
//! A start reads the device's copy and shows it; what talks to the world
//! (the session, the other tabs, writing the copy, push) is [`ChatStore::live`],
//! which the release build keeps in a module of its own (`parts::live`),
//! fetched once the saved chats are on screen. Until it runs, changes wait
//! in memory, in order.

use std::collections::HashMap;
use std::rc::Rc;

use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::future::LocalBoxFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_protocol::{
    Action, ClientFrame, ConversationId, LinkPreview, Millis, Seq, ServerFrame, User, UserId,
    PROTOCOL_VERSION, TYPING_EVERY_MS, TYPING_SHOWN_MS,
};
use uuid::Uuid;

use super::{ChatState, Notice, OutboxNews, TabNews, Typing, Uploads};
use crate::cache::idb::IdbCache;
use crate::cache::{Batch, Cache, CacheError, FileKey};
use crate::model::search::SearchIndex;
use crate::model::Outgoing;
use crate::net::session::{now, Command, ConnectionStatus, End, Host};
use crate::net::tabs::TabChannel;

/// How many of each conversation's newest messages are read from the cache
/// at start-up.
const STARTUP_MESSAGES: u32 = 50;

/// Saves a batch: tells the other tabs, writes the device's copy.
type Saver = Rc<dyn Fn(Batch) -> LocalBoxFuture<'static, ()>>;

#[derive(Clone, Copy)]
pub struct ChatStore {
    pub state: RwSignal<ChatState>,
    pub status: RwSignal<ConnectionStatus>,
    /// Why this device is not keeping a copy of the chats, if it is not.
    pub cache_problem: RwSignal<Option<CacheError>>,
    pub uploads: Uploads,
    /// Who is typing where.
    pub typing: RwSignal<Typing>,
    /// What arriving frames brought that the user has not seen, once the
    /// first replay of this page is over: queued here, taken by the
    /// notifier.
    pub notices: RwSignal<Vec<Notice>>,
    /// Whether this page's first replay is over.
    live: StoredValue<bool>,
    /// Whether the live half runs (its module is here): what is about it,
    /// like the connection banner, waits for it.
    pub running: RwSignal<bool>,
    /// Whether this tab is on screen, as the UI last said.
    on_screen: StoredValue<bool>,
    /// A message to bring on screen in its conversation (a search result).
    pub jump: RwSignal<Option<(ConversationId, Seq)>>,
    /// Changes made while the device's copy was being opened (a
    /// conversation opened from a link, say), written on top of it once
    /// open; `None` once it is open, or could not be.
    early: StoredValue<Option<Batch>>,
    /// How changes are saved, once the live half runs.
    saver: StoredValue<Option<Saver>, LocalStorage>,
    /// Changes made since the copy opened that wait for the saver.
    unsaved: StoredValue<Batch>,
    /// The search index as last read from the cache; dropped whenever the
    /// cache changes.
    pub(super) search_index: StoredValue<Option<Rc<SearchIndex>>, LocalStorage>,
    /// When this device last said it was typing, per conversation.
    typing_sent: StoredValue<HashMap<ConversationId, Millis>>,
    pub(super) cache: StoredValue<Option<Rc<IdbCache>>, LocalStorage>,
    /// This account's other tabs in the browser.
    tabs: StoredValue<Option<TabChannel>, LocalStorage>,
    commands: StoredValue<UnboundedSender<Command>>,
}

impl ChatStore {
    /// A store for `me`, and the command stream its session must run on.
    pub fn new(me: User) -> (Self, UnboundedReceiver<Command>) {
        let (sender, receiver) = unbounded();
        let store = ChatStore {
            state: RwSignal::new(ChatState::new(me)),
            status: RwSignal::new(ConnectionStatus::Connecting {
                offline_since: None,
            }),
            cache_problem: RwSignal::new(None),
            uploads: Uploads::default(),
            typing: RwSignal::new(Typing::default()),
            notices: RwSignal::new(Vec::new()),
            live: StoredValue::new(false),
            running: RwSignal::new(false),
            on_screen: StoredValue::new(false),
            jump: RwSignal::new(None),
            early: StoredValue::new(Some(Batch::default())),
            saver: StoredValue::new_local(None),
            unsaved: StoredValue::new(Batch::default()),
            search_index: StoredValue::new_local(None),
            typing_sent: StoredValue::new(HashMap::new()),
            cache: StoredValue::new_local(None),
            tabs: StoredValue::new_local(None),
            commands: StoredValue::new(sender),
        };
        (store, receiver)
    }

    /// The chat's life on this device: the saved chats first, so they show
    /// before (or without) a connection; then the live half, until the
    /// session ends. If its module cannot be fetched (a new build replaced
    /// this one and the device kept no copy), the app must be reloaded.
    /// `owner` is the chat's: what the live half watches ends with it.
    pub async fn run(self, commands: UnboundedReceiver<Command>, owner: Owner) -> End {
        self.open_cache().await;
        crate::perf::mark("natter:cache-open");
        after_next_frame().await;
        match crate::parts::live(self, commands, owner).await {
            Ok(live) => live.await,
            Err(crate::parts::PartMissing) => End::Outdated,
        }
    }

    /// What talks to the world: saving (what waited first), the other tabs,
    /// notifications and this browser's push subscription, and the
    /// session, whose hello carries the saved cursors, until it ends.
    pub async fn live(self, commands: UnboundedReceiver<Command>, owner: Owner) -> End {
        crate::perf::mark("natter:live");
        self.running.set(true);
        self.start_saving();
        if let Some(cache) = self.cache.get_value() {
            self.step_aside_when_displaced(cache);
        }
        self.join_tabs();
        owner.with(|| crate::components::notifier::watch(self));
        crate::notify::keep_push_if_allowed();
        let url = crate::net::socket::default_url().unwrap_or_default();
        crate::net::session::run(url, crate::net::http::Api::same_origin(), self, commands).await
    }

    /// Opens this account's cache and shows what it holds. Without a cache
    /// the app still works, from the server alone, and says so.
    async fn open_cache(&self) {
        let me = self.state.with_untracked(|state| state.me.clone());
        let opened = match IdbCache::open(me.id).await {
            Ok(cache) => cache.load(STARTUP_MESSAGES).await.map(|s| (cache, s)),
            Err(err) => Err(err),
        };
        match opened {
            Ok((cache, snapshot)) => {
                let cache = Rc::new(cache);
                self.cache.set_value(Some(cache.clone()));
                let mut changes = Batch::default();
                let mut early = self
                    .early
                    .try_update_value(Option::take)
                    .flatten()
                    .unwrap_or_default();
                self.state.update(|state| {
                    // Anything done before the cache opened (rare: the list
                    // is empty until then) is kept on top of what was saved.
                    let mut restored = ChatState::from_snapshot(me.clone(), snapshot);
                    early.merge(state.take_changes());
                    restored.absorb(early);
                    *state = restored;
                    changes = state.take_changes();
                    changes.me = Some(me);
                });
                self.persist(changes);
            }
            Err(err) => {
                self.early.set_value(None);
                self.cache_problem.set(Some(err));
            }
        }
    }

    /// Listens to this account's other tabs: what they queue shows here at
    /// once, even offline; what the server acknowledged to them turns into
    /// sent messages here; and when one of them reconnects, this one tries
    /// at once too.
    fn join_tabs(&self) {
        let me = self.state.with_untracked(|state| state.me.id);
        let store = *self;
        let channel = TabChannel::open(&format!("natter-account-{me}"), move |text| {
            match serde_json::from_str::<TabNews>(&text) {
                Ok(TabNews::Outbox(news)) => store.update(|state| state.merge_outbox(news)),
                Ok(TabNews::Online) => {
                    let waiting = store.status.with_untracked(|status| {
                        matches!(status, ConnectionStatus::Offline { .. })
                    });
                    if waiting {
                        store.retry_now();
                    }
                }
                // From a tab running another build of the app.
                Err(_) => {}
            }
        });
        self.tabs.set_value(channel);
    }

    /// Tells the other tabs about outbox changes in `batch`.
    fn tell_tabs(&self, batch: &Batch) {
        if let Some(news) = OutboxNews::of(batch) {
            self.post_to_tabs(&TabNews::Outbox(news));
        }
    }

    fn post_to_tabs(&self, news: &TabNews) {
        if let Ok(text) = serde_json::to_string(news) {
            self.tabs.with_value(|tabs| {
                if let Some(tabs) = tabs {
                    tabs.post(&text);
                }
            });
        }
    }

    /// When another tab upgrades or deletes this account's database, lets go
    /// of it at once (so that tab is not blocked) and carries on without a
    /// cache, saying so.
    fn step_aside_when_displaced(&self, cache: Rc<IdbCache>) {
        let slot = self.cache;
        let problem = self.cache_problem;
        spawn_local(async move {
            cache.displaced().await;
            cache.close();
            // `None` when the chat has gone meanwhile (this tab deleted
            // the copy at logout): nobody is left to tell.
            let current = slot.try_get_value().flatten();
            if current.is_some_and(|current| Rc::ptr_eq(&current, &cache)) {
                slot.set_value(None);
                problem.set(Some(CacheError::Unavailable(
                    "another tab replaced or deleted the saved chats; reload to save again"
                        .to_owned(),
                )));
            }
        });
    }

    /// Saves `batch` in the background. Saves are applied in the order
    /// they are started.
    fn persist(&self, batch: Batch) {
        if batch.is_empty() {
            return;
        }
        if self.early.with_value(Option::is_some) {
            self.keep_early(batch);
            return;
        }
        match self.saver.get_value() {
            Some(save) => spawn_local(save(batch)),
            None => self.unsaved.update_value(|unsaved| unsaved.merge(batch)),
        }
    }

    /// Keeps `batch` for the device's copy while it is being opened.
    fn keep_early(&self, batch: Batch) {
        self.early.update_value(|early| {
            if let Some(early) = early {
                early.merge(batch);
            }
        });
    }

    /// From now on changes are saved, starting with those that waited.
    fn start_saving(&self) {
        let store = *self;
        let save: Saver = Rc::new(move |batch| Box::pin(async move { store.save(batch).await }));
        self.saver.set_value(Some(save));
        let waited = self
            .unsaved
            .try_update_value(std::mem::take)
            .unwrap_or_default();
        self.persist(waited);
    }

    /// Tells the other tabs about `batch`, writes it and waits until it is
    /// stored.
    async fn save(&self, batch: Batch) {
        if batch.is_empty() {
            return;
        }
        self.tell_tabs(&batch);
        if let Some(cache) = self.cache.get_value() {
            if let Err(err) = cache.write(&batch).await {
                self.cache_problem.set(Some(err));
            }
            // The next search reads the index as it is now.
            self.search_index.set_value(None);
        }
    }

    /// Changes the state and saves what changed.
    pub fn update(&self, change: impl FnOnce(&mut ChatState)) {
        let mut batch = Batch::default();
        self.state.update(|state| {
            change(state);
            batch = state.take_changes();
        });
        self.persist(batch);
    }

    /// Older messages of `conversation` saved on this device, before `before`.
    pub(super) async fn saved_history(
        &self,
        conversation: ConversationId,
        before: natter_protocol::Seq,
        limit: u32,
    ) -> Vec<natter_protocol::Message> {
        let Some(cache) = self.cache.get_value() else {
            return Vec::new();
        };
        match cache.messages_before(conversation, before, limit).await {
            Ok(page) => page,
            Err(err) => {
                self.cache_problem.set(Some(err));
                Vec::new()
            }
        }
    }

    /// Forgets `me`'s copy of the chats on this device (at logout, if
    /// asked). The chat may be gone by now (the server ended the session
    /// while it was being asked): then its copy is already closed.
    pub async fn delete_device_data(&self, me: UserId) -> Result<(), CacheError> {
        if let Some(cache) = self.cache.try_get_value().flatten() {
            self.cache.try_set_value(None);
            cache.close();
        }
        IdbCache::delete(me).await
    }

    /// The tab went on or off screen: the server is told, so that it
    /// pushes to this person's devices only while no tab of theirs shows.
    pub fn set_on_screen(&self, visible: bool) {
        if self.on_screen.get_value() != visible {
            self.on_screen.set_value(visible);
            self.command(Command::Send(ClientFrame::Visible { visible }));
        }
    }

    pub(super) fn command(&self, command: Command) {
        self.commands.with_value(|sender| {
            // The session is gone only when the chat view is being torn
            // down; there is nobody left to tell.
            let _ = sender.unbounded_send(command);
        });
    }

    /// Puts `conversation` on screen, or goes back to the list.
    pub fn open(&self, conversation: Option<ConversationId>) {
        self.update(|state| state.set_open(conversation));
    }

    /// Queues a message (saved on this device first) and sends it if
    /// connected, with the card of its link if the sender kept one.
    pub fn send_text(
        &self,
        conversation: ConversationId,
        body: String,
        reply_to: Option<Seq>,
        link_preview: Option<LinkPreview>,
    ) {
        let outgoing = Outgoing {
            client_id: Uuid::now_v7(),
            conversation,
            body,
            created_at: now(),
            failure: None,
            media: None,
            action: None,
            reply_to,
            link_preview: link_preview.map(Box::new),
        };
        let frame = frame_of(&outgoing);
        // The message ends "typing" on the other side: typing again must
        // say so at once.
        self.typing_sent.update_value(|sent| {
            sent.remove(&conversation);
        });
        self.update(|state| state.queue(outgoing));
        self.command(Command::Send(frame));
    }

    /// Tells the others that the user is typing in `conversation`, at most
    /// every [`TYPING_EVERY_MS`]. Only while connected: a stale "typing"
    /// is worse than none, so it is never queued.
    pub fn typing_in(&self, conversation: ConversationId) {
        let online = self
            .status
            .with_untracked(|status| matches!(status, ConnectionStatus::Online));
        let now = now();
        let due = self.typing_sent.with_value(|sent| {
            sent.get(&conversation)
                .is_none_or(|last| now - last >= TYPING_EVERY_MS as Millis)
        });
        if online && due {
            self.typing_sent.update_value(|sent| {
                sent.insert(conversation, now);
            });
            self.command(Command::Send(ClientFrame::Typing { conversation }));
        }
    }

    /// Takes in who is typing (and who stopped, by sending) from `frames`.
    fn note_typing(&self, frames: &[ServerFrame]) {
        let me = self.state.with_untracked(|state| state.me.id);
        let mut seen = false;
        for frame in frames {
            match frame {
                ServerFrame::Typing { conversation, user } => {
                    seen = true;
                    self.typing.update(|t| t.seen(*conversation, *user, now()));
                }
                // Only touch the signal when it changes: replays bring many
                // messages.
                ServerFrame::Message { message }
                    if message.sender != me
                        && self.typing.with_untracked(|t| {
                            t.who(message.conversation).contains(&message.sender)
                        }) =>
                {
                    self.typing
                        .update(|t| t.stopped(message.conversation, message.sender));
                }
                _ => {}
            }
        }
        if seen {
            let typing = self.typing;
            spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(TYPING_SHOWN_MS as u32).await;
                typing.try_update(|t| t.expire(now()));
            });
        }
    }

    /// Queues an action on a message (a reaction, an edit, a deletion); it
    /// goes through the outbox like a message, and shows at once.
    pub fn act(&self, conversation: ConversationId, action: Action) {
        let client_id = Uuid::now_v7();
        self.update(|state| state.queue_action(conversation, action, client_id, now()));
        self.send_outgoing(client_id);
    }

    /// Sends outbox entry `client_id` if connected — or, when its file is
    /// still to be uploaded, starts the uploads, which send it afterwards.
    pub(super) fn send_outgoing(&self, client_id: Uuid) {
        let next = self.state.with_untracked(|state| {
            state
                .outbox
                .iter()
                .find(|o| o.client_id == client_id)
                .map(|o| (o.awaits_upload(), frame_of(o)))
        });
        match next {
            Some((true, _)) => self.pump_uploads(),
            Some((false, frame)) => self.command(Command::Send(frame)),
            None => {}
        }
    }

    /// Tries a refused message again.
    pub fn retry(&self, client_id: Uuid) {
        self.update(|state| state.retry(client_id));
        self.send_outgoing(client_id);
    }

    /// Drops a message that was not sent, and its file if it has one.
    pub fn discard(&self, client_id: Uuid) {
        let had_file = self.state.with_untracked(|state| {
            state
                .outbox
                .iter()
                .any(|o| o.client_id == client_id && o.awaits_upload())
        });
        self.update(|state| state.discard(client_id));
        if had_file {
            let store = *self;
            spawn_local(async move { store.forget_file(&FileKey::Upload(client_id)).await });
        }
    }

    /// Marks `conversation` read if that moves the read cursor.
    pub fn mark_read(&self, conversation: ConversationId) {
        if !self
            .state
            .with_untracked(|state| state.wants_read_receipt(conversation))
        {
            return;
        }
        let mut receipt = None;
        self.state
            .update(|state| receipt = state.take_read_receipt(conversation));
        if let Some(receipt) = receipt {
            self.command(Command::Send(receipt));
        }
    }

    pub fn retry_now(&self) {
        self.command(Command::RetryNow);
    }

    pub fn probe(&self) {
        self.command(Command::Probe);
    }

    /// Ends the session and any upload under way (at logout, or when the
    /// chat is torn down).
    pub fn stop(&self) {
        self.uploads.abort();
        self.command(Command::Stop);
    }
}

/// Waits until the saved chats just put in the state are drawn, so that
/// the live half's files are asked for after the first screen, never
/// competing with it. A hidden tab gets no frames: then a short wait
/// stands in (which browsers stretch to about a second in the background,
/// so a tab opened behind others connects that much later).
async fn after_next_frame() {
    let (drawn, frame) = futures::channel::oneshot::channel();
    request_animation_frame(move || {
        let _ = drawn.send(());
    });
    let timeout = gloo_timers::future::TimeoutFuture::new(FRAME_WAIT_MS);
    futures::future::select(frame, timeout).await;
}

/// The longest wait for a frame before the live half is fetched anyway.
const FRAME_WAIT_MS: u32 = 100;

fn frame_of(outgoing: &Outgoing) -> ClientFrame {
    ClientFrame::Send {
        conversation: outgoing.conversation,
        client_id: outgoing.client_id,
        body: outgoing.body.clone(),
        attachment: outgoing
            .media
            .as_ref()
            .map(|media| Box::new(media.attachment().clone())),
        reply_to: outgoing.reply_to,
        action: outgoing.action.clone(),
        link_preview: outgoing.link_preview.clone(),
    }
}

impl Host for ChatStore {
    fn hello(&self) -> ClientFrame {
        ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            cursors: self.state.with_untracked(ChatState::cursors),
        }
    }

    fn on_screen(&self) -> bool {
        self.on_screen.get_value()
    }

    fn outbox(&self) -> Vec<ClientFrame> {
        self.state
            .with_untracked(|state| state.sendable().map(frame_of).collect())
    }

    /// Applies the frames and saves what changed before answering: a
    /// delivery receipt means "stored on this device".
    async fn receive(&self, frames: Vec<ServerFrame>) -> Vec<ClientFrame> {
        self.note_typing(&frames);
        // What comes after this page's first `synced` is live; what it
        // replays, the list already shows.
        let synced = frames
            .iter()
            .position(|frame| matches!(frame, ServerFrame::Synced));
        let live_from = match (self.live.get_value(), synced) {
            (true, _) => 0,
            (false, Some(synced)) => synced + 1,
            (false, None) => frames.len(),
        };
        if synced.is_some() {
            self.live.set_value(true);
        }
        let mut batch = Batch::default();
        let mut notices = Vec::new();
        self.state.update(|state| {
            for frame in &frames {
                state.apply(frame);
            }
            batch = state.take_changes();
            notices = state.notices(&frames[live_from..], now());
        });
        if !notices.is_empty() {
            // Queued until the notifier takes them: batches may come
            // faster than it runs.
            self.notices.update(|queued| queued.extend(notices));
        }
        self.keep_voice(&batch.messages);
        self.save(batch).await;
        let mut replies = Vec::new();
        self.state
            .update_untracked(|state| replies = state.take_delivery_receipts());
        replies
    }

    fn status(&self, status: ConnectionStatus) {
        let online = matches!(status, ConnectionStatus::Online);
        let was_online = self
            .status
            .with_untracked(|status| matches!(status, ConnectionStatus::Online));
        self.status.set(status);
        if online && !was_online {
            self.post_to_tabs(&TabNews::Online);
            self.connected();
        }
    }
}
