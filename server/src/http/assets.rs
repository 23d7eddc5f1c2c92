//! The built client (`dist/`), served with precompressed variants,
//! immutable caching for content-hashed files, and an SPA fallback to
//! `index.html` for pages (never for files: a missing script or wasm is a
//! 404, not a page that a browser or the service worker would keep as it).

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get_service, MethodRouter};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct AssetsError {
    path: PathBuf,
    source: std::io::Error,
}

pub struct Client {
    dir: PathBuf,
    /// Base64 SHA-256 of each inline `<script>` in index.html, for the CSP.
    pub inline_script_hashes: Vec<String>,
    built: bool,
}

impl Client {
    /// Reads `dir/index.html`. A missing client is not an error: the API
    /// still works, and `/` explains how to build the client.
    pub fn load(dir: &Path) -> Result<Self, AssetsError> {
        let index = dir.join("index.html");
        match std::fs::read_to_string(&index) {
            Ok(html) => Ok(Client {
                dir: dir.to_owned(),
                inline_script_hashes: inline_scripts(&html)
                    .map(|script| STANDARD.encode(Sha256::digest(script.as_bytes())))
                    .collect(),
                built: true,
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                tracing::warn!(dir = %dir.display(), "no built client; serving the API only");
                Ok(Client {
                    dir: dir.to_owned(),
                    inline_script_hashes: Vec::new(),
                    built: false,
                })
            }
            Err(source) => Err(AssetsError {
                path: index,
                source,
            }),
        }
    }

    pub fn service<S: Clone + Send + Sync + 'static>(&self) -> MethodRouter<S> {
        if !self.built {
            return get_service(tower::service_fn(|_req: Request| async {
                Ok::<_, std::convert::Infallible>(
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        Html("<h1>Natter</h1><p>The web client is not built. Run <code>cargo xtask run</code>.</p>"),
                    )
                        .into_response(),
                )
            }));
        }
        let files = ServeDir::new(&self.dir)
            .precompressed_br()
            .precompressed_gzip();
        let pages = files.clone().fallback(
            ServeFile::new(self.dir.join("index.html"))
                .precompressed_br()
                .precompressed_gzip(),
        );
        get_service(tower::service_fn(move |req: Request| {
            let (files, pages) = (files.clone(), pages.clone());
            async move {
                let path = req.uri().path();
                let immutable = is_content_hashed(path);
                let mut response: Response = if names_a_file(path) {
                    files.oneshot(req).await?.map(Body::new)
                } else {
                    pages.oneshot(req).await?.map(Body::new)
                };
                let policy = if immutable && response.status().is_success() {
                    "public, max-age=31536000, immutable"
                } else {
                    // index.html and the service worker must be revalidated
                    // so that a new build is picked up.
                    "no-cache"
                };
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
                Ok::<_, std::convert::Infallible>(response)
            }
        }))
    }
}

/// The bodies of inline `<script>` elements (those without `src`).
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (tag, rest) = rest.split_once('>')?;
        if tag.contains("src=") {
            return None;
        }
        rest.split_once("</script>").map(|(body, _)| body)
    })
}

/// Whether `path` names a file (its last segment has an extension) rather
/// than a page of the app.
fn names_a_file(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|name| name.contains('.'))
}

/// Built files carry a content hash of 16 hex digits in their name
/// (`main-<hash>.css`; Trunk's `name-<hash>.js` under `trunk serve`) or in
/// their directory (`cargo xtask`'s `app-<hash>/`), so their content never
/// changes under the same URL.
fn is_content_hashed(path: &str) -> bool {
    path.split('/').any(|segment| {
        segment
            .split(['-', '.', '_'])
            .any(|part| part.len() == 16 && part.bytes().all(|b| b.is_ascii_hexdigit()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_inline_scripts_only() {
        let html = r#"<script src="/a.js"></script><script type="module">init()</script>"#;
        assert_eq!(inline_scripts(html).collect::<Vec<_>>(), vec!["init()"]);
    }

    #[test]
    fn recognises_content_hashes() {
        assert!(is_content_hashed("/natter-1a2b3c4d5e6f7a8b_bg.wasm"));
        assert!(is_content_hashed("/style-1a2b3c4d5e6f7a8b.css"));
        assert!(is_content_hashed("/app-1a2b3c4d5e6f7a8b/chunk_3.wasm"));
        assert!(is_content_hashed("/app-1a2b3c4d5e6f7a8b/__wasm_split.js"));
        assert!(!is_content_hashed("/index.html"));
        assert!(!is_content_hashed("/sw.js"));
    }
}
