//! Real-time delivery over real WebSockets: fan-out, receipts, the
//! idempotence and ordering guarantees, and refusal of bad frames.

mod common;

use std::collections::HashSet;

use common::TestServer;
use natter_protocol::{
    close, ClientFrame, ConversationId, Cursor, ErrorCode, Message, ReceiptKind, ServerFrame,
};
use reqwest::header::{COOKIE, ORIGIN};
use reqwest::StatusCode;
use uuid::Uuid;

fn send(conversation: ConversationId, body: &str) -> (Uuid, ClientFrame) {
    let client_id = Uuid::new_v4();
    (
        client_id,
        ClientFrame::Send {
            conversation,
            client_id,
            body: body.to_owned(),
            attachment: None,
            action: None,
            link_preview: None,
            reply_to: None,
        },
    )
}

fn message(frame: ServerFrame) -> Option<Message> {
    match frame {
        ServerFrame::Message { message } => Some(message),
        _ => None,
    }
}

#[tokio::test]
async fn messages_fan_out_to_every_tab_of_both_users() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let conversation = ann.open_direct("bob").await.id;
    let mut ann1 = ann.connect().await;
    let mut ann2 = ann.connect().await;
    let mut bob1 = bob.connect().await;
    let mut bob2 = bob.connect().await;

    let (client_id, frame) = send(conversation, "hi bob\nsecond line");
    ann1.send(&frame).await;
    let (ack_id, seq) = ann1
        .next_matching(|f| match f {
            ServerFrame::Ack { client_id, seq, .. } => Some((client_id, seq)),
            _ => None,
        })
        .await;
    assert_eq!((ack_id, seq), (client_id, 1));
    for socket in [&mut ann2, &mut bob1, &mut bob2] {
        let got = socket.next_matching(message).await;
        assert_eq!(got.client_id, client_id);
        assert_eq!(got.body, "hi bob\nsecond line");
        assert_eq!(got.sender, ann.user.id);
        assert_eq!(got.seq, 1);
    }
}

#[tokio::test]
async fn receipts_reach_the_sender() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let conversation = ann.open_direct("bob").await.id;
    // Bob opens it too, accepting it: a request's receipts are held back.
    bob.open_direct("ann").await;
    let mut ann_socket = ann.connect().await;
    let mut bob_socket = bob.connect().await;

    for n in 0..3 {
        ann_socket
            .send(&send(conversation, &format!("m{n}")).1)
            .await;
    }
    for _ in 0..3 {
        bob_socket.next_matching(message).await;
    }
    bob_socket
        .send(&ClientFrame::Receipt {
            conversation,
            kind: ReceiptKind::Delivered,
            seq: 3,
        })
        .await;
    let receipt = |f| match f {
        ServerFrame::Receipt {
            user, kind, seq, ..
        } => Some((user, kind, seq)),
        _ => None,
    };
    assert_eq!(
        ann_socket.next_matching(receipt).await,
        (bob.user.id, ReceiptKind::Delivered, 3)
    );
    // Reading past the end is clamped to the last message.
    bob_socket
        .send(&ClientFrame::Receipt {
            conversation,
            kind: ReceiptKind::Read,
            seq: 99,
        })
        .await;
    assert_eq!(
        ann_socket.next_matching(receipt).await,
        (bob.user.id, ReceiptKind::Read, 3)
    );
    // The cursors are stored: the conversation reports them.
    let stored = ann.open_direct("bob").await;
    let bob_member = stored
        .members
        .iter()
        .find(|m| m.user.id == bob.user.id)
        .unwrap();
    assert_eq!((bob_member.delivered, bob_member.read), (3, 3));
}

#[tokio::test]
async fn one_client_id_sent_twenty_times_at_once_is_one_message() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    server.signup("bob").await;
    let conversation = ann.open_direct("bob").await.id;
    let (client_id, frame) = send(conversation, "only once");

    let mut tasks = Vec::new();
    for _ in 0..20 {
        let ann = ann.clone();
        let frame = frame.clone();
        tasks.push(tokio::spawn(async move {
            let mut socket = ann.connect().await;
            socket.send(&frame).await;
            socket
                .next_matching(|f| match f {
                    ServerFrame::Ack {
                        client_id,
                        seq,
                        sent_at,
                        ..
                    } => Some((client_id, seq, sent_at)),
                    _ => None,
                })
                .await
        }));
    }
    let mut answers = HashSet::new();
    for task in tasks {
        answers.insert(task.await.unwrap());
    }
    assert_eq!(
        answers.len(),
        1,
        "every resend gets the same ack: {answers:?}"
    );
    let (acked_id, seq, _) = answers.into_iter().next().unwrap();
    assert_eq!((acked_id, seq), (client_id, 1));
    let stored = ann.history(conversation).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].client_id, client_id);
}

