//! Media over real HTTP: uploads checked by type, magic bytes and size;
//! files served with ranges to members only; attachments on messages.

mod common;

use common::{jpeg, jpeg_with, Account, TestServer};
use natter_protocol::{
    Action, ApiError, ApiErrorCode, Attachment, ClientFrame, ConversationId, ErrorCode, MediaKind,
    MediaLimits, ServerFrame, Upload,
};
use reqwest::header::{CACHE_CONTROL, CONTENT_RANGE, CONTENT_TYPE, RANGE};
use reqwest::StatusCode;
use uuid::Uuid;

fn jpeg_segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0xFF, marker];
    bytes.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test]
async fn photo_metadata_is_stripped_even_from_direct_uploads() {
    let server = TestServer::start().await;
    let (ann, bob, conversation) = two_people(&server).await;
    let gps = b"GPSLatitude 48.858370 N; Model Canon EOS R5; 2026:11:30 12:00";
    let metadata = [
        jpeg_segment(0xE1, &[b"Exif\0\0".as_slice(), gps].concat()),
        jpeg_segment(0xED, b"Photoshop 3.0\x008BIM IPTC city Paris"),
        jpeg_segment(0xFE, b"shot from my balcony"),
    ];
    let tagged = jpeg_with(&metadata, 4000);
    let stripped: usize = metadata.iter().map(Vec::len).sum();
    let response = upload(&ann, conversation, "image", "image/jpeg", tagged.clone()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let uploaded: Upload = response.json().await.unwrap();
    let served = bob
        .get(&format!("/api/media/{}", uploaded.id))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(!contains(&served, b"Exif") && !contains(&served, b"GPSLatitude"));
    assert!(!contains(&served, b"Paris") && !contains(&served, b"balcony"));
    assert!(served.starts_with(&[0xFF, 0xD8, 0xFF, 0xE0]) && served.ends_with(&[0xFF, 0xD9]));
    assert_eq!(uploaded.size, served.len() as u64);
    assert_eq!(served.len(), tagged.len() - stripped);

    // PNG: text and eXIf chunks go; the picture's chunks stay.
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut bytes = (data.len() as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(kind);
        bytes.extend_from_slice(data);
        bytes.extend_from_slice(&[1, 2, 3, 4]);
        bytes
    };
    let png = [
        b"\x89PNG\r\n\x1a\n".to_vec(),
        chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]),
        chunk(b"tEXt", b"Location\x0048.8584N 2.2945E"),
        chunk(b"eXIf", b"MM\0*GPS"),
        chunk(b"IDAT", &[0x78, 0x9C, 9, 9]),
        chunk(b"IEND", b""),
    ]
    .concat();
    let uploaded: Upload = upload(&ann, conversation, "image", "image/png", png)
        .await
        .json()
        .await
        .unwrap();
    let served = bob
        .get(&format!("/api/media/{}", uploaded.id))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(!contains(&served, b"tEXt") && !contains(&served, b"48.8584"));
    assert!(!contains(&served, b"eXIf"));
    assert!(contains(&served, b"IDAT") && served.ends_with(&[b'I', b'E', b'N', b'D', 1, 2, 3, 4]));

    // The stored size is the one a message must name.
    let mut socket = ann.connect().await;
    let client_id = Uuid::new_v4();
    socket
        .send(&ClientFrame::Send {
            conversation,
            client_id,
            body: String::new(),
            attachment: Some(Box::new(Attachment {
                id: uploaded.id,
                kind: MediaKind::Image,
                content_type: uploaded.content_type,
                size: uploaded.size,
                width: Some(1),
                height: Some(1),
                duration_ms: None,
                waveform: Vec::new(),
                thumbnail: None,
            })),
            reply_to: None,
            action: None,
            link_preview: None,
        })
        .await;
    socket
        .next_matching(|frame| match frame {
            ServerFrame::Ack { client_id: id, .. } if id == client_id => Some(()),
            ServerFrame::Error { message, .. } => panic!("refused: {message}"),
            _ => None,
        })
        .await;

    // A JPEG whose segments are broken is refused, not stored.
    let mut broken = jpeg(200);
    broken[20] = 0x00;
    let response = upload(&ann, conversation, "image", "image/jpeg", broken).await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let error: ApiError = response.json().await.unwrap();
    assert!(error.message.contains("damaged"), "{}", error.message);
}

async fn upload(
    account: &Account,
    conversation: ConversationId,
    kind: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    account
        .post(&format!(
            "/api/media?conversation={conversation}&kind={kind}"
        ))
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .expect("upload")
}

async fn two_people(server: &TestServer) -> (Account, Account, ConversationId) {
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let conversation = ann.open_direct("bob").await.id;
    (ann, bob, conversation)
}

