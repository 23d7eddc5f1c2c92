//! Safety over real HTTP and WebSockets: blocking, and moderated groups
//! (bans, members who join late, an empty group closed).

mod common;

use common::{say, Socket, TestServer};
use natter_protocol::{
    ApiError, ApiErrorCode, ClientFrame, Conversation, Message, PublicGroup, ServerFrame, User,
};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

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
    let listed: Vec<User> = ann.get_json("/api/blocks").await;
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
    let seen: Conversation = ann.get_json(&format!("/api/conversations/{chat}")).await;
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
    let group = ann
        .create_group(json!({ "name": "Hikers", "members": ["bob"], "hashtag": "hikers" }))
        .await;
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
            link_preview: None,
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
        .get_json(&format!("/api/groups/{}/bans", group.id))
        .await;
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
    let found: Vec<PublicGroup> = bob.get_json("/api/groups?hashtag=hikers").await;
    assert!(found.is_empty());
    assert_eq!(join(&bob).await.unwrap().status(), StatusCode::NOT_FOUND);
}

/// Runs `natter-server admin ARGS` against `server`'s data directory; the
/// exit status and what it printed.
async fn admin(server: &TestServer, args: &[&str]) -> (bool, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_natter-server"))
        .arg("admin")
        .arg("--data-dir")
        .arg(server.data.path())
        .args(args)
        .output()
        .await
        .expect("run the admin tool");
    let text = String::from_utf8_lossy(if output.status.success() {
        &output.stdout
    } else {
        &output.stderr
    })
    .into_owned();
    (output.status.success(), text)
}

