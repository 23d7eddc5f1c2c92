//! Two server nodes on one PostgreSQL database and one NATS server (real
//! ones, started for the test on loopback ports): people connected to
//! different nodes chat as if there were one, and a node that lost NATS
//! for a while catches up from the database once it is back.

mod common;

use common::{say, Account, Socket, TestServer};
use natter_protocol::{ClientFrame, ConversationId, Message, ReceiptKind, ServerFrame};
use natter_server::config::{HubKind, StoreKind};
use natter_server::testing::nats::NatsServer;
use natter_server::testing::postgres::{fresh_database, Database};
use serde_json::json;

/// A cluster of two nodes.
struct Cluster {
    nodes: [TestServer; 2],
    _shared: tempfile::TempDir,
    _database: Database,
}

async fn node(database: &Database, nats: &NatsServer, shared: &std::path::Path) -> TestServer {
    let (url, nats, shared) = (database.url.clone(), nats.url(), shared.to_owned());
    TestServer::start_configured(tempfile::tempdir().expect("temp dir"), move |config| {
        config.store = StoreKind::Postgres;
        config.database_url = Some(url);
        config.hub = HubKind::Nats;
        config.nats_url = nats;
        config.shared_dir = Some(shared);
        config.sign_ups_per_hour = 1000;
    })
    .await
}

async fn cluster(nats: &NatsServer) -> Cluster {
    let database = fresh_database().await;
    let shared = tempfile::tempdir().expect("temp dir");
    let first = node(&database, nats, shared.path()).await;
    let second = node(&database, nats, shared.path()).await;
    Cluster {
        nodes: [first, second],
        _shared: shared,
        _database: database,
    }
}

/// Ann on node one and Bob on node two, with a 1:1 conversation both
/// opened (so it is no request).
async fn acquainted(cluster: &Cluster) -> (Account, Account, ConversationId) {
    let [first, second] = &cluster.nodes;
    let ann = first.signup("ann").await;
    let bob = on(&second.signup("bob").await, second);
    let conversation = ann.open_direct("bob").await.id;
    bob.open_direct("ann").await;
    (ann, bob, conversation)
}

/// The same person, talking to another node (sessions are in the
/// database).
fn on(account: &Account, node: &TestServer) -> Account {
    Account {
        server: node.addr,
        user: account.user.clone(),
        cookie: account.cookie.clone(),
    }
}

fn message(frame: ServerFrame) -> Option<Message> {
    match frame {
        ServerFrame::Message { message } => Some(message),
        _ => None,
    }
}

