//! Web Push against a push service stand-in on loopback that does what a
//! real one (RFC 8030) must: it checks the VAPID signature (RFC 8292) and,
//! holding the device's keys, decrypts the payload (RFC 8291). Who is
//! pushed to and what it says, dead subscriptions, and the endpoints the
//! server refuses.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode as Status};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{say, Account, Socket, TestServer};
use natter_protocol::{ApiError, ClientFrame, PushKey, PushKeys, PushSubscription};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256PublicKey};
use web_push_native::jwt_simple::claims::NoCustomClaims;
use web_push_native::jwt_simple::common::VerificationOptions;
use web_push_native::p256;

const WAIT: Duration = Duration::from_secs(10);

/// A push as the stand-in took it: for which device, and what it said.
#[derive(Debug)]
struct Pushed {
    device: String,
    payload: Value,
}

/// A device's keys, as a browser keeps them.
struct DeviceKeys {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl DeviceKeys {
    fn new() -> Self {
        loop {
            let bytes: [u8; 32] = rand::random();
            if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
                return DeviceKeys {
                    secret,
                    auth: rand::random(),
                };
            }
        }
    }

    fn public(&self) -> String {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        URL_SAFE_NO_PAD.encode(self.secret.public_key().to_encoded_point(false).as_bytes())
    }
}

/// The push service: devices by name, the server's VAPID key it expects,
/// and what each device's endpoint answers.
struct Service {
    origin: String,
    vapid_key: Mutex<Option<String>>,
    devices: Mutex<HashMap<String, DeviceKeys>>,
    gone: Mutex<HashSet<String>>,
    pushed: mpsc::UnboundedSender<Pushed>,
}

/// Takes one push: refuses it unless its VAPID signature holds for this
/// origin and key, then decrypts it with the device's keys.
async fn take(
    State(service): State<Arc<Service>>,
    Path(device): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Status {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    assert_eq!(header("content-encoding"), "aes128gcm");
    assert!(header("ttl").parse::<u64>().is_ok(), "a TTL");
    assert_eq!(header("urgency"), "high");
    // "vapid t=<JWT>, k=<public key>"
    let authorization = header("authorization");
    let rest = authorization
        .strip_prefix("vapid ")
        .expect("a vapid authorization");
    let mut token = "";
    let mut key = "";
    for part in rest.split(',').map(str::trim) {
        if let Some(t) = part.strip_prefix("t=") {
            token = t;
        } else if let Some(k) = part.strip_prefix("k=") {
            key = k;
        }
    }
    let expected = service.vapid_key.lock().unwrap().clone();
    assert_eq!(
        Some(key.to_owned()),
        expected,
        "signed with the server's key"
    );
    let public = ES256PublicKey::from_bytes(&URL_SAFE_NO_PAD.decode(key).unwrap()).unwrap();
    let options = VerificationOptions {
        allowed_audiences: Some(HashSet::from([service.origin.clone()])),
        ..VerificationOptions::default()
    };
    let claims = match public.verify_token::<NoCustomClaims>(token, Some(options)) {
        Ok(claims) => claims,
        Err(_) => return Status::UNAUTHORIZED,
    };
    let expires = claims.expires_at.expect("an expiry").as_secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        expires > now && expires <= now + 24 * 3600,
        "exp within a day (RFC 8292)"
    );
    assert!(claims.subject.is_some_and(|sub| sub.starts_with("mailto:")));

    let plain = {
        let devices = service.devices.lock().unwrap();
        let keys = devices.get(&device).expect("a known device");
        let auth = web_push_native::Auth::clone_from_slice(&keys.auth);
        web_push_native::decrypt(body.to_vec(), &keys.secret, &auth).expect("decrypts")
    };
    let payload: Value = serde_json::from_slice(&plain).expect("JSON payload");
    let _ = service.pushed.send(Pushed {
        device: device.clone(),
        payload,
    });
    if service.gone.lock().unwrap().contains(&device) {
        Status::GONE
    } else {
        Status::CREATED
    }
}

/// The stand-in and the pushes it took.
struct Harness {
    service: Arc<Service>,
    pushed: mpsc::UnboundedReceiver<Pushed>,
}

