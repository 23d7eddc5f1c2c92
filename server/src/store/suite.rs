//! The behaviour every store backend must have, asserted once and run
//! against each of them with [`store_suite!`](crate::store_suite): the
//! store's own guarantees (idempotent client ids, gap-free seqs under
//! concurrent senders, stale memberships refused, sessions), and every
//! rule of [`crate::chat`] played through a [`Chat`] over the backend
//! (membership, actions and their permissions, groups and roles, media
//! ownership), since a backend that loses or bends data breaks them.

use std::sync::Arc;

use natter_protocol::{
    Action, Attachment, ConversationId, MediaKind, Millis, Mute, NewGroup, ReceiptKind, Role, Seq,
    User, UserId,
};
use uuid::Uuid;

use super::{
    picture_hash, GroupStep, GroupTarget, GroupWrite, History, MediaRecord, MemberChange,
    NewMessage, PushDevice, Reader, Store, StoreError, Write, Written, MAX_PUSH_DEVICES,
};
use crate::chat::groups::GroupChange;
use crate::chat::send::Draft;
use crate::chat::{Chat, ChatError};
use crate::hub::{Hub, LocalHub};
use crate::media::FsMedia;

/// Generates one test per suite function for a backend. `$open` is an
/// async expression giving `(store, guard)`; the guard (a temporary
/// directory, a server) lives as long as the test.
#[macro_export]
macro_rules! store_suite {
    ($open:expr) => {
        $crate::store_suite!(@tests $open;
            users_are_unique_ignoring_case,
            sessions_expire_and_end,
            a_client_id_is_stored_once,
            seqs_are_gap_free_under_concurrent_senders,
            sends_race_membership_changes_safely,
            a_write_on_a_changed_membership_is_stale,
            receipts_only_move_forward,
            history_pages_both_ways,
            only_members_send_and_read,
            actions_and_who_may_take_them,
            a_link_card_lives_and_dies_with_its_text,
            groups_and_their_roles,
            media_belongs_to_its_uploader_and_conversation,
            uploads_no_message_took_are_collected,
            pictures_are_found_by_their_hash,
            a_block_keeps_the_blocked_apart,
            mutes_are_each_members_own_and_end,
            push_devices_are_one_per_session_and_end_with_it,
            groups_are_moderated,
            reports_keep_what_the_reporter_saw,
            strangers_make_requests_until_accepted,
            an_ended_account_leaves_tombstones,
        );
    };
    (@tests $open:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (store, _guard) = $open.await;
                $crate::store::suite::$name(std::sync::Arc::new(store)).await;
            }
        )*
    };
}

const NOW: Millis = 1_700_000_000_000;
/// Reads everything: no user has id 0.
const ALL: Reader = Reader { user: 0, from: 0 };

async fn user(store: &Arc<dyn Store>, name: &str) -> User {
    store
        .create_user(name, "$argon2id$stub")
        .await
        .expect("user")
}

async fn direct(store: &Arc<dyn Store>, a: &User, b: &User) -> ConversationId {
    store
        .open_direct(a.id, b.id, false, NOW)
        .await
        .expect("direct")
        .0
        .id
}

fn text(sender: UserId, conversation: ConversationId, body: &str) -> NewMessage {
    NewMessage {
        sender,
        conversation,
        client_id: Uuid::new_v4(),
        body: body.to_owned(),
        attachment: None,
        reply_to: None,
        action: None,
        sent_at: NOW,
        withheld_from: None,
        link_preview: None,
    }
}

async fn epoch(store: &Arc<dyn Store>, conversation: ConversationId) -> u64 {
    store
        .membership(conversation)
        .await
        .expect("read")
        .expect("exists")
        .epoch
}

/// Commits one append and returns its outcome.
async fn append(
    store: &Arc<dyn Store>,
    message: NewMessage,
) -> Result<super::Appended, StoreError> {
    let epoch = epoch(store, message.conversation).await;
    let mut results = store
        .commit(vec![Write::Append { message, epoch }])
        .await
        .expect("commit");
    match results.pop().expect("one result")? {
        Written::Appended(appended) => Ok(appended),
        other => panic!("expected an append, got {other:?}"),
    }
}

/// A chat over `store`, with a hub and media in a temporary directory.
fn chat(store: Arc<dyn Store>) -> (Chat, tempfile::TempDir) {
    let media = tempfile::tempdir().expect("media dir");
    let hub: Arc<dyn Hub> = Arc::new(LocalHub::default());
    let chat = Chat::new(store, hub, Arc::new(FsMedia::new(media.path())));
    (chat, media)
}

fn draft(conversation: ConversationId, body: &str) -> Draft {
    Draft {
        conversation,
        client_id: Uuid::new_v4(),
        body: body.to_owned(),
        attachment: None,
        reply_to: None,
        action: None,
        link_preview: None,
    }
}

/// A group `owner` creates with `members` (usernames), public under
/// `hashtag` if given.
async fn group_of(
    chat: &Chat,
    owner: &User,
    name: &str,
    members: &[&str],
    hashtag: Option<&str>,
) -> ConversationId {
    chat.create_group(
        owner,
        NewGroup {
            name: name.into(),
            members: members.iter().map(|m| (*m).to_owned()).collect(),
            hashtag: hashtag.map(str::to_owned),
            picture: None,
        },
        NOW,
    )
    .await
    .expect("group")
    .id
}

async fn sent(chat: &Chat, sender: UserId, draft: Draft) -> Result<Seq, ChatError> {
    let pending = chat.send(sender, None, draft, NOW).await?;
    Ok(pending.await?.seq)
}

pub async fn users_are_unique_ignoring_case(store: Arc<dyn Store>) {
    let ann = user(&store, "Ann").await;
    assert!(matches!(
        store.create_user("aNN", "x").await,
        Err(StoreError::UsernameTaken)
    ));
    assert_eq!(store.user_by_name("ANN").await.unwrap(), Some(ann.clone()));
    assert_eq!(store.user(ann.id).await.unwrap(), Some(ann.clone()));
    let credentials = store.credentials("ann").await.unwrap().expect("stored");
    assert_eq!(credentials.password_hash, "$argon2id$stub");
    let updated = store
        .update_profile(ann.id, Some("Ann Archer".into()), None)
        .await
        .unwrap();
    assert_eq!(updated.shown_name(), "Ann Archer");
    assert!(store.user_by_name("nobody").await.unwrap().is_none());
}

