//! Chaos: 20 protocol clients send 5,000 messages with retries while the real
//! server binary is SIGKILLed and restarted on the same data directory at
//! random points of the traffic (by acks counted, not by time, so a fast or
//! slow machine gets the same number of kills mid-stream); and the same
//! through HAProxy in front of a cluster of two nodes (PostgreSQL, NATS),
//! one node SIGKILLed twice and NATS once. Afterwards:
//! - every acknowledged message is stored exactly once, under the acked seq;
//! - every client holds every message of its conversation exactly once,
//!   its own known by their acks (the sending socket is not sent its own
//!   messages back), the others' by their delivery; no connection is sent
//!   a message twice, or one at or below the cursor its `hello` gave;
//! - every conversation's seqs are gap-free and increasing.
//!
//! Bounded in count (5,000 messages, 4 kills) and time (3 minutes).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use natter_protocol::{
    ClientFrame, ConversationId, Credentials, Cursor, ErrorCode, Message, Seq, ServerFrame, User,
    PROTOCOL_VERSION,
};
use natter_server::testing::haproxy::Balancer;
use natter_server::testing::nats::NatsServer;
use natter_server::testing::node_args;
use natter_server::testing::postgres::fresh_database;
use rand::{Rng, SeedableRng};
use reqwest::header::{COOKIE, SET_COOKIE};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use uuid::Uuid;

const CLIENTS: usize = 20;
const PER_CLIENT: usize = 250;
const KILLS: usize = 4;
/// Messages a client may have in flight before waiting for acks.
const WINDOW: usize = 32;
const DEADLINE: Duration = Duration::from_secs(180);

struct Server {
    child: Option<Child>,
    addr: SocketAddr,
    data: std::path::PathBuf,
    /// Settings beyond the usual ones (a cluster node's).
    extra: Vec<String>,
}

impl Server {
    fn start(addr: SocketAddr, data: &std::path::Path, extra: Vec<String>) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_natter-server"))
            .args(["--addr", &addr.to_string(), "--dist-dir", "/nonexistent"])
            .args(["--sign-ups-per-hour", "1000"])
            .arg("--data-dir")
            .arg(data)
            .args(&extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn natter-server");
        let server = Server {
            child: Some(child),
            addr,
            data: data.to_owned(),
            extra,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
        }
    }

    fn restart(&mut self) {
        self.kill();
        *self = Server::start(self.addr, &self.data.clone(), self.extra.clone());
    }

