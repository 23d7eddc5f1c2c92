//! Groups over real HTTP and WebSockets: who may do what, what members see,
//! and public groups by hashtag.

mod common;

use common::{Account, Socket, TestServer};
use natter_protocol::{
    ApiError, ApiErrorCode, ClientFrame, Conversation, ConversationId, ConversationKind, ErrorCode,
    GroupEventKind, Message, PublicGroup, Role, ServerFrame,
};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

async fn create(owner: &Account, body: serde_json::Value) -> reqwest::Response {
    owner
        .post("/api/groups")
        .json(&body)
        .send()
        .await
        .expect("create")
}

async fn group(owner: &Account, name: &str, members: &[&str]) -> Conversation {
    owner
        .create_group(json!({ "name": name, "members": members }))
        .await
}

async fn status_of(response: reqwest::Response) -> (StatusCode, Option<ApiErrorCode>) {
    let status = response.status();
    let code = response.json::<ApiError>().await.ok().map(|e| e.error);
    (status, code)
}

fn events(frames: &[ServerFrame]) -> Vec<GroupEventKind> {
    frames
        .iter()
        .filter_map(|frame| match frame {
            ServerFrame::Message { message } => kind_of(message),
            _ => None,
        })
        .collect()
}

fn kind_of(message: &Message) -> Option<GroupEventKind> {
    message.event.as_ref().map(|event| event.kind.clone())
}

/// Frames until the next `conversation` frame (inclusive).
/// Frames up to the one that introduces a group (`conversation`), or says
/// what changed in it (`group`).
async fn until_conversation(socket: &mut Socket) -> Vec<ServerFrame> {
    let mut frames = Vec::new();
    loop {
        let frame = socket.next().await;
        let last = matches!(
            frame,
            ServerFrame::Conversation { .. } | ServerFrame::Group { .. }
        );
        frames.push(frame);
        if last {
            return frames;
        }
    }
}

async fn say(socket: &mut Socket, conversation: ConversationId, body: &str) -> ServerFrame {
    socket
        .send(&ClientFrame::Send {
            conversation,
            client_id: Uuid::new_v4(),
            body: body.to_owned(),
            attachment: None,
            action: None,
            link_preview: None,
            reply_to: None,
        })
        .await;
    socket
        .next_matching(|frame| match frame {
            ServerFrame::Ack { .. } | ServerFrame::Error { .. } => Some(frame),
            _ => None,
        })
        .await
}

#[tokio::test]
async fn a_group_is_created_with_its_members_who_hear_of_it_at_once() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let cy = server.signup("cyd").await;
    let mut bob_socket = bob.connect().await;

    let created = group(&ann, "  Weekend hike ", &["bob", "cyd", "bob", "ann"]).await;
    assert_eq!(created.kind, ConversationKind::Group);
    assert_eq!(created.group.as_ref().unwrap().name, "Weekend hike");
    let roles: Vec<_> = created
        .members
        .iter()
        .map(|m| (m.user.username.as_str(), m.role))
        .collect();
    assert_eq!(
        roles,
        vec![
            ("ann", Role::Admin),
            ("bob", Role::Member),
            ("cyd", Role::Member)
        ]
    );
    assert_eq!(created.last_seq, 3);

    // Bob's device is introduced to the group, gets its newest event live
    // and reads the rest as history.
    let introduced = until_conversation(&mut bob_socket).await;
    assert!(events(&introduced).is_empty());
    let live = bob_socket
        .next_matching(|frame| match frame {
            ServerFrame::Message { message } => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(
        kind_of(&live),
        Some(GroupEventKind::Added {
            user: cy.user.clone()
        })
    );
    assert_eq!(live.event.unwrap().by, ann.user);
    let page = bob.history(created.id).await;
    let all: Vec<_> = page.iter().filter_map(kind_of).collect();
    assert_eq!(
        all,
        vec![
            GroupEventKind::Created {
                name: "Weekend hike".to_owned()
            },
            GroupEventKind::Added {
                user: bob.user.clone()
            },
            GroupEventKind::Added {
                user: cy.user.clone()
            },
        ]
    );
    assert!(page.iter().all(|m| m.sender == ann.user.id));

    // Messages reach every member.
    let mut ann_socket = ann.connect().await;
    let mut cy_socket = cy.connect().await;
    assert!(matches!(
        say(&mut ann_socket, created.id, "who's in?").await,
        ServerFrame::Ack { .. }
    ));
    for socket in [&mut bob_socket, &mut cy_socket] {
        let message = socket
            .next_matching(|frame| match frame {
                ServerFrame::Message { message } => Some(message),
                _ => None,
            })
            .await;
        assert_eq!(message.body, "who's in?");
    }
}

#[tokio::test]
async fn bad_group_requests_are_explained() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    for (body, expected) in [
        (json!({ "name": "" }), StatusCode::BAD_REQUEST),
        (json!({ "name": "x".repeat(65) }), StatusCode::BAD_REQUEST),
        (
            json!({ "name": "ok", "hashtag": "#a b" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "name": "ok", "members": ["nobody_here"] }),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({ "name": "Bell\u{7}ringers" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "name": "\u{200B}\u{2060}" }),
            StatusCode::BAD_REQUEST,
        ),
        (json!({ "name": "\u{202E}nimda" }), StatusCode::BAD_REQUEST),
        (
            json!({ "name": "ok", "picture": "data:image/png;base64,AA" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "name": "ok", "members": (0..100).map(|i| format!("user{i}")).collect::<Vec<_>>() }),
            StatusCode::BAD_REQUEST,
        ),
        (json!({ "nme": "typo" }), StatusCode::BAD_REQUEST),
    ] {
        let response = create(&ann, body.clone()).await;
        assert_eq!(response.status(), expected, "{body}");
        let error: ApiError = response.json().await.expect("an explained error");
        assert!(!error.message.is_empty());
    }
}

