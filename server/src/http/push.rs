//! Web Push subscriptions over HTTP: the server's key, and this device's
//! subscription.

use axum::extract::State;
use axum::http::StatusCode;
use natter_protocol::{PushKey, PushSubscription};

use super::extract::Json;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::{now_millis, AppState};

/// `GET /api/push`: the VAPID public key to subscribe with.
pub async fn key(
    State(state): State<AppState>,
    _current: CurrentUser,
) -> Result<axum::Json<PushKey>, AppError> {
    Ok(axum::Json(PushKey {
        key: state.chat.push_key()?,
    }))
}

/// `PUT /api/push/subscription`: this device's subscription, replacing the
/// one it had.
pub async fn subscribe(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(subscription): Json<PushSubscription>,
) -> Result<StatusCode, AppError> {
    state
        .chat
        .subscribe_push(
            current.user.id,
            current.token_hash,
            subscription,
            now_millis(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/push/subscription`: no more pushes to this device.
pub async fn unsubscribe(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<StatusCode, AppError> {
    state.chat.unsubscribe_push(current.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}
