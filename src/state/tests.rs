use natter_protocol::{
    Action, Attachment, ClientFrame, ConversationKind, Cursor, ErrorCode, Member, Millis, Mute,
    Role,
};
use uuid::Uuid;

use super::*;
use crate::cache::Snapshot;

const ME: UserId = 1;
const BOB: UserId = 2;

fn user(id: UserId, name: &str) -> User {
    User {
        id,
        username: name.to_owned(),
        avatar: None,
        deleted: false,
        display_name: None,
    }
}

fn conversation(id: ConversationId) -> Conversation {
    Conversation {
        id,
        kind: ConversationKind::Direct,
        members: vec![
            Member {
                user: user(ME, "me"),
                delivered: 0,
                read: 0,
                role: Role::Member,
                pending: false,
            },
            Member {
                user: user(BOB, "bob"),
                delivered: 0,
                read: 0,
                role: Role::Member,
                pending: false,
            },
        ],
        last_message: None,
        last_seq: 0,
        created_at: 100,
        group: None,
    }
}

fn message(conversation: ConversationId, seq: Seq, sender: UserId) -> Message {
    Message {
        conversation,
        seq,
        client_id: Uuid::from_u128(u128::from(seq) << 8 | sender as u128),
        sender,
        body: format!("m{seq}"),
        sent_at: 1000 + seq as Millis,
        ..Message::default()
    }
}

fn state() -> ChatState {
    let mut state = ChatState::new(user(ME, "me"));
    state.apply(&ServerFrame::Conversation {
        conversation: conversation(7),
    });
    state
}

fn outgoing(client_id: Uuid, body: &str) -> Outgoing {
    Outgoing {
        client_id,
        conversation: 7,
        body: body.to_owned(),
        created_at: 5,
        failure: None,
        media: None,
        action: None,
        reply_to: None,
        link_preview: None,
    }
}

#[test]
fn an_ack_turns_an_outgoing_message_into_a_sent_one() {
    let mut state = state();
    let id = Uuid::from_u128(99);
    state.queue(outgoing(id, "hi"));
    assert_eq!(state.sendable().count(), 1);
    state.apply(&ServerFrame::Ack {
        client_id: id,
        conversation: 7,
        seq: 1,
        sent_at: 42,
    });
    assert!(state.outbox.is_empty());
    let conv = &state.conversations[&7];
    assert_eq!(conv.messages[&1].body, "hi");
    assert_eq!(conv.receipt(ME, 1), Receipt::Sent);
    assert_eq!(conv.unread(ME), 0);
}

#[test]
fn the_echo_of_an_own_message_from_another_tab_clears_the_outbox() {
    let mut state = state();
    let echoed = message(7, 1, ME);
    state.queue(outgoing(echoed.client_id, "m1"));
    state.apply(&ServerFrame::Message { message: echoed });
    assert!(state.outbox.is_empty());
    assert_eq!(state.conversations[&7].messages.len(), 1);
}

#[test]
fn receipts_move_s_to_d_to_r_and_never_back() {
    let mut state = state();
    state.apply(&ServerFrame::Message {
        message: message(7, 1, ME),
    });
    let receipt = |state: &ChatState| state.conversations[&7].receipt(ME, 1);
    assert_eq!(receipt(&state), Receipt::Sent);
    let frame = |kind, seq| ServerFrame::Receipt {
        conversation: 7,
        user: BOB,
        kind,
        seq,
    };
    state.apply(&frame(ReceiptKind::Delivered, 1));
    assert_eq!(receipt(&state), Receipt::Delivered);
    state.apply(&frame(ReceiptKind::Read, 1));
    assert_eq!(receipt(&state), Receipt::Read);
    // A stale snapshot of the conversation does not undo the receipt.
    state.apply(&ServerFrame::Conversation {
        conversation: conversation(7),
    });
    assert_eq!(receipt(&state), Receipt::Read);
}

#[test]
fn whoever_writes_has_read_what_came_before() {
    let mut state = state();
    for seq in 1..=2 {
        state.apply(&ServerFrame::Message {
            message: message(7, seq, ME),
        });
    }
    // Bob's reply was committed before his receipt, which then moved
    // nothing and never came: his reply says it all.
    state.apply(&ServerFrame::Message {
        message: message(7, 3, BOB),
    });
    for seq in 1..=2 {
        assert_eq!(state.conversations[&7].receipt(ME, seq), Receipt::Read);
    }
    assert_eq!(state.conversations[&7].unread(ME), 1, "his reply is unread");
}

#[test]
fn unread_counts_messages_from_others_after_the_read_cursor() {
    let mut state = state();
    for seq in 1..=3 {
        state.apply(&ServerFrame::Message {
            message: message(7, seq, BOB),
        });
    }
    assert_eq!(state.conversations[&7].unread(ME), 3);
    assert_eq!(state.unread_up_to(7), Some(3));
    assert_eq!(state.undelivered(7), Some(3));
    state.apply(&ServerFrame::Receipt {
        conversation: 7,
        user: ME,
        kind: ReceiptKind::Read,
        seq: 3,
    });
    assert_eq!(state.conversations[&7].unread(ME), 0);
    assert_eq!(state.unread_up_to(7), None);
    assert_eq!(state.undelivered(7), None);
}

