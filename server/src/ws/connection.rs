//! One device's WebSocket session: `hello`, replay, then live traffic. A
//! transport only: frames are parsed and handed to [`Chat`]; its answers
//! and the hub's events are written back.
//!
//! The loop is generic over the socket's `Sink` and `Stream`, so it does
//! not care whether axum or a test harness provides them.
//!
//! Sends are pipelined: a frame is checked and queued, and the next one is
//! read without waiting for the commit; acks go out in the order the sends
//! came, as their commits complete. Frames are fed to the socket and
//! flushed once per turn of the loop, so a burst costs one write.
//!
//! Delivery bookkeeping: `cursors` holds, per conversation, the highest seq
//! this device has been sent. A live message right after the cursor goes
//! out as is; one further ahead means something was skipped, and the gap is
//! read from the store first; one at or below it is a duplicate and
//! dropped. A device whose queue overflowed is told which conversations it
//! lost events of, and reads just those back: it is resynced, never
//! dropped.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes};
use futures_util::stream::FuturesOrdered;
use futures_util::{FutureExt, Sink, SinkExt, Stream, StreamExt};
use natter_protocol::limits::MAX_FRAME_BYTES;
use natter_protocol::{
    close, ClientFrame, Conversation, ConversationId, Cursor, ErrorCode, LinkPreview, Seq,
    ServerFrame, User, UserId, PROTOCOL_VERSION, TYPING_EVERY_MS,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::chat::pipeline::Committed;
use crate::chat::send::{Draft, Sent};
use crate::chat::{Chat, ChatError};
use crate::fair::FairUse;
use crate::hub::{serialise, Device, Event, FrameKind};
use crate::links::picture::Pictures;
use crate::links::Previews;
use crate::metrics::METRICS;
use crate::now_millis;
use crate::presence::Here;

/// How long a new socket may take to say `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(15);
/// How often the server pings; browsers answer pings by themselves.
const PING_EVERY: Duration = Duration::from_secs(20);
/// Silence after which the peer is taken for dead.
const IDLE_LIMIT: Duration = Duration::from_secs(60);
/// Messages per store read while replaying.
const REPLAY_PAGE: u32 = 500;
/// Sends and receipts one socket may have waiting for their commit; past
/// it, the socket is not read until some are answered.
const WINDOW: usize = 256;
/// Hub events written per turn of the loop, so that acks are not held up
/// behind a flood.
const EVENTS_PER_TURN: usize = 512;

/// Why the loop ended, and so how the socket closes.
enum End {
    /// The peer closed, or the socket failed: nothing left to say.
    Gone,
    Close(u16, &'static str),
}

#[derive(Debug, thiserror::Error)]
enum ConnError {
    #[error("socket: {0}")]
    Socket(#[from] axum::Error),
    /// A write did not complete in time: the client stopped reading.
    #[error("the client stopped reading")]
    Stalled,
    #[error("{0}")]
    Chat(#[from] ChatError),
}

/// What a device's connection needs besides its socket.
pub struct Session {
    /// Its place under the socket caps, given back when it ends.
    pub seat: super::caps::Seat,
    pub chat: Chat,
    pub user: User,
    pub token_hash: [u8; 32],
    /// Paces its frames, with the account's other sockets and the
    /// address's.
    pub fair: Arc<FairUse>,
    /// Where the pictures of link cards are kept.
    pub previews: Arc<Previews>,
    pub address: IpAddr,
    /// How long one write may take before the socket is dropped.
    pub send_timeout: Duration,
    pub shutdown: CancellationToken,
}

pub async fn serve<S>(socket: S, session: Session)
where
    S: Stream<Item = Result<WsMessage, axum::Error>>
        + Sink<WsMessage, Error = axum::Error>
        + Unpin
        + Send,
{
    let Session {
        seat: _seat,
        chat,
        user,
        token_hash,
        fair,
        previews,
        address,
        send_timeout,
        shutdown,
    } = session;
    let device = chat.hub().subscribe(user.id);
    let here = chat.presence().arrive(user.id, device.id, token_hash);
    let _open = Open::count();
    let mut conn = Connection {
        socket,
        device,
        here,
        chat,
        user: user.id,
        token_hash,
        cursors: BTreeMap::new(),
        pending: FuturesOrdered::new(),
        fair,
        previews,
        address,
        typing: HashMap::new(),
        unflushed: false,
        send_timeout,
    };
    let end = match conn.run(user, shutdown).await {
        Ok(end) => end,
        Err(ConnError::Stalled) => {
            tracing::info!(user = conn.user, "dropped a socket that stopped reading");
            End::Gone
        }
        Err(err) => {
            tracing::warn!(user = conn.user, error = %err, "connection failed");
            End::Close(1011, "server error")
        }
    };
    if let End::Close(code, reason) = end {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        // The peer may already be gone, or not reading: there is nobody to
        // tell then.
        let close = conn.socket.send(WsMessage::Close(Some(frame)));
        let _ = tokio::time::timeout(send_timeout, close).await;
    }
}

/// This socket among the node's open ones (`/metrics`), while it lives.
struct Open;

impl Open {
    fn count() -> Self {
        METRICS.sockets.inc();
        Open
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        METRICS.sockets.dec();
    }
}

/// A send or receipt waiting for its commit, or a typing notice waiting
/// for the sends read before it.
enum Waiting {
    Sent {
        client_id: Uuid,
        ack: Committed<Sent>,
        /// When the send was read.
        since: std::time::Instant,
    },
    Receipt(Committed<()>),
    /// Relayed once the sends before it are published, so that the others
    /// never hear "typing" before the message it follows (which ends it).
    Typing(ConversationId),
}

/// What a commit came to.
enum Answer {
    Sent {
        client_id: Uuid,
        result: Result<Sent, ChatError>,
        since: std::time::Instant,
    },
    Receipt(Result<(), ChatError>),
    Typing(ConversationId),
}

impl Future for Waiting {
    type Output = Answer;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Answer> {
        match self.get_mut() {
            Waiting::Sent {
                client_id,
                ack,
                since,
            } => Pin::new(ack).poll(cx).map(|result| Answer::Sent {
                client_id: *client_id,
                result,
                since: *since,
            }),
            Waiting::Receipt(stored) => Pin::new(stored).poll(cx).map(Answer::Receipt),
            Waiting::Typing(conversation) => Poll::Ready(Answer::Typing(*conversation)),
        }
    }
}

/// What to do with one event from the hub.
enum Route {
    Write(Utf8Bytes),
    /// Nothing to write (a duplicate, or this device's own message).
    Skip,
    /// A conversation this device has not heard of: introduce it.
    Introduce(ConversationId, Seq),
    /// The event is ahead of what this device has: read the gap back.
    Gap(ConversationId, Seq),
}

struct Connection<S> {
    socket: S,
    chat: Chat,
    /// Subscribed before replaying, so that nothing committed during the
    /// replay is missed; duplicates are dropped by the cursors.
    device: Device,
    /// This tab in the server's presence, and whether it is on screen.
    here: Here,
    user: UserId,
    token_hash: [u8; 32],
    /// Per conversation, the highest seq this device has been sent. A
    /// B-tree: small, and no hashing on every delivery.
    cursors: BTreeMap<ConversationId, Seq>,
    pending: FuturesOrdered<Waiting>,
    fair: Arc<FairUse>,
    previews: Arc<Previews>,
    address: IpAddr,
    /// When this device last had a `typing` relayed, per conversation.
    typing: HashMap<ConversationId, tokio::time::Instant>,
    /// Frames have been fed to the socket since the last flush.
    unflushed: bool,
    /// How long one write may take: a client that stops reading is dropped
    /// rather than holding its task (and shutdown) forever. It resyncs when
    /// it reconnects.
    send_timeout: Duration,
}

/// `card` with its picture only if this server made that picture:
/// readers load it from Natter, so an id the sender made up must not send
/// them looking for something else.
async fn own_picture(previews: &Previews, mut card: Box<LinkPreview>) -> Box<LinkPreview> {
    if let Some(image) = &card.image {
        // A malformed id is left for the send's checks to refuse.
        if Pictures::is_id(&image.id) && !previews.pictures().has(&image.id).await {
            card.image = None;
        }
    }
    card
}

/// What a received socket message amounts to.
enum Inbound {
    Frame(ClientFrame),
    /// Not a frame we can act on; the error has been sent.
    Refused,
    /// Control traffic (pings, pongs).
    Control,
    End(End),
}

impl<S> Connection<S>
where
    S: Stream<Item = Result<WsMessage, axum::Error>>
        + Sink<WsMessage, Error = axum::Error>
        + Unpin
        + Send,
{
    async fn run(&mut self, user: User, shutdown: CancellationToken) -> Result<End, ConnError> {
        let cursors = match self.await_hello().await? {
            Ok(cursors) => cursors,
            Err(end) => return Ok(end),
        };
        self.send(&ServerFrame::Welcome {
            version: PROTOCOL_VERSION,
            user,
        })
        .await?;
        self.cursors = cursors
            .into_iter()
            .map(|cursor| (cursor.conversation, cursor.seq))
            .collect();
        Box::pin(self.resync()).await?;
        self.send(&ServerFrame::Synced).await?;
        self.flush().await?;

        let mut ping = tokio::time::interval(PING_EVERY);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_heard = tokio::time::Instant::now();
        loop {
            let turn = tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    return Ok(End::Close(close::GOING_AWAY, "server restarting"));
                }
                Some(answer) = self.pending.next(), if !self.pending.is_empty() => {
                    self.answer(answer).await?;
                    // Every other commit already done goes in the same write.
                    while let Some(Some(answer)) = self.pending.next().now_or_never() {
                        self.answer(answer).await?;
                    }
                    None
                }
                () = self.device.queue.ready() => self.deliver().await?,
                inbound = self.socket.next(), if self.pending.len() < WINDOW => {
                    last_heard = tokio::time::Instant::now();
                    match self.classify(inbound).await? {
                        Inbound::Frame(frame) => self.handle(frame).await?,
                        Inbound::Refused | Inbound::Control => None,
                        Inbound::End(end) => Some(end),
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > IDLE_LIMIT {
                        return Ok(End::Gone);
                    }
                    let ping = self.socket.feed(WsMessage::Ping(Default::default()));
                    tokio::time::timeout(self.send_timeout, ping)
                        .await
                        .map_err(|_| ConnError::Stalled)??;
                    self.unflushed = true;
                    None
                }
                // Written frames wait until nothing else is ready, after
                // letting the other tasks run once: under load more acks and
                // messages join them, and a burst leaves in one write.
                // (tungstenite writes on its own past WRITE_BUFFER.)
                () = tokio::task::yield_now(), if self.unflushed => {
                    self.flush().await?;
                    None
                }
            };
            if let Some(end) = turn {
                self.flush().await?;
                return Ok(end);
            }
        }
    }

    /// Waits for `hello`. Anything else gets an error frame, and the wait
    /// goes on.
    async fn await_hello(&mut self) -> Result<Result<Vec<Cursor>, End>, ConnError> {
        let deadline = tokio::time::Instant::now() + HELLO_TIMEOUT;
        loop {
            let inbound = match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Ok(inbound) => inbound,
                Err(_) => return Ok(Err(End::Close(close::PROTOCOL_ERROR, "no hello"))),
            };
            match self.classify(inbound).await? {
                Inbound::Frame(ClientFrame::Hello { version, cursors }) => {
                    if version != PROTOCOL_VERSION {
                        self.send(&ServerFrame::error(
                            ErrorCode::UnsupportedVersion,
                            format!(
                                "This server speaks protocol version {PROTOCOL_VERSION}, \
                                 not {version}. Reload the app to update it."
                            ),
                        ))
                        .await?;
                        return Ok(Err(End::Close(
                            close::UNSUPPORTED_VERSION,
                            "unsupported protocol version",
                        )));
                    }
                    return Ok(Ok(cursors));
                }
                Inbound::Frame(_) => {
                    self.send(&ServerFrame::error(
                        ErrorCode::UnexpectedFrame,
                        "The first frame must be hello.",
                    ))
                    .await?;
                    self.flush().await?;
                }
                Inbound::Refused | Inbound::Control => self.flush().await?,
                Inbound::End(end) => return Ok(Err(end)),
            }
        }
    }

    /// Turns a socket message into a frame, refusing what is too big,
    /// malformed or too frequent.
    async fn classify(
        &mut self,
        inbound: Option<Result<WsMessage, axum::Error>>,
    ) -> Result<Inbound, ConnError> {
        let text = match inbound {
            None | Some(Err(_)) | Some(Ok(WsMessage::Close(_))) => {
                return Ok(Inbound::End(End::Gone))
            }
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => return Ok(Inbound::Control),
            Some(Ok(WsMessage::Binary(bytes))) => {
                if bytes.len() > MAX_FRAME_BYTES {
                    return Ok(Inbound::End(End::Close(close::TOO_BIG, "frame too large")));
                }
                self.send(&ServerFrame::error(
                    ErrorCode::MalformedFrame,
                    "Binary frames are not supported; send JSON text frames.",
                ))
                .await?;
                return Ok(Inbound::Refused);
            }
            Some(Ok(WsMessage::Text(text))) => text,
        };
        if text.len() > MAX_FRAME_BYTES {
            return Ok(Inbound::End(End::Close(close::TOO_BIG, "frame too large")));
        }
        let frame = match serde_json::from_str::<ClientFrame>(text.as_str()) {
            Ok(frame) => frame,
            Err(err) => {
                self.send(&ServerFrame::error(
                    ErrorCode::MalformedFrame,
                    format!("Could not read that frame: {err}"),
                ))
                .await?;
                return Ok(Inbound::Refused);
            }
        };
        self.fair.pace_frame(self.user, self.address).await;
        Ok(Inbound::Frame(frame))
    }

    async fn handle(&mut self, frame: ClientFrame) -> Result<Option<End>, ConnError> {
        match frame {
            ClientFrame::Hello { .. } => {
                self.send(&ServerFrame::error(
                    ErrorCode::UnexpectedFrame,
                    "hello was already received on this connection.",
                ))
                .await?;
            }
            ClientFrame::Send {
                conversation,
                client_id,
                body,
                attachment,
                reply_to,
                action,
                link_preview,
            } => {
                let link_preview = match link_preview {
                    Some(card) => Some(own_picture(&self.previews.clone(), card).await),
                    None => None,
                };
                let draft = Draft {
                    conversation,
                    client_id,
                    body,
                    attachment: attachment.map(|boxed| *boxed),
                    reply_to,
                    action,
                    link_preview,
                };
                // The message ends "typing" for the others; typing again is
                // news.
                self.typing.remove(&conversation);
                // Boxed: the send's checks make the largest future a
                // connection awaits, and every idle socket would keep room
                // for it.
                let sending = self
                    .chat
                    .send(self.user, Some(self.device.id), draft, now_millis());
                match Box::pin(sending).await {
                    Ok(ack) => self.pending.push_back(Waiting::Sent {
                        client_id,
                        ack,
                        since: std::time::Instant::now(),
                    }),
                    Err(err) => self.refuse(&err, Some(client_id)).await?,
                }
            }
            ClientFrame::Receipt {
                conversation,
                kind,
                seq,
            } => match self.chat.receipt(self.user, conversation, kind, seq).await {
                Ok(stored) => self.pending.push_back(Waiting::Receipt(stored)),
                Err(err) => self.refuse(&err, None).await?,
            },
            ClientFrame::Typing { conversation } if self.pending.is_empty() => {
                self.typing(conversation).await?
            }
            ClientFrame::Typing { conversation } => {
                self.pending.push_back(Waiting::Typing(conversation))
            }
            ClientFrame::Ping { nonce } => self.send(&ServerFrame::Pong { nonce }).await?,
            ClientFrame::Visible { visible } => self.here.set_visible(visible),
        }
        Ok(None)
    }

    /// Relays "typing". Repeats faster than clients are asked to send them
    /// are dropped, so a misbehaving client cannot flood a group.
    async fn typing(&mut self, conversation: ConversationId) -> Result<(), ConnError> {
        let now = tokio::time::Instant::now();
        let floor = Duration::from_millis(TYPING_EVERY_MS / 2);
        if self
            .typing
            .get(&conversation)
            .is_some_and(|last| now.duration_since(*last) < floor)
        {
            return Ok(());
        }
        match self.chat.typing(self.user, conversation).await {
            Ok(()) => {
                self.typing.insert(conversation, now);
                Ok(())
            }
            Err(err) => self.refuse(&err, None).await,
        }
    }

    /// Writes the outcome of a commit.
    async fn answer(&mut self, answer: Answer) -> Result<(), ConnError> {
        match answer {
            Answer::Sent {
                client_id,
                result: Ok(sent),
                since,
            } => {
                // The commit is durable: now, and only now, acknowledge it.
                self.send(&ServerFrame::Ack {
                    client_id,
                    conversation: sent.conversation,
                    seq: sent.seq,
                    sent_at: sent.sent_at,
                })
                .await?;
                METRICS.ack_seconds.observe(since.elapsed().as_secs_f64());
                Ok(())
            }
            Answer::Sent {
                client_id,
                result: Err(err),
                ..
            } => self.refuse(&err, Some(client_id)).await,
            Answer::Receipt(Ok(())) => Ok(()),
            Answer::Receipt(Err(err)) => self.refuse(&err, None).await,
            Answer::Typing(conversation) => self.typing(conversation).await,
        }
    }

    /// Writes what the hub has queued for this device. The common case,
    /// a frame after the cursor, is decided without awaiting anything;
    /// reading back from the store (gaps, new conversations, lag) is rare
    /// and boxed, so that the connection's state stays small.
    async fn deliver(&mut self) -> Result<Option<End>, ConnError> {
        let taken = self.device.queue.take(EVENTS_PER_TURN);
        if taken
            .ended
            .iter()
            .any(|ending| ending.includes(&self.token_hash))
        {
            return Ok(Some(End::Close(close::SESSION_ENDED, "logged out")));
        }
        if taken.resync || !taken.lagged.is_empty() {
            METRICS.catch_ups.inc();
        }
        if taken.resync {
            tracing::info!(
                user = self.user,
                "events may be lost; reading everything back"
            );
            Box::pin(self.resync()).await?;
        } else if !taken.lagged.is_empty() {
            Box::pin(self.catch_up(taken.lagged)).await?;
        }
        for event in taken.events {
            match self.route(event) {
                Route::Write(frame) => self.feed(frame).await?,
                Route::Skip => {}
                Route::Introduce(conversation, seq) => {
                    Box::pin(self.introduce_by_message(conversation, seq)).await?
                }
                Route::Gap(conversation, after) => {
                    Box::pin(self.replay(conversation, after)).await?
                }
            }
        }
        Ok(None)
    }

    /// What to do with `event`, moving the cursor when it goes out. A live
    /// message right after the cursor goes out as is (or, when it is this
    /// device's own, only moves the cursor: the device has the ack); one
    /// further ahead means something was skipped; one at or below it is a
    /// duplicate.
    fn route(&mut self, event: Event) -> Route {
        match event {
            Event::Message {
                message,
                frame,
                origin,
            } => {
                let Some(cursor) = self.cursors.get_mut(&message.conversation) else {
                    return Route::Introduce(message.conversation, message.seq);
                };
                if message.seq <= *cursor {
                    Route::Skip
                } else if message.seq > *cursor + 1 {
                    Route::Gap(message.conversation, *cursor)
                } else {
                    *cursor = message.seq;
                    if origin == Some(self.device.id) {
                        Route::Skip
                    } else {
                        Route::Write(frame)
                    }
                }
            }
            Event::Frame {
                conversation,
                frame,
                kind,
            } => {
                if let FrameKind::Conversation { last_seq } = kind {
                    self.cursors.entry(conversation).or_insert(last_seq);
                }
                Route::Write(frame)
            }
            Event::SessionEnded(_) => Route::Skip,
        }
    }

    /// Introduces a conversation this device heard of by its message
    /// `seq`, which it then reads from the store with the conversation.
    async fn introduce_by_message(
        &mut self,
        id: ConversationId,
        seq: Seq,
    ) -> Result<(), ConnError> {
        match self.chat.conversation(self.user, id).await {
            Ok(conversation) => {
                self.send(&ServerFrame::Conversation { conversation })
                    .await?;
                self.replay(id, seq - 1).await
            }
            // No longer in it: its last events said so.
            Err(ChatError::NotAMember) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Sends every conversation (members and receipt cursors included), then
    /// every message after this device's cursor in the conversations it
    /// listed. Conversations it did not list start at their newest seq: the
    /// device reads their history over HTTP as the user scrolls.
    async fn resync(&mut self) -> Result<(), ConnError> {
        for conversation in self.chat.conversations(self.user).await? {
            self.introduce(conversation).await?;
        }
        Ok(())
    }

    /// Reads conversations back after this device lost events of them.
    async fn catch_up(&mut self, lagged: BTreeSet<ConversationId>) -> Result<(), ConnError> {
        for id in lagged {
            tracing::info!(
                user = self.user,
                conversation = id,
                "device lagged; reading back"
            );
            match self.chat.conversation(self.user, id).await {
                Ok(conversation) => self.introduce(conversation).await?,
                // Removed meanwhile: its last events said so.
                Err(ChatError::NotAMember) => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    }

    async fn introduce(&mut self, conversation: Conversation) -> Result<(), ConnError> {
        let id = conversation.id;
        let last_seq = conversation.last_seq;
        self.send(&ServerFrame::Conversation { conversation })
            .await?;
        match self.cursors.get(&id).copied() {
            Some(cursor) => self.replay(id, cursor).await,
            None => {
                self.cursors.insert(id, last_seq);
                Ok(())
            }
        }
    }

    /// Sends the messages after `after`, in pages, moving the cursor.
    async fn replay(&mut self, conversation: ConversationId, after: Seq) -> Result<(), ConnError> {
        let mut after = after;
        loop {
            let page = match self
                .chat
                .replay(self.user, conversation, after, REPLAY_PAGE)
                .await
            {
                Ok(page) => page,
                Err(ChatError::NotAMember) => return Ok(()),
                Err(err) => return Err(err.into()),
            };
            let full = page.len() == REPLAY_PAGE as usize;
            for message in page {
                after = message.seq;
                self.send(&ServerFrame::Message { message }).await?;
            }
            self.cursors.insert(conversation, after);
            if !full {
                return Ok(());
            }
        }
    }

    async fn refuse(&mut self, err: &ChatError, client_id: Option<Uuid>) -> Result<(), ConnError> {
        if let ChatError::Internal(cause) = err {
            tracing::error!(user = self.user, error = %cause, "a frame failed");
        }
        self.send(&ServerFrame::Error {
            code: super::error_code(err),
            message: err.to_string(),
            client_id,
        })
        .await
    }

    /// Queues a frame for the next flush.
    async fn send(&mut self, frame: &ServerFrame) -> Result<(), ConnError> {
        self.feed(serialise(frame)).await
    }

    async fn feed(&mut self, text: Utf8Bytes) -> Result<(), ConnError> {
        tokio::time::timeout(self.send_timeout, self.socket.feed(WsMessage::Text(text)))
            .await
            .map_err(|_| ConnError::Stalled)??;
        self.unflushed = true;
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), ConnError> {
        if self.unflushed {
            tokio::time::timeout(self.send_timeout, self.socket.flush())
                .await
                .map_err(|_| ConnError::Stalled)??;
            self.unflushed = false;
        }
        Ok(())
    }
}