    /// SIGTERM, as a rolling restart does: the server finishes what it
    /// queued and exits; then it starts again and waits until it is ready.
    fn restart_gracefully(&mut self) {
        if let Some(mut child) = self.child.take() {
            let status = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .expect("kill -TERM");
            assert!(status.success());
            let exited = child.wait().expect("reap");
            assert!(exited.success(), "a graceful stop exits cleanly: {exited}");
        }
        *self = Server::start(self.addr, &self.data.clone(), self.extra.clone());
        let started = Instant::now();
        while !ready(self.addr) {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "not ready again"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether `GET /readyz` answers 200.
fn ready(addr: SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let request = "GET /readyz HTTP/1.1\r\nHost: natter\r\nConnection: close\r\n\r\n";
    let mut answer = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.1 200")
}

fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

struct Account {
    user: User,
    cookie: String,
}

async fn signup(addr: SocketAddr, name: &str) -> Account {
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
        .expect("cookie pair")
        .to_owned();
    Account {
        user: response.json().await.expect("user"),
        cookie,
    }
}

/// What one client knows, kept across reconnects.
struct Client {
    account: Account,
    conversation: ConversationId,
    /// Its messages, in the order it sends them.
    outgoing: Vec<(Uuid, String)>,
    acked: HashMap<Uuid, Seq>,
    /// New acks across all clients, which paces the kills.
    progress: Arc<AtomicUsize>,
    /// Every seq this client holds: its own by ack, the others' by delivery.
    received: BTreeMap<Seq, Uuid>,
    /// Messages sent to one connection twice, or below its hello cursor.
    duplicates: usize,
    /// The current connection's hello cursor and the seqs it was sent.
    hello_cursor: Seq,
    this_connection: std::collections::HashSet<Seq>,
    connections: usize,
    /// Sends the server answered with an error (retried).
    failed_sends: usize,
}

impl Client {
    fn cursor(&self) -> Seq {
        let mut seq = 0;
        while self.received.contains_key(&(seq + 1)) {
            seq += 1;
        }
        seq
    }

    fn done(&self, expected: usize) -> bool {
        self.acked.len() == self.outgoing.len() && self.cursor() as usize == expected
    }

    fn hold(&mut self, seq: Seq, client_id: Uuid) {
        let held = self.received.entry(seq).or_insert(client_id);
        assert_eq!(*held, client_id, "two messages share a seq");
    }

    fn take(&mut self, frame: ServerFrame, in_flight: &mut Vec<Uuid>, retry: &mut Vec<Uuid>) {
        match frame {
            ServerFrame::Ack { client_id, seq, .. } => {
                self.hold(seq, client_id);
                match self.acked.insert(client_id, seq) {
                    Some(previous) => assert_eq!(previous, seq, "a resend got a different seq"),
                    None => {
                        self.progress.fetch_add(1, Ordering::SeqCst);
                    }
                }
                in_flight.retain(|id| *id != client_id);
            }
            ServerFrame::Message { message } => self.receive(message),
            ServerFrame::Error {
                code: ErrorCode::Internal,
                client_id: Some(client_id),
                ..
            } => {
                in_flight.retain(|id| *id != client_id);
                retry.push(client_id);
                self.failed_sends += 1;
            }
            ServerFrame::Error { code, message, .. } => panic!("refused: {code:?} {message}"),
            _ => {}
        }
    }

    fn receive(&mut self, message: Message) {
        assert_eq!(message.conversation, self.conversation);
        if message.seq <= self.hello_cursor || !self.this_connection.insert(message.seq) {
            self.duplicates += 1;
        }
        self.hold(message.seq, message.client_id);
    }
}

/// Runs one client until it has sent and received everything; reconnects
/// whenever the server goes away.
async fn run_client(addr: SocketAddr, mut client: Client, expected: usize) -> Client {
    let started = Instant::now();
    while !client.done(expected) {
        assert!(
            started.elapsed() < DEADLINE,
            "client did not finish in time"
        );
        let mut request = format!("ws://{addr}/ws")
            .into_client_request()
            .expect("request");
        request.headers_mut().insert(
            COOKIE.as_str(),
            client.account.cookie.parse().expect("cookie"),
        );
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(request).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        client.connections += 1;
        client.hello_cursor = client.cursor();
        client.this_connection.clear();
        let hello = ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            cursors: vec![Cursor {
                conversation: client.conversation,
                seq: client.hello_cursor,
            }],
        };
        if ws.send(text(&hello)).await.is_err() {
            continue;
        }
        // Everything unacked goes again, in order; the server deduplicates.
        let mut queue: Vec<Uuid> = client
            .outgoing
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| !client.acked.contains_key(id))
            .collect();
        queue.reverse();
        let mut in_flight: Vec<Uuid> = Vec::new();
        loop {
            while in_flight.len() < WINDOW {
                let Some(id) = queue.pop() else { break };
                let body = client
                    .outgoing
                    .iter()
                    .find(|(candidate, _)| *candidate == id)
                    .map(|(_, body)| body.clone())
                    .expect("known message");
                let frame = ClientFrame::Send {
                    conversation: client.conversation,
                    client_id: id,
                    body,
                    attachment: None,
                    action: None,
                    link_preview: None,
                    reply_to: None,
                };
                if ws.send(text(&frame)).await.is_err() {
                    break;
                }
                in_flight.push(id);
            }
            if client.done(expected) {
                let _ = ws.close(None).await;
                break;
            }
            let next = tokio::time::timeout(Duration::from_secs(5), ws.next()).await;
            let Ok(Some(Ok(WsMessage::Text(text)))) = next else {
                match next {
                    Ok(Some(Ok(_))) => continue,
                    // Closed, failed, or silent: reconnect.
                    _ => break,
                }
            };
            let frame: ServerFrame = serde_json::from_str(text.as_str()).expect("server frame");
            let mut retry = Vec::new();
            client.take(frame, &mut in_flight, &mut retry);
            if !retry.is_empty() {
                tokio::time::sleep(Duration::from_millis(20)).await;
                queue.extend(retry);
            }
        }
    }
    client
}

fn text(frame: &ClientFrame) -> WsMessage {
    WsMessage::text(serde_json::to_string(frame).expect("encode"))
}

async fn stored(addr: SocketAddr, account: &Account, conversation: ConversationId) -> Vec<Message> {
    let mut all = Vec::new();
    let mut before: Option<Seq> = None;
    loop {
        let mut url = format!("http://{addr}/api/conversations/{conversation}/messages?limit=200");
        if let Some(before) = before {
            url.push_str(&format!("&before={before}"));
        }
        let page: Vec<Message> = reqwest::Client::new()
            .get(url)
            .header(COOKIE, &account.cookie)
            .send()
            .await
            .expect("history")
            .json()
            .await
            .expect("page");
        let Some(first) = page.first() else { break };
        before = Some(first.seq);
        let mut page = page;
        page.extend(all);
        all = page;
    }
    all
}

/// Something that goes wrong at a kill point.
type Blow = Box<dyn FnMut() + Send>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acked_messages_survive_sigkill_exactly_once_and_in_order() {
    let data = tempfile::tempdir().expect("temp dir");
    let addr = free_addr();
    let server = Arc::new(Mutex::new(Server::start(addr, data.path(), Vec::new())));
    let blows: Vec<Blow> = (0..KILLS)
        .map(|_| {
            let server = server.clone();
            Box::new(move || server.lock().expect("server").restart()) as Blow
        })
        .collect();
    let clients = chaos(addr, blows).await;
    for client in &clients {
        assert!(
            client.connections > 1,
            "every client reconnected at least once"
        );
    }
}

/// Two nodes on PostgreSQL and NATS behind HAProxy, all on loopback.
struct Cluster {
    nodes: Vec<Arc<Mutex<Server>>>,
    nats: Arc<Mutex<NatsServer>>,
    balancer: Balancer,
    _database: natter_server::testing::postgres::Database,
    _dirs: Vec<tempfile::TempDir>,
}

impl Cluster {
    async fn start() -> Self {
        let database = fresh_database().await;
        let nats = NatsServer::start();
        let dirs: Vec<tempfile::TempDir> = (0..3)
            .map(|_| tempfile::tempdir().expect("temp dir"))
            .collect();
        let mut node_args = node_args(&database.url, &nats.url(), dirs[2].path());
        node_args.extend(["--trusted-proxy".to_owned(), "127.0.0.1".to_owned()]);
        let nodes: Vec<Arc<Mutex<Server>>> = dirs[..2]
            .iter()
            .map(|dir| {
                let node = Server::start(free_addr(), dir.path(), node_args.clone());
                Arc::new(Mutex::new(node))
            })
            .collect();
        let ports: Vec<u16> = nodes
            .iter()
            .map(|node| node.lock().expect("node").addr.port())
            .collect();
        Cluster {
            balancer: Balancer::start(&ports),
            nodes,
            nats: Arc::new(Mutex::new(nats)),
            _database: database,
            _dirs: dirs,
        }
    }

