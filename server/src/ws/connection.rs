//! One device's WebSocket session: `hello`, replay, then live traffic.
//!
//! The loop is generic over the socket's `Sink` and `Stream` so that it does
//! not care whether axum or a test harness provides them.
//!
//! Delivery bookkeeping: `cursors` holds, per conversation, the highest seq
//! this device has been sent. A live message right after the cursor goes out
//! as is; one further ahead means the hub skipped something, and the gap is
//! read from the store first; one at or below it is a duplicate and dropped.
//! If the hub reports that this device lagged, everything is re-read from the
//! store: the device is resynced, never dropped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use natter_protocol::limits::{self, MAX_FRAME_BYTES};
use natter_protocol::{
    close, ClientFrame, ConversationId, Cursor, ErrorCode, Message, ReceiptKind, Seq, ServerFrame,
    User, UserId, PROTOCOL_VERSION, TYPING_EVERY_MS,
};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::rate::Pacer;
use crate::hub::Event;
use crate::store::{NewMessage, StoreError};
use crate::{now_millis, AppState};

/// How long a new socket may take to say `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(15);
/// How often the server pings; browsers answer pings by themselves.
const PING_EVERY: Duration = Duration::from_secs(20);
/// Silence after which the peer is taken for dead.
const IDLE_LIMIT: Duration = Duration::from_secs(60);
/// Messages per store read while replaying.
const REPLAY_PAGE: u32 = 500;

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
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("encoding: {0}")]
    Encode(#[from] serde_json::Error),
}

pub async fn serve<S>(socket: S, state: AppState, user: User, token_hash: [u8; 32])
where
    S: Stream<Item = Result<WsMessage, axum::Error>>
        + Sink<WsMessage, Error = axum::Error>
        + Unpin
        + Send,
{
    let pacer = Pacer::new(state.config.frame_rate);
    let mut conn = Connection {
        socket,
        state,
        user,
        token_hash,
        cursors: HashMap::new(),
        pacer,
        typing: HashMap::new(),
    };
    let end = match conn.run().await {
        Ok(end) => end,
        Err(err) => {
            tracing::warn!(user = conn.user.id, error = %err, "connection failed");
            End::Close(1011, "server error")
        }
    };
    if let End::Close(code, reason) = end {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        // The peer may already be gone; there is nobody to tell then.
        let _ = conn.socket.send(WsMessage::Close(Some(frame))).await;
    }
}

struct Connection<S> {
    socket: S,
    state: AppState,
    user: User,
    token_hash: [u8; 32],
    cursors: HashMap<ConversationId, Seq>,
    /// Paces frames to the per-connection rate.
    pacer: Pacer,
    /// When this device last had a `typing` relayed, per conversation.
    typing: HashMap<ConversationId, tokio::time::Instant>,
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
    async fn run(&mut self) -> Result<End, ConnError> {
        let cursors = match self.await_hello().await? {
            Ok(cursors) => cursors,
            Err(end) => return Ok(end),
        };
        // Subscribe before replaying, so that nothing committed during the
        // replay is missed; duplicates are dropped by the cursors.
        let mut events = self.state.hub.subscribe(self.user.id);
        self.send(&ServerFrame::Welcome {
            version: PROTOCOL_VERSION,
            user: self.user.clone(),
        })
        .await?;
        self.cursors = cursors
            .into_iter()
            .map(|cursor| (cursor.conversation, cursor.seq))
            .collect();
        self.resync().await?;
        self.send(&ServerFrame::Synced).await?;

        let shutdown = self.state.shutdown.clone();
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_heard = tokio::time::Instant::now();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => {
                    return Ok(End::Close(close::GOING_AWAY, "server restarting"));
                }
                inbound = self.socket.next() => {
                    last_heard = tokio::time::Instant::now();
                    match self.classify(inbound).await? {
                        Inbound::Frame(frame) => self.handle(frame).await?,
                        Inbound::Refused | Inbound::Control => {}
                        Inbound::End(end) => return Ok(end),
                    }
                }
                event = events.recv() => match event {
                    Ok(event) => {
                        if let Some(end) = self.deliver(event).await? {
                            return Ok(end);
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::info!(user = self.user.id, missed, "device lagged; resyncing");
                        self.resync().await?;
                    }
                    Err(RecvError::Closed) => return Ok(End::Close(1011, "server error")),
                },
                _ = ping.tick() => {
                    if last_heard.elapsed() > IDLE_LIMIT {
                        return Ok(End::Gone);
                    }
                    self.socket.send(WsMessage::Ping(Default::default())).await?;
                }
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
                }
                Inbound::Refused | Inbound::Control => {}
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
        let wait = self.pacer.admit();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(Inbound::Frame(frame))
    }