#[test]
fn a_permanent_refusal_marks_the_message_and_a_transient_one_does_not() {
    let mut state = state();
    let refused = Uuid::from_u128(1);
    let throttled = Uuid::from_u128(2);
    state.queue(outgoing(refused, "x"));
    state.queue(outgoing(throttled, "y"));
    state.apply(&ServerFrame::Error {
        code: ErrorCode::InvalidMessage,
        message: "too long".into(),
        client_id: Some(refused),
    });
    state.apply(&ServerFrame::Error {
        code: ErrorCode::Internal,
        message: "try again".into(),
        client_id: Some(throttled),
    });
    assert_eq!(state.outbox[0].failure.as_deref(), Some("too long"));
    assert_eq!(state.outbox[1].failure, None);
    assert_eq!(
        state.sendable().map(|o| o.client_id).collect::<Vec<_>>(),
        vec![throttled]
    );
    state.retry(refused);
    assert_eq!(state.sendable().count(), 2);
    state.discard(refused);
    assert_eq!(state.outbox.len(), 1);
}

#[test]
fn repeated_frames_change_nothing() {
    let mut once = state();
    let frames = [
        ServerFrame::Message {
            message: message(7, 1, BOB),
        },
        ServerFrame::Message {
            message: message(7, 2, ME),
        },
        ServerFrame::Receipt {
            conversation: 7,
            user: BOB,
            kind: ReceiptKind::Delivered,
            seq: 2,
        },
    ];
    for frame in &frames {
        once.apply(frame);
    }
    let mut twice = once.clone();
    for frame in &frames {
        twice.apply(frame);
    }
    assert_eq!(once, twice);
}

#[test]
fn cursors_and_ordering() {
    let mut state = state();
    let mut other = conversation(8);
    other.created_at = 50;
    other.last_seq = 4;
    state.apply(&ServerFrame::Conversation {
        conversation: other,
    });
    state.apply(&ServerFrame::Message {
        message: message(7, 1, BOB),
    });
    assert_eq!(
        state.cursors(),
        vec![
            Cursor {
                conversation: 7,
                seq: 1
            },
            Cursor {
                conversation: 8,
                seq: 4
            }
        ]
    );
    let order: Vec<_> = state.sorted().iter().map(|c| c.info.id).collect();
    assert_eq!(order, vec![7, 8]);
}