fn receipt(frame: ServerFrame) -> Option<(i64, ReceiptKind, u64)> {
    match frame {
        ServerFrame::Receipt {
            user, kind, seq, ..
        } => Some((user, kind, seq)),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_on_different_nodes_chat_with_receipts_and_typing() {
    let nats = NatsServer::start();
    let cluster = cluster(&nats).await;
    let (ann, bob, conversation) = acquainted(&cluster).await;
    let mut ann_socket = ann.connect().await;
    let mut bob_socket = bob.connect().await;

    // Text PostgreSQL cannot store is refused alone, before any batch.
    assert!(say(&mut ann_socket, conversation, "nul \0 inside")
        .await
        .unwrap_err()
        .contains("NUL"));
    let seq = say(&mut ann_socket, conversation, "hi bob, from node one")
        .await
        .unwrap();
    let got = bob_socket.next_matching(message).await;
    assert_eq!((got.seq, got.body.as_str()), (seq, "hi bob, from node one"));
    for kind in [ReceiptKind::Delivered, ReceiptKind::Read] {
        bob_socket
            .send(&ClientFrame::Receipt {
                conversation,
                kind,
                seq,
            })
            .await;
        assert_eq!(
            ann_socket.next_matching(receipt).await,
            (bob.user.id, kind, seq)
        );
    }
    bob_socket.send(&ClientFrame::Typing { conversation }).await;
    assert_eq!(
        ann_socket
            .next_matching(|frame| match frame {
                ServerFrame::Typing { user, .. } => Some(user),
                _ => None,
            })
            .await,
        bob.user.id
    );
    let reply = say(&mut bob_socket, conversation, "hello ann, from node two")
        .await
        .unwrap();
    let got = ann_socket.next_matching(message).await;
    assert_eq!(
        (got.seq, got.body.as_str()),
        (reply, "hello ann, from node two")
    );
    assert_eq!(reply, seq + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_of_ten_spread_over_both_nodes_hears_everyone_once() {
    let nats = NatsServer::start();
    let cluster = cluster(&nats).await;
    let mut members = Vec::new();
    for n in 0..10 {
        let node = &cluster.nodes[n % 2];
        members.push(on(&node.signup(&format!("member{n}")).await, node));
    }
    let others: Vec<String> = members[1..]
        .iter()
        .map(|member| member.user.username.clone())
        .collect();
    let group = members[0]
        .create_group(json!({ "name": "Everyone", "members": others }))
        .await
        .id;
    let mut sockets: Vec<Socket> = Vec::new();
    for member in &members {
        sockets.push(member.connect().await);
    }
    // Everyone sends at once; each then hears its own ack and the nine
    // others' messages, each once. (A device may be sent its own message
    // too: messages committed on two nodes can arrive out of order, and a
    // gap is read back from the database, own messages included; apps
    // know their own by client id.)
    let mut client_ids = Vec::new();
    for (n, socket) in sockets.iter_mut().enumerate() {
        let client_id = uuid::Uuid::new_v4();
        socket
            .send(&ClientFrame::Send {
                conversation: group,
                client_id,
                body: format!("from member{n}"),
                attachment: None,
                action: None,
                link_preview: None,
                reply_to: None,
            })
            .await;
        client_ids.push(client_id);
    }
    let mut sent = Vec::new();
    let mut heard_by = Vec::new();
    for (n, socket) in sockets.iter_mut().enumerate() {
        let (mut own, mut heard) = (None, Vec::new());
        while own.is_none_or(|own| heard.iter().filter(|seq| **seq != own).count() < 9) {
            match socket.next().await {
                ServerFrame::Ack { client_id, seq, .. } if client_id == client_ids[n] => {
                    own = Some(seq)
                }
                ServerFrame::Message { message } => {
                    assert!(
                        !heard.contains(&message.seq),
                        "member{n} heard seq {} twice",
                        message.seq
                    );
                    heard.push(message.seq);
                }
                _ => {}
            }
        }
        sent.extend(own);
        heard_by.push(heard);
    }
    for (n, mut heard) in heard_by.into_iter().enumerate() {
        heard.retain(|seq| *seq != sent[n]);
        heard.sort_unstable();
        let mut expected: Vec<u64> = sent
            .iter()
            .enumerate()
            .filter(|(m, _)| *m != n)
            .map(|(_, seq)| *seq)
            .collect();
        expected.sort_unstable();
        assert_eq!(heard, expected, "member{n}");
    }
    let mut all = sent.clone();
    all.sort_unstable();
    assert!(
        all.windows(2).all(|w| w[1] == w[0] + 1),
        "gap-free: {all:?}"
    );
}

/// Each node caches memberships and block lists; a change on one node is
/// announced, and the other reads again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_node_changes_the_other_does_not_keep_cached() {
    let nats = NatsServer::start();
    let cluster = cluster(&nats).await;
    let [first, second] = &cluster.nodes;
    let ann = first.signup("ann").await;
    let bob = first.signup("bob").await;
    let carol = on(&second.signup("carol").await, second);
    let dave = on(&second.signup("dave").await, second);
    let group = ann
        .create_group(json!({ "name": "Book club", "members": ["carol"] }))
        .await
        .id;
    // Node two now holds the group's membership: carol reads it there.
    carol.history(group).await;
    let path = format!("/api/conversations/{group}/messages");
    let refused = |account: &Account| {
        let request = account.get(&path);
        async move { request.send().await.unwrap().status().is_client_error() }
    };
    assert!(refused(&dave).await);
    // Node one adds dave and removes carol.
    let added = ann
        .post(&format!("/api/groups/{group}/members"))
        .json(&json!({ "username": "dave" }))
        .send()
        .await
        .unwrap();
    assert!(added.status().is_success(), "add: {}", added.status());
    let removed = ann
        .request(
            reqwest::Method::DELETE,
            &format!("/api/groups/{group}/members/{}", carol.user.id),
        )
        .send()
        .await
        .unwrap();
    assert!(
        removed.status().is_success(),
        "remove: {}",
        removed.status()
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !refused(&carol).await || refused(&dave).await {
        assert!(
            std::time::Instant::now() < deadline,
            "node two still reads the old membership"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Blocks too: bob blocks ann on node one; node two keeps them apart.
    let bob_on_second = on(&bob, second);
    let direct = bob_on_second.open_direct("ann").await.id;
    let blocked = bob
        .request(
            reqwest::Method::PUT,
            &format!("/api/blocks/{}", ann.user.id),
        )
        .send()
        .await
        .unwrap();
    assert!(blocked.status().is_success(), "block: {}", blocked.status());
    let mut bob_socket = bob_on_second.connect().await;
    let mut ann_socket = ann.connect().await;
    say(&mut ann_socket, direct, "can you hear me?")
        .await
        .unwrap();
    bob_socket.send(&ClientFrame::Ping { nonce: 7 }).await;
    loop {
        match bob_socket.next().await {
            ServerFrame::Pong { .. } => break,
            ServerFrame::Message { message } => panic!("a blocked person's message: {message:?}"),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_lost_nats_catches_up_from_the_database() {
    let mut nats = NatsServer::start();
    let cluster = cluster(&nats).await;
    let [first, second] = &cluster.nodes;
    let (ann, bob, conversation) = acquainted(&cluster).await;
    let mut ann_socket = ann.connect().await;
    let mut bob_socket = bob.connect().await;

    let ready = |node: &TestServer| {
        let url = node.url("/readyz");
        async move { reqwest::get(url).await.unwrap() }
    };
    assert_eq!(ready(first).await.status(), 200);
    nats.kill();
    // Not ready while the other nodes are out of reach (balancers send
    // newcomers elsewhere), though alive and serving who is connected.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let answer = ready(second).await;
        if answer.status() == 503 {
            assert!(answer.text().await.unwrap().contains("hub"));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still ready without NATS"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let alive = reqwest::get(second.url("/healthz")).await.unwrap();
    assert_eq!(alive.status(), 200);
    // Committed and acked on node one while the doorbells go nowhere.
    let mut sent = Vec::new();
    for n in 0..3 {
        sent.push(
            say(
                &mut ann_socket,
                conversation,
                &format!("while NATS was down {n}"),
            )
            .await
            .unwrap(),
        );
    }
    nats.restart();
    let mut heard = Vec::new();
    while heard.len() < sent.len() {
        heard.push(bob_socket.next_matching(message).await.seq);
    }
    assert_eq!(heard, sent);
    // And live delivery works again.
    let seq = say(&mut ann_socket, conversation, "back").await.unwrap();
    assert_eq!(bob_socket.next_matching(message).await.seq, seq);
    assert_eq!(ready(second).await.status(), 200);
    let metrics = reqwest::get(second.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "natter_sockets",
        "natter_sends_total",
        "natter_ack_seconds_bucket",
        "natter_commit_batch_writes_bucket",
        "natter_catch_ups_total",
        "natter_nats_gaps_total",
        "natter_nats_lag_seconds",
    ] {
        assert!(metrics.contains(name), "{name} in:\n{metrics}");
    }
}

#[tokio::test]
async fn a_cluster_node_on_a_database_of_its_own_is_refused() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut config =
        natter_server::config::Config::new(data.path(), std::path::PathBuf::from("/nonexistent"));
    config.hub = HubKind::Nats;
    let refused = natter_server::run(listener, config, async {}).await;
    assert!(matches!(refused, Err(natter_server::ServeError::NotShared)));
}