impl Harness {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let (sender, pushed) = mpsc::unbounded_channel();
        let service = Arc::new(Service {
            origin,
            vapid_key: Mutex::new(None),
            devices: Mutex::new(HashMap::new()),
            gone: Mutex::new(HashSet::new()),
            pushed: sender,
        });
        let app = axum::Router::new()
            .route("/push/{device}", axum::routing::post(take))
            .with_state(service.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Harness { service, pushed }
    }

    /// Subscribes `account`'s device (its session) as `device`.
    async fn subscribe(&self, account: &Account, device: &str, previews: bool) {
        let key: PushKey = account.get_json("/api/push").await;
        *self.service.vapid_key.lock().unwrap() = Some(key.key);
        let keys = DeviceKeys::new();
        let subscription = PushSubscription {
            endpoint: format!("{}/push/{device}", self.service.origin),
            keys: PushKeys {
                p256dh: keys.public(),
                auth: URL_SAFE_NO_PAD.encode(keys.auth),
            },
            previews,
        };
        self.service
            .devices
            .lock()
            .unwrap()
            .insert(device.to_owned(), keys);
        let response = account
            .request(Method::PUT, "/api/push/subscription")
            .json(&subscription)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::NO_CONTENT,
            "subscribe {device}"
        );
    }

    async fn next(&mut self) -> Pushed {
        tokio::time::timeout(WAIT, self.pushed.recv())
            .await
            .expect("a push")
            .expect("the stand-in runs")
    }

    /// Asserts that nothing more is pushed: the pushes decided so far have
    /// had ample time to arrive.
    async fn nothing_more(&mut self) {
        let more = tokio::time::timeout(Duration::from_millis(500), self.pushed.recv()).await;
        assert!(more.is_err(), "unexpected push: {more:?}");
    }
}

async fn push_server() -> TestServer {
    TestServer::start_configured(tempfile::tempdir().unwrap(), |config| {
        config.push_to_loopback = true;
    })
    .await
}

/// People who all know each other (each opened a chat with each other),
/// so that their messages are not requests.
async fn acquainted<const N: usize>(server: &TestServer, names: [&str; N]) -> [Account; N] {
    let mut people = Vec::with_capacity(N);
    for name in names {
        people.push(server.signup(name).await);
    }
    for a in &people {
        for b in people.iter().filter(|b| b.user.id != a.user.id) {
            a.open_direct(&b.user.username).await;
        }
    }
    people.try_into().ok().expect("as many people as names")
}

