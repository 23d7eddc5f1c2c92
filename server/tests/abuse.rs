//! What one client must not be able to do to everyone else: stall logins
//! and sends with a storm of password guesses, make accounts in bulk, hold
//! a connection with headers sent a byte at a time, or stop reading its
//! socket and so hold up its task and the server's shutdown.

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use natter_protocol::{ClientFrame, ServerFrame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

#[tokio::test]
async fn a_login_storm_is_refused_without_stalling_anyone() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let conversation = ann.open_direct("bob").await.id;
    let mut socket = ann.connect().await;
    let client = reqwest::Client::new();
    let storm: Vec<_> = (0..300)
        .map(|n| {
            let client = client.clone();
            let url = server.url("/api/login");
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&serde_json::json!({"username": format!("victim{}", n % 3), "password": "guess guess"}))
                    .send()
                    .await
                    .map(|response| response.status())
            })
        })
        .collect();
    // Meanwhile, the others are served: a page request and a message.
    let served = tokio::time::timeout(Duration::from_secs(5), async {
        let session = bob.get("/api/session").send().await.unwrap();
        assert!(session.status().is_success());
        socket
            .send(&ClientFrame::Send {
                conversation,
                client_id: Uuid::now_v7(),
                body: "still here".into(),
                attachment: None,
                reply_to: None,
                action: None,
                link_preview: None,
            })
            .await;
        socket
            .next_matching(|frame| matches!(frame, ServerFrame::Ack { .. }).then_some(()))
            .await;
    })
    .await;
    assert!(served.is_ok(), "the storm stalled other users");
    let mut statuses = Vec::new();
    for guess in storm {
        statuses.push(guess.await.unwrap().unwrap().as_u16());
    }
    let refused = statuses.iter().filter(|s| matches!(s, 429 | 503)).count();
    assert!(refused >= 150, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| matches!(s, 401 | 429 | 503)),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn accounts_cannot_be_made_in_bulk_from_one_address() {
    let server = TestServer::start().await;
    let client = reqwest::Client::new();
    let burst: Vec<_> = (0..60)
        .map(|n| {
            let client = client.clone();
            let url = server.url("/api/signup");
            tokio::spawn(async move {
                let response = client
                    .post(url)
                    .json(&serde_json::json!({"username": format!("bulk{n}"), "password": "correct horse battery"}))
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let body: natter_protocol::ApiError = response.json().await.unwrap_or(natter_protocol::ApiError {
                    error: natter_protocol::ApiErrorCode::Internal,
                    message: String::new(),
                });
                (status, body.message)
            })
        })
        .collect();
    let mut made = 0;
    let mut refused = Vec::new();
    for attempt in burst {
        match attempt.await.unwrap() {
            (201, _) => made += 1,
            (status, message) => refused.push((status, message)),
        }
    }
    assert!(made <= natter_server::throttle::Throttle::SIGN_UPS as usize);
    assert!(!refused.is_empty());
    assert!(refused
        .iter()
        .all(|(status, message)| matches!(status, 429 | 503) && !message.is_empty()));
    assert!(refused
        .iter()
        .any(|(_, message)| message.starts_with("Too many accounts were made from this address")));
}

#[tokio::test]
async fn headers_sent_too_slowly_lose_the_connection() {
    let server = TestServer::start_configured(tempfile::tempdir().unwrap(), |config| {
        config.header_timeout = Duration::from_millis(500);
    })
    .await;
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(b"GET /api/session HTTP/1.1\r\nHost: natter\r\n")
        .await
        .unwrap();
    // ... and the rest never comes. The server ends the connection; the
    // test only bounds how long it may wait for that.
    let mut buffer = [0u8; 1024];
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match tcp.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the connection was still open");
    // Others are served meanwhile and after.
    let answered = reqwest::get(server.url("/api/session")).await.unwrap();
    assert!(answered.status().is_success());
}