pub async fn sessions_expire_and_end(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    store
        .create_session([1; 32], ann.id, NOW + 10)
        .await
        .unwrap();
    assert_eq!(
        store.session_user([1; 32], NOW).await.unwrap(),
        Some(ann.clone())
    );
    assert_eq!(store.session_user([1; 32], NOW + 10).await.unwrap(), None);
    assert_eq!(store.session_user([2; 32], NOW).await.unwrap(), None);
    store.delete_session([1; 32]).await.unwrap();
    assert_eq!(store.session_user([1; 32], NOW).await.unwrap(), None);

    // Everywhere but here; expired ones purged.
    for hash in [[3; 32], [4; 32], [5; 32]] {
        store
            .create_session(hash, ann.id, NOW + 1000)
            .await
            .unwrap();
    }
    store
        .create_session([6; 32], ann.id, NOW - 1)
        .await
        .unwrap();
    assert_eq!(store.purge_sessions(NOW).await.unwrap(), 1);
    store.delete_sessions(ann.id, Some([4; 32])).await.unwrap();
    assert!(store.session_user([3; 32], NOW).await.unwrap().is_none());
    assert!(store.session_user([4; 32], NOW).await.unwrap().is_some());
    store.delete_sessions(ann.id, None).await.unwrap();
    assert!(store.session_user([4; 32], NOW).await.unwrap().is_none());
    store.set_password(ann.id, "$argon2id$new").await.unwrap();
    assert_eq!(
        store
            .credentials("ann")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$argon2id$new"
    );
}

pub async fn a_client_id_is_stored_once(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let cy = user(&store, "cyd").await;
    let chat = direct(&store, &ann, &bob).await;
    let other = direct(&store, &ann, &cy).await;
    let message = text(ann.id, chat, "once");
    let first = append(&store, message.clone()).await.unwrap();
    assert!(first.fresh);
    let again = append(&store, message.clone()).await.unwrap();
    assert!(!again.fresh);
    assert_eq!(again.message, first.message);
    // Twice in one batch: one message.
    let twice = text(ann.id, chat, "twice");
    let epoch = epoch(&store, chat).await;
    let results = store
        .commit(vec![
            Write::Append {
                message: twice.clone(),
                epoch,
            },
            Write::Append {
                message: twice.clone(),
                epoch,
            },
        ])
        .await
        .unwrap();
    let seqs: Vec<_> = results
        .into_iter()
        .map(|result| match result.unwrap() {
            Written::Appended(appended) => (appended.message.seq, appended.fresh),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(seqs, vec![(2, true), (2, false)]);
    // The same id in another conversation is refused.
    assert!(matches!(
        append(
            &store,
            NewMessage {
                conversation: other,
                ..message
            }
        )
        .await,
        Err(StoreError::ClientIdReused(_))
    ));
    assert_eq!(
        store.messages_after(chat, 0, 10, ALL).await.unwrap().len(),
        2
    );
}

pub async fn seqs_are_gap_free_under_concurrent_senders(store: Arc<dyn Store>) {
    let members: Vec<User> = futures_util::future::join_all((0..8).map(|n| {
        let store = store.clone();
        async move { user(&store, &format!("member{n}")).await }
    }))
    .await;
    let (chat, _media) = chat(store.clone());
    let group = chat
        .create_group(
            &members[0],
            NewGroup {
                name: "Busy".into(),
                members: members[1..].iter().map(|m| m.username.clone()).collect(),
                hashtag: None,
                picture: None,
            },
            NOW,
        )
        .await
        .unwrap();
    let events = group.last_seq;
    let senders = members.iter().map(|member| {
        let chat = chat.clone();
        let id = member.id;
        async move {
            let mut pending = Vec::new();
            for n in 0..50 {
                pending.push(
                    chat.send(id, None, draft(group.id, &format!("{id}:{n}")), NOW)
                        .await
                        .unwrap(),
                );
            }
            let mut seqs = Vec::new();
            for answer in pending {
                seqs.push(answer.await.unwrap().seq);
            }
            seqs
        }
    });
    let per_sender = futures_util::future::join_all(senders).await;
    for seqs in &per_sender {
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in sending order");
    }
    let mut all: Vec<Seq> = per_sender.into_iter().flatten().collect();
    all.sort_unstable();
    let expected: Vec<Seq> = (events + 1..=events + 400).collect();
    assert_eq!(all, expected, "gap-free, each once");
    let stored = store
        .messages_after(group.id, events, 1000, ALL)
        .await
        .unwrap();
    assert_eq!(stored.iter().map(|m| m.seq).collect::<Vec<_>>(), expected);
}

pub async fn sends_race_membership_changes_safely(store: Arc<dyn Store>) {
    let admin = user(&store, "admin").await;
    let coming = user(&store, "coming").await;
    let going = user(&store, "going").await;
    let (chat, _media) = chat(store.clone());
    let group = chat
        .create_group(
            &admin,
            NewGroup {
                name: "Churn".into(),
                members: vec!["going".into()],
                hashtag: None,
                picture: None,
            },
            NOW,
        )
        .await
        .unwrap();
    let id = group.id;
    // Three people send while one is removed and another added.
    let sender = |who: User| {
        let chat = chat.clone();
        async move {
            let mut outcomes = Vec::new();
            for n in 0..40 {
                let outcome = match chat
                    .send(who.id, None, draft(id, &format!("{n}")), NOW)
                    .await
                {
                    Ok(ack) => ack.await.map(|sent| sent.seq),
                    Err(err) => Err(err),
                };
                outcomes.push(outcome);
                tokio::task::yield_now().await;
            }
            outcomes
        }
    };
    let changes = {
        let chat = chat.clone();
        let (admin, coming) = (admin.clone(), coming.clone());
        async move {
            tokio::task::yield_now().await;
            chat.change_group(&admin, id, GroupChange::Remove(going.id), NOW)
                .await
                .unwrap();
            chat.change_group(&admin, id, GroupChange::Add(coming.username.clone()), NOW)
                .await
                .unwrap();
        }
    };
    let (from_admin, from_going, from_coming, ()) = tokio::join!(
        sender(admin.clone()),
        sender(going.clone()),
        sender(coming.clone()),
        changes
    );
    // The admin is always in: every send is stored. The others are in for
    // a while: each send is stored or refused as from an outsider, never
    // anything else.
    assert!(from_admin.iter().all(Result::is_ok));
    for outcome in from_going.iter().chain(&from_coming) {
        assert!(
            matches!(outcome, Ok(_) | Err(ChatError::NotAMember)),
            "{outcome:?}"
        );
    }
    // Whoever was refused was not a member when their message would have
    // been stored: the history shows no message of theirs out of place.
    let history = store.messages_after(id, 0, 500, ALL).await.unwrap();
    let seqs: Vec<Seq> = history.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=history.len() as Seq).collect::<Vec<_>>(),
        "gap-free"
    );
    let removed_at = history
        .iter()
        .find(|m| matches!(&m.event, Some(e) if matches!(e.kind, natter_protocol::GroupEventKind::Removed { .. })))
        .map(|m| m.seq)
        .unwrap();
    let added_at = history
        .iter()
        .find(|m| matches!(&m.event, Some(e) if matches!(&e.kind, natter_protocol::GroupEventKind::Added { user } if user.id == coming.id)))
        .map(|m| m.seq)
        .unwrap();
    for message in history.iter().filter(|m| m.event.is_none()) {
        if message.sender == going.id {
            assert!(
                message.seq < removed_at,
                "a removed member's message after removal"
            );
        }
        if message.sender == coming.id {
            assert!(
                message.seq > added_at,
                "a message from before they were added"
            );
        }
    }
    let stored =
        |outcomes: &[Result<Seq, ChatError>]| outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(
        history.iter().filter(|m| m.event.is_none()).count(),
        stored(&from_admin) + stored(&from_going) + stored(&from_coming)
    );
}

