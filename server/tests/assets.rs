//! The built client as the server serves it: precompressed variants,
//! immutable caching for content-hashed files, the SPA fallback (for pages,
//! not files), and a CSP that allows the page's inline loader by its hash.

use base64::Engine;
use natter_server::config::Config;
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

const LOADER: &str = "import init from '/natter-0123456789abcdef.js'; await init();";

async fn serve_dist() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    let index = format!("<!DOCTYPE html><html><head><script type=\"module\">{LOADER}</script></head><body></body></html>");
    std::fs::write(dist.join("index.html"), &index).unwrap();
    std::fs::write(dist.join("natter-0123456789abcdef.js"), "export default 1;").unwrap();
    std::fs::write(
        dist.join("natter-0123456789abcdef.js.br"),
        b"pretend brotli",
    )
    .unwrap();
    std::fs::write(dist.join("manifest.webmanifest"), "{}").unwrap();
    let app = dist.join("app-0123456789abcdef");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("chunk_1.wasm"), b"\0asm").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config = Config::new(dir.path().join("data"), dist);
    tokio::spawn(async move {
        natter_server::run(listener, config, std::future::pending())
            .await
            .unwrap();
    });
    (url, dir)
}

#[tokio::test]
async fn hashed_files_are_immutable_and_precompressed() {
    let (url, _dir) = serve_dist().await;
    let client = reqwest::Client::new();
    let response = client
        .get(format!("{url}/natter-0123456789abcdef.js"))
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_ENCODING], "br");
    assert_eq!(
        response.headers()[CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .contains("javascript"));
    assert_eq!(response.text().await.unwrap(), "pretend brotli");

    let plain = client
        .get(format!("{url}/natter-0123456789abcdef.js"))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(plain.text().await.unwrap(), "export default 1;");
}

#[tokio::test]
async fn a_build_directory_is_immutable_and_a_missing_file_is_not_a_page() {
    let (url, _dir) = serve_dist().await;
    let part = reqwest::get(format!("{url}/app-0123456789abcdef/chunk_1.wasm"))
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::OK);
    assert_eq!(
        part.headers()[CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    // An older build's part, asked for after a deploy: it is gone, and the
    // answer must not be index.html (kept for a year as that part).
    for path in [
        "/app-fedcba9876543210/chunk_1.wasm",
        "/app-0123456789abcdef/gone.wasm",
        "/natter-fedcba9876543210.js",
    ] {
        let response = reqwest::get(format!("{url}{path}")).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-cache", "{path}");
    }
}

#[tokio::test]
async fn pages_fall_back_to_index_which_is_revalidated() {
    let (url, _dir) = serve_dist().await;
    for path in ["/", "/some/app/route"] {
        let response = reqwest::get(format!("{url}{path}")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-cache", "{path}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(LOADER));
        assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp}");
        assert!(response.text().await.unwrap().contains(LOADER));
    }
    let manifest = reqwest::get(format!("{url}/manifest.webmanifest"))
        .await
        .unwrap();
    assert_eq!(manifest.headers()[CACHE_CONTROL], "no-cache");
}

#[tokio::test]
async fn a_share_that_reaches_the_server_opens_the_app() {
    let (url, _dir) = serve_dist().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(format!("{url}/share"))
        .header(CONTENT_TYPE, "multipart/form-data; boundary=x")
        .body("--x\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhello\r\n--x--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[reqwest::header::LOCATION], "/");
}