#[test]
fn history_pages_fill_in_older_messages() {
    let mut state = state();
    state.apply(&ServerFrame::Message {
        message: message(7, 3, BOB),
    });
    state.add_history(7, vec![message(7, 2, BOB)], false, false);
    assert!(!state.conversations[&7].history_complete);
    state.add_history(7, vec![message(7, 1, ME)], false, true);
    let conv = &state.conversations[&7];
    assert!(conv.history_complete);
    assert_eq!(
        conv.messages.keys().copied().collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(conv.info.last_seq, 3);
}

#[test]
fn delivery_receipts_wait_for_the_replay_and_go_once_per_connection() {
    let mut state = state();
    state.apply(&ServerFrame::Welcome {
        version: 1,
        user: user(ME, "me"),
    });
    for seq in 1..=3 {
        state.apply(&ServerFrame::Message {
            message: message(7, seq, BOB),
        });
    }
    assert!(state.take_delivery_receipts().is_empty(), "still replaying");
    state.apply(&ServerFrame::Synced);
    let receipt = ClientFrame::Receipt {
        conversation: 7,
        kind: ReceiptKind::Delivered,
        seq: 3,
    };
    assert_eq!(state.take_delivery_receipts(), vec![receipt.clone()]);
    assert!(state.take_delivery_receipts().is_empty(), "sent once");
    // A new connection may have lost it: send it again.
    state.apply(&ServerFrame::Welcome {
        version: 1,
        user: user(ME, "me"),
    });
    state.apply(&ServerFrame::Synced);
    assert_eq!(state.take_delivery_receipts(), vec![receipt]);
}

#[test]
fn read_receipts_go_once_until_there_is_more_to_read() {
    let mut state = state();
    state.apply(&ServerFrame::Message {
        message: message(7, 1, BOB),
    });
    assert!(state.wants_read_receipt(7));
    assert!(state.take_read_receipt(7).is_some());
    assert!(!state.wants_read_receipt(7));
    state.apply(&ServerFrame::Message {
        message: message(7, 2, BOB),
    });
    assert_eq!(
        state.take_read_receipt(7),
        Some(ClientFrame::Receipt {
            conversation: 7,
            kind: ReceiptKind::Read,
            seq: 2
        })
    );
}

#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// A consistent server log: conversations 7 and 8, each with messages
    /// 1..=n from either party, some of mine queued locally first, and
    /// receipts from both parties.
    fn log() -> impl Strategy<Value = (Vec<Outgoing>, Vec<ServerFrame>)> {
        let conversation = (1u64..12, prop::collection::vec(any::<bool>(), 12));
        let receipts = prop::collection::vec(
            (
                prop::sample::select(vec![7, 8]),
                prop::sample::select(vec![ME, BOB]),
                any::<bool>(),
                1u64..12,
            ),
            0..12,
        );
        (conversation.clone(), conversation, receipts).prop_map(|(a, b, receipts)| {
            let mut outbox = Vec::new();
            let mut frames = Vec::new();
            for (id, (count, mine)) in [(7, a), (8, b)] {
                for seq in 1..=count {
                    let sender = if mine[seq as usize] { ME } else { BOB };
                    let message = message(id, seq, sender);
                    if sender == ME && seq % 2 == 0 {
                        // Typed here: queued, then acked (and echoed).
                        outbox.push(Outgoing {
                            client_id: message.client_id,
                            conversation: id,
                            body: message.body.clone(),
                            created_at: 1,
                            failure: None,
                            media: None,
                            action: None,
                            reply_to: None,
                            link_preview: None,
                        });
                        frames.push(ServerFrame::Ack {
                            client_id: message.client_id,
                            conversation: id,
                            seq,
                            sent_at: message.sent_at,
                        });
                    }
                    frames.push(ServerFrame::Message { message });
                }
            }
            for (conversation, user, read, seq) in receipts {
                frames.push(ServerFrame::Receipt {
                    conversation,
                    user,
                    kind: if read {
                        ReceiptKind::Read
                    } else {
                        ReceiptKind::Delivered
                    },
                    seq,
                });
            }
            (outbox, frames)
        })
    }

    fn fold(outbox: &[Outgoing], frames: &[ServerFrame]) -> ChatState {
        let mut state = ChatState::new(user(ME, "me"));
        for id in [7, 8] {
            state.apply(&ServerFrame::Conversation {
                conversation: conversation(id),
            });
        }
        for outgoing in outbox {
            state.queue(outgoing.clone());
        }
        for frame in frames {
            state.apply(frame);
        }
        state
    }

    proptest! {
        #[test]
        fn reordered_and_repeated_events_give_the_ordered_state(
            (outbox, frames) in log(),
            seed in any::<u64>(),
            repeats in prop::collection::vec(any::<prop::sample::Index>(), 0..20),
        ) {
            let ordered = fold(&outbox, &frames);
            let mut messy = frames.clone();
            for index in &repeats {
                if !frames.is_empty() {
                    messy.push(index.get(&frames).clone());
                }
            }
            // A deterministic shuffle driven by the generated seed.
            let mut rng = seed;
            for i in (1..messy.len()).rev() {
                rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                messy.swap(i, (rng >> 33) as usize % (i + 1));
            }
            let (mut messy, mut ordered) = (fold(&outbox, &messy), ordered);
            // The cache may get the same changes in another order.
            messy.take_changes();
            ordered.take_changes();
            prop_assert_eq!(messy, ordered);
        }
    }
}

#[test]
fn changes_for_the_cache_follow_what_happened() {
    let mut state = state();
    let first = state.take_changes();
    assert_eq!(first.conversations.len(), 1, "the new conversation");
    let id = Uuid::from_u128(5);
    state.queue(outgoing(id, "hi"));
    state.set_open(Some(7));
    let batch = state.take_changes();
    assert_eq!(batch.outbox_put.len(), 1);
    assert_eq!(batch.open, Some(Some(7)));
    assert!(state.take_changes().is_empty(), "handed over once");

    state.apply(&ServerFrame::Ack {
        client_id: id,
        conversation: 7,
        seq: 1,
        sent_at: 9,
    });
    let batch = state.take_changes();
    assert_eq!(batch.outbox_remove.len(), 1);
    assert_eq!(batch.messages.len(), 1);
    assert_eq!(batch.conversations[0].last_seq, 1);
    // A repeated frame changes nothing, so there is nothing to save.
    state.apply(&ServerFrame::Message {
        message: state.conversations[&7].messages[&1].clone(),
    });
    assert!(state.take_changes().messages.is_empty());
}

#[test]
fn a_snapshot_restores_the_state_without_changes_to_save() {
    let mut before = state();
    before.queue(outgoing(Uuid::from_u128(3), "offline"));
    for seq in 1..=2 {
        before.apply(&ServerFrame::Message {
            message: message(7, seq, BOB),
        });
    }
    let snapshot = Snapshot {
        me: Some(before.me.clone()),
        conversations: vec![before.conversations[&7].info.clone()],
        messages: before.conversations[&7]
            .messages
            .values()
            .cloned()
            .collect(),
        outbox: before.outbox.clone(),
        open: Some(7),
        blocked: Vec::new(),
    };
    let mut after = ChatState::from_snapshot(before.me.clone(), snapshot);
    assert_eq!(after.conversations[&7].messages.len(), 2);
    assert!(after.conversations[&7].history_complete);
    assert_eq!(after.outbox, before.outbox);
    assert_eq!(after.open, Some(7));
    assert!(after.take_changes().is_empty());
}