pub async fn a_write_on_a_changed_membership_is_stale(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let written = store
        .commit(vec![Write::Group(GroupWrite {
            target: GroupTarget::Create {
                name: "G".into(),
                hashtag: None,
                picture: None,
            },
            steps: vec![GroupStep {
                changes: vec![MemberChange::Add(ann.id, Role::Admin, History::Whole)],
                event: natter_protocol::GroupEvent {
                    by: ann.clone(),
                    kind: natter_protocol::GroupEventKind::Created { name: "G".into() },
                },
            }],
            now: NOW,
        })])
        .await
        .unwrap();
    let Ok(Written::Group(group)) = &written[0] else {
        panic!("{written:?}");
    };
    let id = group.conversation.id;
    let before = group.membership.epoch;
    let add_bob = |epoch| {
        Write::Group(GroupWrite {
            target: GroupTarget::Existing {
                conversation: id,
                epoch,
            },
            steps: vec![GroupStep {
                changes: vec![MemberChange::Add(bob.id, Role::Member, History::Whole)],
                event: natter_protocol::GroupEvent {
                    by: ann.clone(),
                    kind: natter_protocol::GroupEventKind::Added { user: bob.clone() },
                },
            }],
            now: NOW,
        })
    };
    let results = store
        .commit(vec![
            add_bob(before),
            // Decided on the membership before bob joined: refused.
            Write::Append {
                message: text(ann.id, id, "late"),
                epoch: before,
            },
            add_bob(before),
        ])
        .await
        .unwrap();
    assert!(results[0].is_ok());
    assert!(matches!(results[1], Err(StoreError::Stale)));
    assert!(matches!(results[2], Err(StoreError::Stale)));
    assert!(epoch(&store, id).await > before);
    let membership = store.membership(id).await.unwrap().unwrap();
    assert_eq!(membership.user_ids(), vec![ann.id, bob.id]);
    // Nothing of the stale writes was stored; seqs stay gap-free.
    let seqs: Vec<_> = store
        .messages_after(id, 0, 10, ALL)
        .await
        .unwrap()
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, vec![1, 2]);
}

pub async fn receipts_only_move_forward(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let eve = user(&store, "eve").await;
    let chat = direct(&store, &ann, &bob).await;
    for n in 0..3 {
        append(&store, text(ann.id, chat, &format!("m{n}")))
            .await
            .unwrap();
    }
    let advance = |user: UserId, delivered, read| Write::Advance {
        user,
        conversation: chat,
        delivered,
        read,
    };
    let results = store
        .commit(vec![
            advance(bob.id, Some(2), None),
            // Past the end: clamped to the last seq.
            advance(bob.id, Some(9), Some(9)),
            advance(bob.id, Some(1), Some(1)),
            advance(eve.id, Some(1), None),
        ])
        .await
        .unwrap();
    let moved: Vec<_> = results[..3]
        .iter()
        .map(|r| match r {
            Ok(Written::Advanced(moved)) => moved.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        moved,
        vec![
            vec![(ReceiptKind::Delivered, 2)],
            vec![(ReceiptKind::Delivered, 3), (ReceiptKind::Read, 3)],
            vec![],
        ]
    );
    assert!(matches!(results[3], Err(StoreError::NotFound)));
    let conversation = store.conversation(chat, ALL).await.unwrap().unwrap();
    let seen = conversation
        .members
        .iter()
        .find(|m| m.user.id == bob.id)
        .unwrap();
    assert_eq!((seen.delivered, seen.read), (3, 3));
    // The sender has seen their own messages.
    let own = conversation
        .members
        .iter()
        .find(|m| m.user.id == ann.id)
        .unwrap();
    assert_eq!((own.delivered, own.read), (3, 3));
}

pub async fn history_pages_both_ways(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let chat = direct(&store, &ann, &bob).await;
    for n in 1..=7 {
        append(&store, text(ann.id, chat, &format!("m{n}")))
            .await
            .unwrap();
    }
    let seqs = |page: Vec<natter_protocol::Message>| page.iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(store.messages_after(chat, 2, 3, ALL).await.unwrap()),
        vec![3, 4, 5]
    );
    assert_eq!(
        seqs(store.messages_before(chat, 7, 3, ALL).await.unwrap()),
        vec![4, 5, 6]
    );
    assert_eq!(
        store.message(chat, 7).await.unwrap().map(|m| m.body),
        Some("m7".to_owned())
    );
    let listed = store.conversations_of(bob.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_seq, 7);
    assert_eq!(listed[0].last_message.as_ref().map(|m| m.seq), Some(7));
    // One conversation per pair, whoever opens it.
    assert_eq!(direct(&store, &bob, &ann).await, chat);
}

pub async fn only_members_send_and_read(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let eve = user(&store, "eve").await;
    let conversation = direct(&store, &ann, &bob).await;
    let (chat, _media) = chat(store.clone());
    assert_eq!(
        sent(&chat, ann.id, draft(conversation, "hi"))
            .await
            .unwrap(),
        1
    );
    assert!(matches!(
        sent(&chat, eve.id, draft(conversation, "let me in")).await,
        Err(ChatError::NotAMember)
    ));
    assert!(matches!(
        chat.history(eve.id, conversation, None, None).await,
        Err(ChatError::NotAMember)
    ));
    assert!(matches!(
        chat.receipt(eve.id, conversation, ReceiptKind::Read, 1)
            .await,
        Err(ChatError::NotAMember)
    ));
    assert!(matches!(
        chat.typing(eve.id, conversation).await,
        Err(ChatError::NotAMember)
    ));

    // A removed member can no longer send, but a resend of what they sent
    // before is answered as it was.
    let group = chat
        .create_group(
            &ann,
            NewGroup {
                name: "G".into(),
                members: vec!["bob".into()],
                hashtag: None,
                picture: None,
            },
            NOW,
        )
        .await
        .unwrap();
    let before = draft(group.id, "before");
    let seq = sent(&chat, bob.id, before.clone()).await.unwrap();
    chat.change_group(&ann, group.id, GroupChange::Remove(bob.id), NOW)
        .await
        .unwrap();
    assert!(matches!(
        sent(&chat, bob.id, draft(group.id, "after")).await,
        Err(ChatError::NotAMember)
    ));
    assert_eq!(sent(&chat, bob.id, before).await.unwrap(), seq);
}

