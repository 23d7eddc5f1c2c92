//! The client's protocol and socket layers in headless Chromium, against a
//! real server started by `cargo xtask test` (its URL arrives at build time
//! in `NATTER_TEST_SERVER`; the server trusts this page's origin).

#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::mpsc::unbounded;
use natter::net::http::{Api, HttpError};
use natter::net::session::{self, Command, ConnectionStatus, End, Host};
use natter::net::socket::{Incoming, Socket, SocketError};
use natter_protocol::{ApiErrorCode, ClientFrame, Credentials, ServerFrame, PROTOCOL_VERSION};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn server() -> &'static str {
    option_env!("NATTER_TEST_SERVER").unwrap_or("http://127.0.0.1:8080")
}

fn ws_url() -> String {
    format!("{}/ws", server().replacen("http", "ws", 1))
}

fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", (js_sys::Math::random() * 1e9) as u64)
}

async fn sign_up(prefix: &str) -> natter_protocol::User {
    Api::at(server())
        .signup(&Credentials {
            username: unique_name(prefix),
            password: "correct horse battery".into(),
        })
        .await
        .expect("sign up")
}

async fn next_frame(socket: &mut Socket) -> ServerFrame {
    match socket.next().await {
        Ok(Incoming::Frame(frame)) => *frame,
        Ok(Incoming::Unreadable(err)) => panic!("{err}"),
        Err(err) => panic!("socket ended: {err}"),
    }
}

#[wasm_bindgen_test]
fn frames_round_trip_through_json_in_wasm() {
    let frame = ClientFrame::Send {
        conversation: 3,
        client_id: uuid::Uuid::now_v7(),
        body: "héllo\n👋".into(),
        attachment: None,
        action: None,
        link_preview: None,
        reply_to: None,
    };
    let text = serde_json::to_string(&frame).unwrap();
    assert_eq!(serde_json::from_str::<ClientFrame>(&text).unwrap(), frame);
}

#[wasm_bindgen_test]
async fn the_api_explains_refusals() {
    let err = Api::at(server())
        .signup(&Credentials {
            username: "x".into(),
            password: "correct horse battery".into(),
        })
        .await
        .unwrap_err();
    match &err {
        HttpError::Api { status, body } => {
            assert_eq!(*status, 400);
            assert_eq!(body.error, ApiErrorCode::InvalidInput);
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    assert!(err.to_string().contains("3 to 32"));
    let unreachable = Api::at("http://127.0.0.1:9").me().await.unwrap_err();
    assert_eq!(unreachable, HttpError::Unreachable);
}

#[wasm_bindgen_test]
async fn the_socket_says_hello_and_carries_frames() {
    let me = sign_up("sock").await;
    let mut socket = Socket::open(&ws_url()).expect("open");
    socket
        .send(&ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            cursors: vec![],
        })
        .await
        .expect("hello");
    match next_frame(&mut socket).await {
        ServerFrame::Welcome { user, version } => {
            assert_eq!(user, me);
            assert_eq!(version, PROTOCOL_VERSION);
        }
        other => panic!("expected welcome, got {other:?}"),
    }
    assert_eq!(next_frame(&mut socket).await, ServerFrame::Synced);
    socket.send(&ClientFrame::Ping { nonce: 77 }).await.unwrap();
    assert_eq!(
        next_frame(&mut socket).await,
        ServerFrame::Pong { nonce: 77 }
    );
    socket.close().await;
}

#[wasm_bindgen_test]
async fn a_wrong_protocol_version_is_reported_with_its_close_code() {
    sign_up("old").await;
    let mut socket = Socket::open(&ws_url()).expect("open");
    socket
        .send(&ClientFrame::Hello {
            version: PROTOCOL_VERSION + 1,
            cursors: vec![],
        })
        .await
        .unwrap();
    assert!(matches!(
        next_frame(&mut socket).await,
        ServerFrame::Error { .. }
    ));
    match socket.next().await {
        Err(SocketError::Closed { code, .. }) => {
            assert_eq!(code, natter_protocol::close::UNSUPPORTED_VERSION)
        }
        _ => panic!("expected the socket to close"),
    }
}

/// A host that records what the session tells it.
#[derive(Clone, Default)]
struct Recorder {
    statuses: Rc<RefCell<Vec<ConnectionStatus>>>,
    frames: Rc<RefCell<Vec<ServerFrame>>>,
}

impl Host for Recorder {
    fn hello(&self) -> ClientFrame {
        ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            cursors: vec![],
        }
    }
    fn on_screen(&self) -> bool {
        true
    }
    fn outbox(&self) -> Vec<ClientFrame> {
        Vec::new()
    }
    async fn receive(&self, frames: Vec<ServerFrame>) -> Vec<ClientFrame> {
        self.frames.borrow_mut().extend(frames);
        Vec::new()
    }
    fn status(&self, status: ConnectionStatus) {
        self.statuses.borrow_mut().push(status);
    }
}

#[wasm_bindgen_test]
async fn the_session_connects_reports_online_and_stops_on_request() {
    sign_up("sess").await;
    let host = Recorder::default();
    let (commands, receiver) = unbounded();
    let run = session::run(ws_url(), Api::at(server()), host.clone(), receiver);
    let watcher = {
        let host = host.clone();
        async move {
            while !host
                .frames
                .borrow()
                .iter()
                .any(|f| matches!(f, ServerFrame::Synced))
            {
                gloo_timers::future::TimeoutFuture::new(20).await;
            }
            commands.unbounded_send(Command::Stop).unwrap();
        }
    };
    let (end, ()) = futures::join!(run, watcher);
    assert_eq!(end, End::Stopped);
    assert_eq!(
        host.statuses.borrow().as_slice(),
        &[
            ConnectionStatus::Connecting {
                offline_since: None
            },
            ConnectionStatus::Online
        ]
    );
    assert!(matches!(
        host.frames.borrow().first(),
        Some(ServerFrame::Welcome { .. })
    ));
}

#[wasm_bindgen_test]
async fn after_logout_the_session_ends_as_logged_out() {
    sign_up("gone").await;
    Api::at(server()).logout().await.expect("logout");
    let host = Recorder::default();
    let (_commands, receiver) = unbounded();
    let end = session::run(ws_url(), Api::at(server()), host.clone(), receiver).await;
    assert_eq!(end, End::LoggedOut);
    assert!(host.frames.borrow().is_empty());
}

#[wasm_bindgen_test]
fn the_address_bar_names_the_host_the_browser_loads() {
    use natter::components::browser::address_of;
    let host = |link: &str| address_of(link).map(|address| address.host);
    // A backslash is a slash to the browser: evil.example loads.
    assert_eq!(
        host("https://evil.example\\@bank.example/login").as_deref(),
        Some("evil.example")
    );
    assert_eq!(
        host("https://bank.example@evil.example/").as_deref(),
        Some("evil.example")
    );
    assert_eq!(
        host("http://EXAMPLE.org:80/a").as_deref(),
        Some("example.org")
    );
    assert_eq!(
        host("https://example.org:8443/").as_deref(),
        Some("example.org:8443")
    );
    assert_eq!(
        host("https://münchen.example/").as_deref(),
        Some("xn--mnchen-3ya.example")
    );
    assert_eq!(host("http://0x7f.1/").as_deref(), Some("127.0.0.1"));
    let secure = |link: &str| address_of(link).map(|address| address.secure);
    assert_eq!(secure("https://example.org/"), Some(true));
    assert_eq!(secure("http://example.org/"), Some(false));
    assert_eq!(host("javascript:alert(1)"), None);
    assert_eq!(host("not a link"), None);
}
