//! The load: protocol clients over real WebSockets on loopback.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use natter_protocol::{ClientFrame, ConversationId, Credentials, User, PROTOCOL_VERSION};
use reqwest::header::{COOKIE, SET_COOKIE};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

use crate::stats::Latencies;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Someone signed up on the server under test.
#[derive(Clone)]
pub struct Account {
    pub user: User,
    pub cookie: String,
}

pub async fn sign_up(addr: SocketAddr, name: &str) -> Account {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/api/signup"))
        .json(&Credentials {
            username: name.to_owned(),
            password: "correct horse battery".to_owned(),
        })
        .send()
        .await
        .expect("signup");
    let cookie = response.headers()[SET_COOKIE]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let user = response.json().await.expect("user");
    Account { user, cookie }
}

pub async fn open_direct(addr: SocketAddr, account: &Account, other: &str) -> ConversationId {
    let conversation: natter_protocol::Conversation = reqwest::Client::new()
        .post(format!("http://{addr}/api/conversations"))
        .header(COOKIE, &account.cookie)
        .json(&serde_json::json!({ "username": other }))
        .send()
        .await
        .expect("open")
        .json()
        .await
        .expect("conversation");
    conversation.id
}

pub async fn create_group(addr: SocketAddr, owner: &Account, members: &[&str]) -> ConversationId {
    let conversation: natter_protocol::Conversation = reqwest::Client::new()
        .post(format!("http://{addr}/api/groups"))
        .header(COOKIE, &owner.cookie)
        .json(&serde_json::json!({ "name": "Bench", "members": members }))
        .send()
        .await
        .expect("create group")
        .json()
        .await
        .expect("group");
    conversation.id
}

/// Small buffers on the load side too: 10,000 sockets must fit.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(16 * 1024)
}

/// A socket to `url`, with the session cookie when there is one.
pub async fn connect(url: &str, cookie: Option<&str>) -> Socket {
    let mut request = url.into_client_request().expect("request");
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert(COOKIE.as_str(), cookie.parse().expect("cookie"));
    }
    let (socket, _) = tokio_tungstenite::connect_async_with_config(request, Some(config()), true)
        .await
        .expect("connect");
    socket
}

/// A Natter socket past `hello`, its replay read up to `synced`.
pub async fn natter_socket(addr: SocketAddr, account: &Account) -> Socket {
    let mut socket = connect(&format!("ws://{addr}/ws"), Some(&account.cookie)).await;
    let hello = ClientFrame::Hello {
        version: PROTOCOL_VERSION,
        cursors: vec![],
    };
    socket
        .send(Message::text(serde_json::to_string(&hello).expect("json")))
        .await
        .expect("hello");
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Text(text) = message {
            if text.as_str().contains("\"type\":\"synced\"") {
                break;
            }
        }
    }
    socket
}

pub fn send_frame(conversation: ConversationId, body: String) -> Message {
    let frame = ClientFrame::Send {
        conversation,
        // As the app makes them: time-ordered.
        client_id: Uuid::now_v7(),
        body,
        attachment: None,
        action: None,
        link_preview: None,
        reply_to: None,
    };
    Message::text(serde_json::to_string(&frame).expect("json"))
}

/// Sends `count` messages keeping `window` unacknowledged; returns the
/// latency of each ack. Acks come in sending order.
pub async fn durable_sender(
    mut socket: Socket,
    conversation: ConversationId,
    count: usize,
    window: usize,
) -> Latencies {
    let mut latencies = Latencies::default();
    let mut in_flight: VecDeque<Instant> = VecDeque::with_capacity(window);
    let (mut sent, mut acked) = (0, 0);
    while acked < count {
        while sent < count && in_flight.len() < window {
            socket
                .feed(send_frame(conversation, format!("message {sent}")))
                .await
                .expect("send");
            in_flight.push_back(Instant::now());
            sent += 1;
        }
        socket.flush().await.expect("flush");
        match socket.next().await {
            Some(Ok(Message::Text(text))) if text.as_str().starts_with("{\"type\":\"ack\"") => {
                let started = in_flight.pop_front().expect("an ack for a send");
                latencies.record(started.elapsed());
                acked += 1;
            }
            Some(Ok(Message::Text(text))) if text.as_str().starts_with("{\"type\":\"error\"") => {
                panic!("refused: {}", text.as_str())
            }
            Some(Ok(_)) => {}
            other => panic!("socket ended: {other:?}"),
        }
    }
    latencies
}