#[test]
fn queued_messages_keep_typing_order_within_a_millisecond() {
    let mut state = state();
    state.queue(outgoing(Uuid::from_u128(1), "a"));
    state.queue(outgoing(Uuid::from_u128(2), "b"));
    assert!(state.outbox[0].created_at < state.outbox[1].created_at);
}

#[test]
fn saved_history_is_used_only_up_to_a_hole() {
    let page = vec![message(7, 2, BOB), message(7, 4, BOB), message(7, 5, BOB)];
    let tail: Vec<_> = contiguous_tail(page.clone(), 6)
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(tail, vec![4, 5]);
    assert!(contiguous_tail(page, 9).is_empty());
}

#[test]
fn another_tabs_outbox_shows_here_once_and_in_order() {
    let mut here = state();
    let mut there = state();
    there.queue(outgoing(Uuid::from_u128(1), "from the other tab"));
    let news = OutboxNews::of(&there.take_changes()).unwrap();
    here.queue(outgoing(Uuid::from_u128(2), "typed here"));
    here.merge_outbox(news.clone());
    here.merge_outbox(news);
    assert_eq!(here.outbox.len(), 2);
    assert!(here.outbox[0].created_at <= here.outbox[1].created_at);
    assert!(
        here.take_changes().outbox_put.len() == 1,
        "only its own entry is saved here"
    );

    // Acked already (the echo came first): not shown as waiting again.
    let mut acked = state();
    let message = message(7, 1, ME);
    acked.apply(&ServerFrame::Message {
        message: message.clone(),
    });
    acked.merge_outbox(OutboxNews {
        put: vec![Outgoing {
            client_id: message.client_id,
            conversation: 7,
            body: message.body,
            created_at: 1,
            failure: None,
            media: None,
            action: None,
            reply_to: None,
            link_preview: None,
        }],
        ..OutboxNews::default()
    });
    assert!(acked.outbox.is_empty());

    // A discard in one tab removes the entry in the others.
    here.merge_outbox(OutboxNews {
        removed: vec![Uuid::from_u128(1)],
        ..OutboxNews::default()
    });
    assert_eq!(here.outbox.len(), 1);
}

#[test]
fn a_removal_always_travels_with_what_the_message_became() {
    // Tab B reconnects after tab A sent B's queued message: the
    // conversation frame brings it as the newest message, then the replay
    // brings it again. B's news to A must say what it became, or A (whose
    // socket got only the ack, or nothing yet) would drop the bubble.
    let mut b = state();
    let id = Uuid::from_u128(8);
    b.queue(outgoing(id, "typed in b"));
    b.take_changes();
    let stored = Message {
        body: "typed in b".to_owned(),
        client_id: id,
        ..message(7, 1, ME)
    };
    let mut info = conversation(7);
    info.last_seq = 1;
    info.last_message = Some(stored.clone());
    b.apply(&ServerFrame::Conversation { conversation: info });
    // The replay may come in the next batch of frames.
    assert!(OutboxNews::of(&b.take_changes()).is_none());
    b.apply(&ServerFrame::Message { message: stored });
    let news = OutboxNews::of(&b.take_changes()).unwrap();
    assert_eq!(news.removed, vec![id]);
    assert_eq!(news.acked.len(), 1, "{news:?}");

    let mut a = state();
    a.merge_outbox(OutboxNews {
        put: vec![outgoing(id, "typed in b")],
        ..OutboxNews::default()
    });
    a.merge_outbox(news);
    assert!(a.outbox.is_empty());
    assert_eq!(a.conversations[&7].messages[&1].body, "typed in b");
}

#[test]
fn what_another_tab_got_acked_turns_sent_here_without_vanishing() {
    let mut here = state();
    let mut there = state();
    let id = Uuid::from_u128(5);
    here.queue(outgoing(id, "typed offline"));
    there.merge_outbox(OutboxNews::of(&here.take_changes()).unwrap());
    there.apply(&ServerFrame::Ack {
        client_id: id,
        conversation: 7,
        seq: 1,
        sent_at: 42,
    });
    let news = OutboxNews::of(&there.take_changes()).unwrap();
    assert_eq!(news.removed, vec![id]);
    assert_eq!(news.acked.len(), 1);
    let text = serde_json::to_string(&TabNews::Outbox(news.clone())).unwrap();
    assert_eq!(
        serde_json::from_str::<TabNews>(&text).unwrap(),
        TabNews::Outbox(news.clone())
    );

    here.merge_outbox(news);
    assert!(here.outbox.is_empty());
    let conversation = &here.conversations[&7];
    assert_eq!(conversation.messages[&1].body, "typed offline");
    assert_eq!(conversation.messages[&1].sent_at, 42);
    assert_eq!(conversation.receipt(ME, 1), Receipt::Sent);
    // The stored copy arriving later over this tab's own socket is a no-op.
    let before = here.clone();
    here.apply(&ServerFrame::Message {
        message: Message {
            body: "typed offline".to_owned(),
            sent_at: 42,
            client_id: id,
            ..message(7, 1, ME)
        },
    });
    assert_eq!(here.conversations, before.conversations);
}

