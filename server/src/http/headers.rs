//! Security headers on every response.

use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy. Scripts come only from this origin, plus the
/// exact inline loader Trunk writes into index.html, allowed by its hash
/// rather than by `'unsafe-inline'`. `'wasm-unsafe-eval'` lets the page
/// compile its WebAssembly; nothing else may be evaluated. Web pages may be
/// framed (the in-app browser shows links), but Natter itself may not be.
pub fn content_security_policy(inline_script_hashes: &[String]) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for hash in inline_script_hashes {
        script_src.push_str(&format!(" 'sha256-{hash}'"));
    }
    format!(
        "default-src 'self'; script-src {script_src}; style-src 'self'; \
         img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; \
         frame-src http: https:; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

pub fn secure(app: Router, inline_script_hashes: &[String]) -> Router {
    let csp = content_security_policy(inline_script_hashes);
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    let mut app = app;
    if let Ok(value) = HeaderValue::from_str(&csp) {
        app = app.layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            value,
        ));
    }
    for (name, value) in fixed {
        app = app.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ));
    }
    app
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_never_allows_unsafe_inline() {
        let csp = content_security_policy(&["abc=".to_owned()]);
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-abc='"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("frame-src http: https:;"));
        assert!(!csp.contains("unsafe-inline"));
    }
}
