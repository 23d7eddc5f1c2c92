//! The behaviour every [`Cache`] must have, as one suite that the tests run
//! against each implementation: natively for [`MemoryCache`], in headless
//! Chromium for both it and the IndexedDB cache.
//!
//! [`MemoryCache`]: super::memory::MemoryCache

use natter_protocol::{Action, Conversation, ConversationKind, Member, Message, Role, User};
use uuid::Uuid;

use super::{Applied, Batch, Cache, Snapshot};
use crate::model::search::SearchIndex;
use crate::model::Outgoing;

fn user(id: i64) -> User {
    User {
        id,
        username: format!("user{id}"),
        avatar: None,
        deleted: false,
        display_name: None,
    }
}

fn conversation(id: i64) -> Conversation {
    Conversation {
        id,
        kind: ConversationKind::Direct,
        members: vec![
            Member {
                user: user(1),
                delivered: 2,
                read: 1,
                role: Role::Member,
                pending: false,
            },
            Member {
                user: user(2),
                delivered: 0,
                read: 0,
                role: Role::Member,
                pending: false,
            },
        ],
        last_message: None,
        last_seq: 0,
        created_at: 10,
        group: None,
    }
}

fn message(conversation: i64, seq: u64) -> Message {
    Message {
        conversation,
        seq,
        client_id: Uuid::from_u128(((conversation as u128) << 64) | seq as u128),
        sender: 1 + (seq % 2) as i64,
        body: format!("message {seq} in {conversation}"),
        sent_at: 1_000 + seq as i64,
        ..Message::default()
    }
}

fn outgoing(n: u128, created_at: i64) -> Outgoing {
    Outgoing {
        client_id: Uuid::from_u128(n),
        conversation: 7,
        body: format!("waiting {n}"),
        created_at,
        failure: None,
        media: None,
        action: None,
        reply_to: None,
        link_preview: None,
    }
}

/// Runs every scenario on `cache`, which must start empty; leaves it empty.
pub async fn run<C: Cache>(cache: &C) {
    starts_empty(cache).await;
    keeps_what_it_was_given(cache).await;
    pages_history_backwards(cache).await;
    keeps_the_outbox_in_typing_order(cache).await;
    remembers_the_open_conversation(cache).await;
    applies_actions_to_saved_messages(cache).await;
    forgets_a_conversation_whole(cache).await;
    finds_saved_words_and_nothing_deleted(cache).await;
    clears_everything(cache).await;
}