#[tokio::test]
async fn only_admins_manage_and_outsiders_see_nothing() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let cy = server.signup("cyd").await;
    let eve = server.signup("eve").await;
    let created = group(&ann, "Book club", &["bob", "cyd"]).await;
    let id = created.id;

    // A member who is not an admin cannot remove, add, promote or rename.
    for request in [
        bob.request(
            Method::DELETE,
            &format!("/api/groups/{id}/members/{}", cy.user.id),
        ),
        bob.post(&format!("/api/groups/{id}/members"))
            .json(&json!({ "username": "eve" })),
        bob.post(&format!("/api/groups/{id}/admins/{}", cy.user.id)),
        bob.request(Method::PATCH, &format!("/api/groups/{id}"))
            .json(&json!({ "name": "Bob's club" })),
    ] {
        let (status, code) = status_of(request.send().await.unwrap()).await;
        assert_eq!(
            (status, code),
            (StatusCode::FORBIDDEN, Some(ApiErrorCode::Forbidden))
        );
    }

    // An outsider can neither read, nor send, nor manage, nor join a
    // group that is not public: to them it does not exist.
    for path in [
        format!("/api/conversations/{id}"),
        format!("/api/conversations/{id}/messages"),
    ] {
        assert_eq!(
            eve.get(&path).send().await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
    }
    let (status, _) = status_of(
        eve.post(&format!("/api/groups/{id}/join"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = status_of(
        eve.request(
            Method::DELETE,
            &format!("/api/groups/{id}/members/{}", bob.user.id),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mut eve_socket = eve.connect().await;
    match say(&mut eve_socket, id, "let me in").await {
        ServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::NotAMember),
        other => panic!("expected a refusal, got {other:?}"),
    }

    // The admin promotes cy, who may then rename.
    let promoted: Conversation = ann
        .post(&format!("/api/groups/{id}/admins/{}", cy.user.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(promoted
        .members
        .iter()
        .any(|m| m.user.id == cy.user.id && m.role == Role::Admin));
    let renamed: Conversation = cy
        .request(Method::PATCH, &format!("/api/groups/{id}"))
        .json(&json!({ "name": "Bookworms" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(renamed.group.unwrap().name, "Bookworms");
    assert_eq!(
        kind_of(&renamed.last_message.unwrap()),
        Some(GroupEventKind::Renamed {
            name: "Bookworms".to_owned()
        })
    );
    // Adding someone twice is a conflict.
    let (status, code) = status_of(
        ann.post(&format!("/api/groups/{id}/members"))
            .json(&json!({ "username": "bob" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code),
        (StatusCode::CONFLICT, Some(ApiErrorCode::AlreadyMember))
    );
    // A 1:1 conversation is not a group.
    let direct = ann.open_direct("eve").await;
    let (status, _) = status_of(
        ann.post(&format!("/api/groups/{}/members", direct.id))
            .json(&json!({ "username": "bob" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_removed_member_is_told_and_then_stops_receiving() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let cy = server.signup("cyd").await;
    let id = group(&ann, "Secrets", &["bob", "cyd"]).await.id;
    let mut bob_socket = bob.connect().await;
    let mut cy_socket = cy.connect().await;

    let response = ann
        .request(
            Method::DELETE,
            &format!("/api/groups/{id}/members/{}", bob.user.id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let frames = until_conversation(&mut bob_socket).await;
    assert_eq!(
        events(&frames),
        vec![GroupEventKind::Removed {
            user: bob.user.clone()
        }]
    );
    // Bob knew the group: he is told only what changed.
    match frames.last() {
        Some(ServerFrame::Group {
            conversation,
            members,
            removed,
            ..
        }) => {
            assert_eq!(*conversation, id);
            assert!(members.is_empty());
            assert_eq!(removed, &[bob.user.id]);
        }
        other => panic!("expected bob's removal, got {other:?}"),
    }

    // Cy's message does not reach bob; bob can no longer read or send.
    assert!(matches!(
        say(&mut cy_socket, id, "now that bob is gone").await,
        ServerFrame::Ack { .. }
    ));
    bob_socket.send(&ClientFrame::Ping { nonce: 9 }).await;
    assert_eq!(bob_socket.next().await, ServerFrame::Pong { nonce: 9 });
    let path = format!("/api/conversations/{id}/messages");
    assert_eq!(
        bob.get(&path).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    match say(&mut bob_socket, id, "hello?").await {
        ServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::NotAMember),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Nor does a reconnect replay anything of it.
    let (_, replay) = bob
        .connect_with(vec![natter_protocol::Cursor {
            conversation: id,
            seq: 1,
        }])
        .await;
    assert!(replay.iter().all(|frame| !matches!(frame,
        ServerFrame::Message { message } if message.conversation == id)));
}

#[tokio::test]
async fn when_the_last_admin_leaves_the_longest_member_takes_over() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let _bob = server.signup("bob").await;
    let cy = server.signup("cyd").await;
    let id = group(&ann, "Relay", &["cyd", "bob"]).await.id;
    let after: Conversation = ann
        .request(
            Method::DELETE,
            &format!("/api/groups/{id}/members/{}", ann.user.id),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        kind_of(&after.last_message.unwrap()),
        Some(GroupEventKind::Left)
    );
    let admins: Vec<_> = after
        .members
        .iter()
        .filter(|m| m.role == Role::Admin)
        .map(|m| m.user.username.as_str())
        .collect();
    // bob and cyd joined at the same moment; the earlier account wins.
    assert_eq!(admins, vec!["bob"]);
    assert!(after.members.iter().all(|m| m.user.id != ann.user.id));
    assert!(after.members.iter().any(|m| m.user.id == cy.user.id));
}

#[tokio::test]
async fn public_groups_are_found_by_hashtag_and_joined() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let eve = server.signup("eve").await;
    let cats = create(&ann, json!({ "name": "Cat people", "hashtag": "#Cats" })).await;
    assert_eq!(cats.status(), StatusCode::CREATED);
    let cats: Conversation = cats.json().await.unwrap();
    assert_eq!(
        cats.group.as_ref().unwrap().hashtag.as_deref(),
        Some("Cats")
    );
    group(&ann, "Private cats", &[]).await;
    let (status, code) =
        status_of(create(&bob, json!({ "name": "Copycats", "hashtag": "cats" })).await).await;
    assert_eq!(
        (status, code),
        (StatusCode::CONFLICT, Some(ApiErrorCode::HashtagTaken))
    );
    assert_eq!(
        create(&bob, json!({ "name": "Cat pics", "hashtag": "catpics" }))
            .await
            .status(),
        StatusCode::CREATED
    );

    let found: Vec<PublicGroup> = eve
        .get("/api/groups?hashtag=%23CA")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tags: Vec<_> = found.iter().map(|g| g.hashtag.as_str()).collect();
    assert_eq!(tags, vec!["catpics", "Cats"]);
    assert_eq!(found[1].members, 1);
    assert!(eve
        .get("/api/groups?hashtag=cats_and_dogs")
        .send()
        .await
        .unwrap()
        .json::<Vec<PublicGroup>>()
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        eve.get("/api/groups?hashtag=%25")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::BAD_REQUEST
    );

    let mut ann_socket = ann.connect().await;
    let joined: Conversation = eve
        .post(&format!("/api/groups/{}/join", cats.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(joined.members.iter().any(|m| m.user.id == eve.user.id));
    let frames = until_conversation(&mut ann_socket).await;
    assert_eq!(events(&frames), vec![GroupEventKind::Joined]);
    match frames.last() {
        Some(ServerFrame::Group { members, .. }) => {
            let ids: Vec<_> = members.iter().map(|m| m.user.id).collect();
            assert_eq!(ids, [eve.user.id]);
        }
        other => panic!("expected eve's arrival, got {other:?}"),
    }
    let (status, code) = status_of(
        eve.post(&format!("/api/groups/{}/join", cats.id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code),
        (StatusCode::CONFLICT, Some(ApiErrorCode::AlreadyMember))
    );
}