#[tokio::test]
async fn a_socket_that_stops_reading_is_dropped_and_shutdown_still_ends() {
    let server = TestServer::start_configured(tempfile::tempdir().unwrap(), |config| {
        config.send_timeout = Duration::from_millis(500);
        config.shutdown_grace = Duration::from_secs(2);
        config.frame_rate = 1e9;
    })
    .await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let conversation = ann.open_direct("bob").await.id;
    // Bob connects, then never reads again.
    let mut stuck = bob.connect().await;
    let mut sender = ann.connect().await;
    let body = "x".repeat(4000);
    let mut acked = 0;
    for _ in 0..6000 {
        sender
            .send(&ClientFrame::Send {
                conversation,
                client_id: Uuid::now_v7(),
                body: body.clone(),
                attachment: None,
                reply_to: None,
                action: None,
                link_preview: None,
            })
            .await;
    }
    while acked < 6000 {
        if let ServerFrame::Ack { .. } = sender.next().await {
            acked += 1;
        }
    }
    // The server gave up on Bob's socket: once what was buffered is read,
    // the connection ends.
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        use futures_util::StreamExt;
        while let Some(Ok(_)) = stuck.ws.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stuck socket was never dropped");
    // Ann's socket was never held up by Bob's.
    sender.assert_alive().await;

    // A second stuck reader, and shutdown still ends within its grace.
    let _stuck_again = bob.connect().await;
    for _ in 0..2000 {
        sender
            .send(&ClientFrame::Send {
                conversation,
                client_id: Uuid::now_v7(),
                body: body.clone(),
                attachment: None,
                reply_to: None,
                action: None,
                link_preview: None,
            })
            .await;
    }
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(15), server.stop())
        .await
        .expect("shutdown waited for a client that does not read");
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test]
async fn one_account_cannot_hold_more_than_its_sockets() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let mut open = Vec::new();
    let mut refused = 0;
    for _ in 0..300 {
        let mut request = format!("ws://{}/ws", server.addr)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("cookie", ann.cookie.parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => open.push(socket),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 429);
                refused += 1;
            }
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    let cap = natter_server::config::Config::new("x", "y").sockets_per_account as usize;
    assert_eq!(open.len(), cap);
    assert_eq!(refused, 300 - cap);
    // A place comes back when a socket closes.
    let mut first = open.remove(0);
    first.close(None).await.unwrap();
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let again = ann.connect().await;
    drop((again, open));
}