#[tokio::test]
async fn a_report_reaches_the_admin_tool_which_suspends_and_deletes() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let chat = bob.open_direct("ann").await.id;
    let mut bob_socket = bob.connect().await;
    for body in ["hey", "you there?"] {
        say(&mut bob_socket, chat, body).await.unwrap();
    }
    let scam = say(&mut bob_socket, chat, "buy my coin at scam.example")
        .await
        .unwrap();

    let report = |body: serde_json::Value| ann.post("/api/reports").json(&body).send();
    let filed = report(json!({
        "user": bob.user.id, "conversation": chat, "seq": scam,
        "reason": "spam", "note": "third time today"
    }))
    .await
    .unwrap();
    assert_eq!(filed.status(), StatusCode::CREATED);
    let id = filed
        .json::<natter_protocol::ReportFiled>()
        .await
        .unwrap()
        .id;
    // Nobody reports themselves, pins a message on someone who did not
    // send it, or reports from a conversation they are not in.
    for (body, status) in [
        (
            json!({ "user": ann.user.id, "reason": "spam" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "user": ann.user.id + 100, "reason": "spam" }),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({ "user": ann.user.id, "conversation": chat, "seq": 1, "reason": "other" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "user": bob.user.id, "reason": "rude" }),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        assert_eq!(report(body).await.unwrap().status(), status);
    }
    let eve = server.signup("eve").await;
    let outsider = eve
        .post("/api/reports")
        .json(&json!({ "user": bob.user.id, "conversation": chat, "reason": "spam" }))
        .send()
        .await
        .unwrap();
    assert_eq!(outsider.status(), StatusCode::NOT_FOUND);

    // The moderator reads it with what Ann saw.
    let (ok, listed) = admin(&server, &["reports"]).await;
    assert!(ok, "{listed}");
    assert!(listed.contains(&format!("Report {id}")), "{listed}");
    assert!(
        listed.contains("@ann reported @bob: Spam or scam"),
        "{listed}"
    );
    assert!(listed.contains("Note: third time today"), "{listed}");
    for body in ["hey", "you there?", "buy my coin at scam.example"] {
        assert!(listed.contains(body), "{listed}");
    }

    // Suspended: the socket closes at once, login is refused, nobody finds
    // the account.
    let (ok, said) = admin(&server, &["suspend", "bob"]).await;
    assert!(ok, "{said}");
    bob_socket.closed().await;
    let login = |username: &str| {
        reqwest::Client::new()
            .post(server.url("/api/login"))
            .json(&json!({ "username": username, "password": common::PASSWORD }))
            .send()
    };
    let refused = login("bob").await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let error: ApiError = refused.json().await.unwrap();
    assert_eq!(
        error.message,
        "This account is suspended for breaking Natter's rules."
    );
    let session = bob.get("/api/me").send().await.unwrap();
    assert_eq!(session.status(), StatusCode::UNAUTHORIZED);
    let found = ann.get("/api/users/bob").send().await.unwrap();
    assert_eq!(found.status(), StatusCode::NOT_FOUND);

    // The message goes for everyone; the report is resolved.
    let target = format!("{scam}");
    let (ok, said) = admin(&server, &["delete-message", &chat.to_string(), &target]).await;
    assert!(ok, "{said}");
    let history = ann.history(chat).await;
    let gone = history.iter().find(|m| m.seq == scam).unwrap();
    assert!(gone.deleted && gone.body.is_empty());
    let (ok, said) = admin(
        &server,
        &["resolve", &id.to_string(), "--note", "suspended"],
    )
    .await;
    assert!(ok, "{said}");
    assert_eq!(admin(&server, &["reports"]).await.1.trim(), "No reports.");
    let (_, all) = admin(&server, &["reports", "--all"]).await;
    assert!(
        all.contains("Resolved") && all.contains("suspended"),
        "{all}"
    );

    // Refusals are clear; lifting the suspension lets Bob back in.
    let (ok, said) = admin(&server, &["suspend", "nobody"]).await;
    assert!(!ok);
    assert!(said.contains("nobody"), "{said}");
    let (ok, said) = admin(&server, &["resolve", &id.to_string()]).await;
    assert!(!ok);
    assert!(said.contains("No such report"), "{said}");
    let (ok, _) = admin(&server, &["unsuspend", "bob"]).await;
    assert!(ok);
    assert_eq!(login("bob").await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn the_admin_tool_says_when_no_server_runs() {
    let data = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_natter-server"))
        .args(["admin", "--data-dir"])
        .arg(data.path())
        .arg("reports")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("is natter-server running"), "{said}");
}

#[tokio::test]
async fn a_stranger_is_a_request_that_hears_nothing_until_accepted() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let mut ann_socket = ann.connect().await;
    let chat = bob.open_direct("ann").await.id;
    let mut bob_socket = bob.connect().await;
    say(&mut bob_socket, chat, "hi, we met at the café")
        .await
        .unwrap();
    let introduced = ann_socket
        .next_matching(|frame| match frame {
            ServerFrame::Conversation { conversation } => Some(conversation),
            _ => None,
        })
        .await;
    let me = |c: &Conversation, id| c.members.iter().find(|m| m.user.id == id).cloned();
    assert!(
        me(&introduced, ann.user.id).unwrap().pending,
        "a request for Ann"
    );
    assert!(!me(&introduced, bob.user.id).unwrap().pending);
    assert_eq!(next_body(&mut ann_socket).await, "hi, we met at the café");

    // Ann's receipts and typing stay on her side; Bob sees nothing of her.
    ann_socket
        .send(&ClientFrame::Receipt {
            conversation: chat,
            kind: natter_protocol::ReceiptKind::Read,
            seq: 1,
        })
        .await;
    ann_socket
        .send(&ClientFrame::Typing { conversation: chat })
        .await;
    // Both were handled once the ping after them is answered.
    ann_socket.assert_alive().await;
    let seen_by_bob: Conversation = bob.get_json(&format!("/api/conversations/{chat}")).await;
    let ann_there = me(&seen_by_bob, ann.user.id).unwrap();
    assert_eq!((ann_there.delivered, ann_there.read), (0, 0));

    // Accepted: the receipts held back go out, and it is a chat like any.
    let accepted = ann
        .post(&format!("/api/conversations/{chat}/accept"))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    let accepted: Conversation = accepted.json().await.unwrap();
    assert!(!me(&accepted, ann.user.id).unwrap().pending);
    let released = bob_socket
        .next_matching(|frame| match frame {
            ServerFrame::Receipt {
                user, kind, seq, ..
            } if user != bob.user.id => Some((kind, seq)),
            ServerFrame::Typing { .. } => panic!("typing from a request reached Bob"),
            _ => None,
        })
        .await;
    assert_eq!(released.1, 1);

    // Someone Ann wrote to first is no stranger: Cyd's group adds her
    // without a request... while Eve, whom she never wrote to, asks.
    let cyd = server.signup("cyd").await;
    let eve = server.signup("eve").await;
    ann.open_direct("cyd").await;
    for (owner, pending) in [(&cyd, false), (&eve, true)] {
        let group = owner
            .create_group(json!({ "name": "Party", "members": ["ann"] }))
            .await;
        // The creator cannot tell; Ann's own record says it.
        assert!(!me(&group, ann.user.id).unwrap().pending);
        let anns: Conversation = ann
            .get_json(&format!("/api/conversations/{}", group.id))
            .await;
        assert_eq!(me(&anns, ann.user.id).unwrap().pending, pending);
        if pending {
            // Deleted, it is gone from Ann's devices and list.
            let deleted = ann
                .request(Method::DELETE, &format!("/api/conversations/{}", group.id))
                .send()
                .await
                .unwrap();
            assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
            ann_socket
                .next_matching(|frame| match frame {
                    ServerFrame::Gone { conversation } if conversation == group.id => Some(()),
                    _ => None,
                })
                .await;
            let listed: Vec<Conversation> = ann.get_json("/api/conversations").await;
            assert!(listed.iter().all(|c| c.id != group.id));
        }
    }
    // Any chat can be deleted; Bob writing again brings it back to Ann.
    let deleted = ann
        .request(Method::DELETE, &format!("/api/conversations/{chat}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    say(&mut bob_socket, chat, "still there?").await.unwrap();
    let back = ann_socket
        .next_matching(|frame| match frame {
            ServerFrame::Conversation { conversation } if conversation.id == chat => {
                Some(conversation)
            }
            _ => None,
        })
        .await;
    assert!(
        !me(&back, ann.user.id).unwrap().pending,
        "she knows Bob now"
    );
    assert_eq!(next_body(&mut ann_socket).await, "still there?");
}

#[tokio::test]
async fn an_account_exports_its_data_then_ends_leaving_tombstones() {
    use std::io::Read;
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let cyd = server.signup("cyd").await;
    let chat = bob.open_direct("ann").await.id;
    ann.open_direct("bob").await;
    let group = bob
        .create_group(json!({ "name": "Climbers", "members": ["ann", "cyd"] }))
        .await;
    let photo = bob
        .post(&format!("/api/media?conversation={chat}&kind=image"))
        .header(reqwest::header::CONTENT_TYPE, "image/jpeg")
        .body(common::jpeg(2000))
        .send()
        .await
        .unwrap()
        .json::<natter_protocol::Upload>()
        .await
        .unwrap();
    let mut bob_socket = bob.connect().await;
    let client_id = Uuid::new_v4();
    bob_socket
        .send(&ClientFrame::Send {
            conversation: chat,
            client_id,
            body: "the wall".to_owned(),
            attachment: Some(Box::new(natter_protocol::Attachment {
                id: photo.id.clone(),
                kind: natter_protocol::MediaKind::Image,
                content_type: "image/jpeg".to_owned(),
                size: photo.size,
                width: None,
                height: None,
                duration_ms: None,
                waveform: Vec::new(),
                thumbnail: None,
            })),
            action: None,
            link_preview: None,
            reply_to: None,
        })
        .await;
    bob_socket
        .next_matching(|frame| match frame {
            ServerFrame::Ack { client_id: id, .. } if id == client_id => Some(()),
            _ => None,
        })
        .await;
    say(&mut bob_socket, group.id, "see you saturday")
        .await
        .unwrap();

    let muted = bob
        .request(
            reqwest::Method::PUT,
            &format!("/api/conversations/{}/mute", group.id),
        )
        .json(&serde_json::json!({ "for_ms": null }))
        .send()
        .await
        .unwrap();
    assert_eq!(muted.status(), StatusCode::OK);

    // The export: one zip with the conversations, messages, mutes and the
    // photo.
    let response = bob.get("/api/me/export").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[reqwest::header::CONTENT_DISPOSITION],
        "attachment; filename=\"natter-bob.zip\""
    );
    let bytes = response.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut json = String::new();
    archive
        .by_name("natter.json")
        .unwrap()
        .read_to_string(&mut json)
        .unwrap();
    let data: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(data["profile"]["username"], "bob");
    assert_eq!(
        data["mutes"],
        serde_json::json!([{ "conversation": group.id, "until": null }])
    );
    let conversations = data["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 2);
    let texts: Vec<&str> = conversations
        .iter()
        .flat_map(|c| c["messages"].as_array().unwrap())
        .filter_map(|m| m["body"].as_str())
        .filter(|body| !body.is_empty())
        .collect();
    assert!(
        texts.contains(&"the wall") && texts.contains(&"see you saturday"),
        "{texts:?}"
    );
    let mut file = Vec::new();
    archive
        .by_name(&format!("uploads/{}.jpg", photo.id))
        .unwrap()
        .read_to_end(&mut file)
        .unwrap();
    assert_eq!(file.len() as u64, photo.size);

    // A wrong password deletes nothing.
    let delete = |password: &str| {
        bob.post("/api/me/delete")
            .json(&json!({ "password": password }))
            .send()
    };
    assert_eq!(
        delete("not it").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let mut ann_socket = ann.connect().await;
    assert_eq!(
        delete(common::PASSWORD).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    bob_socket.closed().await;
    assert_eq!(
        bob.get("/api/me").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // Ann's devices hear of it; her history keeps tombstones only.
    let told = ann_socket
        .next_matching(|frame| match frame {
            ServerFrame::Profile { user } if user.id == bob.user.id => Some(user),
            _ => None,
        })
        .await;
    assert!(told.deleted && told.display_name.is_none());
    for conversation in [chat, group.id] {
        for message in ann.history(conversation).await {
            if message.sender == bob.user.id && message.event.is_none() {
                assert!(message.deleted && message.body.is_empty());
                assert!(message.attachment.is_none());
            }
        }
    }
    let file = server.data.path().join("media").join(&photo.id);
    for _ in 0..50 {
        if !file.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!file.exists(), "the photo's file is gone");
    let media = ann
        .get(&format!("/api/media/{}", photo.id))
        .send()
        .await
        .unwrap();
    assert_eq!(media.status(), StatusCode::NOT_FOUND);
    // The group got a new admin; the username stays taken but unfindable.
    let seen: Conversation = cyd
        .get_json(&format!("/api/conversations/{}", group.id))
        .await;
    assert!(seen.members.iter().all(|m| m.user.id != bob.user.id));
    assert!(seen
        .members
        .iter()
        .any(|m| m.role == natter_protocol::Role::Admin));
    let found = ann.get("/api/users/bob").send().await.unwrap();
    assert_eq!(found.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        say(&mut ann_socket, chat, "are you there?").await,
        Err("This account was deleted: nobody will read messages sent to it.".to_owned())
    );
    let again = reqwest::Client::new()
        .post(server.url("/api/signup"))
        .json(&json!({ "username": "bob", "password": common::PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
}
