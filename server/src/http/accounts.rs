//! Sign-up, login, logout and "who am I".

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use natter_protocol::limits::{self, canonical_username};
use natter_protocol::{Credentials, ProfileUpdate, SessionInfo, User};

use super::extract::Json;
use crate::auth::{self, CurrentUser};
use crate::error::AppError;
use crate::hub::Event;
use crate::{now_millis, AppState};

pub async fn signup(
    State(state): State<AppState>,
    Json(credentials): Json<Credentials>,
) -> Result<Response, AppError> {
    limits::check_username(&credentials.username)?;
    limits::check_password(&credentials.password)?;
    let password = credentials.password;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|err| AppError::Internal(err.to_string()))?
        .map_err(|err| AppError::Internal(err.to_string()))?;
    let user = state
        .store
        .create_user(&credentials.username, &hash)
        .await?;
    tracing::info!(user = user.id, "signed up");
    start_session(&state, user, StatusCode::CREATED).await
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(credentials): Json<Credentials>,
) -> Result<Response, AppError> {
    let key = canonical_username(&credentials.username);
    if let Err(retry_after_secs) = state.throttle.check(&key, peer.ip()) {
        return Err(AppError::TooManyAttempts { retry_after_secs });
    }
    let stored = state.store.credentials(&credentials.username).await?;
    let password = credentials.password;
    let hash = stored.as_ref().map(|s| s.password_hash.clone());
    let valid =
        tokio::task::spawn_blocking(move || auth::verify_password(hash.as_deref(), &password))
            .await
            .map_err(|err| AppError::Internal(err.to_string()))?;
    match stored {
        Some(stored) if valid => {
            state.throttle.record_success(&key);
            start_session(&state, stored.user, StatusCode::OK).await
        }
        _ => {
            state.throttle.record_failure(&key, peer.ip());
            Err(AppError::BadCredentials)
        }
    }
}

async fn start_session(
    state: &AppState,
    user: User,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (token, token_hash) = auth::new_token();
    state
        .store
        .create_session(token_hash, user.id, auth::session_expiry())
        .await?;
    let cookie = auth::session_cookie(&token, state.config.secure_cookies);
    Ok((status, [(header::SET_COOKIE, cookie)], axum::Json(user)).into_response())
}

pub async fn logout(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Response, AppError> {
    state.store.delete_session(current.token_hash).await?;
    // Sockets opened with this session close too.
    state
        .hub
        .publish(&[current.user.id], Event::SessionEnded(current.token_hash));
    let cookie = auth::clear_cookie(state.config.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

pub async fn me(current: CurrentUser) -> axum::Json<User> {
    axum::Json(current.user)
}

/// `GET /api/session`: who is signed in, or `null`, always with 200.
pub async fn session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<axum::Json<SessionInfo>, AppError> {
    let user = match auth::token_from(&headers) {
        Some(token) => {
            state
                .store
                .session_user(auth::hash_token(token), now_millis())
                .await?
        }
        None => None,
    };
    Ok(axum::Json(SessionInfo { user }))
}

/// `PATCH /api/me`: sets the display name and avatar. Everyone who shares
/// a conversation with the user hears of it (their conversations are sent
/// again, with the new profile in the member list).
pub async fn update_profile(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(update): Json<ProfileUpdate>,
) -> Result<axum::Json<User>, AppError> {
    let display_name = match update.display_name.as_deref() {
        Some(name) => limits::check_display_name(name)?,
        None => None,
    };
    let avatar = update.avatar.filter(|avatar| !avatar.is_empty());
    if let Some(avatar) = &avatar {
        limits::check_group_picture(avatar)?;
    }
    let user = state
        .store
        .update_profile(current.user.id, display_name, avatar)
        .await?;
    for conversation in state.store.conversations(user.id).await? {
        let members: Vec<_> = conversation.members.iter().map(|m| m.user.id).collect();
        state
            .hub
            .publish(&members, Event::Conversation(Arc::new(conversation)));
    }
    Ok(axum::Json(user))
}
