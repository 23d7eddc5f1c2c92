//! The device cache against real IndexedDB in headless Chromium: the shared
//! suite for both implementations, and the schema upgrade path.

#![cfg(target_arch = "wasm32")]

use natter::cache::idb::{IdbCache, Version};
use natter::cache::memory::MemoryCache;
use natter::cache::{suite, Batch, Cache};
use natter_protocol::{Conversation, ConversationKind, Message};
use uuid::Uuid;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn unique_name() -> String {
    format!("natter-test-{}", Uuid::now_v7())
}

/// A 1:1 chat (id 4) to save and read back.
fn direct_chat() -> Conversation {
    Conversation {
        id: 4,
        kind: ConversationKind::Direct,
        members: vec![],
        last_message: None,
        last_seq: 1,
        created_at: 5,
        group: None,
    }
}

#[wasm_bindgen_test]
async fn indexed_db_passes_the_cache_suite() {
    let name = unique_name();
    let cache = IdbCache::open_at(&name, Version::CURRENT)
        .await
        .expect("open");
    suite::run(&cache).await;
    cache.close();
}

#[wasm_bindgen_test]
async fn memory_passes_the_cache_suite_in_the_browser_too() {
    suite::run(&MemoryCache::default()).await;
}

#[wasm_bindgen_test]
async fn data_survives_reopening_and_the_upgrade_from_v1() {
    let name = unique_name();
    let conversation = direct_chat();
    let message = Message {
        conversation: 4,
        seq: 1,
        client_id: Uuid::from_u128(9),
        sender: 2,
        body: "kept across versions".into(),
        sent_at: 6,
        attachment: None,
        event: None,
        reply_to: None,
        action: None,
        edited_at: None,
        deleted: false,
        link_preview: None,
        reactions: Vec::new(),
    };
    let old = IdbCache::open_at(&name, Version::V1)
        .await
        .expect("open v1");
    old.write(&Batch {
        conversations: vec![conversation.clone()],
        messages: vec![message.clone()],
        ..Batch::default()
    })
    .await
    .expect("write at v1");
    old.close();

    let upgraded = IdbCache::open_at(&name, Version::CURRENT)
        .await
        .expect("upgrade");
    let snapshot = upgraded.load(10).await.expect("load after upgrade");
    assert_eq!(snapshot.conversations, vec![conversation]);
    assert_eq!(snapshot.messages, vec![message]);
    // Messages saved before there was a search index are found: it is made
    // from them when first needed.
    let index = upgraded.search_index().await.expect("search index");
    assert_eq!(index.search("KEPT vers", |_| true, 5).1, 1);
    // The store that V2 added works.
    upgraded
        .write(&Batch {
            open: Some(Some(4)),
            ..Batch::default()
        })
        .await
        .expect("write to the new store");
    assert_eq!(upgraded.load(10).await.unwrap().open, Some(4));
    upgraded.close();
}

#[wasm_bindgen_test]
async fn an_open_cache_steps_aside_when_another_tab_deletes_it() {
    use futures::FutureExt;

    let cache = IdbCache::open(424_242).await.expect("open");
    let displaced = cache.displaced().fuse();
    let delete = async {
        IdbCache::delete(424_242).await.expect("delete");
    }
    .fuse();
    let timeout = gloo_timers::future::TimeoutFuture::new(5_000).fuse();
    futures::pin_mut!(displaced, delete, timeout);
    // The open connection hears of the deletion first...
    futures::select! {
        () = displaced => {}
        () = delete => panic!("deleted while still open"),
        () = timeout => panic!("never told of the deletion"),
    }
    // ...and once it closes, the deletion goes through.
    cache.close();
    futures::select! {
        () = delete => {}
        () = timeout => panic!("deletion stayed blocked"),
    }
}