/// The search index follows what is saved: new messages, edits, deletions,
/// ended accounts and forgotten conversations.
async fn finds_saved_words_and_nothing_deleted<C: Cache>(cache: &C) {
    let mut dinner = message(30, 1);
    dinner.body = "Dinner at the Café Müller?".to_owned();
    let mut closed = message(30, 2);
    closed.body = "the CAFE is closed".to_owned();
    let mut plans = message(31, 1);
    plans.body = "secret plans".to_owned();
    plans.sender = 5;
    let batch = Batch {
        messages: vec![dinner.clone(), closed.clone(), plans],
        ..Batch::default()
    };
    cache.write(&batch).await.unwrap();
    let found = |index: &SearchIndex, query: &str| -> Vec<(i64, u64)> {
        index
            .search(query, |_| true, 10)
            .0
            .iter()
            .map(|hit| (hit.conversation, hit.seq))
            .collect()
    };
    // Results are read back in one go, missing ones left out.
    let read = cache
        .messages_at(&[(30, 2), (30, 99), (31, 1)])
        .await
        .unwrap();
    let read: Vec<(i64, u64)> = read.iter().map(|m| (m.conversation, m.seq)).collect();
    assert_eq!(read, vec![(30, 2), (31, 1)]);
    let index = cache.search_index().await.unwrap();
    assert_eq!(found(&index, "café"), vec![(30, 2), (30, 1)]);
    assert_eq!(found(&index, "MÜLL din"), vec![(30, 1)]);
    assert_eq!(found(&index, "plans"), vec![(31, 1)]);

    let act = |action: Action, actor: i64| Batch {
        actions: vec![Applied {
            conversation: 30,
            action,
            actor,
            at: 99,
        }],
        ..Batch::default()
    };
    let edit = Action::Edit {
        target: 2,
        body: "the bar is open".to_owned(),
    };
    cache.write(&act(edit, closed.sender)).await.unwrap();
    let index = cache.search_index().await.unwrap();
    assert_eq!(
        found(&index, "cafe"),
        vec![(30, 1)],
        "the edit's old text is gone"
    );
    assert_eq!(found(&index, "bar"), vec![(30, 2)]);
    cache
        .write(&act(Action::Delete { target: 1 }, dinner.sender))
        .await
        .unwrap();
    cache
        .write(&Batch {
            erased: vec![5],
            ..Batch::default()
        })
        .await
        .unwrap();
    let index = cache.search_index().await.unwrap();
    assert!(
        found(&index, "dinner").is_empty(),
        "a deleted text is not found"
    );
    assert!(found(&index, "secret").is_empty(), "nor an ended account's");
    cache
        .write(&Batch {
            forgotten: vec![30, 31],
            ..Batch::default()
        })
        .await
        .unwrap();
    assert!(found(&cache.search_index().await.unwrap(), "bar").is_empty());

    // Sent and deleted for everyone in one batch (frames that arrived
    // together): the text is not findable.
    let mut quick = message(32, 1);
    quick.body = "oops wrong chat".to_owned();
    let mut gone = quick.clone();
    crate::cache::tombstone(&mut gone);
    cache
        .write(&Batch {
            conversations: vec![conversation(32)],
            messages: vec![quick, gone],
            ..Batch::default()
        })
        .await
        .unwrap();
    assert!(found(&cache.search_index().await.unwrap(), "oops").is_empty());
    cache
        .write(&Batch {
            forgotten: vec![32],
            ..Batch::default()
        })
        .await
        .unwrap();
}

/// A deleted request goes with every message of it, and only those.
async fn forgets_a_conversation_whole<C: Cache>(cache: &C) {
    let batch = Batch {
        forgotten: vec![12],
        ..Batch::default()
    };
    cache.write(&batch).await.unwrap();
    let snapshot = cache.load(50).await.unwrap();
    assert!(snapshot.conversations.iter().all(|c| c.id != 12));
    assert!(snapshot.messages.iter().all(|m| m.conversation != 12));
    assert!(cache.messages_before(12, 10, 50).await.unwrap().is_empty());
    assert!(!cache.messages_before(7, 10, 50).await.unwrap().is_empty());
}

/// An action reaches a saved message even when the batch does not carry
/// it: a deletion leaves no text behind on the device.
async fn applies_actions_to_saved_messages<C: Cache>(cache: &C) {
    let mut secret = message(7, 40);
    secret.body = "the code is 1234".to_owned();
    secret.sender = 2;
    let batch = Batch {
        messages: vec![secret],
        ..Batch::default()
    };
    cache.write(&batch).await.unwrap();
    let act = |action: Action, actor: i64| Batch {
        actions: vec![Applied {
            conversation: 7,
            action,
            actor,
            at: 99,
        }],
        ..Batch::default()
    };
    let react = Action::React {
        target: 40,
        emoji: "👍".to_owned(),
    };
    cache.write(&act(react, 1)).await.unwrap();
    let saved = cache.messages_before(7, 41, 1).await.unwrap();
    assert_eq!(saved[0].reactions[0].users, vec![1]);
    // Actions on messages the device never saved change nothing.
    cache
        .write(&act(Action::Delete { target: 39_000 }, 2))
        .await
        .unwrap();
    cache
        .write(&act(Action::Delete { target: 40 }, 2))
        .await
        .unwrap();
    let saved = cache.messages_before(7, 41, 1).await.unwrap();
    assert!(saved[0].deleted);
    assert_eq!(saved[0].body, "");
    assert!(saved[0].reactions.is_empty());
}

async fn starts_empty<C: Cache>(cache: &C) {
    assert_eq!(cache.load(50).await.unwrap(), Snapshot::default());
}

