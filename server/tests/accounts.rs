//! Accounts over real HTTP: sign-up, login, logout, validation, throttling
//! and the headers every response carries.

mod common;

use common::{session_cookie, TestServer, PASSWORD};
use natter_protocol::{ApiError, ApiErrorCode, User};
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;

async fn post_json(server: &TestServer, path: &str, body: serde_json::Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url(path))
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn api_error(response: reqwest::Response) -> ApiError {
    response.json().await.expect("error body")
}

#[tokio::test]
async fn signup_login_logout() {
    let server = TestServer::start().await;
    let response = post_json(
        &server,
        "/api/signup",
        json!({"username": "Ann.B", "password": PASSWORD}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    let cookie = session_cookie(&response).unwrap();
    let user: User = response.json().await.unwrap();
    assert_eq!(user.username, "Ann.B");

    let me = |cookie: String| {
        let url = server.url("/api/me");
        async move {
            reqwest::Client::new()
                .get(url)
                .header(COOKIE, cookie)
                .send()
                .await
                .unwrap()
        }
    };
    let response = me(cookie.clone()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<User>().await.unwrap(), user);

    // Log in again, case-insensitively, for a second session.
    let response = post_json(
        &server,
        "/api/login",
        json!({"username": "ann.b", "password": PASSWORD}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let second = session_cookie(&response).unwrap();
    assert_ne!(second, cookie);

    let response = reqwest::Client::new()
        .post(server.url("/api/logout"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    // The logged-out session is dead on the server; the other one lives.
    assert_eq!(me(cookie).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(second).await.status(), StatusCode::OK);
    assert_eq!(
        me("natter_session=forged".into()).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn sessions_survive_a_server_restart() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let data = server.stop().await;
    let server = TestServer::start_in(data).await;
    let ann = common::Account {
        server: server.addr,
        ..ann
    };
    let response = ann.get("/api/me").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn invalid_signups_are_refused_and_store_nothing() {
    let server = TestServer::start().await;
    let cases = [
        (json!({"username": "an", "password": PASSWORD}), "3 to 32"),
        (
            json!({"username": "ann b", "password": PASSWORD}),
            "letters",
        ),
        (
            json!({"username": "ann", "password": "short"}),
            "at least 8",
        ),
        (json!({"username": "ann"}), "password"),
    ];
    for (body, hint) in cases {
        let response = post_json(&server, "/api/signup", body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let error = api_error(response).await;
        assert_eq!(error.error, ApiErrorCode::InvalidInput);
        assert!(error.message.contains(hint), "{body}: {}", error.message);
    }
    let response = reqwest::Client::new()
        .post(server.url("/api/signup"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(api_error(response).await.message.contains("JSON"));

    // None of that created "ann": the name is still free.
    server.signup("ann").await;
    let response = post_json(
        &server,
        "/api/signup",
        json!({"username": "ANN", "password": PASSWORD}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(api_error(response).await.error, ApiErrorCode::UsernameTaken);
}

#[tokio::test]
async fn wrong_credentials_look_the_same_and_are_throttled() {
    let server = TestServer::start().await;
    server.signup("ann").await;
    let wrong_password = post_json(
        &server,
        "/api/login",
        json!({"username": "ann", "password": "not the password"}),
    )
    .await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    let unknown_user = post_json(
        &server,
        "/api/login",
        json!({"username": "nobody", "password": "not the password"}),
    )
    .await;
    assert_eq!(unknown_user.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        api_error(wrong_password).await,
        api_error(unknown_user).await
    );

    // Nine more failures use up ann's allowance.
    for _ in 0..9 {
        let response = post_json(
            &server,
            "/api/login",
            json!({"username": "ann", "password": "guess guess"}),
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = post_json(
        &server,
        "/api/login",
        json!({"username": "ann", "password": PASSWORD}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let error = api_error(response).await;
    assert_eq!(error.error, ApiErrorCode::TooManyAttempts);
    assert_eq!(
        error.message,
        "Too many login attempts. Try again in 15 minutes."
    );
}

#[tokio::test]
async fn login_is_throttled_per_address_across_usernames() {
    let server = TestServer::start().await;
    for attempt in 0..natter_server::throttle::Throttle::PER_ADDRESS {
        let response = post_json(
            &server,
            "/api/login",
            json!({"username": format!("user{attempt}"), "password": "guess guess"}),
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = post_json(
        &server,
        "/api/login",
        json!({"username": "fresh_name", "password": "guess guess"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_session_is_asked_about_without_an_error() {
    let server = TestServer::start().await;
    let signed_out: serde_json::Value = reqwest::get(server.url("/api/session"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(signed_out, json!({ "user": null }));
    let ann = server.signup("ann").await;
    let response = ann.get("/api/session").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let signed_in: natter_protocol::SessionInfo = response.json().await.unwrap();
    assert_eq!(signed_in.user, Some(ann.user));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let server = TestServer::start().await;
    for path in ["/", "/api/me", "/api/nope"] {
        let response = reqwest::get(server.url(path)).await.unwrap();
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("'wasm-unsafe-eval'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["cross-origin-resource-policy"], "same-origin");
        let permissions = headers["permissions-policy"].to_str().unwrap();
        assert!(permissions.contains("camera=(self)"), "{permissions}");
        assert!(permissions.contains("microphone=(self)"), "{permissions}");
        assert!(permissions.contains("geolocation=()"), "{permissions}");
    }
    let response = reqwest::get(server.url("/api/nope")).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(api_error(response).await.error, ApiErrorCode::NotFound);
}

#[tokio::test]
async fn a_profile_has_a_display_name_and_an_avatar_that_contacts_see() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    ann.open_direct("bob").await;
    let mut bob_socket = bob.connect().await;
    let avatar = "data:image/jpeg;base64,/9j/4AAQSkZJRg==";

    let response = ann
        .request(reqwest::Method::PATCH, "/api/me")
        .json(&json!({ "display_name": "  Ann Archer ", "avatar": avatar }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let updated: User = response.json().await.unwrap();
    assert_eq!(updated.display_name.as_deref(), Some("Ann Archer"));
    assert_eq!(updated.shown_name(), "Ann Archer");
    let me: User = ann
        .get("/api/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me, updated);

    // Bob's device hears of it at once, in a small frame: the picture is
    // a URL, and the URL serves the picture.
    let seen = bob_socket
        .next_matching(|frame| match frame {
            natter_protocol::ServerFrame::Profile { user } => Some(user),
            _ => None,
        })
        .await;
    assert_eq!(seen, updated);
    let url = seen.avatar.clone().unwrap();
    assert!(url.starts_with(natter_protocol::PICTURES_PATH), "{url}");
    let picture = bob.get(&url).send().await.unwrap();
    assert_eq!(picture.status(), StatusCode::OK);
    assert_eq!(picture.headers()["content-type"], "image/jpeg");
    assert!(picture.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert_eq!(
        picture.bytes().await.unwrap().as_ref(),
        &[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46][..]
    );
    // Only to people signed in, and a made-up hash is nobody's picture.
    let stranger = reqwest::get(server.url(&url)).await.unwrap();
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    let made_up = format!("{}{}", natter_protocol::PICTURES_PATH, "0".repeat(32));
    let missing = bob.get(&made_up).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    // The conversation, read again, carries the URL too.
    let conversations: Vec<natter_protocol::Conversation> = bob
        .get("/api/conversations")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let member = conversations[0]
        .members
        .iter()
        .find(|m| m.user.id == ann.user.id)
        .unwrap();
    assert_eq!(member.user, updated);

    // Sending the current URL back keeps the picture; someone else's URL
    // is refused.
    let kept: User = ann
        .request(reqwest::Method::PATCH, "/api/me")
        .json(&json!({ "display_name": "Ann", "avatar": url }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kept.avatar.as_deref(), Some(url.as_str()));
    let borrowed = bob
        .request(reqwest::Method::PATCH, "/api/me")
        .json(&json!({ "avatar": url }))
        .send()
        .await
        .unwrap();
    assert_eq!(borrowed.status(), StatusCode::BAD_REQUEST);

    for body in [
        json!({ "display_name": "x".repeat(41) }),
        json!({ "display_name": "two\nlines" }),
        json!({ "avatar": "data:image/png;base64,AA" }),
        // Spoofing: "\u{202E}evil\u{202C} Admin" shows as "live Admin".
        json!({ "display_name": "\u{202E}evil\u{202C} Admin" }),
        json!({ "display_name": "admin\u{200B}" }),
        json!({ "display_name": "\u{2060}\u{FEFF}" }),
    ] {
        let response = ann
            .request(reqwest::Method::PATCH, "/api/me")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert!(!api_error(response).await.message.is_empty());
    }
    // Blank clears.
    let cleared: User = ann
        .request(reqwest::Method::PATCH, "/api/me")
        .json(&json!({ "display_name": " " }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((cleared.display_name, cleared.avatar), (None, None));
}

#[tokio::test]
async fn a_new_password_ends_the_other_sessions_and_everywhere_ends_all() {
    let server = TestServer::start().await;
    let ann = server.signup("ann").await;
    // A second device of Ann's.
    let login = post_json(
        &server,
        "/api/login",
        json!({"username": "ann", "password": PASSWORD}),
    )
    .await;
    let other_cookie = common::session_cookie(&login).unwrap();
    let other = common::Account {
        cookie: other_cookie,
        ..ann.clone()
    };
    let mut other_socket = other.connect().await;

    let wrong = ann
        .post("/api/password")
        .json(&json!({"current": "not it at all", "new": "a brand new one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        api_error(wrong).await.message,
        "That is not your current password."
    );
    let short = ann
        .post("/api/password")
        .json(&json!({"current": PASSWORD, "new": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);

    let changed = ann
        .post("/api/password")
        .json(&json!({"current": PASSWORD, "new": "a brand new one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    // The other device is signed out at once; this one stays.
    assert_eq!(other_socket.closed().await, 4001);
    assert_eq!(
        other.get("/api/me").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        ann.get("/api/me").send().await.unwrap().status(),
        StatusCode::OK
    );
    let old = post_json(
        &server,
        "/api/login",
        json!({"username": "ann", "password": PASSWORD}),
    )
    .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = post_json(
        &server,
        "/api/login",
        json!({"username": "ann", "password": "a brand new one"}),
    )
    .await;
    assert_eq!(new.status(), StatusCode::OK);
    let third = common::Account {
        cookie: common::session_cookie(&new).unwrap(),
        ..ann.clone()
    };

    // Everywhere: every session ends, this one too.
    let mut socket = ann.connect().await;
    let everywhere = ann.post("/api/logout/everywhere").send().await.unwrap();
    assert_eq!(everywhere.status(), StatusCode::NO_CONTENT);
    assert_eq!(socket.closed().await, 4001);
    for account in [&ann, &third] {
        assert_eq!(
            account.get("/api/me").send().await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
}
