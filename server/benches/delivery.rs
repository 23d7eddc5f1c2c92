//! Durable delivery throughput: messages acknowledged per second by a real
//! server on loopback (SQLite WAL, synchronous=FULL, ack after commit),
//! against a baseline measured in the same process: the same number of rows
//! committed one transaction at a time straight into SQLite with the same
//! settings, which is the ceiling for one-commit-per-message.
//!
//! Run with `cargo xtask bench`. Prints the machine, both rates and their
//! ratio. Speed goals live here, never in tests.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use natter_protocol::{ClientFrame, Credentials, ServerFrame, PROTOCOL_VERSION};
use natter_server::config::Config;
use reqwest::header::{COOKIE, SET_COOKIE};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use uuid::Uuid;

const SENDERS: usize = 8;
const PER_SENDER: usize = 500;
/// Messages each sender keeps in flight.
const WINDOW: usize = 64;

fn baseline(rows: usize) -> Duration {
    let dir = tempfile::tempdir().expect("temp dir");
    let conn = rusqlite::Connection::open(dir.path().join("baseline.sqlite3")).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("full");
    conn.execute_batch("CREATE TABLE m (id INTEGER PRIMARY KEY, client_id TEXT UNIQUE, body TEXT)")
        .expect("schema");
    let started = Instant::now();
    for n in 0..rows {
        conn.execute(
            "INSERT INTO m (client_id, body) VALUES (?1, ?2)",
            (Uuid::new_v4().to_string(), format!("message {n}")),
        )
        .expect("insert");
    }
    started.elapsed()
}

async fn signup(base: &str, name: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/signup"))
        .json(&Credentials {
            username: name.to_owned(),
            password: "correct horse battery".to_owned(),
        })
        .send()
        .await
        .expect("signup");
    response.headers()[SET_COOKIE]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned()
}

async fn sender(addr: std::net::SocketAddr, cookie: String, conversation: i64) {
    let mut request = format!("ws://{addr}/ws")
        .into_client_request()
        .expect("request");
    request
        .headers_mut()
        .insert(COOKIE.as_str(), cookie.parse().expect("cookie"));
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let hello = ClientFrame::Hello {
        version: PROTOCOL_VERSION,
        cursors: vec![],
    };
    ws.send(WsMessage::text(
        serde_json::to_string(&hello).expect("json"),
    ))
    .await
    .expect("hello");
    let (mut sent, mut acked) = (0, 0);
    while acked < PER_SENDER {
        while sent < PER_SENDER && sent - acked < WINDOW {
            let frame = ClientFrame::Send {
                conversation,
                client_id: Uuid::new_v4(),
                body: format!("message {sent}"),
                attachment: None,
                action: None,
                reply_to: None,
            };
            ws.send(WsMessage::text(
                serde_json::to_string(&frame).expect("json"),
            ))
            .await
            .expect("send");
            sent += 1;
        }
        if let Some(Ok(WsMessage::Text(text))) = ws.next().await {
            if let Ok(ServerFrame::Ack { .. }) = serde_json::from_str(text.as_str()) {
                acked += 1;
            }
        }
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}")
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let total = SENDERS * PER_SENDER;
    let base_time = baseline(total);

    let served = runtime.block_on(async {
        let data = tempfile::tempdir().expect("temp dir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut config = Config::new(data.path(), data.path().join("no-client"));
        config.frame_rate = 1e9;
        tokio::spawn(natter_server::run(listener, config, std::future::pending()));
        let base = format!("http://{addr}");
        let ann = signup(&base, "bench_ann").await;
        signup(&base, "bench_bob").await;
        let conversation: natter_protocol::Conversation = reqwest::Client::new()
            .post(format!("{base}/api/conversations"))
            .header(COOKIE, &ann)
            .json(&serde_json::json!({ "username": "bench_bob" }))
            .send()
            .await
            .expect("open")
            .json()
            .await
            .expect("conversation");
        let started = Instant::now();
        let tasks: Vec<_> = (0..SENDERS)
            .map(|_| tokio::spawn(sender(addr, ann.clone(), conversation.id)))
            .collect();
        for task in tasks {
            task.await.expect("sender");
        }
        started.elapsed()
    });

    let rate = |time: Duration| total as f64 / time.as_secs_f64();
    println!("delivery benchmark on {}", machine());
    println!(
        "  baseline: {total} single-row SQLite commits (WAL, synchronous=FULL): {:>8.0} rows/s",
        rate(base_time)
    );
    println!(
        "  natter:   {total} messages from {SENDERS} sockets, acked after commit:  {:>8.0} msg/s",
        rate(served)
    );
    println!(
        "  ratio natter/baseline: {:.2}  (GUIDE §7 aims at ≥ 50,000 msg/s, which needs group commit)",
        rate(served) / rate(base_time)
    );
}