async fn keeps_what_it_was_given<C: Cache>(cache: &C) {
    let mut updated = conversation(7);
    updated.last_seq = 12;
    // Conversation 12 sorts after 7 as a number but before it as a string
    // without padding: keys must keep numeric order.
    let batch = Batch {
        me: Some(user(1)),
        blocked: Some(vec![user(4)]),
        conversations: vec![conversation(7), conversation(12), updated.clone()],
        messages: (1..=12)
            .rev()
            .map(|seq| message(7, seq))
            .chain([message(12, 1)])
            .collect(),
        ..Batch::default()
    };
    cache.write(&batch).await.unwrap();
    let snapshot = cache.load(5).await.unwrap();
    assert_eq!(snapshot.me, Some(user(1)));
    assert_eq!(snapshot.blocked, vec![user(4)]);
    assert_eq!(snapshot.conversations, vec![updated, conversation(12)]);
    let seqs: Vec<(i64, u64)> = snapshot
        .messages
        .iter()
        .map(|m| (m.conversation, m.seq))
        .collect();
    assert_eq!(
        seqs,
        vec![(7, 8), (7, 9), (7, 10), (7, 11), (7, 12), (12, 1)]
    );
    assert_eq!(snapshot.messages[0], message(7, 8));
}

async fn pages_history_backwards<C: Cache>(cache: &C) {
    let page = cache.messages_before(7, 8, 3).await.unwrap();
    assert_eq!(page, vec![message(7, 5), message(7, 6), message(7, 7)]);
    let first = cache.messages_before(7, 3, 50).await.unwrap();
    assert_eq!(first, vec![message(7, 1), message(7, 2)]);
    assert!(cache.messages_before(7, 1, 50).await.unwrap().is_empty());
    assert!(cache.messages_before(99, 10, 50).await.unwrap().is_empty());
    // A hole in the device's copy makes a page shorter, never reach past it.
    let batch = Batch {
        messages: [1, 2, 3, 5, 6].map(|seq| message(20, seq)).to_vec(),
        ..Batch::default()
    };
    cache.write(&batch).await.unwrap();
    let seqs = |page: Vec<Message>| page.iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(cache.messages_before(20, 99, 3).await.unwrap()),
        vec![5, 6]
    );
    assert_eq!(
        seqs(cache.messages_before(20, 4, 3).await.unwrap()),
        vec![1, 2, 3]
    );
}

async fn keeps_the_outbox_in_typing_order<C: Cache>(cache: &C) {
    let (a, b, c) = (outgoing(3, 100), outgoing(1, 101), outgoing(2, 102));
    cache
        .write(&Batch {
            outbox_put: vec![c.clone(), a.clone(), b.clone()],
            ..Batch::default()
        })
        .await
        .unwrap();
    assert_eq!(
        cache.load(1).await.unwrap().outbox,
        vec![a.clone(), b.clone(), c.clone()]
    );

    let mut failed = b.clone();
    failed.failure = Some("too long".into());
    cache
        .write(&Batch {
            outbox_put: vec![failed.clone()],
            outbox_remove: vec![a],
            messages: vec![message(7, 13)],
            ..Batch::default()
        })
        .await
        .unwrap();
    let snapshot = cache.load(1).await.unwrap();
    assert_eq!(snapshot.outbox, vec![failed, c]);
    assert_eq!(snapshot.messages.first(), Some(&message(7, 13)));
}

async fn remembers_the_open_conversation<C: Cache>(cache: &C) {
    for open in [Some(12), None, Some(7)] {
        cache
            .write(&Batch {
                open: Some(open),
                ..Batch::default()
            })
            .await
            .unwrap();
        assert_eq!(cache.load(1).await.unwrap().open, open);
    }
}

async fn clears_everything<C: Cache>(cache: &C) {
    cache.clear().await.unwrap();
    assert_eq!(cache.load(50).await.unwrap(), Snapshot::default());
}

#[cfg(test)]
mod tests {
    use crate::cache::memory::MemoryCache;

    #[test]
    fn the_memory_cache_passes_the_suite() {
        futures::executor::block_on(super::run(&MemoryCache::default()));
    }
}