pub async fn actions_and_who_may_take_them(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let conversation = direct(&store, &ann, &bob).await;
    let (chat, _media) = chat(store.clone());
    let target = sent(&chat, ann.id, draft(conversation, "original"))
        .await
        .unwrap();
    let act = |action: Action| Draft {
        body: String::new(),
        action: Some(action),
        ..draft(conversation, "")
    };
    // Anyone reacts; only the sender edits and deletes.
    sent(
        &chat,
        bob.id,
        act(Action::React {
            target,
            emoji: "👍".into(),
        }),
    )
    .await
    .unwrap();
    assert!(matches!(
        sent(
            &chat,
            bob.id,
            act(Action::Edit {
                target,
                body: "hacked".into()
            })
        )
        .await,
        Err(ChatError::NotYours)
    ));
    sent(
        &chat,
        ann.id,
        act(Action::Edit {
            target,
            body: "edited".into(),
        }),
    )
    .await
    .unwrap();
    let message = store.message(conversation, target).await.unwrap().unwrap();
    assert_eq!(message.body, "edited");
    assert_eq!(message.reactions[0].users, vec![bob.id]);
    // A reply to a message that is not there is refused.
    let reply = Draft {
        reply_to: Some(99),
        ..draft(conversation, "what?")
    };
    assert!(matches!(
        sent(&chat, bob.id, reply).await,
        Err(ChatError::BadTarget)
    ));

    // Deleting wipes the text, its edits' text and its reactions.
    sent(&chat, ann.id, act(Action::Delete { target }))
        .await
        .unwrap();
    let deleted = store.message(conversation, target).await.unwrap().unwrap();
    assert!(deleted.deleted && deleted.body.is_empty() && deleted.reactions.is_empty());
    let history = store
        .messages_after(conversation, 0, 10, ALL)
        .await
        .unwrap();
    let kept_text = |m: &natter_protocol::Message| match &m.action {
        Some(Action::Edit { body, .. }) => body.clone(),
        _ => m.body.clone(),
    };
    assert!(history.iter().all(|m| !kept_text(m).contains("edited")));
    // A deleted message cannot be acted on any more.
    assert!(matches!(
        sent(
            &chat,
            ann.id,
            act(Action::Edit {
                target,
                body: "again".into()
            })
        )
        .await,
        Err(ChatError::BadTarget)
    ));
}

pub async fn a_link_card_lives_and_dies_with_its_text(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let conversation = direct(&store, &ann, &bob).await;
    let (chat, _media) = chat(store.clone());
    let card = natter_protocol::LinkPreview {
        url: "https://example.org/a".into(),
        title: "A page".into(),
        description: Some("About it".into()),
        site_name: Some("Example".into()),
        image: Some(natter_protocol::PreviewImage {
            id: "ab".repeat(32),
            width: 600,
            height: 315,
        }),
    };
    let with_card = Draft {
        link_preview: Some(Box::new(card.clone())),
        ..draft(conversation, "see https://example.org/a")
    };
    let target = sent(&chat, ann.id, with_card).await.unwrap();
    let stored = store.message(conversation, target).await.unwrap().unwrap();
    assert_eq!(stored.link_preview.as_deref(), Some(&card));
    let read = store
        .messages_after(conversation, 0, 10, ALL)
        .await
        .unwrap();
    assert_eq!(read[0].link_preview.as_deref(), Some(&card));

    let delete = Draft {
        body: String::new(),
        action: Some(Action::Delete { target }),
        ..draft(conversation, "")
    };
    sent(&chat, ann.id, delete).await.unwrap();
    let deleted = store.message(conversation, target).await.unwrap().unwrap();
    assert_eq!(deleted.link_preview, None);
}

pub async fn groups_and_their_roles(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let cy = user(&store, "cyd").await;
    let eve = user(&store, "eve").await;
    let (chat, _media) = chat(store.clone());
    let group = chat
        .create_group(
            &ann,
            NewGroup {
                name: "Hikers".into(),
                members: vec!["bob".into(), "BOB".into(), "ann".into()],
                hashtag: Some("#Hikers".into()),
                picture: None,
            },
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(group.members.len(), 2, "duplicates and the creator once");
    assert_eq!(group.last_seq, 2, "created, added bob");
    let role = |conversation: &natter_protocol::Conversation, id| {
        conversation
            .members
            .iter()
            .find(|m| m.user.id == id)
            .map(|m| m.role)
    };
    assert_eq!(role(&group, ann.id), Some(Role::Admin));
    let id = group.id;
    let change = |actor: User, change| {
        let chat = chat.clone();
        async move { chat.change_group(&actor, id, change, NOW).await }
    };
    let refused = change(bob.clone(), GroupChange::Add("cyd".into())).await;
    assert!(matches!(refused, Err(ChatError::NotAdmin)), "{refused:?}");
    assert!(matches!(
        change(ann.clone(), GroupChange::Add("nobody".into())).await,
        Err(ChatError::NoSuchUsername(_))
    ));
    change(ann.clone(), GroupChange::Add("cyd".into()))
        .await
        .unwrap();
    assert!(matches!(
        change(ann.clone(), GroupChange::Add("cyd".into())).await,
        Err(ChatError::AlreadyMember)
    ));
    change(ann.clone(), GroupChange::Promote(bob.id))
        .await
        .unwrap();
    assert!(matches!(
        change(ann.clone(), GroupChange::Promote(bob.id)).await,
        Err(ChatError::AlreadyAdmin)
    ));
    change(bob.clone(), GroupChange::Rename("Saturday".into()))
        .await
        .unwrap();
    // Public: anyone joins; a second public group cannot take the hashtag.
    let joined = change(eve.clone(), GroupChange::Join).await.unwrap();
    assert_eq!(joined.members.len(), 4);
    assert!(matches!(
        chat.create_group(
            &eve,
            NewGroup {
                name: "Copy".into(),
                members: vec![],
                hashtag: Some("hikers".into()),
                picture: None,
            },
            NOW,
        )
        .await,
        Err(ChatError::HashtagTaken)
    ));
    assert_eq!(chat.search_groups("#hik").await.unwrap()[0].members, 4);
    // Admins leave; the longest-standing member takes over.
    change(ann.clone(), GroupChange::Remove(ann.id))
        .await
        .unwrap();
    let after = change(bob.clone(), GroupChange::Remove(bob.id))
        .await
        .unwrap();
    assert_eq!(role(&after, cy.id), Some(Role::Admin));
    let events: Vec<_> = store
        .messages_after(id, 0, 50, ALL)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| m.event.map(|e| (e.by.id, e.kind)))
        .collect();
    assert_eq!(
        events.len(),
        after.last_seq as usize,
        "every change is an event"
    );
    // A 1:1 conversation is not a group.
    let pair = direct(&store, &cy, &eve).await;
    assert!(matches!(
        chat.change_group(&cy, pair, GroupChange::Rename("x".into()), NOW)
            .await,
        Err(ChatError::NotAGroup)
    ));
}