#[tokio::test]
async fn an_upload_is_served_to_members_with_ranges() {
    let server = TestServer::start().await;
    let (ann, bob, conversation) = two_people(&server).await;
    let eve = server.signup("eve").await;
    let body = jpeg(5000);
    let response = upload(&ann, conversation, "image", "image/jpeg", body.clone()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let uploaded: Upload = response.json().await.unwrap();
    assert_eq!((uploaded.kind, uploaded.size), (MediaKind::Image, 5000));

    let path = format!("/api/media/{}", uploaded.id);
    let whole = bob.get(&path).send().await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()[CONTENT_TYPE], "image/jpeg");
    assert_eq!(whole.headers()["x-content-type-options"], "nosniff");
    // Never a page of ours, whatever it claims to be.
    assert_eq!(
        whole.headers()["content-security-policy"],
        "sandbox; default-src 'none'"
    );
    assert_eq!(
        whole.headers()["content-disposition"],
        format!("inline; filename=\"{}.jpg\"", uploaded.id).as_str()
    );
    assert!(whole.headers()[CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("private"));
    assert_eq!(whole.bytes().await.unwrap().to_vec(), body);

    let part = bob
        .get(&path)
        .header(RANGE, "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()[CONTENT_RANGE], "bytes 100-199/5000");
    assert_eq!(
        part.bytes().await.unwrap().to_vec(),
        body[100..200].to_vec()
    );

    // Not a member: as if it did not exist. Not logged in: 401.
    assert_eq!(
        eve.get(&path).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let anonymous = reqwest::get(server.url(&path)).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let bogus = bob
        .get("/api/media/..%2F..%2Fnatter.sqlite3")
        .send()
        .await
        .unwrap();
    assert_eq!(bogus.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_executable_named_jpg_is_refused() {
    let server = TestServer::start().await;
    let (ann, _bob, conversation) = two_people(&server).await;
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF".to_vec();
    exe.extend(vec![0u8; 4000]);
    let response = upload(&ann, conversation, "image", "image/jpeg", exe).await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.error, ApiErrorCode::UnsupportedMediaType);
    assert!(error.message.contains("not really"), "{}", error.message);

    // A type that a photo cannot be, whatever its bytes.
    let response = upload(&ann, conversation, "image", "text/html", jpeg(100)).await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Nothing was kept.
    let media = std::fs::read_dir(server.data.path().join("media"))
        .map(|dir| dir.count())
        .unwrap_or(0);
    assert_eq!(media, 0);
}

#[tokio::test]
async fn size_limits_hold() {
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start_configured(data, |config| {
        config.max_image_bytes = 10_000;
        config.max_voice_bytes = 2_000;
    })
    .await;
    let (ann, _bob, conversation) = two_people(&server).await;
    let limits: MediaLimits = reqwest::get(server.url("/api/limits"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(limits.image_bytes, 10_000);
    assert_eq!(limits.voice_bytes, 2_000);
    assert_eq!(limits.video_bytes, MediaLimits::default().video_bytes);
    assert_eq!(
        upload(&ann, conversation, "image", "image/jpeg", jpeg(10_000))
            .await
            .status(),
        StatusCode::CREATED
    );
    let response = upload(&ann, conversation, "image", "image/jpeg", jpeg(10_001)).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.error, ApiErrorCode::TooLarge);

    let mut voice = vec![0x1A, 0x45, 0xDF, 0xA3];
    voice.extend(vec![0u8; 3000]);
    let response = upload(&ann, conversation, "voice", "audio/webm;codecs=opus", voice).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        upload(&ann, conversation, "image", "image/jpeg", Vec::new())
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn uploads_go_only_to_ones_own_conversations() {
    let server = TestServer::start().await;
    let (_ann, _bob, conversation) = two_people(&server).await;
    let eve = server.signup("eve").await;
    let response = upload(&eve, conversation, "image", "image/jpeg", jpeg(100)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let anonymous = reqwest::Client::new()
        .post(server.url(&format!(
            "/api/media?conversation={conversation}&kind=image"
        )))
        .header(CONTENT_TYPE, "image/jpeg")
        .body(jpeg(100))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_message_carries_its_attachment_to_the_recipient() {
    let server = TestServer::start().await;
    let (ann, bob, conversation) = two_people(&server).await;
    let uploaded: Upload = upload(&ann, conversation, "image", "image/jpeg", jpeg(800))
        .await
        .json()
        .await
        .unwrap();
    let attachment = Attachment {
        id: uploaded.id.clone(),
        kind: uploaded.kind,
        content_type: uploaded.content_type.clone(),
        size: uploaded.size,
        width: Some(640),
        height: Some(480),
        duration_ms: None,
        waveform: Vec::new(),
        thumbnail: Some("data:image/jpeg;base64,/9j/4AAQ".to_owned()),
    };
    let mut ann_socket = ann.connect().await;
    let mut bob_socket = bob.connect().await;
    ann_socket
        .send(&ClientFrame::Send {
            conversation,
            client_id: Uuid::new_v4(),
            body: String::new(),
            attachment: Some(Box::new(attachment.clone())),
            action: None,
            link_preview: None,
            reply_to: None,
        })
        .await;
    let received = bob_socket
        .next_matching(|f| match f {
            ServerFrame::Message { message } => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(received.attachment, Some(attachment.clone()));
    assert_eq!(received.body, "");

    // Deleted for everyone: the file is no longer served, nor kept.
    let stored = server.data.path().join("media").join(&uploaded.id);
    assert!(stored.exists());
    let file_url = format!("/api/media/{}", uploaded.id);
    assert_eq!(
        bob.get(&file_url).send().await.unwrap().status(),
        StatusCode::OK
    );
    ann_socket
        .send(&ClientFrame::Send {
            conversation,
            client_id: Uuid::new_v4(),
            body: String::new(),
            attachment: None,
            reply_to: None,
            action: Some(Action::Delete {
                target: received.seq,
            }),
            link_preview: None,
        })
        .await;
    ann_socket
        .next_matching(|f| match f {
            ServerFrame::Ack { seq, .. } if seq > received.seq => Some(()),
            _ => None,
        })
        .await;
    assert_eq!(
        bob.get(&file_url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert!(!stored.exists());

    // Someone else's upload, or a misdescribed one, cannot be attached.
    let eve = server.signup("eve").await;
    server.signup("fay").await;
    let elsewhere = eve.open_direct("fay").await.id;
    let foreign: Upload = upload(&eve, elsewhere, "image", "image/jpeg", jpeg(50))
        .await
        .json()
        .await
        .unwrap();
    for bad in [
        Attachment {
            id: foreign.id,
            ..attachment.clone()
        },
        Attachment {
            size: 1,
            ..attachment.clone()
        },
        Attachment {
            thumbnail: Some("javascript:alert(1)".to_owned()),
            ..attachment.clone()
        },
    ] {
        let client_id = Uuid::new_v4();
        ann_socket
            .send(&ClientFrame::Send {
                conversation,
                client_id,
                body: String::new(),
                attachment: Some(Box::new(bad)),
                action: None,
                link_preview: None,
                reply_to: None,
            })
            .await;
        let (code, id) = ann_socket
            .next_matching(|f| match f {
                ServerFrame::Error {
                    code, client_id, ..
                } => Some((code, client_id)),
                _ => None,
            })
            .await;
        assert_eq!((code, id), (ErrorCode::InvalidMessage, Some(client_id)));
    }
}

#[tokio::test]
async fn an_upload_attaches_to_one_message_and_a_day_has_a_quota() {
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start_configured(data, |config| {
        config.upload_quota_mb = 1;
    })
    .await;
    let (ann, _bob, conversation) = two_people(&server).await;
    let uploaded: Upload = upload(&ann, conversation, "image", "image/jpeg", jpeg(600_000))
        .await
        .json()
        .await
        .unwrap();
    let attachment = Attachment {
        id: uploaded.id.clone(),
        kind: uploaded.kind,
        content_type: uploaded.content_type.clone(),
        size: uploaded.size,
        width: None,
        height: None,
        duration_ms: None,
        waveform: Vec::new(),
        thumbnail: None,
    };
    let mut socket = ann.connect().await;
    let send = |client_id| ClientFrame::Send {
        conversation,
        client_id,
        body: String::new(),
        attachment: Some(Box::new(attachment.clone())),
        reply_to: None,
        action: None,
        link_preview: None,
    };
    let first = Uuid::now_v7();
    socket.send(&send(first)).await;
    let seq = socket
        .next_matching(|f| match f {
            ServerFrame::Ack { client_id, seq, .. } if client_id == first => Some(seq),
            _ => None,
        })
        .await;
    // The same message again is the same message; another one is refused.
    socket.send(&send(first)).await;
    let again = socket
        .next_matching(|f| match f {
            ServerFrame::Ack { client_id, seq, .. } if client_id == first => Some(seq),
            _ => None,
        })
        .await;
    assert_eq!(again, seq);
    let second = Uuid::now_v7();
    socket.send(&send(second)).await;
    let (code, message) = socket
        .next_matching(|f| match f {
            ServerFrame::Error {
                code,
                message,
                client_id: Some(id),
            } if id == second => Some((code, message)),
            _ => None,
        })
        .await;
    assert_eq!(code, ErrorCode::InvalidMessage);
    assert!(message.contains("attached to another message"), "{message}");
    assert_eq!(ann.history(conversation).await.len(), 1);

    // 600 KB of a 1 MB day are used: another 600 KB is refused.
    let response = upload(&ann, conversation, "image", "image/jpeg", jpeg(600_000)).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.error, ApiErrorCode::QuotaExceeded);
    assert!(error.message.contains("1 MB"), "{}", error.message);
    assert_eq!(
        upload(&ann, conversation, "image", "image/jpeg", jpeg(300_000))
            .await
            .status(),
        StatusCode::CREATED
    );
}
