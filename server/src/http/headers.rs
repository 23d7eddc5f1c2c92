//! Security headers on every response.

use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy. Scripts come only from this origin, plus the
/// exact inline loader in index.html (written by `cargo xtask`, or by Trunk
/// under `trunk serve`), allowed by its hash
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

/// What the page may use of the device: the camera (scanning profile
/// codes) and the microphone (voice messages), for Natter itself; video
/// may go full screen or picture-in-picture, and the in-app browser's
/// "copy link" writes to the clipboard. Nothing else, for nobody.
pub const PERMISSIONS_POLICY: &str = "camera=(self), microphone=(self), fullscreen=(self), \
     picture-in-picture=(self), clipboard-write=(self), geolocation=(), accelerometer=(), \
     gyroscope=(), magnetometer=(), bluetooth=(), usb=(), serial=(), hid=(), midi=(), \
     payment=(), display-capture=(), screen-wake-lock=(), idle-detection=(), \
     publickey-credentials-get=(), xr-spatial-tracking=(), browsing-topics=()";

/// The policy of uploaded files: never a page of ours, whatever a file
/// claims to be (a sandboxed document has an origin of its own, with no
/// cookies, no storage and no scripts).
pub const MEDIA_POLICY: &str = "sandbox; default-src 'none'";

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
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            PERMISSIONS_POLICY,
        ),
    ];
    let mut app = app;
    if let Ok(value) = HeaderValue::from_str(&csp) {
        // Routes with a stricter policy of their own (media) keep it.
        app = app.layer(SetResponseHeaderLayer::if_not_present(
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
        assert!(HeaderValue::from_str(PERMISSIONS_POLICY).is_ok());
    }
}
