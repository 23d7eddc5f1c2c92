//! The WebSocket endpoint: who may connect (and how many at once,
//! [`caps`]), then the per-connection loop in [`connection`].

pub mod caps;
pub mod connection;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use natter_protocol::limits::MAX_FRAME_BYTES;
use natter_protocol::ErrorCode;

use crate::auth::{hash_token, token_from};
use crate::chat::ChatError;
use crate::error::AppError;
use crate::http::extract::ClientAddress;
use crate::AppState;

/// tungstenite's own cap, above [`MAX_FRAME_BYTES`] so that an oversized
/// frame reaches our check and gets a proper 1009 close instead of a dropped
/// connection.
const TRANSPORT_LIMIT: usize = 16 * MAX_FRAME_BYTES;
/// Bytes read from the socket at a time. Chat frames are small, and an
/// idle connection should cost little: tungstenite's default is 128 KiB,
/// allocated up front for every socket.
const READ_BUFFER: usize = 4 * 1024;
/// Frames written are gathered up to this before a write (a flush writes
/// the rest), so that a burst of acks and messages goes out in one write.
const WRITE_BUFFER: usize = 16 * 1024;

/// `GET /ws`: checks the Origin (403), the session (401) and the socket
/// caps (429) before upgrading.
pub async fn upgrade(
    State(state): State<AppState>,
    ClientAddress(from): ClientAddress,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&headers, &state.config.allowed_origins) {
        return AppError::Forbidden("This origin may not open a Natter socket.").into_response();
    }
    let Some(token) = token_from(&headers) else {
        return AppError::Unauthenticated.into_response();
    };
    let token_hash = hash_token(token);
    let user = match state.chat.session_user(token_hash).await {
        Ok(Some(user)) => user,
        Ok(None) => return AppError::Unauthenticated.into_response(),
        Err(err) => return AppError::from(err).into_response(),
    };
    let seat = match state.sockets.admit(user.id, from) {
        Ok(seat) => seat,
        Err(full) => return AppError::TooManySockets(full).into_response(),
    };
    let tracker = state.connections.clone();
    let session = connection::Session {
        seat,
        chat: state.chat.clone(),
        user,
        token_hash,
        fair: state.fair.clone(),
        previews: state.previews.clone(),
        address: from,
        send_timeout: state.config.send_timeout,
        shutdown: state.shutdown.clone(),
    };
    upgrade
        .max_message_size(TRANSPORT_LIMIT)
        .max_frame_size(TRANSPORT_LIMIT)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        // Boxed: unboxed, the connection's state is laid out inside axum's
        // upgrade task beside the closure's; boxed, the memory bench
        // measures about 0.7 KiB less per idle socket.
        .on_upgrade(move |socket| {
            tracker.track_future(Box::pin(connection::serve(socket, session)))
        })
}

/// The protocol's error code for a refusal; its message is the error's own.
pub fn error_code(err: &ChatError) -> ErrorCode {
    match err {
        ChatError::NotAMember => ErrorCode::NotAMember,
        ChatError::Internal(_) => ErrorCode::Internal,
        _ => ErrorCode::InvalidMessage,
    }
}

/// Browsers always send `Origin` on WebSocket upgrades, and a page on another
/// site must not be able to ride the user's cookie. Clients without an
/// Origin are not browsers, so no cookie can be borrowed from them.
fn origin_allowed(headers: &HeaderMap, extra: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if extra.iter().any(|allowed| allowed == origin) {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or_default();
    !host.is_empty() && (origin == format!("http://{host}") || origin == format!("https://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, origin.parse().unwrap());
        }
        headers
    }

    #[test]
    fn same_origin_and_listed_origins_pass() {
        assert!(origin_allowed(&headers(Some("http://127.0.0.1:8080")), &[]));
        assert!(origin_allowed(&headers(None), &[]));
        assert!(!origin_allowed(&headers(Some("http://evil.example")), &[]));
        let extra = vec!["http://127.0.0.1:9000".to_owned()];
        assert!(origin_allowed(
            &headers(Some("http://127.0.0.1:9000")),
            &extra
        ));
    }
}