#[tokio::test]
async fn past_its_allowance_an_account_is_refused_and_others_are_not() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let flood: Vec<_> = (0..80)
        .map(|_| tokio::spawn(ann.get("/api/users/bob").send()))
        .collect();
    let mut refused = 0;
    for search in flood {
        let response = search.await.unwrap().unwrap();
        match response.status().as_u16() {
            200 => {}
            429 => {
                refused += 1;
                let wait = response.headers()["retry-after"].to_str().unwrap();
                assert!(wait.parse::<u64>().unwrap() >= 1);
                let body: serde_json::Value = response.json().await.unwrap();
                assert_eq!(body["error"], "rate_limited");
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(refused > 0, "80 searches at once all went through");
    // Bob, at the same address, still searches; Ann may still read.
    assert_eq!(
        bob.get("/api/users/ann").send().await.unwrap().status(),
        200
    );
    assert_eq!(
        ann.get("/api/conversations").send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn an_account_has_one_frame_allowance_for_all_its_sockets() {
    // A tiny sustained rate: past the burst of 200, the next frame waits
    // ten seconds.
    let server = TestServer::start_configured(tempfile::tempdir().unwrap(), |config| {
        config.frame_rate = 0.1;
    })
    .await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let conversation = ann.open_direct("bob").await.id;
    let send = |body: &str| ClientFrame::Send {
        conversation,
        client_id: Uuid::now_v7(),
        body: body.into(),
        attachment: None,
        reply_to: None,
        action: None,
        link_preview: None,
    };
    let acked = |frame: ServerFrame| matches!(frame, ServerFrame::Ack { .. }).then_some(());
    // Two hellos, 197 typing frames and a send: the burst, all on one
    // socket but for the hellos.
    let mut first = ann.connect().await;
    let mut second = ann.connect().await;
    for _ in 0..197 {
        first.send(&ClientFrame::Typing { conversation }).await;
    }
    first.send(&send("the last of the burst")).await;
    first.next_matching(acked).await;
    // The other socket is the same account: it waits.
    second.send(&send("one too many")).await;
    let early = tokio::time::timeout(Duration::from_secs(1), second.next_matching(acked)).await;
    assert!(
        early.is_err(),
        "a second socket had an allowance of its own"
    );
    // Bob, at the same address, is not held up.
    let mut bobs = bob.connect().await;
    bobs.send(&send("hello")).await;
    tokio::time::timeout(Duration::from_secs(5), bobs.next_matching(acked))
        .await
        .expect("another account was slowed down");
}

/// What `socket` receives before the message `marker`: its frames, and
/// their size in bytes as sent.
async fn until_marker(socket: &mut common::Socket, marker: &str) -> (Vec<ServerFrame>, usize) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message as WsMessage;
    let mut frames = Vec::new();
    let mut bytes = 0;
    loop {
        let Some(Ok(WsMessage::Text(text))) = socket.ws.next().await else {
            continue;
        };
        let frame = serde_json::from_str::<ServerFrame>(text.as_str()).unwrap();
        if matches!(&frame, ServerFrame::Message { message } if message.body == marker) {
            return (frames, bytes);
        }
        bytes += text.len();
        frames.push(frame);
    }
}

#[tokio::test]
async fn changes_in_a_full_group_send_each_member_a_small_frame() {
    use natter_protocol::limits::MAX_GROUP_MEMBERS;

    let server = TestServer::start_configured(tempfile::tempdir().unwrap(), |config| {
        config.sign_ups_per_hour = 1000;
    })
    .await;
    let mut people = Vec::new();
    for n in 0..MAX_GROUP_MEMBERS {
        let mut person = server.signup(&format!("member{n}")).await;
        // A real avatar's size: about 30 KB as a data: URL.
        let avatar = format!("data:image/jpeg;base64,{n:04}{}", "A".repeat(30_000));
        let response = person
            .request(reqwest::Method::PATCH, "/api/me")
            .json(&serde_json::json!({ "avatar": avatar }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        person.user = response.json().await.unwrap();
        people.push(person);
    }
    let group: natter_protocol::Conversation = people[0]
        .post("/api/groups")
        .json(&serde_json::json!({
            "name": "everyone",
            "members": people[1..].iter().map(|p| p.user.username.clone()).collect::<Vec<_>>(),
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(group.members.len(), MAX_GROUP_MEMBERS);
    let mut sockets = Vec::new();
    for person in &people[1..] {
        sockets.push(person.connect().await);
    }

    let changed = people[0]
        .request(reqwest::Method::PATCH, "/api/me")
        .json(&serde_json::json!({
            "display_name": "New name",
            "avatar": format!("data:image/jpeg;base64,{}", "B".repeat(30_000)),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    people[0].user = changed.json().await.unwrap();
    // A message after each change marks the end of what it sent.
    let mut sender = people[0].connect().await;
    let mark = |body: &str| ClientFrame::Send {
        conversation: group.id,
        client_id: Uuid::now_v7(),
        body: body.into(),
        attachment: None,
        reply_to: None,
        action: None,
        link_preview: None,
    };
    sender.send(&mark("profile changed")).await;
    for socket in &mut sockets {
        let (frames, bytes) = until_marker(socket, "profile changed").await;
        let profiles: Vec<_> = frames
            .iter()
            .filter_map(|frame| match frame {
                ServerFrame::Profile { user } => Some(user),
                _ => None,
            })
            .collect();
        assert_eq!(profiles.len(), 1);
        assert_eq!(profiles[0].display_name.as_deref(), Some("New name"));
        assert!(bytes < 2048, "{bytes} bytes for one profile change");
    }

    // A rename and a promotion: each member gets the event and what
    // changed, not the hundred members.
    let renamed = people[0]
        .request(reqwest::Method::PATCH, &format!("/api/groups/{}", group.id))
        .json(&serde_json::json!({ "name": "everyone, renamed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    let promoted = people[0]
        .post(&format!(
            "/api/groups/{}/admins/{}",
            group.id, people[1].user.id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(promoted.status(), 200);
    sender.send(&mark("group changed")).await;
    for socket in &mut sockets {
        let (frames, bytes) = until_marker(socket, "group changed").await;
        let changes = frames
            .iter()
            .filter(|frame| matches!(frame, ServerFrame::Group { .. }))
            .count();
        assert_eq!(changes, 2);
        assert!(!frames
            .iter()
            .any(|f| matches!(f, ServerFrame::Conversation { .. })));
        assert!(bytes < 2 * 2048, "{bytes} bytes for two group changes");
    }
}
