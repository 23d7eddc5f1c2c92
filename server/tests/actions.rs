//! Replies and actions on messages over real WebSockets: reactions toggle
//! and count, only the sender edits or deletes, a deletion wipes the text
//! (edits included) on the server, and everything is delivered and
//! replayed like any message.

mod common;

use common::{Socket, TestServer};
use natter_protocol::{
    Action, ClientFrame, Conversation, ConversationId, ErrorCode, Seq, ServerFrame,
};
use uuid::Uuid;

async fn send(
    socket: &mut Socket,
    conversation: ConversationId,
    body: &str,
    reply_to: Option<Seq>,
    action: Option<Action>,
) -> Result<Seq, (ErrorCode, String)> {
    let frame = ClientFrame::Send {
        conversation,
        client_id: Uuid::new_v4(),
        body: body.to_owned(),
        attachment: None,
        reply_to,
        action,
        link_preview: None,
    };
    common::sent(socket, frame).await
}

async fn act(
    socket: &mut Socket,
    conversation: ConversationId,
    action: Action,
) -> Result<Seq, (ErrorCode, String)> {
    send(socket, conversation, "", None, Some(action)).await
}

fn react(target: Seq, emoji: &str) -> Action {
    Action::React {
        target,
        emoji: emoji.to_owned(),
    }
}

#[tokio::test]
async fn replies_and_reactions() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let id = ann.open_direct("bob").await.id;
    let mut ann_socket = ann.connect().await;
    let mut bob_socket = bob.connect().await;

    let first = send(&mut ann_socket, id, "lunch?", None, None)
        .await
        .unwrap();
    let reply = send(&mut bob_socket, id, "yes!", Some(first), None)
        .await
        .unwrap();
    let (code, _) = send(&mut bob_socket, id, "to nothing", Some(99), None)
        .await
        .unwrap_err();
    assert_eq!(code, ErrorCode::InvalidMessage);

    act(&mut bob_socket, id, react(first, "👍")).await.unwrap();
    act(&mut bob_socket, id, react(first, "👍")).await.unwrap();
    act(&mut ann_socket, id, react(first, "👍")).await.unwrap();
    act(&mut bob_socket, id, react(first, "❤️")).await.unwrap();
    let (code, message) = act(&mut bob_socket, id, react(first, "ok"))
        .await
        .unwrap_err();
    assert_eq!(code, ErrorCode::InvalidMessage, "{message}");
    let (code, _) = act(&mut bob_socket, id, react(reply + 50, "👍"))
        .await
        .unwrap_err();
    assert_eq!(code, ErrorCode::InvalidMessage);

    let messages = ann.history(id).await;
    let lunch = messages.iter().find(|m| m.seq == first).unwrap();
    let summary: Vec<_> = lunch
        .reactions
        .iter()
        .map(|r| (r.emoji.as_str(), r.users.clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("👍", vec![bob.user.id, ann.user.id]),
            ("❤️", vec![bob.user.id])
        ]
    );
    assert_eq!(
        messages.iter().find(|m| m.seq == reply).unwrap().reply_to,
        Some(first)
    );

    act(
        &mut bob_socket,
        id,
        Action::Unreact {
            target: first,
            emoji: "👍".to_owned(),
        },
    )
    .await
    .unwrap();
    let lunch = ann
        .history(id)
        .await
        .into_iter()
        .find(|m| m.seq == first)
        .unwrap();
    assert_eq!(lunch.reactions[0].users, vec![ann.user.id]);

    // Actions are replayed as messages, in order, after the reply.
    let (_, replay) = ann
        .connect_with(vec![natter_protocol::Cursor {
            conversation: id,
            seq: 0,
        }])
        .await;
    let from_bob: Vec<_> = replay
        .iter()
        .filter_map(|frame| match frame {
            ServerFrame::Message { message } if message.sender == bob.user.id => {
                Some(message.action.as_ref().map(Action::target))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        from_bob,
        vec![None, Some(first), Some(first), Some(first), Some(first)]
    );

    // The list shows the last message, not the last reaction.
    let conversation: Conversation = ann
        .get(&format!("/api/conversations/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(conversation.last_message.unwrap().body, "yes!");
}

#[tokio::test]
async fn only_the_sender_edits_or_deletes_and_a_deletion_wipes_the_text() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let id = ann.open_direct("bob").await.id;
    let mut ann_socket = ann.connect().await;
    let mut bob_socket = bob.connect().await;
    let secret = send(&mut ann_socket, id, "my pin is 1234", None, None)
        .await
        .unwrap();
    act(&mut bob_socket, id, react(secret, "😮")).await.unwrap();

    for action in [
        Action::Edit {
            target: secret,
            body: "hacked".to_owned(),
        },
        Action::Delete { target: secret },
    ] {
        let (code, message) = act(&mut bob_socket, id, action).await.unwrap_err();
        assert_eq!(code, ErrorCode::InvalidMessage);
        assert_eq!(
            message,
            "Only the sender can edit a message, and only they or a group's admins delete it."
        );
    }

    let edit = act(
        &mut ann_socket,
        id,
        Action::Edit {
            target: secret,
            body: "my pin is 4321".to_owned(),
        },
    )
    .await
    .unwrap();
    let edited = bob
        .history(id)
        .await
        .into_iter()
        .find(|m| m.seq == secret)
        .unwrap();
    assert_eq!(edited.body, "my pin is 4321");
    assert!(edited.edited_at.is_some());

    act(&mut ann_socket, id, Action::Delete { target: secret })
        .await
        .unwrap();
    let after = bob.history(id).await;
    let tombstone = after.iter().find(|m| m.seq == secret).unwrap();
    assert!(tombstone.deleted);
    assert_eq!(tombstone.body, "");
    assert!(tombstone.reactions.is_empty() && tombstone.edited_at.is_none());
    // The edit stays in the log (so seqs have no holes) but without its text.
    assert_eq!(
        after.iter().find(|m| m.seq == edit).unwrap().action,
        Some(Action::Edit {
            target: secret,
            body: String::new()
        })
    );
    assert!(!serde_json::to_string(&after).unwrap().contains("pin is"));
    // Nor is it anywhere in the server's files, the database's log
    // included, once the deletion's clean-up has run.
    let files = ["natter.sqlite3", "natter.sqlite3-wal"];
    let mut leaked = Vec::new();
    for _ in 0..50 {
        leaked = files
            .iter()
            .filter(|name| {
                std::fs::read(server.data.path().join(name))
                    .map(|bytes| bytes.windows(6).any(|w| w == b"pin is"))
                    .unwrap_or(false)
            })
            .collect();
        if leaked.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(leaked.is_empty(), "deleted text left in {leaked:?}");

    // A deleted message can no longer be answered or acted on.
    let (code, _) = act(&mut bob_socket, id, react(secret, "👍"))
        .await
        .unwrap_err();
    assert_eq!(code, ErrorCode::InvalidMessage);
    let (code, _) = send(&mut bob_socket, id, "what pin?", Some(secret), None)
        .await
        .unwrap_err();
    assert_eq!(code, ErrorCode::InvalidMessage);
    // An action with text of its own is malformed.
    let (code, _) = send(
        &mut ann_socket,
        id,
        "extra",
        None,
        Some(Action::Delete { target: 1 }),
    )
    .await
    .unwrap_err();
    assert_eq!(code, ErrorCode::InvalidMessage);
}
