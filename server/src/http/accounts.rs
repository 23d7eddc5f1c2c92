//! Sign-up, login, logout, "who am I" and the profile, over HTTP.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use natter_protocol::{Credentials, PasswordChange, ProfileUpdate, SessionInfo, User};

use super::extract::{ClientAddress, Json};
use crate::auth::{self, CurrentUser};
use crate::chat::account::Session;
use crate::error::AppError;
use crate::AppState;

pub async fn signup(
    State(state): State<AppState>,
    ClientAddress(from): ClientAddress,
    Json(credentials): Json<Credentials>,
) -> Result<Response, AppError> {
    let session = state.chat.sign_up(credentials, from).await?;
    Ok(with_cookie(&state, session, StatusCode::CREATED))
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddress(from): ClientAddress,
    Json(credentials): Json<Credentials>,
) -> Result<Response, AppError> {
    let session = state.chat.log_in(credentials, from).await?;
    Ok(with_cookie(&state, session, StatusCode::OK))
}

fn with_cookie(state: &AppState, session: Session, status: StatusCode) -> Response {
    let cookie = auth::session_cookie(&session.token, state.config.secure_cookies);
    (
        status,
        [(header::SET_COOKIE, cookie)],
        axum::Json(session.user),
    )
        .into_response()
}

pub async fn logout(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Response, AppError> {
    state
        .chat
        .log_out(current.user.id, current.token_hash)
        .await?;
    let cookie = auth::clear_cookie(state.config.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// `POST /api/logout/everywhere`: ends every session of the account.
pub async fn logout_everywhere(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Response, AppError> {
    state.chat.log_out_everywhere(current.user.id).await?;
    let cookie = auth::clear_cookie(state.config.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// `POST /api/password`: a new password; the other sessions end.
pub async fn change_password(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(change): Json<PasswordChange>,
) -> Result<StatusCode, AppError> {
    state
        .chat
        .change_password(&current.user, current.token_hash, change)
        .await?;
    Ok(StatusCode::NO_CONTENT)
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
        Some(token) => state.chat.session_user(auth::hash_token(token)).await?,
        None => None,
    };
    Ok(axum::Json(SessionInfo { user }))
}

/// `PATCH /api/me`: sets the display name and avatar.
pub async fn update_profile(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(update): Json<ProfileUpdate>,
) -> Result<axum::Json<User>, AppError> {
    Ok(axum::Json(
        state.chat.update_profile(current.user.id, update).await?,
    ))
}