    fn kill_node(&self, n: usize) -> Blow {
        let node = self.nodes[n].clone();
        Box::new(move || node.lock().expect("node").restart())
    }

    fn stop_node(&self, n: usize) -> Blow {
        let node = self.nodes[n].clone();
        Box::new(move || node.lock().expect("node").restart_gracefully())
    }

    fn kill_nats(&self) -> Blow {
        let nats = self.nats.clone();
        Box::new(move || {
            let mut nats = nats.lock().expect("nats");
            nats.kill();
            // The nodes carry on without it for a while.
            std::thread::sleep(Duration::from_millis(300));
            nats.restart();
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_keeps_every_acked_message_through_node_and_nats_deaths() {
    let cluster = Cluster::start().await;
    let blows = vec![
        cluster.kill_node(0),
        cluster.kill_nats(),
        cluster.kill_node(0),
    ];
    let clients = chaos(cluster.balancer.addr(), blows).await;
    let reconnected = clients.iter().filter(|c| c.connections > 1).count();
    println!("{reconnected} of {CLIENTS} clients reconnected");
    assert!(reconnected > 0, "the killed node's clients reconnected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_fails_no_send() {
    let cluster = Cluster::start().await;
    let blows = vec![cluster.stop_node(0), cluster.stop_node(1)];
    let clients = chaos(cluster.balancer.addr(), blows).await;
    for client in &clients {
        assert_eq!(
            client.failed_sends, 0,
            "{}: a send failed during the rolling restart",
            client.account.user.username
        );
    }
    let moved = clients.iter().filter(|c| c.connections > 1).count();
    println!("{moved} of {CLIENTS} clients moved node");
    assert!(moved > 0, "clients of a stopped node moved to the other");
}

/// NATS down makes every node unready, yet the balancer keeps serving
/// through the nodes that are alive rather than turning everyone away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_outage_leaves_the_balancer_serving() {
    let cluster = Cluster::start().await;
    let node = cluster.nodes[0].lock().expect("node").addr;
    cluster.nats.lock().expect("nats").kill();
    let started = Instant::now();
    while ready(node) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still ready without NATS"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // HAProxy's checks (every 500 ms, down after two) see it too.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let account = signup(cluster.balancer.addr(), "during_the_outage").await;
    assert_eq!(account.user.username, "during_the_outage");
    cluster.nats.lock().expect("nats").restart();
}

/// Runs the 20 clients against `addr`, dealing `blows` at random points of
/// the traffic, then checks what every client and the store hold.
async fn chaos(addr: SocketAddr, blows: Vec<Blow>) -> Vec<Client> {
    let seed: u64 = rand::rng().random();
    println!("chaos seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let planned = blows.len();

    // Ten conversations of two: each has 2 × 250 = 500 messages.
    let progress = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for pair in 0..CLIENTS / 2 {
        let a = signup(addr, &format!("chaos_a{pair}")).await;
        let b = signup(addr, &format!("chaos_b{pair}")).await;
        let conversation: natter_protocol::Conversation = reqwest::Client::new()
            .post(format!("http://{addr}/api/conversations"))
            .header(COOKIE, &a.cookie)
            .json(&serde_json::json!({ "username": b.user.username }))
            .send()
            .await
            .expect("open")
            .json()
            .await
            .expect("conversation");
        for account in [a, b] {
            let name = account.user.username.clone();
            clients.push(Client {
                outgoing: (0..PER_CLIENT)
                    .map(|n| (Uuid::new_v4(), format!("{name} #{n}")))
                    .collect(),
                account,
                conversation: conversation.id,
                acked: HashMap::new(),
                progress: progress.clone(),
                received: BTreeMap::new(),
                duplicates: 0,
                hello_cursor: 0,
                this_connection: Default::default(),
                connections: 0,
                failed_sends: 0,
            });
        }
    }

    let finished = Arc::new(AtomicBool::new(false));
    // Kill k happens once a random number of acks in the k-th of KILLS
    // equal slices of the traffic (short of the last 5%) has come back.
    let total = CLIENTS * PER_CLIENT;
    let slice = total * 95 / 100 / planned;
    let kill_at: Vec<usize> = (0..planned)
        .map(|k| k * slice + rng.random_range(1..slice))
        .collect();
    let killer = {
        let finished = finished.clone();
        let progress = progress.clone();
        tokio::task::spawn_blocking(move || {
            let mut kills = 0;
            for (at, mut blow) in kill_at.into_iter().zip(blows) {
                while progress.load(Ordering::SeqCst) < at && !finished.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(2));
                }
                if finished.load(Ordering::SeqCst) {
                    break;
                }
                blow();
                kills += 1;
            }
            kills
        })
    };

    let tasks: Vec<_> = clients
        .into_iter()
        .map(|client| tokio::spawn(run_client(addr, client, 2 * PER_CLIENT)))
        .collect();
    let mut clients = Vec::new();
    for task in tasks {
        clients.push(task.await.expect("client task"));
    }
    finished.store(true, Ordering::SeqCst);
    let kills = killer.await.expect("killer");
    let reconnects: usize = clients.iter().map(|c| c.connections - 1).sum();
    println!("{kills} blows dealt; clients reconnected {reconnects} times");
    assert_eq!(kills, planned, "every blow falls before the last ack");

    let mut by_conversation: HashMap<ConversationId, Vec<&Client>> = HashMap::new();
    for client in &clients {
        by_conversation
            .entry(client.conversation)
            .or_default()
            .push(client);
        assert_eq!(
            client.duplicates, 0,
            "{} got duplicates",
            client.account.user.username
        );
    }
    for (conversation, members) in by_conversation {
        let messages = stored(addr, &members[0].account, conversation).await;
        let seqs: Vec<Seq> = messages.iter().map(|m| m.seq).collect();
        assert_eq!(
            seqs,
            (1..=2 * PER_CLIENT as u64).collect::<Vec<_>>(),
            "gap-free"
        );
        let by_id: HashMap<Uuid, Seq> = messages.iter().map(|m| (m.client_id, m.seq)).collect();
        assert_eq!(by_id.len(), messages.len(), "each client id stored once");
        for client in &members {
            for (id, seq) in &client.acked {
                assert_eq!(
                    by_id.get(id),
                    Some(seq),
                    "acked message stored under its seq"
                );
            }
            let held: Vec<(Seq, Uuid)> = client.received.iter().map(|(s, id)| (*s, *id)).collect();
            let truth: Vec<(Seq, Uuid)> = messages.iter().map(|m| (m.seq, m.client_id)).collect();
            assert_eq!(held, truth, "the client holds exactly the stored messages");
            // A sender's own messages stay in the order it sent them.
            let own: Vec<Seq> = client.outgoing.iter().map(|(id, _)| by_id[id]).collect();
            assert!(own.windows(2).all(|w| w[0] < w[1]), "sender order kept");
        }
    }
    clients
}
