//! The HTTP side of [`crate::fair`]: requests that write, search or upload
//! spend their account's and address's allowance, and past it are answered
//! 429 with `Retry-After`. Reads of one's own data are not limited here.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::extract::client_address;
use crate::auth::{hash_token, token_from};
use crate::error::AppError;
use crate::fair::Kind;
use crate::AppState;

/// What a request to `path`, under `/api` (a nested router sees its paths
/// without the prefix), does.
fn kind_of(method: &Method, path: &str) -> Option<Kind> {
    match *method {
        Method::GET if path.starts_with("/users/") || path == "/groups" => Some(Kind::Search),
        Method::POST if path == "/media" => Some(Kind::Upload),
        Method::POST | Method::PATCH | Method::PUT | Method::DELETE => Some(Kind::Write),
        _ => None,
    }
}

/// Limits what it must, passes everything on.
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(kind) = kind_of(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let address = client_address(
        request.extensions(),
        request.headers(),
        &state.config.trusted_proxies,
    );
    if let Some(address) = address {
        let account = token_from(request.headers()).map(hash_token);
        if let Err(retry_after_secs) = state.fair.admit(kind, account.as_ref(), address) {
            return AppError::RateLimited { retry_after_secs }.into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_searches_and_uploads_are_told_apart() {
        assert_eq!(kind_of(&Method::POST, "/media"), Some(Kind::Upload));
        assert_eq!(kind_of(&Method::GET, "/groups"), Some(Kind::Search));
        assert_eq!(kind_of(&Method::GET, "/users/ann"), Some(Kind::Search));
        assert_eq!(kind_of(&Method::PATCH, "/me"), Some(Kind::Write));
        assert_eq!(kind_of(&Method::GET, "/conversations"), None);
    }
}
