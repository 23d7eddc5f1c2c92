//! Safety over real HTTP and WebSockets: blocking, and moderated groups
//! (bans, members who join late, an empty group closed).

mod common;

use common::{Socket, TestServer};
use natter_protocol::{
    ApiError, ApiErrorCode, ClientFrame, Conversation, ConversationId, Message, PublicGroup, Seq,
    ServerFrame, User,
};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

/// Sends `body` and waits for its ack (or its refusal's text).
async fn say(socket: &mut Socket, conversation: ConversationId, body: &str) -> Result<Seq, String> {
    let client_id = Uuid::new_v4();
    socket
        .send(&ClientFrame::Send {
            conversation,
            client_id,
            body: body.to_owned(),
            attachment: None,
            action: None,
            reply_to: None,
        })
        .await;
    socket
        .next_matching(|frame| match frame {
            ServerFrame::Ack {
                client_id: id, seq, ..
            } if id == client_id => Some(Ok(seq)),
            ServerFrame::Error {
                message,
                client_id: Some(id),
                ..
            } if id == client_id => Some(Err(message)),
            _ => None,
        })
        .await
}

/// The next message frame's body, skipping everything else.
async fn next_body(socket: &mut Socket) -> String {
    socket
        .next_matching(|frame| match frame {
            ServerFrame::Message { message } if message.event.is_none() => Some(message.body),
            _ => None,
        })
        .await
}

fn bodies(history: &[Message]) -> Vec<&str> {
    history
        .iter()
        .filter(|m| m.event.is_none())
        .map(|m| m.body.as_str())
        .collect()
}

#[tokio::test]
async fn a_blocked_person_is_acked_and_never_heard() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let chat = ann.open_direct("bob").await.id;
    let mut ann_socket = ann.connect().await;
    let mut bob_socket = bob.connect().await;
    say(&mut ann_socket, chat, "hi bob").await.unwrap();
    assert_eq!(next_body(&mut bob_socket).await, "hi bob");

    let blocked: Vec<User> = ann
        .request(Method::PUT, &format!("/api/blocks/{}", bob.user.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(blocked, vec![bob.user.clone()]);
    let listed: Vec<User> = ann
        .get("/api/blocks")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, vec![bob.user.clone()]);
    // Ann's devices hear whom she blocks.
    ann_socket
        .next_matching(|frame| match frame {
            ServerFrame::Blocked { users } => Some(users),
            _ => None,
        })
        .await;

    // Bob is acked as ever; Ann never gets it, now or when she reconnects.
    let seq = say(&mut bob_socket, chat, "why?").await.unwrap();
    assert_eq!(seq, 2);
    assert_eq!(
        say(&mut ann_socket, chat, "bye").await,
        Err("You blocked this person. Unblock them to send messages.".to_owned())
    );
    assert_eq!(bodies(&ann.history(chat).await), vec!["hi bob"]);
    assert_eq!(bodies(&bob.history(chat).await), vec!["hi bob", "why?"]);
    let seen: Conversation = ann
        .get(&format!("/api/conversations/{chat}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen.last_seq, 1, "nothing unread for Ann");
    assert_eq!(seen.last_message.map(|m| m.body).as_deref(), Some("hi bob"));
    let mut again = ann.connect().await;

    // Unblocked, Bob's next message is the first Ann hears from him.
    let response = ann
        .request(Method::DELETE, &format!("/api/blocks/{}", bob.user.id))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    say(&mut bob_socket, chat, "sorry").await.unwrap();
    assert_eq!(next_body(&mut ann_socket).await, "sorry");
    assert_eq!(next_body(&mut again).await, "sorry");
    assert_eq!(bodies(&ann.history(chat).await), vec!["hi bob", "sorry"]);

    // Nobody blocks themselves or someone who does not exist.
    for (id, status) in [
        (ann.user.id, StatusCode::BAD_REQUEST),
        (9_999_999, StatusCode::NOT_FOUND),
    ] {
        let response = ann
            .request(Method::PUT, &format!("/api/blocks/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status);
    }
}

#[tokio::test]
async fn groups_ban_the_removed_and_show_late_members_only_what_follows() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let eve = server.signup("eve").await;
    let response = ann
        .post("/api/groups")
        .json(&json!({ "name": "Hikers", "members": ["bob"], "hashtag": "hikers" }))
        .send()
        .await
        .unwrap();
    let group: Conversation = response.json().await.unwrap();
    let mut ann_socket = ann.connect().await;
    let mut bob_socket = bob.connect().await;
    say(&mut ann_socket, group.id, "before eve").await.unwrap();
    let spam = say(&mut bob_socket, group.id, "spam").await.unwrap();

    // The admin deletes Bob's message for everyone.
    let client_id = Uuid::new_v4();
    ann_socket
        .send(&ClientFrame::Send {
            conversation: group.id,
            client_id,
            body: String::new(),
            attachment: None,
            action: Some(natter_protocol::Action::Delete { target: spam }),
            reply_to: None,
        })
        .await;
    ann_socket
        .next_matching(|frame| match frame {
            ServerFrame::Ack { client_id: id, .. } if id == client_id => Some(()),
            _ => None,
        })
        .await;
    let history = bob.history(group.id).await;
    assert!(history.iter().any(|m| m.seq == spam && m.deleted));

    // Eve joins late: her history starts at her join.
    let join = |who: &common::Account| who.post(&format!("/api/groups/{}/join", group.id)).send();
    assert_eq!(join(&eve).await.unwrap().status(), StatusCode::OK);
    let seen = eve.history(group.id).await;
    assert_eq!(seen.len(), 1, "only her join: {seen:?}");
    assert!(seen[0].event.is_some());

    // Removed, she is banned: her join answers 403 until an admin unbans.
    let removed = ann
        .request(
            Method::DELETE,
            &format!("/api/groups/{}/members/{}", group.id, eve.user.id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    let refused = join(&eve).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let error: ApiError = refused.json().await.unwrap();
    assert_eq!(error.error, ApiErrorCode::Forbidden);
    let bans: Vec<User> = ann
        .get(&format!("/api/groups/{}/bans", group.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bans, vec![eve.user.clone()]);
    let not_admin = bob
        .get(&format!("/api/groups/{}/bans", group.id))
        .send()
        .await
        .unwrap();
    assert_eq!(not_admin.status(), StatusCode::FORBIDDEN);
    let unbanned = ann
        .request(
            Method::DELETE,
            &format!("/api/groups/{}/bans/{}", group.id, eve.user.id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(unbanned.status(), StatusCode::OK);
    assert_eq!(join(&eve).await.unwrap().status(), StatusCode::OK);

    // Everyone leaves: the group closes and its hashtag is free.
    for who in [&ann, &bob, &eve] {
        let left = who
            .request(
                Method::DELETE,
                &format!("/api/groups/{}/members/{}", group.id, who.user.id),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(left.status(), StatusCode::OK);
    }
    let found: Vec<PublicGroup> = bob
        .get("/api/groups?hashtag=hikers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(found.is_empty());
    assert_eq!(join(&bob).await.unwrap().status(), StatusCode::NOT_FOUND);
}