#[tokio::test]
async fn concurrent_senders_get_gap_free_increasing_seqs() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let conversation = ann.open_direct("bob").await.id;
    const PER_SENDER: usize = 40;

    let mut tasks = Vec::new();
    for account in [ann.clone(), ann.clone(), bob.clone(), bob.clone()] {
        tasks.push(tokio::spawn(async move {
            let mut socket = account.connect().await;
            let mut acked = Vec::new();
            for n in 0..PER_SENDER {
                let (_, frame) = send(conversation, &format!("{} {n}", account.user.username));
                socket.send(&frame).await;
                acked.push(
                    socket
                        .next_matching(|f| match f {
                            ServerFrame::Ack { seq, .. } => Some(seq),
                            _ => None,
                        })
                        .await,
                );
            }
            acked
        }));
    }
    let mut all_acked = Vec::new();
    for task in tasks {
        let acked = task.await.unwrap();
        assert!(
            acked.windows(2).all(|w| w[0] < w[1]),
            "one sender's seqs increase"
        );
        all_acked.extend(acked);
    }
    all_acked.sort();
    let expected: Vec<u64> = (1..=4 * PER_SENDER as u64).collect();
    assert_eq!(all_acked, expected);
    let stored: Vec<u64> = ann
        .history(conversation)
        .await
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(stored, expected);
}

#[tokio::test]
async fn reconnecting_with_a_cursor_replays_what_was_missed() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let conversation = ann.open_direct("bob").await.id;
    let mut ann_socket = ann.connect().await;
    for n in 1..=5 {
        ann_socket
            .send(&send(conversation, &format!("m{n}")).1)
            .await;
        ann_socket
            .next_matching(|f| matches!(f, ServerFrame::Ack { .. }).then_some(()))
            .await;
    }
    let (_, replay) = bob
        .connect_with(vec![Cursor {
            conversation,
            seq: 2,
        }])
        .await;
    let replayed: Vec<u64> = replay
        .into_iter()
        .filter_map(message)
        .map(|m| m.seq)
        .collect();
    assert_eq!(replayed, vec![3, 4, 5]);
}

#[tokio::test]
async fn a_conversation_started_while_connected_is_announced() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let mut bob_socket = bob.connect().await;
    let started = ann.open_direct("bob").await;
    let announced = bob_socket
        .next_matching(|f| match f {
            ServerFrame::Conversation { conversation } => Some(conversation),
            _ => None,
        })
        .await;
    assert_eq!(announced.id, started.id);
}

#[tokio::test]
async fn bad_frames_get_errors_and_the_connection_stays_up() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    server.signup("bob").await;
    server.signup("cat").await;
    let eve = server.signup("eve").await;
    let conversation = ann.open_direct("bob").await.id;
    let not_mine = eve.open_direct("cat").await.id;
    let mut socket = ann.connect().await;
    let error = |f| match f {
        ServerFrame::Error {
            code,
            message,
            client_id,
        } => Some((code, message, client_id)),
        _ => None,
    };

    socket.send_text("this is not json".into()).await;
    let (code, text, _) = socket.next_matching(error).await;
    assert_eq!(code, ErrorCode::MalformedFrame);
    assert!(text.contains("Could not read"), "{text}");
    socket.assert_alive().await;

    socket
        .send_text(r#"{"type":"shout","volume":11}"#.into())
        .await;
    let (code, text, _) = socket.next_matching(error).await;
    assert_eq!(code, ErrorCode::MalformedFrame);
    assert!(text.contains("shout"), "{text}");
    socket.assert_alive().await;

    let (long_id, frame) = send(conversation, &"x".repeat(4097));
    socket.send(&frame).await;
    assert_eq!(
        socket.next_matching(error).await,
        (
            ErrorCode::InvalidMessage,
            "Messages can be at most 4,096 characters.".to_owned(),
            Some(long_id)
        )
    );
    // Zero-width characters alone show as an empty bubble: empty.
    let (invisible_id, frame) = send(conversation, "\u{200B}\u{2060}\u{FEFF}");
    socket.send(&frame).await;
    assert_eq!(
        socket.next_matching(error).await,
        (
            ErrorCode::InvalidMessage,
            "A message needs some text.".to_owned(),
            Some(invisible_id)
        )
    );
    let (foreign_id, frame) = send(not_mine, "let me in");
    socket.send(&frame).await;
    let (code, _, client_id) = socket.next_matching(error).await;
    assert_eq!((code, client_id), (ErrorCode::NotAMember, Some(foreign_id)));
    socket
        .send(&ClientFrame::Hello {
            version: natter_protocol::PROTOCOL_VERSION,
            cursors: vec![],
        })
        .await;
    assert_eq!(
        socket.next_matching(error).await.0,
        ErrorCode::UnexpectedFrame
    );
    socket.assert_alive().await;

    // None of the refused messages was stored, anywhere.
    assert!(ann.history(conversation).await.is_empty());
    assert!(eve.history(not_mine).await.is_empty());
}