    async fn handle(&mut self, frame: ClientFrame) -> Result<(), ConnError> {
        match frame {
            ClientFrame::Hello { .. } => {
                self.send(&ServerFrame::error(
                    ErrorCode::UnexpectedFrame,
                    "hello was already received on this connection.",
                ))
                .await
            }
            ClientFrame::Send {
                conversation,
                client_id,
                body,
                attachment,
                reply_to,
                action,
            } => {
                self.send_message(NewMessage {
                    sender: self.user.id,
                    conversation,
                    client_id,
                    body,
                    attachment: attachment.map(|boxed| *boxed),
                    reply_to,
                    action,
                    sent_at: now_millis(),
                })
                .await
            }
            ClientFrame::Receipt {
                conversation,
                kind,
                seq,
            } => self.receipt(conversation, kind, seq).await,
            ClientFrame::Typing { conversation } => self.typing(conversation).await,
            ClientFrame::Ping { nonce } => self.send(&ServerFrame::Pong { nonce }).await,
        }
    }

    /// Relays "typing" to the other members. Repeats faster than clients
    /// are asked to send them are dropped, so a misbehaving client cannot
    /// flood a group.
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
        let members = self.state.store.member_ids(conversation).await?;
        if !members.contains(&self.user.id) {
            return self
                .send(&ServerFrame::error(
                    ErrorCode::NotAMember,
                    "You are not in that conversation.",
                ))
                .await;
        }
        self.typing.insert(conversation, now);
        let others: Vec<UserId> = members
            .into_iter()
            .filter(|member| *member != self.user.id)
            .collect();
        self.state.hub.publish(
            &others,
            Event::Typing {
                conversation,
                user: self.user.id,
            },
        );
        Ok(())
    }

    async fn send_message(&mut self, new: NewMessage) -> Result<(), ConnError> {
        let (conversation, client_id) = (new.conversation, new.client_id);
        let checked =
            limits::check_message(&new.body, new.attachment.as_ref(), new.action.as_ref());
        if let Err(invalid) = checked {
            return self
                .refuse(ErrorCode::InvalidMessage, invalid.to_string(), client_id)
                .await;
        }
        let appended = self.state.store.append_message(new).await;
        let appended = match appended {
            Ok(appended) => appended,
            Err(StoreError::NotAMember) => {
                return self
                    .refuse(
                        ErrorCode::NotAMember,
                        "You are not in that conversation.",
                        client_id,
                    )
                    .await;
            }
            Err(StoreError::BadAttachment) => {
                return self
                    .refuse(
                        ErrorCode::InvalidMessage,
                        "That attachment is not a file you uploaded to this conversation.",
                        client_id,
                    )
                    .await;
            }
            Err(StoreError::BadTarget) => {
                return self
                    .refuse(
                        ErrorCode::InvalidMessage,
                        "That message is not there any more (or cannot be answered or changed).",
                        client_id,
                    )
                    .await;
            }
            Err(StoreError::NotYours) => {
                return self
                    .refuse(
                        ErrorCode::InvalidMessage,
                        "Only the sender can edit or delete a message.",
                        client_id,
                    )
                    .await;
            }
            Err(StoreError::ClientIdReused(_)) => {
                return self
                    .refuse(
                        ErrorCode::InvalidMessage,
                        "That client id was already used in another conversation.",
                        client_id,
                    )
                    .await;
            }
            Err(err) => {
                tracing::error!(error = %err, "storing a message failed");
                return self
                    .refuse(
                        ErrorCode::Internal,
                        "The message could not be stored; it will be retried.",
                        client_id,
                    )
                    .await;
            }
        };
        if let Some(id) = &appended.removed_media {
            if let Err(err) = self.state.media.remove(id).await {
                // Its record is gone, so it is no longer served either way.
                tracing::warn!(error = %err, media = %id, "deleting a media file failed");
            }
        }
        let message = appended.message;
        // The message ends "typing" for the others; typing again is news.
        self.typing.remove(&conversation);
        // The commit is durable: now, and only now, acknowledge it.
        self.send(&ServerFrame::Ack {
            client_id,
            conversation,
            seq: message.seq,
            sent_at: message.sent_at,
        })
        .await?;
        if appended.fresh {
            let members = self.state.store.member_ids(conversation).await?;
            self.state
                .hub
                .publish(&members, Event::Message(Arc::new(message)));
        }
        Ok(())
    }

    async fn receipt(
        &mut self,
        conversation: ConversationId,
        kind: ReceiptKind,
        seq: Seq,
    ) -> Result<(), ConnError> {
        let moved = match self
            .state
            .store
            .advance_receipt(self.user.id, conversation, kind, seq)
            .await
        {
            Ok(moved) => moved,
            Err(StoreError::NotAMember) => {
                return self
                    .send(&ServerFrame::error(
                        ErrorCode::NotAMember,
                        "You are not in that conversation.",
                    ))
                    .await;
            }
            Err(err) => return Err(err.into()),
        };
        if moved.is_empty() {
            return Ok(());
        }
        let members = self.state.store.member_ids(conversation).await?;
        for (kind, seq) in moved {
            self.state.hub.publish(
                &members,
                Event::Receipt {
                    conversation,
                    user: self.user.id,
                    kind,
                    seq,
                },
            );
        }
        Ok(())
    }

    /// Passes a hub event on to the device.
    async fn deliver(&mut self, event: Event) -> Result<Option<End>, ConnError> {
        match event {
            Event::Message(message) => self.deliver_message(&message).await?,
            Event::Receipt {
                conversation,
                user,
                kind,
                seq,
            } => {
                self.send(&ServerFrame::Receipt {
                    conversation,
                    user,
                    kind,
                    seq,
                })
                .await?
            }
            Event::Conversation(conversation) => {
                self.cursors
                    .entry(conversation.id)
                    .or_insert(conversation.last_seq);
                self.send(&ServerFrame::Conversation {
                    conversation: (*conversation).clone(),
                })
                .await?;
            }
            Event::Typing { conversation, user } => {
                self.send(&ServerFrame::Typing { conversation, user })
                    .await?
            }
            Event::SessionEnded(token_hash) if token_hash == self.token_hash => {
                return Ok(Some(End::Close(close::SESSION_ENDED, "logged out")));
            }
            Event::SessionEnded(_) => {}
        }
        Ok(None)
    }

    async fn deliver_message(&mut self, message: &Message) -> Result<(), ConnError> {
        let cursor = match self.cursors.get(&message.conversation) {
            Some(cursor) => *cursor,
            None => {
                // A conversation this device has not heard of: introduce it.
                match self
                    .state
                    .store
                    .conversation(self.user.id, message.conversation)
                    .await?
                {
                    Some(conversation) => {
                        self.send(&ServerFrame::Conversation { conversation })
                            .await?;
                        message.seq - 1
                    }
                    None => return Ok(()),
                }
            }
        };
        if message.seq <= cursor {
            return Ok(());
        }
        if message.seq > cursor + 1 {
            self.replay(message.conversation, cursor).await
        } else {
            self.send(&ServerFrame::Message {
                message: message.clone(),
            })
            .await?;
            self.cursors.insert(message.conversation, message.seq);
            Ok(())
        }
    }

    /// Sends every conversation (members and receipt cursors included), then
    /// every message after this device's cursor in the conversations it
    /// listed. Conversations it did not list start at their newest seq: the
    /// device reads their history over HTTP as the user scrolls.
    async fn resync(&mut self) -> Result<(), ConnError> {
        let conversations = self.state.store.conversations(self.user.id).await?;
        for conversation in conversations {
            let id = conversation.id;
            let last_seq = conversation.last_seq;
            self.send(&ServerFrame::Conversation { conversation })
                .await?;
            match self.cursors.get(&id).copied() {
                Some(cursor) => self.replay(id, cursor).await?,
                None => {
                    self.cursors.insert(id, last_seq);
                }
            }
        }
        Ok(())
    }

    /// Sends the messages after `after`, in pages, moving the cursor.
    async fn replay(&mut self, conversation: ConversationId, after: Seq) -> Result<(), ConnError> {
        let mut after = after;
        loop {
            let page = match self
                .state
                .store
                .messages_after(self.user.id, conversation, after, REPLAY_PAGE)
                .await
            {
                Ok(page) => page,
                Err(StoreError::NotAMember) => return Ok(()),
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

    async fn refuse(
        &mut self,
        code: ErrorCode,
        message: impl Into<String>,
        client_id: Uuid,
    ) -> Result<(), ConnError> {
        self.send(&ServerFrame::Error {
            code,
            message: message.into(),
            client_id: Some(client_id),
        })
        .await
    }

    async fn send(&mut self, frame: &ServerFrame) -> Result<(), ConnError> {
        let text = serde_json::to_string(frame)?;
        self.socket.send(WsMessage::Text(text.into())).await?;
        Ok(())
    }
}