pub async fn media_belongs_to_its_uploader_and_conversation(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let eve = user(&store, "eve").await;
    let conversation = direct(&store, &ann, &bob).await;
    let elsewhere = direct(&store, &ann, &eve).await;
    let (chat, _media) = chat(store.clone());
    let record = |id: &str, uploader: UserId, conversation| MediaRecord {
        id: id.to_owned(),
        uploader,
        conversation,
        kind: MediaKind::Image,
        content_type: "image/jpeg".into(),
        size: 1000,
        message_seq: None,
    };
    for upload in [
        record("AAAAAAAAAAAAAAAAAAAAAA", ann.id, conversation),
        record("BBBBBBBBBBBBBBBBBBBBBB", bob.id, conversation),
        record("CCCCCCCCCCCCCCCCCCCCCC", ann.id, elsewhere),
    ] {
        chat.uploaded(&upload, NOW).await.unwrap();
    }
    let with = |id: &str, size| Draft {
        body: String::new(),
        attachment: Some(Attachment {
            id: id.to_owned(),
            kind: MediaKind::Image,
            content_type: "image/jpeg".into(),
            size,
            width: None,
            height: None,
            duration_ms: None,
            waveform: Vec::new(),
            thumbnail: None,
        }),
        ..draft(conversation, "")
    };
    for refused in [
        with("BBBBBBBBBBBBBBBBBBBBBB", 1000),
        with("CCCCCCCCCCCCCCCCCCCCCC", 1000),
        with("AAAAAAAAAAAAAAAAAAAAAA", 999),
    ] {
        assert!(matches!(
            sent(&chat, ann.id, refused).await,
            Err(ChatError::BadAttachment)
        ));
    }
    sent(&chat, ann.id, with("AAAAAAAAAAAAAAAAAAAAAA", 1000))
        .await
        .unwrap();
    assert!(chat
        .media_for(bob.id, "AAAAAAAAAAAAAAAAAAAAAA")
        .await
        .is_ok());
    assert!(matches!(
        chat.media_for(eve.id, "AAAAAAAAAAAAAAAAAAAAAA").await,
        Err(ChatError::NoSuchFile)
    ));
}

pub async fn uploads_no_message_took_are_collected(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let conversation = direct(&store, &ann, &bob).await;
    let (chat, media) = chat(store.clone());
    const DAY: Millis = 24 * 3600 * 1000;
    for id in ["TakenTakenTakenTakenTa", "LeftLeftLeftLeftLeftLe"] {
        chat.uploaded(
            &MediaRecord {
                id: id.to_owned(),
                uploader: ann.id,
                conversation,
                kind: MediaKind::Image,
                content_type: "image/jpeg".into(),
                size: 10,
                message_seq: None,
            },
            NOW,
        )
        .await
        .unwrap();
        std::fs::write(media.path().join(id), b"bytes").unwrap();
    }
    assert_eq!(store.uploaded_since(ann.id, NOW - DAY).await.unwrap(), 20);
    let taken = Draft {
        body: String::new(),
        attachment: Some(Attachment {
            id: "TakenTakenTakenTakenTa".into(),
            kind: MediaKind::Image,
            content_type: "image/jpeg".into(),
            size: 10,
            width: None,
            height: None,
            duration_ms: None,
            waveform: Vec::new(),
            thumbnail: None,
        }),
        ..draft(conversation, "")
    };
    sent(&chat, ann.id, taken).await.unwrap();
    // Within the day, nothing goes; after it, only what no message took.
    assert_eq!(chat.collect_unattached(NOW + DAY / 2).await.unwrap(), 0);
    assert_eq!(chat.collect_unattached(NOW + 2 * DAY).await.unwrap(), 1);
    assert!(store
        .media("LeftLeftLeftLeftLeftLe")
        .await
        .unwrap()
        .is_none());
    assert!(!media.path().join("LeftLeftLeftLeftLeftLe").exists());
    assert!(store
        .media("TakenTakenTakenTakenTa")
        .await
        .unwrap()
        .is_some());
    assert!(media.path().join("TakenTakenTakenTakenTa").exists());
}

pub async fn pictures_are_found_by_their_hash(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let avatar = "data:image/jpeg;base64,QUFB".to_owned();
    let updated = store
        .update_profile(ann.id, None, Some(avatar.clone()))
        .await
        .unwrap();
    let hash = picture_hash(&avatar);
    // Users carry the URL, never the picture.
    assert_eq!(updated.avatar, Some(natter_protocol::picture_url(&hash)));
    assert_eq!(store.user(ann.id).await.unwrap(), Some(updated));
    assert_eq!(store.picture(&hash).await.unwrap(), Some(avatar));

    let (chat, _media) = chat(store.clone());
    let picture = "data:image/jpeg;base64,QkJC".to_owned();
    let group = chat
        .create_group(
            &ann,
            NewGroup {
                name: "g".into(),
                members: vec![],
                hashtag: None,
                picture: Some(picture.clone()),
            },
            NOW,
        )
        .await
        .unwrap();
    let shown = group.group.and_then(|group| group.picture);
    assert_eq!(
        shown,
        Some(natter_protocol::picture_url(&picture_hash(&picture)))
    );
    assert_eq!(
        store.picture(&picture_hash(&picture)).await.unwrap(),
        Some(picture)
    );

    // A cleared picture is no longer served.
    store.update_profile(ann.id, None, None).await.unwrap();
    assert_eq!(store.picture(&hash).await.unwrap(), None);
}

/// What `device` was sent since last asked, as frames' texts.
fn heard(device: &crate::hub::Device) -> Vec<String> {
    use crate::hub::Event;
    device
        .queue
        .take(1000)
        .events
        .into_iter()
        .map(|event| match event {
            Event::Message { frame, .. } | Event::Frame { frame, .. } => frame.to_string(),
            Event::SessionEnded(_) => "ended".to_owned(),
        })
        .collect()
}