#[test]
fn changes_made_before_the_saved_state_loaded_are_kept() {
    let mut early = ChatState::new(user(ME, "me"));
    early.upsert(conversation(8));
    early.set_open(Some(8));
    early.queue(outgoing(Uuid::from_u128(4), "typed at once"));
    let mut restored = ChatState::from_snapshot(
        user(ME, "me"),
        Snapshot {
            conversations: vec![conversation(7)],
            ..Snapshot::default()
        },
    );
    restored.absorb(early.take_changes());
    assert!(restored.conversations.contains_key(&7));
    assert!(restored.conversations.contains_key(&8));
    assert_eq!(restored.open, Some(8));
    assert_eq!(restored.outbox.len(), 1);
    let batch = restored.take_changes();
    assert_eq!(batch.outbox_put.len(), 1, "to be saved");
    assert_eq!(batch.open, Some(Some(8)));
}

fn photo(id: &str) -> Attachment {
    Attachment {
        id: id.to_owned(),
        kind: natter_protocol::MediaKind::Image,
        content_type: "image/jpeg".to_owned(),
        size: 1234,
        width: Some(640),
        height: Some(480),
        duration_ms: None,
        waveform: Vec::new(),
        thumbnail: Some("data:image/jpeg;base64,AA==".to_owned()),
    }
}

#[test]
fn a_media_message_waits_for_its_upload_without_holding_back_text() {
    let mut state = state();
    let picture = Uuid::from_u128(1);
    let text = Uuid::from_u128(2);
    state.queue(Outgoing {
        media: Some(OutgoingMedia::Local(photo(""))),
        ..outgoing(picture, "")
    });
    state.queue(outgoing(text, "typed after"));
    let sendable: Vec<_> = state.sendable().map(|o| o.client_id).collect();
    assert_eq!(sendable, vec![text]);
    assert_eq!(state.next_upload().map(|o| o.client_id), Some(picture));

    state.take_changes();
    state.uploaded(
        picture,
        natter_protocol::Upload {
            id: "f1".to_owned(),
            kind: natter_protocol::MediaKind::Image,
            content_type: "image/jpeg".to_owned(),
            size: 1200,
        },
    );
    let saved = state.take_changes();
    assert_eq!(saved.outbox_put.len(), 1, "the upload is saved at once");
    assert_eq!(state.next_upload(), None);
    let sendable: Vec<_> = state.sendable().map(|o| o.client_id).collect();
    assert_eq!(sendable, vec![picture, text]);

    state.apply(&ServerFrame::Ack {
        client_id: picture,
        conversation: 7,
        seq: 1,
        sent_at: 10,
    });
    let sent = &state.conversations[&7].messages[&1];
    // As the server stored it: its metadata stripped, so smaller.
    assert_eq!(
        sent.attachment,
        Some(Attachment {
            size: 1200,
            ..photo("f1")
        })
    );
}

#[test]
fn a_refused_upload_stops_until_retried() {
    let mut state = state();
    let picture = Uuid::from_u128(1);
    state.queue(Outgoing {
        media: Some(OutgoingMedia::Local(photo(""))),
        ..outgoing(picture, "")
    });
    state.upload_refused(picture, "too large".to_owned());
    assert_eq!(state.next_upload(), None);
    assert_eq!(state.sendable().count(), 0);
    state.retry(picture);
    assert_eq!(state.next_upload().map(|o| o.client_id), Some(picture));
}

