//! A real server on a loopback port with a real SQLite file, and clients that
//! speak the real protocol over HTTP and WebSocket.

#![allow(dead_code)] // Each test binary uses a different part of the harness.

use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use natter_protocol::{
    ClientFrame, Conversation, ConversationId, Credentials, ErrorCode, Message, Seq, ServerFrame,
    User,
};
use natter_server::config::Config;
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const PASSWORD: &str = "correct horse battery";
const WAIT: Duration = Duration::from_secs(10);

pub struct TestServer {
    pub addr: std::net::SocketAddr,
    pub data: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_in(tempfile::tempdir().expect("temp dir")).await
    }

    /// Starts a server on an existing data directory (e.g. after a restart).
    pub async fn start_in(data: tempfile::TempDir) -> Self {
        Self::start_configured(data, |_| {}).await
    }

    /// Starts a server with settings changed by `adjust`.
    pub async fn start_configured(
        data: tempfile::TempDir,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut config = Config::new(data.path(), PathBuf::from("/nonexistent-dist"));
        adjust(&mut config);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            natter_server::run(listener, config, async {
                let _ = stopped.await;
            })
            .await
            .expect("server run");
        });
        TestServer {
            addr,
            data,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Graceful shutdown; returns the data directory for a restart.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
        self.data
    }

    pub fn begin_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub async fn signup(&self, username: &str) -> Account {
        let response = reqwest::Client::new()
            .post(self.url("/api/signup"))
            .json(&Credentials {
                username: username.to_owned(),
                password: PASSWORD.to_owned(),
            })
            .send()
            .await
            .expect("signup request");
        assert_eq!(response.status(), StatusCode::CREATED, "signup {username}");
        let cookie = session_cookie(&response).expect("session cookie");
        let user: User = response.json().await.expect("user");
        Account {
            server: self.addr,
            user,
            cookie,
        }
    }
}

/// `name=value` of the session cookie a response set.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("natter_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// A logged-in user.
#[derive(Clone)]
pub struct Account {
    pub server: std::net::SocketAddr,
    pub user: User,
    pub cookie: String,
}

impl Account {
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .get(format!("http://{}{}", self.server, path))
            .header(COOKIE, &self.cookie)
    }

    /// `GET path`, which must answer 200 with a `T`.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let response = self.get(path).send().await.expect("GET");
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.expect("JSON answer")
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .post(format!("http://{}{}", self.server, path))
            .header(COOKIE, &self.cookie)
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .request(method, format!("http://{}{}", self.server, path))
            .header(COOKIE, &self.cookie)
    }

    /// The newest 200 messages of `conversation`, as this user reads them.
    pub async fn history(&self, conversation: ConversationId) -> Vec<Message> {
        let response = self
            .get(&format!(
                "/api/conversations/{conversation}/messages?limit=200"
            ))
            .send()
            .await
            .expect("history request");
        assert_eq!(response.status(), StatusCode::OK, "history");
        response.json().await.expect("messages")
    }

    pub async fn open_direct(&self, username: &str) -> Conversation {
        let response = self
            .post("/api/conversations")
            .json(&serde_json::json!({ "username": username }))
            .send()
            .await
            .expect("open request");
        assert!(
            response.status().is_success(),
            "open: {}",
            response.status()
        );
        response.json().await.expect("conversation")
    }

    /// Creates a group (`POST /api/groups` with `body`), which must answer
    /// 201 with the group.
    pub async fn create_group(&self, body: serde_json::Value) -> Conversation {
        let response = self
            .post("/api/groups")
            .json(&body)
            .send()
            .await
            .expect("create request");
        assert_eq!(response.status(), StatusCode::CREATED, "create group");
        response.json().await.expect("group")
    }

    /// Opens a socket and completes `hello` with no cursors, consuming the
    /// replay up to `synced`.
    pub async fn connect(&self) -> Socket {
        self.connect_with(Vec::new()).await.0
    }

    /// Opens a socket with cursors; returns the frames replayed before
    /// `synced`.
    pub async fn connect_with(
        &self,
        cursors: Vec<natter_protocol::Cursor>,
    ) -> (Socket, Vec<ServerFrame>) {
        let mut socket = self.raw_socket().await;
        socket
            .send(&ClientFrame::Hello {
                version: natter_protocol::PROTOCOL_VERSION,
                cursors,
            })
            .await;
        match socket.next().await {
            ServerFrame::Welcome { user, .. } => assert_eq!(user, self.user),
            other => panic!("expected welcome, got {other:?}"),
        }
        let mut replay = Vec::new();
        loop {
            match socket.next().await {
                ServerFrame::Synced => break,
                frame => replay.push(frame),
            }
        }
        (socket, replay)
    }

    /// A socket before `hello`.
    pub async fn raw_socket(&self) -> Socket {
        let mut request = format!("ws://{}/ws", self.server)
            .into_client_request()
            .expect("request");
        request
            .headers_mut()
            .insert(COOKIE.as_str(), self.cookie.parse().expect("cookie header"));
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("upgrade");
        Socket { ws }
    }
}

