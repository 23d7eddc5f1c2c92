//! Link previews against a real server and a stand-in web site on
//! 127.0.0.1 (the one origin the test setting opens). Every refused form
//! is tried; a listener on 127.0.0.2, on the same port, stands for the
//! inside of the network and must never be connected to.

mod common;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use common::{Account, TestServer};
use natter_protocol::{ApiError, ClientFrame, ErrorCode, LinkInfo, ServerFrame};
use tokio::net::TcpListener;
use uuid::Uuid;

/// The stand-in site, and the address nothing may reach.
struct Site {
    port: u16,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    inside: Arc<AtomicUsize>,
}

impl Site {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

fn html(body: impl Into<Body>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn moved(to: String) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

fn picture() -> Vec<u8> {
    let image = image::RgbImage::from_fn(1200, 630, |x, _| image::Rgb([(x % 256) as u8, 90, 200]));
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

async fn site() -> Site {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // All of 127/8 is this machine: a second loopback address, same port.
    let inside = TcpListener::bind(("127.0.0.2", port)).await.unwrap();
    let reached = Arc::new(AtomicUsize::new(0));
    let counted = reached.clone();
    tokio::spawn(async move {
        while inside.accept().await.is_ok() {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let counting = hits.clone();
    let here = format!("http://127.0.0.1:{port}");
    let app = Router::new()
        .route(
            "/og",
            get(|| async {
                let page = r#"<!doctype html><html><head>
                    <title>Plain title</title>
                    <meta property="og:title" content="The Open Graph title">
                    <meta property="og:description" content="What the page is about &amp; more.">
                    <meta property="og:site_name" content="Example News">
                    <meta property="og:image" content="/picture.png">
                    </head><body>Hi</body></html>"#;
                let mut response = html(page);
                response.headers_mut().insert(
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; frame-ancestors 'self'".parse().unwrap(),
                );
                response
            }),
        )
        .route("/title", get(|| async { html("<title>  Just a\n title </title><p>text") }))
        .route(
            "/broken",
            get(|| async {
                html("<html><head><title>Broken page</title><body><div><p>unclosed <b>tags<meta name=description content='no end")
            }),
        )
        .route(
            "/latin1",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=ISO-8859-1")],
                    b"<title>Caf\xe9 cr\xe8me</title>".to_vec(),
                )
            }),
        )
        .route(
            "/meta-charset",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html")],
                    b"<meta charset=windows-1252><title>\x93Quoted\x94</title>".to_vec(),
                )
            }),
        )
        .route("/empty", get(|| async { html("<p>no title at all</p>") }))
        .route(
            "/picture.png",
            get(|| async { ([(header::CONTENT_TYPE, "image/png")], picture()) }),
        )
        .route(
            "/pdf",
            get(|| async { ([(header::CONTENT_TYPE, "application/pdf")], "%PDF-1.4") }),
        )
        .route(
            "/huge",
            get(|| async {
                let chunk = vec![b'a'; 64 * 1024];
                let chunks = (0..40).map(move |_| Ok::<_, std::io::Error>(chunk.clone()));
                let body = Body::from_stream(futures_util::stream::iter(chunks));
                html(body)
            }),
        )
        .route(
            "/huge-declared",
            get(|| async { html(vec![b'a'; 2 * 1024 * 1024]) }),
        )
        .route(
            "/slow",
            get(|| async {
                let drip = futures_util::stream::unfold(0, |n| async move {
                    if n > 0 {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    (n < 20).then(|| (Ok::<_, std::io::Error>(b"<p>.".to_vec()), n + 1))
                });
                html(Body::from_stream(drip))
            }),
        )
        .route(
            "/to-inside",
            get(move || async move { moved(format!("http://127.0.0.2:{port}/")) }),
        )
        .route("/to-loopback", get(|| async { moved("http://127.0.0.1/".to_owned()) }))
        .route(
            "/to-metadata",
            get(|| async { moved("http://169.254.169.254/latest/meta-data/".to_owned()) }),
        )
        .route(
            "/hops/{n}",
            get(move |Path(n): Path<u32>| {
                let here = here.clone();
                async move {
                    if n == 0 {
                        moved(format!("{here}/title"))
                    } else {
                        moved(format!("/hops/{}", n - 1))
                    }
                }
            }),
        )
        .layer(axum::middleware::from_fn(move |request: Request, next: axum::middleware::Next| {
            let counting = counting.clone();
            async move {
                *counting
                    .lock()
                    .unwrap()
                    .entry(request.uri().path().to_owned())
                    .or_default() += 1;
                next.run(request).await
            }
        }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Site {
        port,
        hits,
        inside: reached,
    }
}

async fn server_for(site: &Site) -> TestServer {
    let port = site.port;
    TestServer::start_configured(tempfile::tempdir().unwrap(), move |config| {
        config.preview_test_port = Some(port);
        config.preview_hosts = HashMap::from([
            (
                "sneaky.test".to_owned(),
                vec![IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))],
            ),
            (
                "internal.test".to_owned(),
                vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))],
            ),
        ]);
    })
    .await
}