#[test]
fn outgoing_media_survives_the_cache_as_json() {
    let waiting = Outgoing {
        media: Some(OutgoingMedia::Local(photo(""))),
        ..outgoing(Uuid::from_u128(3), "")
    };
    let json = serde_json::to_string(&waiting).unwrap();
    assert!(json.contains(r#""stage":"local""#), "{json}");
    assert_eq!(serde_json::from_str::<Outgoing>(&json).unwrap(), waiting);
    // Entries saved before media existed still load.
    let old = r#"{"client_id":"00000000-0000-0000-0000-000000000003","conversation":7,
        "body":"hi","created_at":5,"failure":null,"attachment":null}"#;
    assert_eq!(serde_json::from_str::<Outgoing>(old).unwrap().media, None);
}

fn group_of(members: &[(UserId, &str, Role)]) -> Conversation {
    Conversation {
        id: 9,
        kind: ConversationKind::Group,
        members: members
            .iter()
            .map(|(id, name, role)| Member {
                user: user(*id, name),
                delivered: 0,
                read: 0,
                role: *role,
                pending: false,
            })
            .collect(),
        last_message: None,
        last_seq: 0,
        created_at: 100,
        group: Some(natter_protocol::GroupInfo {
            name: "Hikers".to_owned(),
            picture: None,
            hashtag: None,
        }),
    }
}

#[test]
fn a_group_is_titled_by_its_name_and_follows_the_server_on_membership() {
    let mut state = state();
    state.upsert(group_of(&[
        (ME, "me", Role::Admin),
        (BOB, "bob", Role::Member),
        (3, "cy", Role::Member),
    ]));
    let group = &state.conversations[&9];
    assert_eq!(group.title(ME), "Hikers");
    assert!(group.is_group() && group.peer(ME).is_none());
    assert_eq!(group.role_of(ME), Some(Role::Admin));

    // A receipt moves bob on; a later snapshot without cy keeps bob's cursor.
    state.apply(&ServerFrame::Receipt {
        conversation: 9,
        user: BOB,
        kind: ReceiptKind::Read,
        seq: 4,
    });
    state.upsert(group_of(&[
        (ME, "me", Role::Admin),
        (BOB, "bob", Role::Admin),
    ]));
    let group = &state.conversations[&9];
    assert!(!group.includes(3));
    assert_eq!(group.role_of(BOB), Some(Role::Admin));
    let bob = group
        .info
        .members
        .iter()
        .find(|m| m.user.id == BOB)
        .unwrap();
    assert_eq!((bob.delivered, bob.read), (4, 4));
}

#[test]
fn someone_who_left_keeps_the_name_their_events_give() {
    let mut state = state();
    state.upsert(group_of(&[
        (ME, "me", Role::Admin),
        (3, "cy", Role::Member),
    ]));
    state.apply(&ServerFrame::Message {
        message: message(9, 1, 3),
    });
    let mut left = message(9, 2, 3);
    left.event = Some(natter_protocol::GroupEvent {
        by: User {
            display_name: Some("Cy Young".to_owned()),
            ..user(3, "cy")
        },
        kind: natter_protocol::GroupEventKind::Left,
    });
    state.apply(&ServerFrame::Message { message: left });
    state.upsert(group_of(&[(ME, "me", Role::Admin)]));
    let group = &state.conversations[&9];
    assert!(!group.includes(3));
    assert_eq!(group.name_of(3), Some("Cy Young"));
    assert_eq!(group.name_of(4), None);
}

#[test]
fn readers_split_the_other_members_by_how_far_they_got() {
    let mut state = state();
    let mut info = group_of(&[
        (ME, "me", Role::Admin),
        (BOB, "bob", Role::Member),
        (3, "cy", Role::Member),
        (4, "di", Role::Member),
    ]);
    info.members[1].read = 5;
    info.members[1].delivered = 5;
    info.members[2].delivered = 5;
    state.upsert(info);
    let readers = state.conversations[&9].readers(ME, 5);
    let names = |users: &[User]| users.iter().map(|u| u.username.clone()).collect::<Vec<_>>();
    assert_eq!(names(&readers.read), ["bob"]);
    assert_eq!(names(&readers.delivered), ["cy"]);
    assert_eq!(names(&readers.waiting), ["di"]);
    assert_eq!(readers.others(), 3);
}

#[test]
fn a_removed_member_has_nothing_unread_and_sends_no_receipts() {
    let mut state = state();
    let mut info = group_of(&[(BOB, "bob", Role::Admin)]);
    info.last_seq = 7;
    state.upsert(info);
    assert_eq!(state.conversations[&9].unread(ME), 0);
    state.apply(&ServerFrame::Synced);
    assert!(state.take_delivery_receipts().iter().all(|frame| !matches!(
        frame,
        ClientFrame::Receipt {
            conversation: 9,
            ..
        }
    )));
}

#[test]
fn actions_change_their_target_and_are_kept_without_text() {
    let mut state = state();
    let target = message(7, 1, BOB);
    state.apply(&ServerFrame::Message { message: target });
    state.take_changes();
    let mut edit = message(7, 2, BOB);
    edit.body = String::new();
    edit.action = Some(Action::Edit {
        target: 1,
        body: "m1, corrected".to_owned(),
    });
    state.apply(&ServerFrame::Message {
        message: edit.clone(),
    });
    state.apply(&ServerFrame::Message { message: edit });
    let conversation = &state.conversations[&7];
    assert_eq!(conversation.messages[&1].body, "m1, corrected");
    assert_eq!(
        conversation.messages[&2].action,
        Some(Action::Edit {
            target: 1,
            body: String::new()
        }),
        "the edit's text lives only in its target"
    );
    assert_eq!(conversation.info.last_message.as_ref().unwrap().seq, 1);
    let saved = state.take_changes();
    assert_eq!(saved.actions.len(), 1, "applied once, though it came twice");
    assert!(saved
        .messages
        .iter()
        .any(|m| m.seq == 1 && m.body == "m1, corrected"));

    let mut delete = message(7, 3, BOB);
    delete.body = String::new();
    delete.action = Some(Action::Delete { target: 1 });
    state.apply(&ServerFrame::Message { message: delete });
    let gone = &state.conversations[&7].messages[&1];
    assert!(gone.deleted && gone.body.is_empty());
    assert!(
        state.conversations[&7]
            .info
            .last_message
            .as_ref()
            .unwrap()
            .deleted
    );
}

#[test]
fn an_acked_action_is_applied_like_one_from_the_server() {
    let mut state = state();
    state.apply(&ServerFrame::Message {
        message: message(7, 1, BOB),
    });
    let id = Uuid::from_u128(42);
    state.queue_action(
        7,
        Action::React {
            target: 1,
            emoji: "👍".to_owned(),
        },
        id,
        10,
    );
    assert_eq!(state.sendable().count(), 1);
    state.apply(&ServerFrame::Ack {
        client_id: id,
        conversation: 7,
        seq: 2,
        sent_at: 11,
    });
    assert!(state.outbox.is_empty());
    assert_eq!(
        state.conversations[&7].messages[&1].reactions[0].users,
        vec![ME]
    );
}

#[test]
fn reactions_and_edits_are_not_unread_messages() {
    let mut state = state();
    state.apply(&ServerFrame::Message {
        message: message(7, 1, BOB),
    });
    let mut reaction = message(7, 2, BOB);
    reaction.body = String::new();
    reaction.action = Some(Action::React {
        target: 1,
        emoji: "👍".to_owned(),
    });
    state.apply(&ServerFrame::Message { message: reaction });
    assert_eq!(state.conversations[&7].unread(ME), 1);
    // Without the messages at hand, the distance to the newest seq is all
    // there is to go by.
    let mut info = conversation(8);
    info.last_seq = 5;
    state.upsert(info);
    assert_eq!(state.conversations[&8].unread(ME), 5);
}

#[test]
fn a_new_profile_shows_in_every_conversation_and_is_saved() {
    let mut state = state();
    state.upsert(group_of(&[
        (ME, "me", Role::Admin),
        (BOB, "bob", Role::Member),
    ]));
    state.take_changes();
    let renamed = User {
        display_name: Some("Bobby".to_owned()),
        avatar: Some(natter_protocol::picture_url("ab")),
        deleted: false,
        ..user(BOB, "bob")
    };
    state.apply(&ServerFrame::Profile {
        user: renamed.clone(),
    });
    let group = &state.conversations[&9];
    assert_eq!(group.name_of(BOB), Some("Bobby"));
    let saved = state.take_changes();
    // The direct conversation with Bob and the group.
    assert_eq!(saved.conversations.len(), 2);
    assert!(saved.me.is_none());
    // The same frame again changes nothing.
    state.apply(&ServerFrame::Profile { user: renamed });
    assert!(state.take_changes().is_empty());
    // One's own, from another device.
    let me = User {
        display_name: Some("Me".to_owned()),
        ..state.me.clone()
    };
    state.apply(&ServerFrame::Profile { user: me.clone() });
    assert_eq!(state.me, me);
    assert_eq!(state.take_changes().me, Some(me));
}

#[test]
fn a_group_change_applies_only_what_changed() {
    let mut state = state();
    let mut before = group_of(&[
        (ME, "me", Role::Admin),
        (BOB, "bob", Role::Member),
        (3, "cy", Role::Member),
    ]);
    before.members[1].read = 7;
    state.upsert(before);
    state.take_changes();
    let promoted = Member {
        user: user(BOB, "bob"),
        delivered: 3,
        read: 3,
        role: Role::Admin,
        pending: false,
    };
    let added = Member {
        user: user(4, "di"),
        delivered: 0,
        read: 0,
        role: Role::Member,
        pending: false,
    };
    let renamed = natter_protocol::GroupInfo {
        name: "Night hikers".to_owned(),
        picture: None,
        hashtag: None,
    };
    let frame = ServerFrame::Group {
        conversation: 9,
        group: renamed.clone(),
        members: vec![added, promoted],
        removed: vec![3],
    };
    state.apply(&frame);
    let group = &state.conversations[&9];
    let members: Vec<_> = group
        .info
        .members
        .iter()
        .map(|m| (m.user.id, m.role, m.read))
        .collect();
    // Cy is gone, Di is in, Bob is an admin who keeps his read cursor.
    assert_eq!(
        members,
        [
            (ME, Role::Admin, 0),
            (BOB, Role::Admin, 7),
            (4, Role::Member, 0)
        ]
    );
    assert_eq!(group.info.group, Some(renamed));
    assert_eq!(state.take_changes().conversations.len(), 1);
    // A group this device does not know is left to its `conversation`.
    state.apply(&ServerFrame::Group {
        conversation: 77,
        group: natter_protocol::GroupInfo {
            name: "x".to_owned(),
            picture: None,
            hashtag: None,
        },
        members: vec![],
        removed: vec![],
    });
    assert!(!state.conversations.contains_key(&77));
}

#[test]
fn the_blocked_list_follows_the_server_and_is_kept() {
    let mut state = state();
    let bob = user(2, "bob");
    state.apply(&ServerFrame::Blocked {
        users: vec![bob.clone()],
    });
    assert!(state.blocks(2));
    assert_eq!(state.take_changes().blocked, Some(vec![bob.clone()]));
    // The same list again changes nothing.
    state.apply(&ServerFrame::Blocked {
        users: vec![bob.clone()],
    });
    assert_eq!(state.take_changes().blocked, None);
    let restored = ChatState::from_snapshot(
        state.me.clone(),
        Snapshot {
            blocked: vec![bob],
            ..Snapshot::default()
        },
    );
    assert!(restored.blocks(2));
    state.apply(&ServerFrame::Blocked { users: Vec::new() });
    assert!(!state.blocks(2));
}

#[test]
fn a_request_is_set_apart_and_a_gone_conversation_is_forgotten() {
    let mut state = state();
    let me = state.me.id;
    let mut asked = conversation(9);
    for member in &mut asked.members {
        member.pending = member.user.id == me;
    }
    state.upsert(asked);
    assert!(state.conversations[&9].is_request(me));
    assert_eq!(state.requests().count(), 1);
    state.set_open(Some(9));
    state.take_changes();
    state.apply(&ServerFrame::Gone { conversation: 9 });
    assert!(!state.conversations.contains_key(&9));
    assert_eq!(state.open, None);
    assert_eq!(state.take_changes().forgotten, vec![9]);
}

#[test]
fn notices_name_the_newest_unread_message_of_each_conversation() {
    let mut state = state();
    state.apply(&ServerFrame::Conversation {
        conversation: conversation(8),
    });
    let mut deleted = message(8, 2, BOB);
    deleted.deleted = true;
    let mut reaction = message(7, 3, BOB);
    reaction.action = Some(Action::React {
        target: 1,
        emoji: "👍".into(),
    });
    let frames: Vec<ServerFrame> = [
        message(7, 1, BOB),
        message(7, 2, BOB),
        reaction,
        message(8, 1, ME),
        deleted,
        message(9, 1, BOB),
    ]
    .into_iter()
    .map(|message| ServerFrame::Message { message })
    .collect();
    for frame in &frames {
        state.apply(frame);
    }
    // Bob's newest in 7; nothing from the user, no reaction, nothing
    // deleted, and nothing for a conversation the device does not know.
    assert_eq!(
        state.notices(&frames, 0),
        vec![Notice {
            conversation: 7,
            seq: 2
        }]
    );
}

#[test]
fn read_messages_are_not_notices() {
    let mut state = state();
    let frame = ServerFrame::Message {
        message: message(7, 1, BOB),
    };
    state.apply(&frame);
    state.apply(&ServerFrame::Receipt {
        conversation: 7,
        user: ME,
        kind: ReceiptKind::Read,
        seq: 1,
    });
    assert!(state.notices(&[frame], 0).is_empty());
}

#[test]
fn a_reply_from_another_device_means_seen() {
    let mut state = state();
    let frames: Vec<ServerFrame> = [message(7, 1, BOB), message(7, 2, ME)]
        .into_iter()
        .map(|message| ServerFrame::Message { message })
        .collect();
    for frame in &frames {
        state.apply(frame);
    }
    assert!(state.notices(&frames, 0).is_empty());
}

#[test]
fn muted_conversations_are_quiet_but_a_mention_in_a_group_is_not() {
    let mut state = state();
    state.upsert(group_of(&[
        (ME, "me", Role::Member),
        (BOB, "bob", Role::Member),
    ]));
    state.apply(&ServerFrame::Mutes {
        mutes: vec![
            Mute {
                conversation: 7,
                until: Some(5_000),
            },
            Mute {
                conversation: 9,
                until: None,
            },
        ],
    });
    let mut mention = message(9, 2, BOB);
    mention.body = "@me look".to_owned();
    let mut direct_mention = message(7, 1, BOB);
    direct_mention.body = "@me hi".to_owned();
    let frames: Vec<ServerFrame> = [direct_mention, message(9, 1, BOB)]
        .into_iter()
        .map(|message| ServerFrame::Message { message })
        .collect();
    for frame in &frames {
        state.apply(frame);
    }
    assert!(state.notices(&frames, 4_999).is_empty(), "both muted");
    assert_eq!(
        state.notices(&frames, 5_000),
        vec![Notice {
            conversation: 7,
            seq: 1
        }],
        "the 1:1 mute has ended"
    );
    let mentioned = [ServerFrame::Message { message: mention }];
    state.apply(&mentioned[0]);
    assert_eq!(
        state.notices(&mentioned, 0),
        vec![Notice {
            conversation: 9,
            seq: 2
        }],
        "a mention in a muted group still notifies"
    );
    state.drop_ended_mutes(5_000);
    assert_eq!(
        state.mutes,
        vec![Mute {
            conversation: 9,
            until: None
        }],
        "an ended mute goes, one for good stays"
    );
}

#[test]
fn a_blocked_persons_messages_are_no_notices() {
    let mut state = state();
    state.upsert(group_of(&[
        (ME, "me", Role::Member),
        (BOB, "bob", Role::Member),
    ]));
    state.set_blocked(vec![user(BOB, "bob")]);
    let frames = [ServerFrame::Message {
        message: message(9, 1, BOB),
    }];
    state.apply(&frames[0]);
    assert!(state.notices(&frames, 0).is_empty());
}