/// What a fan-out member counts: deliveries, and (when the bodies carry
/// send times) their latency.
#[derive(Default)]
pub struct Tally {
    pub deliveries: AtomicU64,
}

/// The clock every member of a run shares: bodies carry microseconds
/// since `epoch`.
#[derive(Clone, Copy)]
pub struct Clock {
    pub epoch: Instant,
}

impl Clock {
    /// The time now, and the sender's node in a cluster.
    fn stamp(&self, node: Option<usize>) -> String {
        match node {
            Some(node) => format!("t={} n={node}", self.epoch.elapsed().as_micros()),
            None => format!("t={}", self.epoch.elapsed().as_micros()),
        }
    }

    /// The latency of a delivery whose frame holds a stamp.
    fn since(&self, text: &str) -> Option<Duration> {
        let at = text.find("t=")? + 2;
        let digits: &str = &text[at..];
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        let sent: u64 = digits[..end].parse().ok()?;
        let now = self.epoch.elapsed().as_micros() as u64;
        Some(Duration::from_micros(now.saturating_sub(sent)))
    }
}

/// How a fan-out member sends.
#[derive(Clone, Copy)]
pub enum Pace {
    /// As fast as acks allow, `window` in flight.
    Saturate { window: usize },
    /// One message every `every`, whatever the acks (open loop).
    Every(Duration),
}

/// One member of a group: sends into it as paced until `stop`, and counts
/// every frame from the others. Returns the delivery latencies it saw
/// (only when the pace is open-loop: saturation measures throughput).
/// One member of a fan-out group: sends at `pace`, counts what it is
/// delivered, and times it when paced. In a cluster, `node` is the node its
/// socket is on, and only deliveries from another node's member are timed.
pub async fn fan_out_member(
    socket: Socket,
    conversation: ConversationId,
    pace: Pace,
    clock: Clock,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
    node: Option<usize>,
) -> Latencies {
    let (mut sink, mut stream) = socket.split();
    let acks = Arc::new(AtomicU64::new(0));
    let reader_acks = acks.clone();
    let reader_stop = stop.clone();
    let timed = matches!(pace, Pace::Every(_));
    let reader = tokio::spawn(async move {
        let mut latencies = Latencies::default();
        while let Some(Ok(message)) = stream.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let text = text.as_str();
            if text == "ack" || text.starts_with("{\"type\":\"ack\"") {
                reader_acks.fetch_add(1, Ordering::Relaxed);
            } else if text.contains("t=") {
                tally.deliveries.fetch_add(1, Ordering::Relaxed);
                let crossed = node.is_none_or(|node| !text.contains(&format!("n={node}\"")));
                if timed && crossed && !reader_stop.load(Ordering::Relaxed) {
                    if let Some(latency) = clock.since(text) {
                        latencies.record(latency);
                    }
                }
            }
        }
        latencies
    });
    let mut sent = 0u64;
    match pace {
        Pace::Saturate { window } => {
            while !stop.load(Ordering::Relaxed) {
                while sent - acks.load(Ordering::Relaxed) < window as u64 {
                    if sink
                        .feed(send_frame(conversation, clock.stamp(node)))
                        .await
                        .is_err()
                    {
                        break;
                    }
                    sent += 1;
                }
                if sink.flush().await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        }
        Pace::Every(every) => {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            while !stop.load(Ordering::Relaxed) {
                ticks.tick().await;
                if sink
                    .send(send_frame(conversation, clock.stamp(node)))
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }
    }
    // Let the last deliveries arrive, then hang up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = sink.close().await;
    reader.await.unwrap_or_default()
}