/// Another device (session) of the same person.
async fn second_device(server: &TestServer, account: &Account) -> Account {
    let response = reqwest::Client::new()
        .post(server.url("/api/login"))
        .json(&json!({"username": account.user.username, "password": common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    Account {
        cookie: common::session_cookie(&response).unwrap(),
        ..account.clone()
    }
}

/// Tells the server whether this tab is on screen, and waits until it has
/// read it (frames are handled in order: the pong comes after).
async fn on_screen(socket: &mut Socket, visible: bool) {
    socket.send(&ClientFrame::Visible { visible }).await;
    socket.assert_alive().await;
}

#[tokio::test]
async fn a_message_reaches_a_device_with_no_tab_open_signed_and_encrypted() {
    let mut push = Harness::start().await;
    let server = push_server().await;
    let [ann, bob] = acquainted(&server, ["ann", "bob"]).await;
    let chat = ann.open_direct("bob").await;
    push.subscribe(&bob, "bob-phone", true).await;

    let mut ann_socket = ann.connect().await;
    say(&mut ann_socket, chat.id, "lunch at noon?\nsecond line")
        .await
        .expect("acked");
    let pushed = push.next().await;
    assert_eq!(pushed.device, "bob-phone");
    assert_eq!(
        pushed.payload,
        json!({"conversation": chat.id, "title": "ann", "body": "lunch at noon?"})
    );
    // The sender's own devices are not told.
    push.subscribe(&second_device(&server, &ann).await, "ann-phone", true)
        .await;
    say(&mut ann_socket, chat.id, "or one?")
        .await
        .expect("acked");
    assert_eq!(push.next().await.device, "bob-phone");
    push.nothing_more().await;
}

#[tokio::test]
async fn nobody_is_pushed_what_they_see_or_silenced() {
    let mut push = Harness::start().await;
    let server = push_server().await;
    let [ann, bob, carol] = acquainted(&server, ["ann", "bob", "carol"]).await;
    let chat = ann.open_direct("bob").await;
    let group = carol
        .create_group(json!({"name": "Climbing", "members": ["bob", "ann"]}))
        .await;
    push.subscribe(&bob, "bob-phone", true).await;
    let mut ann_socket = ann.connect().await;
    let mut carol_socket = carol.connect().await;

    // Bob's laptop is open on the chat: no push to his phone.
    let laptop = second_device(&server, &bob).await;
    let mut laptop_socket = laptop.connect().await;
    on_screen(&mut laptop_socket, true).await;
    say(&mut ann_socket, chat.id, "seen on the laptop")
        .await
        .expect("acked");
    // In the background, the laptop tells him itself; the phone is pushed.
    on_screen(&mut laptop_socket, false).await;
    say(&mut ann_socket, chat.id, "pushed to the phone")
        .await
        .expect("acked");
    let pushed = push.next().await;
    assert_eq!(pushed.payload["body"], "pushed to the phone");
    // A device whose own tab is connected is not pushed: it notifies.
    push.subscribe(&laptop, "bob-laptop", true).await;
    say(&mut ann_socket, chat.id, "once, on the phone")
        .await
        .expect("acked");
    let pushed = push.next().await;
    assert_eq!(
        (pushed.device.as_str(), &pushed.payload["body"]),
        ("bob-phone", &json!("once, on the phone"))
    );
    push.nothing_more().await;

    // Muted: the 1:1 for good, the group for an hour.
    for (conversation, length) in [(chat.id, Value::Null), (group.id, json!(3_600_000))] {
        let response = bob
            .request(
                Method::PUT,
                &format!("/api/conversations/{conversation}/mute"),
            )
            .json(&json!({"for_ms": length}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    say(&mut ann_socket, chat.id, "muted chat")
        .await
        .expect("acked");
    say(&mut carol_socket, group.id, "muted group")
        .await
        .expect("acked");
    // ...but a mention in a muted group still reaches him (on the phone:
    // the laptop's tab, still open in the background, notifies itself).
    say(&mut carol_socket, group.id, "@Bob are you coming?")
        .await
        .expect("acked");
    let pushed = push.next().await;
    assert_eq!(
        (pushed.device.as_str(), pushed.payload),
        (
            "bob-phone",
            json!({"conversation": group.id, "title": "Climbing", "body": "carol: @Bob are you coming?"})
        )
    );
    push.nothing_more().await;
    drop(laptop_socket);
}

#[tokio::test]
async fn previews_off_and_requests_say_no_text() {
    let mut push = Harness::start().await;
    let server = push_server().await;
    let [ann, bob] = acquainted(&server, ["ann", "bob"]).await;
    let stranger = server.signup("stranger").await;
    let chat = ann.open_direct("bob").await;
    push.subscribe(&bob, "bob-phone", false).await;

    let mut ann_socket = ann.connect().await;
    say(&mut ann_socket, chat.id, "a secret")
        .await
        .expect("acked");
    assert_eq!(
        push.next().await.payload,
        json!({"conversation": chat.id, "title": "ann", "body": "New message"})
    );

    // Previews on again (the device subscribes anew); a stranger's message
    // is still only "a request".
    push.subscribe(&bob, "bob-phone", true).await;
    let request = stranger.open_direct("bob").await;
    let mut stranger_socket = stranger.connect().await;
    say(&mut stranger_socket, request.id, "buy my stuff")
        .await
        .expect("acked");
    assert_eq!(
        push.next().await.payload,
        json!({"conversation": request.id, "title": "stranger", "body": "New message request"})
    );
}

#[tokio::test]
async fn a_subscription_its_push_service_calls_gone_is_forgotten() {
    let mut push = Harness::start().await;
    let server = push_server().await;
    let [ann, bob] = acquainted(&server, ["ann", "bob"]).await;
    let chat = ann.open_direct("bob").await;
    push.subscribe(&bob, "old-phone", true).await;
    push.subscribe(&second_device(&server, &bob).await, "new-phone", true)
        .await;
    push.service
        .gone
        .lock()
        .unwrap()
        .insert("old-phone".to_owned());

    let mut ann_socket = ann.connect().await;
    say(&mut ann_socket, chat.id, "one").await.expect("acked");
    let mut devices = vec![push.next().await.device, push.next().await.device];
    devices.sort();
    assert_eq!(devices, ["new-phone", "old-phone"]);
    // The 410 removed it from the database.
    let database = server.data.path().join("natter.sqlite3");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let connection = rusqlite::Connection::open(&database).unwrap();
        let left: Vec<String> = connection
            .prepare("SELECT endpoint FROM push_devices ORDER BY endpoint")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        if left.len() == 1 {
            assert!(left[0].ends_with("/push/new-phone"));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still stored: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    say(&mut ann_socket, chat.id, "two").await.expect("acked");
    assert_eq!(push.next().await.device, "new-phone");
    push.nothing_more().await;
}

#[tokio::test]
async fn endpoints_off_the_public_internet_and_bad_keys_are_refused() {
    // A server as deployed: no loopback stand-ins.
    let server = TestServer::start().await;
    let bob = server.signup("bob").await;
    let keys = DeviceKeys::new();
    let good_keys = PushKeys {
        p256dh: keys.public(),
        auth: URL_SAFE_NO_PAD.encode(keys.auth),
    };
    let refused = |endpoint: &str, keys: PushKeys, why: &str| {
        let bob = bob.clone();
        let body = PushSubscription {
            endpoint: endpoint.to_owned(),
            keys,
            previews: true,
        };
        let why = why.to_owned();
        async move {
            let response = bob
                .request(Method::PUT, "/api/push/subscription")
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::BAD_REQUEST,
                "{}",
                body.endpoint
            );
            let error: ApiError = response.json().await.unwrap();
            assert!(
                error.message.contains(&why),
                "{}: {:?} should say {why:?}",
                body.endpoint,
                error.message
            );
        }
    };
    for (endpoint, why) in [
        ("http://push.example/x", "only https"),
        ("https://push.example:8443/x", "port"),
        ("https://127.0.0.1/x", "not a public internet address"),
        ("https://2130706433/x", "not a public internet address"),
        (
            "https://[::ffff:127.0.0.1]/x",
            "not a public internet address",
        ),
        ("https://10.0.0.7/x", "not a public internet address"),
        (
            "https://169.254.169.254/latest",
            "not a public internet address",
        ),
        ("https://[fd00::1]/x", "not a public internet address"),
        ("javascript:alert(1)", "only https"),
        ("push me", "not a URL"),
    ] {
        refused(endpoint, good_keys.clone(), why).await;
    }
    let long = format!("https://push.example/{}", "x".repeat(3000));
    refused(&long, good_keys.clone(), "longer than").await;
    let mut short_key = good_keys.clone();
    short_key.p256dh = URL_SAFE_NO_PAD.encode([4u8; 33]);
    refused("https://push.example/x", short_key, "p256dh").await;
    let mut short_auth = good_keys.clone();
    short_auth.auth = URL_SAFE_NO_PAD.encode([1u8; 8]);
    refused("https://push.example/x", short_auth, "auth").await;

    // A public endpoint with good keys is kept; nobody else may subscribe.
    let response = bob
        .request(Method::PUT, "/api/push/subscription")
        .json(&PushSubscription {
            endpoint: "https://push.example/ok".to_owned(),
            keys: good_keys.clone(),
            previews: true,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let anonymous = reqwest::Client::new()
        .put(server.url("/api/push/subscription"))
        .json(&json!({"endpoint": "https://push.example/y", "keys": good_keys, "previews": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let malformed = bob
        .request(Method::PUT, "/api/push/subscription")
        .json(&json!({"endpoint": "https://push.example/z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let response = bob
        .request(Method::DELETE, "/api/push/subscription")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_blocked_person_s_group_messages_are_never_pushed() {
    let mut push = Harness::start().await;
    let server = push_server().await;
    let [ann, bob, carol] = acquainted(&server, ["ann", "bob", "carol"]).await;
    let group = ann
        .create_group(json!({"name": "Book club", "members": ["bob", "carol"]}))
        .await;
    let blocked = bob
        .request(Method::PUT, &format!("/api/blocks/{}", carol.user.id))
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), StatusCode::OK);
    push.subscribe(&bob, "bob-phone", true).await;

    let mut carol_socket = carol.connect().await;
    say(&mut carol_socket, group.id, "@bob you will love this")
        .await
        .expect("acked");
    let mut ann_socket = ann.connect().await;
    say(&mut ann_socket, group.id, "chapter 3 tonight")
        .await
        .expect("acked");
    let pushed = push.next().await;
    assert_eq!(pushed.payload["body"], "ann: chapter 3 tonight");
    push.nothing_more().await;
}