pub async fn mutes_are_each_members_own_and_end(store: Arc<dyn Store>) {
    const HOUR: Millis = 3_600_000;
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let cyd = user(&store, "cyd").await;
    let (chat, _media) = chat(store.clone());
    let direct = direct(&store, &ann, &bob).await;
    let ann_device = chat.hub().subscribe(ann.id);

    let muted = chat
        .mute(ann.id, direct, Some(HOUR as u64), NOW)
        .await
        .unwrap();
    let for_an_hour = Mute {
        conversation: direct,
        until: Some(NOW + HOUR),
    };
    assert_eq!(muted, vec![for_an_hour]);
    let told = heard(&ann_device);
    assert_eq!(told.len(), 1, "her devices hear of it: {told:?}");
    assert!(told[0].contains(r#""type":"mutes""#), "{told:?}");
    assert_eq!(
        chat.mutes(bob.id, NOW).await.unwrap(),
        Vec::new(),
        "hers only"
    );
    assert_eq!(
        chat.mutes(ann.id, NOW + HOUR - 1).await.unwrap(),
        vec![for_an_hour]
    );
    assert_eq!(
        chat.mutes(ann.id, NOW + HOUR).await.unwrap(),
        Vec::new(),
        "it ends"
    );

    for length in [0, natter_protocol::MAX_MUTE_MS + 1, u64::MAX] {
        assert!(matches!(
            chat.mute(ann.id, direct, Some(length), NOW).await,
            Err(ChatError::BadMuteLength)
        ));
    }
    assert!(matches!(
        chat.mute(cyd.id, direct, None, NOW).await,
        Err(ChatError::NotAMember)
    ));
    assert!(matches!(
        chat.mute(ann.id, direct + 1000, None, NOW).await,
        Err(ChatError::NotAMember)
    ));

    let for_good = Mute {
        conversation: direct,
        until: None,
    };
    assert_eq!(
        chat.mute(ann.id, direct, None, NOW).await.unwrap(),
        vec![for_good]
    );
    assert_eq!(
        chat.mutes(ann.id, NOW + 1000 * HOUR).await.unwrap(),
        vec![for_good]
    );
    assert_eq!(chat.unmute(ann.id, direct, NOW).await.unwrap(), Vec::new());
    assert_eq!(
        chat.unmute(ann.id, direct, NOW).await.unwrap(),
        Vec::new(),
        "twice is fine"
    );
}

pub async fn push_devices_are_one_per_session_and_end_with_it(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    for (hash, owner) in [([1; 32], ann.id), ([2; 32], ann.id), ([3; 32], bob.id)] {
        store.create_session(hash, owner, NOW + 1000).await.unwrap();
    }
    let device = |session: [u8; 32], user: UserId, endpoint: &str| PushDevice {
        user,
        session,
        endpoint: endpoint.to_owned(),
        p256dh: vec![4; 65],
        auth: vec![7; 16],
        previews: true,
    };
    assert!(store.push_users().await.unwrap().is_empty());
    store
        .put_push_device(&device([1; 32], ann.id, "https://push.example/a"), NOW)
        .await
        .unwrap();
    store
        .put_push_device(&device([2; 32], ann.id, "https://push.example/b"), NOW + 1)
        .await
        .unwrap();
    // A session subscribes again: its new subscription replaces the old.
    let mut quiet = device([1; 32], ann.id, "https://push.example/a2");
    quiet.previews = false;
    store.put_push_device(&quiet, NOW + 2).await.unwrap();
    let anns = store.push_devices(ann.id).await.unwrap();
    assert_eq!(anns.len(), 2);
    assert!(anns.contains(&quiet));
    // The browser's endpoint now signs in as bob: it is his alone.
    store
        .put_push_device(&device([3; 32], bob.id, "https://push.example/b"), NOW + 3)
        .await
        .unwrap();
    assert_eq!(store.push_devices(ann.id).await.unwrap(), vec![quiet]);
    let mut users = store.push_users().await.unwrap();
    users.sort();
    assert_eq!(users, vec![ann.id, bob.id]);

    // Dead endpoints go; so does a device whose session ends.
    store
        .drop_push_endpoint("https://push.example/b")
        .await
        .unwrap();
    assert!(store.push_devices(bob.id).await.unwrap().is_empty());
    store.delete_session([1; 32]).await.unwrap();
    assert!(store.push_devices(ann.id).await.unwrap().is_empty());
    store
        .put_push_device(&device([2; 32], ann.id, "https://push.example/c"), NOW)
        .await
        .unwrap();
    store.delete_push_device([2; 32]).await.unwrap();
    assert!(store.push_devices(ann.id).await.unwrap().is_empty());
    assert!(store.push_users().await.unwrap().is_empty());

    // Only the newest few devices are kept.
    for n in 0..MAX_PUSH_DEVICES as u8 + 2 {
        let session = [100 + n; 32];
        store
            .create_session(session, ann.id, NOW + 1000)
            .await
            .unwrap();
        let endpoint = format!("https://push.example/{n}");
        store
            .put_push_device(&device(session, ann.id, &endpoint), NOW + i64::from(n))
            .await
            .unwrap();
    }
    let kept = store.push_devices(ann.id).await.unwrap();
    assert_eq!(kept.len(), MAX_PUSH_DEVICES as usize);
    assert!(kept
        .iter()
        .all(|d| d.endpoint != "https://push.example/0" && d.endpoint != "https://push.example/1"));
}

pub async fn a_block_keeps_the_blocked_apart(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let cyd = user(&store, "cyd").await;
    let (chat, _media) = chat(store.clone());
    let (direct, _) = chat.open_direct(ann.id, "bob", NOW).await.unwrap();
    let direct = direct.id;
    let hello = sent(&chat, ann.id, draft(direct, "hello")).await.unwrap();
    let group = group_of(&chat, &ann, "Both", &["bob", "cyd"], None).await;
    assert!(matches!(
        chat.block(ann.id, ann.id, NOW).await,
        Err(ChatError::BlockYourself)
    ));
    let blocked = chat.block(ann.id, bob.id, NOW).await.unwrap();
    assert_eq!(blocked, vec![bob.clone()]);
    assert_eq!(chat.blocked_users(ann.id).await.unwrap(), vec![bob.clone()]);
    let ann_device = chat.hub().subscribe(ann.id);
    let bob_device = chat.hub().subscribe(bob.id);

    // Bob's 1:1 messages are acked to him and never reach Ann.
    let withheld = sent(&chat, bob.id, draft(direct, "are you there?"))
        .await
        .unwrap();
    assert_eq!(withheld, hello + 1, "acked like any other");
    let mut react = draft(direct, "");
    react.action = Some(Action::React {
        target: hello,
        emoji: "👍".into(),
    });
    sent(&chat, bob.id, react).await.unwrap();
    chat.typing(bob.id, direct).await.unwrap();
    chat.receipt(bob.id, direct, ReceiptKind::Read, hello)
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(heard(&ann_device), Vec::<String>::new());
    let bodies = |page: Vec<natter_protocol::Message>| {
        page.into_iter()
            .map(|m| (m.body, m.reactions.len()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        bodies(chat.history(ann.id, direct, None, None).await.unwrap()),
        vec![("hello".to_owned(), 0)],
        "nothing of Bob's is read back to Ann, and his reaction is not applied"
    );
    assert_eq!(
        chat.history(bob.id, direct, None, None)
            .await
            .unwrap()
            .len(),
        3,
        "Bob reads what he sent"
    );
    let seen_by_ann = chat.conversation(ann.id, direct).await.unwrap();
    assert_eq!(seen_by_ann.last_seq, hello, "Ann has nothing unread");
    // Ann neither writes to him nor tells him she is typing or reading.
    assert!(matches!(
        sent(&chat, ann.id, draft(direct, "go away")).await,
        Err(ChatError::YouBlocked)
    ));
    chat.typing(ann.id, group).await.unwrap();
    let group_last = chat.conversation(ann.id, group).await.unwrap().last_seq;
    chat.receipt(ann.id, group, ReceiptKind::Read, group_last)
        .await
        .unwrap()
        .await
        .unwrap();
    let bob_heard = heard(&bob_device);
    assert!(
        bob_heard
            .iter()
            .all(|frame| !frame.contains("typing") && !frame.contains("receipt")),
        "{bob_heard:?}"
    );
    // In a shared group his messages still reach her (her app folds them).
    sent(&chat, bob.id, draft(group, "hi all")).await.unwrap();
    assert!(heard(&ann_device).iter().any(|f| f.contains("hi all")));
    // He cannot add her to a group, nor tell her of his new picture.
    assert!(matches!(
        chat.create_group(
            &bob,
            NewGroup {
                name: "Trap".into(),
                members: vec!["ann".into()],
                hashtag: None,
                picture: None,
            },
            NOW,
        )
        .await,
        Err(ChatError::CannotAdd(name)) if name == "ann"
    ));
    chat.update_profile(
        bob.id,
        natter_protocol::ProfileUpdate {
            display_name: Some("Bobby".into()),
            avatar: None,
        },
    )
    .await
    .unwrap();
    assert!(heard(&ann_device).iter().all(|f| !f.contains("Bobby")));
    // A chat he starts with someone who blocks him never shows to them.
    chat.block(cyd.id, bob.id, NOW).await.unwrap();
    let cyd_device = chat.hub().subscribe(cyd.id);
    chat.open_direct(bob.id, "cyd", NOW).await.unwrap();
    assert_eq!(heard(&cyd_device), Vec::<String>::new());
    let listed = chat.conversations(cyd.id).await.unwrap();
    assert!(listed
        .iter()
        .all(|c| c.kind != natter_protocol::ConversationKind::Direct));

    // Unblocked: what he sends now reaches her; what was withheld stays so.
    assert_eq!(chat.unblock(ann.id, bob.id).await.unwrap(), Vec::new());
    sent(&chat, bob.id, draft(direct, "sorry")).await.unwrap();
    assert_eq!(
        bodies(chat.history(ann.id, direct, None, None).await.unwrap()),
        vec![("hello".to_owned(), 0), ("sorry".to_owned(), 0)]
    );
}

pub async fn groups_are_moderated(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let eve = user(&store, "eve").await;
    let (chat, _media) = chat(store.clone());
    let group = group_of(&chat, &ann, "Hikers", &["bob"], Some("hikers")).await;
    let change = |actor: &User, change| {
        let (chat, actor) = (chat.clone(), actor.clone());
        async move { chat.change_group(&actor, group, change, NOW).await }
    };
    // Admins delete anyone's message for everyone; members only their own.
    let bobs = sent(&chat, bob.id, draft(group, "spam")).await.unwrap();
    let anns = sent(&chat, ann.id, draft(group, "rules")).await.unwrap();
    let delete = |target| {
        let mut delete = draft(group, "");
        delete.action = Some(Action::Delete { target });
        delete
    };
    assert!(matches!(
        sent(&chat, bob.id, delete(anns)).await,
        Err(ChatError::NotYours)
    ));
    sent(&chat, ann.id, delete(bobs)).await.unwrap();
    let spam = store.message(group, bobs).await.unwrap().unwrap();
    assert!(spam.deleted && spam.body.is_empty());

    // A member who joins later reads from their join, files included.
    chat.uploaded(
        &MediaRecord {
            id: "EarlyEarlyEarlyEarlyEa".into(),
            uploader: ann.id,
            conversation: group,
            kind: MediaKind::Image,
            content_type: "image/jpeg".into(),
            size: 10,
            message_seq: None,
        },
        NOW,
    )
    .await
    .unwrap();
    let mut photo = draft(group, "");
    photo.attachment = Some(Attachment {
        id: "EarlyEarlyEarlyEarlyEa".into(),
        kind: MediaKind::Image,
        content_type: "image/jpeg".into(),
        size: 10,
        width: None,
        height: None,
        duration_ms: None,
        thumbnail: None,
        waveform: Vec::new(),
    });
    sent(&chat, ann.id, photo).await.unwrap();
    let joined = change(&eve, GroupChange::Join).await.unwrap();
    let history = chat.history(eve.id, group, None, None).await.unwrap();
    assert_eq!(history.len(), 1, "only the event of the join: {history:?}");
    assert_eq!(history[0].seq, joined.last_seq);
    assert!(matches!(
        chat.media_for(eve.id, "EarlyEarlyEarlyEarlyEa").await,
        Err(ChatError::NoSuchFile)
    ));
    chat.media_for(bob.id, "EarlyEarlyEarlyEarlyEa")
        .await
        .unwrap();
    sent(&chat, ann.id, draft(group, "welcome")).await.unwrap();
    assert_eq!(
        chat.history(eve.id, group, None, None).await.unwrap().len(),
        2
    );

    // Removed from a public group is banned until an admin lifts it.
    change(&ann, GroupChange::Remove(eve.id)).await.unwrap();
    assert!(matches!(
        change(&eve, GroupChange::Join).await,
        Err(ChatError::Banned)
    ));
    assert_eq!(chat.bans(&ann, group).await.unwrap(), vec![eve.clone()]);
    assert!(matches!(
        chat.bans(&bob, group).await,
        Err(ChatError::NotAdmin)
    ));
    change(&ann, GroupChange::Unban(eve.id)).await.unwrap();
    change(&eve, GroupChange::Join).await.unwrap();

    // The last to leave closes it: nobody takes it over with its history.
    for member in [&bob, &eve, &ann] {
        change(member, GroupChange::Remove(member.id))
            .await
            .unwrap();
    }
    assert!(chat.search_groups("hikers").await.unwrap().is_empty());
    assert!(matches!(
        change(&bob, GroupChange::Join).await,
        Err(ChatError::NotAMember)
    ));
    assert!(store.message(group, anns).await.unwrap().is_none());
    assert!(store
        .media("EarlyEarlyEarlyEarlyEa")
        .await
        .unwrap()
        .is_none());
    chat.create_group(
        &bob,
        NewGroup {
            name: "New hikers".into(),
            members: vec![],
            hashtag: Some("hikers".into()),
            picture: None,
        },
        NOW,
    )
    .await
    .unwrap();
}

pub async fn reports_keep_what_the_reporter_saw(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let eve = user(&store, "eve").await;
    let (chat, _media) = chat(store.clone());
    let group = group_of(&chat, &bob, "Noisy", &["ann"], Some("noisy")).await;
    for n in 0..30 {
        sent(&chat, bob.id, draft(group, &format!("spam {n}")))
            .await
            .unwrap();
    }
    chat.change_group(&eve, group, GroupChange::Join, NOW)
        .await
        .unwrap();
    let last = sent(&chat, bob.id, draft(group, "hello eve"))
        .await
        .unwrap();
    let report = |reporter: UserId, seq: Option<Seq>| {
        let chat = chat.clone();
        async move {
            chat.report(
                reporter,
                natter_protocol::NewReport {
                    user: bob.id,
                    conversation: Some(group),
                    seq,
                    reason: natter_protocol::ReportReason::Spam,
                    note: "  ".into(),
                },
                NOW,
            )
            .await
        }
    };
    report(ann.id, Some(last - 5)).await.unwrap();
    report(eve.id, None).await.unwrap();
    assert!(matches!(
        report(bob.id, None).await,
        Err(ChatError::ReportYourself)
    ));
    let reports = chat.reports(false).await.unwrap();
    assert_eq!(reports.len(), 2);
    // Ann's: the 20 messages up to the one she reported.
    let seqs: Vec<Seq> = reports[0].context.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, ((last - 24)..=(last - 5)).collect::<Vec<_>>());
    assert_eq!(reports[0].note, None);
    assert_eq!(reports[0].reporter.id, ann.id);
    // Eve's: only what she could see, from her join.
    let bodies: Vec<&str> = reports[1]
        .context
        .iter()
        .filter(|m| m.event.is_none())
        .map(|m| m.body.as_str())
        .collect();
    assert_eq!(bodies, vec!["hello eve"]);

    chat.resolve_report(reports[0].id, "warned", NOW)
        .await
        .unwrap();
    assert!(matches!(
        chat.resolve_report(reports[0].id, "again", NOW).await,
        Err(ChatError::NoSuchReport)
    ));
    assert_eq!(chat.reports(false).await.unwrap().len(), 1);
    let all = chat.reports(true).await.unwrap();
    assert_eq!(all[0].resolved, Some((NOW, "warned".to_owned())));

    // Suspended: not found, sessions gone; restored: found again.
    store
        .create_session([7; 32], bob.id, NOW * 2)
        .await
        .unwrap();
    chat.suspend("bob", NOW).await.unwrap();
    assert!(matches!(
        chat.find_user("bob").await,
        Err(ChatError::NoSuchUsername(_))
    ));
    assert_eq!(store.session_user([7; 32], NOW).await.unwrap(), None);
    chat.unsuspend("bob").await.unwrap();
    assert_eq!(chat.find_user("bob").await.unwrap().id, bob.id);
}

pub async fn strangers_make_requests_until_accepted(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let (chat, _media) = chat(store.clone());
    let pending = |c: &natter_protocol::Conversation, id: UserId| {
        c.members
            .iter()
            .find(|m| m.user.id == id)
            .map(|m| m.pending)
    };
    let (started, created) = chat.open_direct(bob.id, "ann", NOW).await.unwrap();
    assert!(created);
    assert_eq!(pending(&started, ann.id), Some(true));
    assert_eq!(pending(&started, bob.id), Some(false));
    sent(&chat, bob.id, draft(started.id, "hi")).await.unwrap();
    chat.receipt(ann.id, started.id, ReceiptKind::Read, 1)
        .await
        .unwrap()
        .await
        .unwrap();
    // Bob cannot tell that Ann read it; Ann's own record says she did.
    let bobs = chat.conversation(bob.id, started.id).await.unwrap();
    let anns_cursor = |c: &natter_protocol::Conversation| {
        c.members
            .iter()
            .find(|m| m.user.id == ann.id)
            .map(|m| (m.delivered, m.read))
    };
    assert_eq!(anns_cursor(&bobs), Some((0, 0)));
    let anns = chat.conversation(ann.id, started.id).await.unwrap();
    assert_eq!(anns_cursor(&anns), Some((1, 1)));
    // Answering accepts it; after that Bob is a contact of Ann's.
    sent(&chat, ann.id, draft(started.id, "hello"))
        .await
        .unwrap();
    let bobs = chat.conversation(bob.id, started.id).await.unwrap();
    assert_eq!(pending(&bobs, ann.id), Some(false));
    assert_eq!(anns_cursor(&bobs).map(|c| c.1), Some(2));
    assert!(store.knows(ann.id, bob.id).await.unwrap());

    // A deleted request comes back, afresh, if the stranger writes again.
    let cyd = user(&store, "cyd").await;
    let (theirs, _) = chat.open_direct(cyd.id, "ann", NOW).await.unwrap();
    sent(&chat, cyd.id, draft(theirs.id, "spam")).await.unwrap();
    chat.delete_chat(&ann, theirs.id, NOW).await.unwrap();
    assert!(chat
        .conversations(ann.id)
        .await
        .unwrap()
        .iter()
        .all(|c| c.id != theirs.id));
    // Writing again brings it back to her, as a new request that starts
    // after what was said before.
    sent(&chat, cyd.id, draft(theirs.id, "more spam"))
        .await
        .unwrap();
    let back = chat.conversation(ann.id, theirs.id).await.unwrap();
    assert_eq!(pending(&back, ann.id), Some(true));
    let seen: Vec<String> = chat
        .history(ann.id, theirs.id, None, None)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(seen, vec!["more spam".to_owned()]);
}

pub async fn an_ended_account_leaves_tombstones(store: Arc<dyn Store>) {
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let conversation = direct(&store, &ann, &bob).await;
    let (chat, _media) = chat(store.clone());
    chat.uploaded(
        &MediaRecord {
            id: "GoneGoneGoneGoneGoneGo".into(),
            uploader: bob.id,
            conversation,
            kind: MediaKind::Image,
            content_type: "image/jpeg".into(),
            size: 10,
            message_seq: None,
        },
        NOW,
    )
    .await
    .unwrap();
    let said = sent(&chat, bob.id, draft(conversation, "remember me"))
        .await
        .unwrap();
    let mut edit = draft(conversation, "");
    edit.action = Some(Action::Edit {
        target: said,
        body: "secret edit".into(),
    });
    sent(&chat, bob.id, edit).await.unwrap();
    store
        .create_session([9; 32], bob.id, NOW * 2)
        .await
        .unwrap();

    let files = store.delete_account(bob.id, NOW).await.unwrap();
    assert_eq!(files, vec!["GoneGoneGoneGoneGoneGo".to_owned()]);
    assert!(matches!(
        store.delete_account(bob.id, NOW).await,
        Err(StoreError::NotFound)
    ));
    let history = store
        .messages_after(conversation, 0, 10, ALL)
        .await
        .unwrap();
    assert!(history.iter().all(|m| !m.body.contains("remember")));
    assert!(history
        .iter()
        .all(|m| !serde_json::to_string(m).unwrap().contains("secret edit")));
    assert!(history[0].deleted);
    let gone = store.user(bob.id).await.unwrap().unwrap();
    assert!(gone.deleted && gone.display_name.is_none());
    assert_eq!(store.session_user([9; 32], NOW).await.unwrap(), None);
    assert!(store.credentials("bob").await.unwrap().is_none());
    // Nobody writes to it any more (a server that reads the membership
    // afresh, as after the deletion's own cache drop).
    let (fresh, _fresh_media) = self::chat(store.clone());
    assert!(matches!(
        sent(&fresh, ann.id, draft(conversation, "are you there?")).await,
        Err(ChatError::AccountEnded)
    ));
    // The name stays taken until freed.
    assert!(matches!(
        store.create_user("Bob", "x").await,
        Err(StoreError::UsernameTaken)
    ));
    assert_eq!(store.free_usernames(NOW - 1).await.unwrap(), 0);
    assert_eq!(store.free_usernames(NOW + 1).await.unwrap(), 1);
    store.create_user("bob", "x").await.unwrap();
}