#[tokio::test]
async fn an_oversized_frame_closes_with_1009() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let mut socket = ann.connect().await;
    socket.send_text("x".repeat(64 * 1024 + 1)).await;
    assert_eq!(socket.closed().await, close::TOO_BIG);
}

#[tokio::test]
async fn an_unknown_protocol_version_is_told_and_closed() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let mut socket = ann.raw_socket().await;
    socket
        .send(&ClientFrame::Hello {
            version: 999,
            cursors: vec![],
        })
        .await;
    match socket.next().await {
        ServerFrame::Error { code, message, .. } => {
            assert_eq!(code, ErrorCode::UnsupportedVersion);
            let expected = format!("version {}", natter_protocol::PROTOCOL_VERSION);
            assert!(message.contains(&expected), "{message}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    assert_eq!(socket.closed().await, close::UNSUPPORTED_VERSION);
}

#[tokio::test]
async fn frames_before_hello_are_refused() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let mut socket = ann.raw_socket().await;
    socket.send(&ClientFrame::Ping { nonce: 1 }).await;
    match socket.next().await {
        ServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::UnexpectedFrame),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn upgrades_need_a_session_and_a_trusted_origin() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let upgrade = |cookie: Option<&str>, origin: Option<&str>| {
        let mut request = reqwest::Client::new()
            .get(server.url("/ws"))
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(upgrade(None, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        upgrade(Some("natter_session=forged"), None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        upgrade(Some(&ann.cookie), Some("http://evil.example")).await,
        StatusCode::FORBIDDEN
    );
    let own_origin = format!("http://{}", server.addr);
    assert_eq!(
        upgrade(Some(&ann.cookie), Some(&own_origin)).await,
        StatusCode::SWITCHING_PROTOCOLS
    );
}

#[tokio::test]
async fn logout_closes_that_sessions_sockets() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let mut socket = ann.connect().await;
    let response = ann.post("/api/logout").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(socket.closed().await, close::SESSION_ENDED);
}

#[tokio::test]
async fn shutdown_closes_sockets_with_going_away() {
    let mut server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let mut socket = ann.connect().await;
    server.begin_stop();
    assert_eq!(socket.closed().await, close::GOING_AWAY);
    let _ = socket.ws.close(None).await;
}

#[tokio::test]
async fn typing_is_relayed_to_the_other_members_only_and_not_stored() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let carol = server.signup("carol").await;
    let conversation = ann.open_direct("bob").await.id;
    let mut ann_phone = ann.connect().await;
    let mut ann_laptop = ann.connect().await;
    let mut bob_phone = bob.connect().await;
    let mut outsider = carol.connect().await;

    ann_phone.send(&ClientFrame::Typing { conversation }).await;
    assert_eq!(
        bob_phone.next().await,
        ServerFrame::Typing {
            conversation,
            user: ann.user.id
        }
    );

    // A repeat sooner than clients are asked to send one is dropped.
    ann_phone.send(&ClientFrame::Typing { conversation }).await;
    ann_phone.assert_alive().await;
    // Two ping rounds: anything relayed before would have come by now.
    let mut seen = Vec::new();
    for _ in 0..2 {
        bob_phone.send(&ClientFrame::Ping { nonce: 1 }).await;
        loop {
            match bob_phone.next().await {
                ServerFrame::Pong { .. } => break,
                other => seen.push(other),
            }
        }
    }
    assert_eq!(seen, vec![], "the repeat was relayed");
    // A message ends the typing, so typing right after it is news again.
    let (_, frame) = send(conversation, "here");
    ann_phone.send(&frame).await;
    ann_phone.send(&ClientFrame::Typing { conversation }).await;
    assert!(matches!(
        bob_phone.next().await,
        ServerFrame::Message { .. }
    ));
    assert_eq!(
        bob_phone.next().await,
        ServerFrame::Typing {
            conversation,
            user: ann.user.id
        }
    );
    // Ann's own devices are not told that she is typing.
    ann_laptop.send(&ClientFrame::Ping { nonce: 2 }).await;
    loop {
        match ann_laptop.next().await {
            ServerFrame::Pong { .. } => break,
            ServerFrame::Typing { .. } => panic!("told about her own typing"),
            _ => {}
        }
    }

    // Someone outside the conversation cannot pretend to type in it.
    outsider.send(&ClientFrame::Typing { conversation }).await;
    let code = outsider
        .next_matching(|frame| match frame {
            ServerFrame::Error { code, .. } => Some(code),
            _ => None,
        })
        .await;
    assert_eq!(code, ErrorCode::NotAMember);
    outsider.assert_alive().await;

    // Only the message was stored.
    assert_eq!(ann.history(conversation).await.len(), 1);
}