#[wasm_bindgen_test]
async fn files_are_kept_as_blobs_until_deleted() {
    use natter::cache::FileKey;
    use wasm_bindgen::JsValue;

    let name = unique_name();
    let cache = IdbCache::open_at(&name, Version::CURRENT)
        .await
        .expect("open");
    let parts = js_sys::Array::of1(&JsValue::from_str("a voice message"));
    let bag = web_sys::BlobPropertyBag::new();
    bag.set_type("audio/webm");
    let file = web_sys::Blob::new_with_str_sequence_and_options(&parts, &bag).unwrap();
    let upload = FileKey::Upload(Uuid::now_v7());
    let media = FileKey::Media("q3Jx0kq2S1mC6f4aJYtJ8w".to_owned());

    assert!(cache.file(&upload).await.unwrap().is_none());
    cache.put_file(&upload, &file).await.unwrap();
    cache.put_file(&media, &file).await.unwrap();
    cache.close();

    // Still there after reopening, with its type and bytes.
    let cache = IdbCache::open_at(&name, Version::CURRENT)
        .await
        .expect("reopen");
    let kept = cache.file(&upload).await.unwrap().expect("kept");
    assert_eq!(kept.type_(), "audio/webm");
    let text = wasm_bindgen_futures::JsFuture::from(kept.text())
        .await
        .unwrap();
    assert_eq!(text.as_string().as_deref(), Some("a voice message"));

    cache.delete_file(&upload).await.unwrap();
    assert!(cache.file(&upload).await.unwrap().is_none());
    assert!(cache.file(&media).await.unwrap().is_some());
    // Clearing the account's data takes the files too.
    cache.clear().await.unwrap();
    assert!(cache.file(&media).await.unwrap().is_none());
    cache.close();
}

#[wasm_bindgen_test]
async fn a_message_deleted_for_everyone_takes_its_kept_file_along() {
    use natter::cache::{Applied, FileKey};
    use natter_protocol::{Action, Attachment, MediaKind};
    use wasm_bindgen::JsValue;

    let name = unique_name();
    let cache = IdbCache::open_at(&name, Version::CURRENT)
        .await
        .expect("open");
    let voice = |id: &str| Attachment {
        id: id.to_owned(),
        kind: MediaKind::Voice,
        content_type: "audio/webm".to_owned(),
        size: 15,
        width: None,
        height: None,
        duration_ms: Some(1000),
        waveform: vec![],
        thumbnail: None,
    };
    let message = |seq: u64, id: &str| Message {
        conversation: 7,
        seq,
        client_id: Uuid::now_v7(),
        sender: 2,
        body: String::new(),
        sent_at: 5,
        attachment: Some(voice(id)),
        event: None,
        reply_to: None,
        action: None,
        edited_at: None,
        deleted: false,
        link_preview: None,
        reactions: Vec::new(),
    };
    let (deleted, kept) = ("deletedvoice0000000000", "keptvoice000000000000");
    cache
        .write(&Batch {
            messages: vec![message(1, deleted), message(2, kept)],
            ..Batch::default()
        })
        .await
        .unwrap();
    let parts = js_sys::Array::of1(&JsValue::from_str("a voice message"));
    let file = web_sys::Blob::new_with_str_sequence(&parts).unwrap();
    for id in [deleted, kept] {
        cache
            .put_file(&FileKey::Media(id.to_owned()), &file)
            .await
            .unwrap();
    }

    // A deletion the server stored takes the file, whoever made it (the
    // sender, or here a group's admin).
    cache
        .write(&Batch {
            actions: vec![Applied {
                conversation: 7,
                action: Action::Delete { target: 1 },
                actor: 3,
                at: 9,
            }],
            ..Batch::default()
        })
        .await
        .unwrap();
    assert!(cache
        .file(&FileKey::Media(deleted.to_owned()))
        .await
        .unwrap()
        .is_none());
    assert!(cache
        .file(&FileKey::Media(kept.to_owned()))
        .await
        .unwrap()
        .is_some());
    let saved = cache.messages_before(7, 2, 1).await.unwrap();
    assert!(saved[0].deleted && saved[0].attachment.is_none());
    cache.close();
}

