//! Finding people, opening 1:1 conversations, the conversation list and
//! history over HTTP.

mod common;

use common::TestServer;
use natter_protocol::{
    ApiError, ApiErrorCode, ClientFrame, Conversation, Message, Mute, ServerFrame, User,
};
use reqwest::{Method, StatusCode};
use uuid::Uuid;

#[tokio::test]
async fn find_a_user_and_open_one_conversation_per_pair() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("Bob").await;

    let found: User = ann
        .get("/api/users/BOB")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found, bob.user);
    // An unknown username is worded the same wherever it is asked for.
    let unknown = "Nobody is called “nobody”. Check the spelling.";
    let missing = ann.get("/api/users/nobody").send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let error: natter_protocol::ApiError = missing.json().await.unwrap();
    assert_eq!(error.message, unknown);
    for (path, body) in [
        (
            "/api/conversations",
            serde_json::json!({"username": "nobody"}),
        ),
        (
            "/api/groups",
            serde_json::json!({"name": "G", "members": ["nobody"]}),
        ),
    ] {
        let response = ann.post(path).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let error: natter_protocol::ApiError = response.json().await.unwrap();
        assert_eq!(error.message, unknown, "{path}");
    }
    let unauthenticated = reqwest::get(server.url("/api/users/bob")).await.unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    let first = ann.open_direct("bob").await;
    let again = bob.open_direct("ann").await;
    assert_eq!(first.id, again.id);
    let mut member_ids: Vec<_> = first.members.iter().map(|m| m.user.id).collect();
    member_ids.sort();
    assert_eq!(member_ids, vec![ann.user.id, bob.user.id]);

    let myself = ann
        .post("/api/conversations")
        .json(&serde_json::json!({"username": "ann"}))
        .send()
        .await
        .unwrap();
    assert_eq!(myself.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_list_is_ordered_by_latest_activity_and_history_pages() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    server.signup("bob").await;
    server.signup("cat").await;
    let with_bob = ann.open_direct("bob").await;
    let with_cat = ann.open_direct("cat").await;

    let mut socket = ann.connect().await;
    for n in 1..=5 {
        socket
            .send(&ClientFrame::Send {
                conversation: with_bob.id,
                client_id: Uuid::new_v4(),
                body: format!("hello {n}"),
                attachment: None,
                action: None,
                link_preview: None,
                reply_to: None,
            })
            .await;
        socket
            .next_matching(|f| matches!(f, ServerFrame::Ack { .. }).then_some(()))
            .await;
    }

    let list: Vec<Conversation> = ann
        .get("/api/conversations")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        list.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![with_bob.id, with_cat.id]
    );
    let last = list[0].last_message.as_ref().unwrap();
    assert_eq!((last.seq, last.body.as_str()), (5, "hello 5"));
    assert_eq!(list[0].last_seq, 5);

    let newest: Vec<Message> = ann
        .get(&format!(
            "/api/conversations/{}/messages?limit=2",
            with_bob.id
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(newest.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![4, 5]);
    let older: Vec<Message> = ann
        .get(&format!(
            "/api/conversations/{}/messages?before=4&limit=10",
            with_bob.id
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        older.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );

    let bad_query = ann
        .get(&format!(
            "/api/conversations/{}/messages?before=x",
            with_bob.id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_query.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn outsiders_cannot_read_a_conversation() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    server.signup("bob").await;
    let eve = server.signup("eve").await;
    let conversation = ann.open_direct("bob").await;
    for path in [
        format!("/api/conversations/{}", conversation.id),
        format!("/api/conversations/{}/messages", conversation.id),
    ] {
        let response = eve.get(&path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let error: natter_protocol::ApiError = response.json().await.unwrap();
        assert_eq!(error.error, ApiErrorCode::NotFound);
    }
}

#[tokio::test]
async fn a_member_mutes_and_unmutes_over_http_and_her_devices_hear() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let cyd = server.signup("cyd").await;
    let chat = ann.open_direct("bob").await.id;
    let mut ann_socket = ann.connect().await;
    let path = format!("/api/conversations/{chat}/mute");
    let before = natter_server::now_millis();
    let muted: Vec<Mute> = ann
        .request(Method::PUT, &path)
        .json(&serde_json::json!({ "for_ms": 3_600_000 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let after = natter_server::now_millis();
    assert_eq!(muted.len(), 1);
    let mute = muted[0];
    assert_eq!(mute.conversation, chat);
    let until = mute.until.expect("an end");
    assert!(
        (before + 3_600_000..=after + 3_600_000).contains(&until),
        "an hour from the server's now"
    );
    assert_eq!(ann.get_json::<Vec<Mute>>("/api/mutes").await, vec![mute]);
    assert_eq!(bob.get_json::<Vec<Mute>>("/api/mutes").await, Vec::new());
    let told = ann_socket
        .next_matching(|frame| match frame {
            ServerFrame::Mutes { mutes } => Some(mutes),
            _ => None,
        })
        .await;
    assert_eq!(told, vec![mute]);

    // Refusals, each with its reason.
    let refused = |account: &common::Account, path: String, body: serde_json::Value| {
        let request = account.request(Method::PUT, &path).json(&body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let error: ApiError = response.json().await.unwrap();
            (status, error.message)
        }
    };
    assert_eq!(
        refused(&ann, path.clone(), serde_json::json!({ "for_ms": 0 })).await,
        (
            StatusCode::BAD_REQUEST,
            "A mute lasts from a moment to a year, or until you unmute.".to_owned()
        )
    );
    assert_eq!(
        refused(&cyd, path.clone(), serde_json::json!({ "for_ms": null })).await,
        (
            StatusCode::NOT_FOUND,
            "You are not in that conversation.".to_owned()
        )
    );
    for bad in [
        serde_json::json!({ "for_ms": "soon" }),
        serde_json::json!({ "for_ms": -1 }),
        serde_json::json!({}),
    ] {
        let (status, message) = refused(&ann, path.clone(), bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(message.contains("for_ms"), "{bad}: {message}");
    }
    // Refused, so still muted as before.
    assert_eq!(ann.get_json::<Vec<Mute>>("/api/mutes").await, vec![mute]);

    let unmuted: Vec<Mute> = ann
        .request(Method::DELETE, &path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unmuted, Vec::new());
}