pub struct Socket {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Socket {
    pub async fn send(&mut self, frame: &ClientFrame) {
        let text = serde_json::to_string(frame).expect("encode");
        self.send_text(text).await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.ws.send(WsMessage::text(text)).await.expect("send");
    }

    /// The next protocol frame, skipping control frames.
    pub async fn next(&mut self) -> ServerFrame {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("timed out waiting for a frame")
                .expect("socket ended")
                .expect("socket error");
            match message {
                WsMessage::Text(text) => {
                    return serde_json::from_str(text.as_str()).expect("server frame")
                }
                WsMessage::Close(frame) => panic!("socket closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// The next frame matching `pick`, skipping others.
    pub async fn next_matching<T>(&mut self, mut pick: impl FnMut(ServerFrame) -> Option<T>) -> T {
        loop {
            if let Some(found) = pick(self.next().await) {
                return found;
            }
        }
    }

    /// Waits for the server to close the socket; returns the close code.
    pub async fn closed(&mut self) -> u16 {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("timed out waiting for close");
            match message {
                Some(Ok(WsMessage::Close(Some(frame)))) => return frame.code.into(),
                Some(Ok(WsMessage::Close(None))) | None | Some(Err(_)) => return 1006,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Asserts the connection still answers: a ping gets its pong.
    pub async fn assert_alive(&mut self) {
        self.send(&ClientFrame::Ping { nonce: 4242 }).await;
        let nonce = self
            .next_matching(|frame| match frame {
                ServerFrame::Pong { nonce } => Some(nonce),
                _ => None,
            })
            .await;
        assert_eq!(nonce, 4242);
    }
}

/// A JPEG's structure, `len` bytes long: SOI, JFIF, a scan of filler
/// (never 0xFF, so no markers inside), EOI. Not a picture anyone can
/// decode, which the server never does.
pub fn jpeg(len: usize) -> Vec<u8> {
    jpeg_with(&[], len)
}

/// The same, with `segments` between JFIF and the scan.
pub fn jpeg_with(segments: &[Vec<u8>], len: usize) -> Vec<u8> {
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    ];
    for segment in segments {
        bytes.extend_from_slice(segment);
    }
    bytes.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 63, 0]);
    let filler = len.saturating_sub(bytes.len() + 2);
    bytes.extend((0..filler).map(|i| (i % 251) as u8));
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

/// Sends `body` and waits for its ack (or its refusal's text).
pub async fn say(
    socket: &mut Socket,
    conversation: ConversationId,
    body: &str,
) -> Result<Seq, String> {
    let frame = ClientFrame::Send {
        conversation,
        client_id: uuid::Uuid::new_v4(),
        body: body.to_owned(),
        attachment: None,
        action: None,
        link_preview: None,
        reply_to: None,
    };
    sent(socket, frame).await.map_err(|(_, message)| message)
}

/// Sends a `send` frame and waits for its ack, or for the refusal that
/// names its client id.
pub async fn sent(socket: &mut Socket, frame: ClientFrame) -> Result<Seq, (ErrorCode, String)> {
    let ClientFrame::Send { client_id, .. } = frame else {
        panic!("only a send frame is acked");
    };
    socket.send(&frame).await;
    socket
        .next_matching(|frame| match frame {
            ServerFrame::Ack {
                client_id: id, seq, ..
            } if id == client_id => Some(Ok(seq)),
            ServerFrame::Error {
                code,
                message,
                client_id: Some(id),
            } if id == client_id => Some(Err((code, message))),
            _ => None,
        })
        .await
}