/// Records saved before the cache wrote them through JSON (built with
/// `serde_wasm_bindgen`, maps as objects) read back the same: a device's
/// chats and outbox survive the change of how they are written.
#[wasm_bindgen_test]
async fn records_written_field_by_field_still_read() {
    use indexed_db_futures::database::Database;
    use indexed_db_futures::prelude::*;
    use indexed_db_futures::transaction::TransactionMode;
    use natter::model::{Outgoing, OutgoingMedia};
    use natter_protocol::{Action, Attachment, MediaKind, Reaction, User};

    let name = unique_name();
    IdbCache::open_at(&name, Version::CURRENT)
        .await
        .expect("create")
        .close();
    let me = User {
        id: 2,
        username: "ann".into(),
        avatar: Some("abc".into()),
        deleted: false,
        display_name: Some("Ann Ö".into()),
    };
    let conversation = direct_chat();
    let voice = Attachment {
        id: "v1".into(),
        kind: MediaKind::Voice,
        content_type: "audio/webm".into(),
        size: 1234,
        width: None,
        height: None,
        duration_ms: Some(2500),
        waveform: vec![0, 128, 255],
        thumbnail: None,
    };
    let message = Message {
        conversation: 4,
        seq: 1,
        client_id: Uuid::from_u128(9),
        sender: 2,
        body: "saved before 😀".into(),
        sent_at: 6,
        attachment: Some(voice.clone()),
        event: None,
        reply_to: None,
        action: None,
        edited_at: Some(7),
        deleted: false,
        link_preview: None,
        reactions: vec![Reaction {
            emoji: "👍".into(),
            users: vec![2, 3],
        }],
    };
    let outgoing = Outgoing {
        client_id: Uuid::from_u128(10),
        conversation: 4,
        body: String::new(),
        created_at: 8,
        failure: None,
        media: Some(OutgoingMedia::Local(voice)),
        reply_to: Some(1),
        action: None,
        link_preview: None,
    };
    let reaction = Outgoing {
        client_id: Uuid::from_u128(11),
        body: String::new(),
        created_at: 9,
        media: None,
        reply_to: None,
        action: Some(Action::React {
            target: 1,
            emoji: "🎉".into(),
        }),
        ..outgoing.clone()
    };

    // Written as the cache wrote them until 2026-11-30, under its keys.
    let db = Database::open(&name).await.expect("open raw");
    let stores = ["profile", "conversations", "messages", "outbox", "meta"];
    let tx = db
        .transaction(stores)
        .with_mode(TransactionMode::Readwrite)
        .build()
        .unwrap();
    let put = |store: &str| tx.object_store(store).unwrap();
    put("profile")
        .put(&me)
        .with_key("me".to_owned())
        .serde()
        .unwrap();
    put("profile")
        .put(vec![User {
            id: 7,
            ..me.clone()
        }])
        .with_key("blocked".to_owned())
        .serde()
        .unwrap();
    put("conversations")
        .put(&conversation)
        .with_key(format!("{:020}", 4))
        .serde()
        .unwrap();
    put("messages")
        .put(&message)
        .with_key(format!("{:020}:{:020}", 4, 1))
        .serde()
        .unwrap();
    for entry in [&outgoing, &reaction] {
        put("outbox")
            .put(entry)
            .with_key(format!("{:020}:{}", entry.created_at, entry.client_id))
            .serde()
            .unwrap();
    }
    put("meta")
        .put(Some(4_u64))
        .with_key("open".to_owned())
        .serde()
        .unwrap();
    tx.commit().await.unwrap();
    db.close();

    let cache = IdbCache::open_at(&name, Version::CURRENT)
        .await
        .expect("reopen");
    let snapshot = cache.load(10).await.expect("load");
    assert_eq!(snapshot.me, Some(me));
    assert_eq!(snapshot.blocked.len(), 1);
    assert_eq!(snapshot.conversations, vec![conversation]);
    assert_eq!(snapshot.messages, vec![message]);
    assert_eq!(snapshot.outbox, vec![outgoing, reaction]);
    assert_eq!(snapshot.open, Some(4));
    cache.close();
}

/// In the app the browser's Unicode tables fold text for search: the same
/// words as the native fold's unit test, and the cases where the browser
/// could differ (a whole text lowercased at once writes a final sigma).
#[wasm_bindgen_test]
fn search_folds_text_in_the_browser_as_natively() {
    use natter::model::search::fold_words;
    assert_eq!(
        fold_words("Café au LAIT, s'il vous plaît!"),
        "cafe au lait s il vous plait"
    );
    assert_eq!(
        fold_words("Straße Ærø naïve Łódź"),
        "strasse aero naive lodz"
    );
    assert_eq!(fold_words("Ελληνικά Привет ёлка"), "ελληνικα привет елка");
    assert_eq!(fold_words("ΟΔΟΣ οδός"), "οδοσ οδοσ");
    assert_eq!(fold_words("  ...  "), "");
    assert_eq!(fold_words("3pm @ann #tag ½ ٣"), "3pm ann tag ½ ٣");
}
