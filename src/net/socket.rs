//! A thin WebSocket that sends and receives protocol frames. It knows nothing
//! of reconnecting: it opens, carries frames, and reports how it closed.

use futures::stream::{SplitSink, SplitStream};
use futures::{FutureExt, SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, WebSocketError};
use natter_protocol::{ClientFrame, ServerFrame};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SocketError {
    #[error("could not open the connection: {0}")]
    Open(String),
    /// The connection closed; `code` is the WebSocket close code (1006 when
    /// it dropped without a close frame).
    #[error("connection closed ({code}): {reason}")]
    Closed { code: u16, reason: String },
    #[error("could not send: {0}")]
    Send(String),
}

/// A server frame that could not be decoded: the socket stays usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable frame from the server: {0}")]
pub struct DecodeError(pub String);

pub enum Incoming {
    /// Boxed: frames are large next to the other case.
    Frame(Box<ServerFrame>),
    Unreadable(DecodeError),
}

pub struct Socket {
    sink: SplitSink<WebSocket, Message>,
    stream: SplitStream<WebSocket>,
}

impl Socket {
    /// Starts opening a socket to `url`; the first send or receive waits
    /// for the connection.
    pub fn open(url: &str) -> Result<Self, SocketError> {
        let socket = WebSocket::open(url).map_err(|err| SocketError::Open(err.to_string()))?;
        let (sink, stream) = socket.split();
        Ok(Socket { sink, stream })
    }

    pub async fn send(&mut self, frame: &ClientFrame) -> Result<(), SocketError> {
        let text =
            serde_json::to_string(frame).map_err(|err| SocketError::Send(err.to_string()))?;
        self.sink
            .send(Message::Text(text))
            .await
            .map_err(|err| closed_or(err, SocketError::Send))
    }

    /// The next frame, or how the socket ended.
    pub async fn next(&mut self) -> Result<Incoming, SocketError> {
        match self.stream.next().await {
            Some(Ok(Message::Text(text))) => Ok(match serde_json::from_str(&text) {
                Ok(frame) => Incoming::Frame(Box::new(frame)),
                Err(err) => Incoming::Unreadable(DecodeError(err.to_string())),
            }),
            Some(Ok(Message::Bytes(_))) => Ok(Incoming::Unreadable(DecodeError(
                "unexpected binary frame".to_owned(),
            ))),
            Some(Err(err)) => Err(closed_or(err, SocketError::Open)),
            None => Err(SocketError::Closed {
                code: 1006,
                reason: "connection lost".to_owned(),
            }),
        }
    }

    /// The next frame if one has already arrived, without waiting.
    pub fn next_ready(&mut self) -> Option<Result<Incoming, SocketError>> {
        self.next().now_or_never()
    }

    /// Closes the socket from this side.
    pub async fn close(mut self) {
        // The socket may already be gone; closing is then done anyway.
        let _ = self.sink.close().await;
    }
}

fn closed_or(err: WebSocketError, other: fn(String) -> SocketError) -> SocketError {
    match err {
        WebSocketError::ConnectionClose(event) => SocketError::Closed {
            code: event.code,
            reason: event.reason,
        },
        WebSocketError::ConnectionError => SocketError::Closed {
            code: 1006,
            reason: "connection failed".to_owned(),
        },
        other_err => other(other_err.to_string()),
    }
}

/// The WebSocket URL of the server that served this page.
pub fn default_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}/ws", location.host().ok()?))
}