async fn look_up(account: &Account, link: &str) -> Result<LinkInfo, (StatusCode, String)> {
    let response = account
        .get("/api/previews")
        .query(&[("url", link)])
        .send()
        .await
        .unwrap();
    let status = response.status();
    if status == StatusCode::OK {
        Ok(response.json().await.unwrap())
    } else {
        let error: ApiError = response.json().await.unwrap();
        Err((status, error.message))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_destinations_are_never_reached_and_say_why() {
    let site = site().await;
    let server = server_for(&site).await;
    let ann = server.signup("ann").await;
    let port = site.port;
    let refused = [
        // Inside addresses, in every spelling.
        (
            format!("http://127.0.0.2:{port}/"),
            "127.0.0.2 is not a public internet address",
        ),
        (
            format!("http://2130706434:{port}/"),
            "127.0.0.2 is not a public internet address",
        ),
        (
            format!("http://0x7f.0.0.2:{port}/"),
            "127.0.0.2 is not a public internet address",
        ),
        (
            format!("http://[::ffff:127.0.0.2]:{port}/"),
            "is not a public internet address",
        ),
        (
            "http://0x7f.1/".to_owned(),
            "127.0.0.1 is not a public internet address",
        ),
        (
            "http://[::1]/".to_owned(),
            "::1 is not a public internet address",
        ),
        ("http://10.1.2.3/".to_owned(), "10.1.2.3 is not a public"),
        (
            "http://192.168.0.1/".to_owned(),
            "192.168.0.1 is not a public",
        ),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "169.254.169.254 is not",
        ),
        ("http://100.64.0.1/".to_owned(), "100.64.0.1 is not"),
        ("http://0.0.0.0/".to_owned(), "0.0.0.0 is not"),
        ("http://240.0.0.1/".to_owned(), "240.0.0.1 is not"),
        ("http://224.0.0.1/".to_owned(), "224.0.0.1 is not"),
        ("http://192.0.2.1/".to_owned(), "192.0.2.1 is not"),
        ("http://[fd00::1]/".to_owned(), "fd00::1 is not"),
        ("http://[fe80::1]/".to_owned(), "fe80::1 is not"),
        (
            "http://[64:ff9b::7f00:2]/".to_owned(),
            "is not a public internet address",
        ),
        (
            "http://[::127.0.0.2]/".to_owned(),
            "is not a public internet address",
        ),
        // Names whose answer is inside.
        (
            format!("http://sneaky.test:{port}/"),
            "sneaky.test has no public internet address",
        ),
        (
            "http://internal.test/".to_owned(),
            "internal.test has no public internet address",
        ),
        (
            "http://localhost/".to_owned(),
            "localhost has no public internet address",
        ),
        // Redirects, each hop checked.
        (
            site.url("/to-inside"),
            "127.0.0.2 is not a public internet address",
        ),
        (
            site.url("/to-loopback"),
            "127.0.0.1 is not a public internet address",
        ),
        (site.url("/to-metadata"), "169.254.169.254 is not"),
        (site.url("/hops/5"), "redirects more than 5 times"),
        // Other ports, schemes and credentials.
        ("http://example.org:8080/".to_owned(), "usual ports"),
        ("https://example.org:80/".to_owned(), "usual ports"),
        ("ftp://example.org/".to_owned(), "only http and https"),
        ("file:///etc/passwd".to_owned(), "only http and https"),
        ("javascript:alert(1)".to_owned(), "only http and https"),
        (
            "http://me:pw@example.org/".to_owned(),
            "user name or password",
        ),
        ("not a link".to_owned(), "not a link"),
        // What the page is.
        (site.url("/pdf"), "not a web page (it is application/pdf)"),
        (site.url("/huge"), "larger than 1048576 bytes"),
        (site.url("/huge-declared"), "larger than 1048576 bytes"),
        (site.url("/slow"), "took more than 5 seconds"),
    ];
    for (link, why) in &refused {
        let (status, message) = look_up(&ann, link).await.expect_err(link);
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{link}: {status}"
        );
        assert!(message.starts_with("No preview: "), "{link}: {message}");
        assert!(
            message.contains(why),
            "{link}: {message:?} should say {why:?}"
        );
    }
    assert_eq!(
        site.inside.load(Ordering::SeqCst),
        0,
        "nothing reached the inside address"
    );
    // The sixth redirect was refused: its target was never asked for.
    assert_eq!(site.hits("/hops/0"), 1);
    assert_eq!(site.hits("/title"), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_read_for_their_cards_and_kept() {
    let site = site().await;
    let server = server_for(&site).await;
    let ann = server.signup("ann").await;

    let og = look_up(&ann, &site.url("/og#comments")).await.unwrap();
    let card = og.preview.clone().expect("a card");
    assert_eq!(
        card.url,
        site.url("/og#comments"),
        "the card names the link as written"
    );
    assert_eq!(card.title, "The Open Graph title");
    assert_eq!(
        card.description.as_deref(),
        Some("What the page is about & more.")
    );
    assert_eq!(card.site_name.as_deref(), Some("Example News"));
    assert!(
        og.refuses_frames,
        "frame-ancestors 'self' leaves Natter out"
    );
    let image = card.image.expect("a picture");
    assert_eq!((image.width, image.height), (600, 315));
    let served = ann
        .get(&format!("/api/previews/images/{}", image.id))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()[header::CONTENT_TYPE], "image/jpeg");
    let jpeg = served.bytes().await.unwrap();
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let missing = ann
        .get(&format!("/api/previews/images/{}", "0".repeat(64)))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let sneaky = ann
        .get("/api/previews/images/..%2Fnatter.sqlite3")
        .send()
        .await
        .unwrap();
    assert_eq!(sneaky.status(), StatusCode::NOT_FOUND);

    let title = look_up(&ann, &site.url("/title")).await.unwrap();
    assert_eq!(title.preview.expect("a card").title, "Just a title");
    assert!(!title.refuses_frames);
    let broken = look_up(&ann, &site.url("/broken"))
        .await
        .unwrap()
        .preview
        .unwrap();
    assert_eq!(broken.title, "Broken page");
    let latin1 = look_up(&ann, &site.url("/latin1"))
        .await
        .unwrap()
        .preview
        .unwrap();
    assert_eq!(latin1.title, "Café crème");
    let meta = look_up(&ann, &site.url("/meta-charset"))
        .await
        .unwrap()
        .preview
        .unwrap();
    assert_eq!(meta.title, "“Quoted”");
    let empty = look_up(&ann, &site.url("/empty")).await.unwrap();
    assert_eq!(empty.preview, None, "nothing to show, but framing is known");
    let hops = look_up(&ann, &site.url("/hops/4")).await.unwrap();
    assert_eq!(hops.final_url, site.url("/title"));

    // Kept for the day: asked again, by anyone, the site is not.
    let bob = server.signup("bob").await;
    look_up(&bob, &site.url("/og")).await.unwrap();
    look_up(&ann, &site.url("/title")).await.unwrap();
    assert_eq!(site.hits("/og"), 1);
    assert_eq!(
        site.hits("/title"),
        2,
        "once asked for, once through the hops"
    );

    // Fetching is limited per account; answers from the cache are not.
    let cara = server.signup("cara").await;
    for n in 0..20 {
        look_up(&cara, &site.url(&format!("/title?n={n}")))
            .await
            .unwrap();
    }
    let response = cara
        .get("/api/previews")
        .query(&[("url", site.url("/title?n=20"))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    look_up(&cara, &site.url("/title?n=3")).await.unwrap();
    look_up(&bob, &site.url("/title?n=20")).await.unwrap();

    let anonymous = reqwest::get(server.url("/api/previews?url=http://example.org/"))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

async fn send(
    socket: &mut common::Socket,
    conversation: natter_protocol::ConversationId,
    body: &str,
    card: Option<natter_protocol::LinkPreview>,
    action: Option<natter_protocol::Action>,
) -> Result<u64, (ErrorCode, String)> {
    let frame = ClientFrame::Send {
        conversation,
        client_id: Uuid::new_v4(),
        body: body.to_owned(),
        attachment: None,
        reply_to: None,
        action,
        link_preview: card.map(Box::new),
    };
    common::sent(socket, frame).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_goes_with_its_message_and_nowhere_else() {
    let site = site().await;
    let server = server_for(&site).await;
    let ann = server.signup("ann").await;
    let bob = server.signup("bob").await;
    let id = ann.open_direct("bob").await.id;
    let mut ann_socket = ann.connect().await;
    let mut bob_socket = bob.connect().await;

    let link = site.url("/og");
    let card = look_up(&ann, &link).await.unwrap().preview.unwrap();
    let body = format!("read this: {link}");
    let seq = send(&mut ann_socket, id, &body, Some(card.clone()), None)
        .await
        .unwrap();
    let heard = bob_socket
        .next_matching(|frame| match frame {
            ServerFrame::Message { message } if message.seq == seq => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(heard.link_preview.as_deref(), Some(&card));
    let stored = bob.history(id).await;
    assert_eq!(stored.last().unwrap().link_preview.as_deref(), Some(&card));
    assert_eq!(site.hits("/og"), 1, "Bob's side asked the site nothing");

    // A card for a link the text does not hold, or a forged one.
    let (code, message) = send(&mut ann_socket, id, "no link", Some(card.clone()), None)
        .await
        .unwrap_err();
    assert_eq!(code, ErrorCode::InvalidMessage, "{message}");
    let mut forged = card.clone();
    forged.image.as_mut().unwrap().id = "../natter.sqlite3".to_owned();
    let (code, _) = send(&mut ann_socket, id, &body, Some(forged), None)
        .await
        .unwrap_err();
    assert_eq!(code, ErrorCode::InvalidMessage);
    // The start of a longer link is not that link.
    let (code, _) = send(
        &mut ann_socket,
        id,
        &format!("{link}.evil.example/"),
        Some(card.clone()),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(code, ErrorCode::InvalidMessage);
    // A well-formed picture id this server never made goes no further.
    let mut made_up = card.clone();
    made_up.image.as_mut().unwrap().id = "ab".repeat(32);
    let made_up_seq = send(&mut ann_socket, id, &body, Some(made_up.clone()), None)
        .await
        .unwrap();
    let stored = bob.history(id).await;
    let kept = stored.iter().find(|m| m.seq == made_up_seq).unwrap();
    made_up.image = None;
    assert_eq!(kept.link_preview.as_deref(), Some(&made_up));

    // Deleted for everyone: the card goes with the text.
    send(
        &mut ann_socket,
        id,
        "",
        None,
        Some(natter_protocol::Action::Delete { target: seq }),
    )
    .await
    .unwrap();
    let stored = ann.history(id).await;
    let gone = stored.iter().find(|m| m.seq == seq).unwrap();
    assert!(gone.deleted);
    assert_eq!(gone.link_preview, None);
    server.stop().await;
}
