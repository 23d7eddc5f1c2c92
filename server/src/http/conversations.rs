//! Finding people, opening 1:1 conversations, listing conversations and
//! reading history, over HTTP.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use natter_protocol::{
    Conversation, ConversationId, HistoryQuery, Message, Mute, MuteFor, OpenDirect, User,
};

use super::extract::{Json, Query};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::{now_millis, AppState};

pub async fn find_user(
    State(state): State<AppState>,
    _current: CurrentUser,
    Path(username): Path<String>,
) -> Result<axum::Json<User>, AppError> {
    Ok(axum::Json(state.chat.find_user(&username).await?))
}

/// Opens the 1:1 conversation with a user: 201 when started now.
pub async fn open_direct(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(request): Json<OpenDirect>,
) -> Result<(StatusCode, axum::Json<Conversation>), AppError> {
    let (conversation, created) = state
        .chat
        .open_direct(current.user.id, &request.username, now_millis())
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(conversation)))
}

/// Every conversation of the user, latest activity first.
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<axum::Json<Vec<Conversation>>, AppError> {
    Ok(axum::Json(state.chat.conversations(current.user.id).await?))
}

pub async fn one(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<ConversationId>,
) -> Result<axum::Json<Conversation>, AppError> {
    Ok(axum::Json(
        state.chat.conversation(current.user.id, id).await?,
    ))
}

/// A page of history, oldest first: the newest messages, or those before
/// `before`.
pub async fn history(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<ConversationId>,
    Query(query): Query<HistoryQuery>,
) -> Result<axum::Json<Vec<Message>>, AppError> {
    Ok(axum::Json(
        state
            .chat
            .history(current.user.id, id, query.before, query.limit)
            .await?,
    ))
}

/// `POST /api/conversations/{id}/accept`: a message request becomes an
/// ordinary conversation.
pub async fn accept(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<ConversationId>,
) -> Result<axum::Json<Conversation>, AppError> {
    Ok(axum::Json(state.chat.accept(current.user.id, id).await?))
}

/// `DELETE /api/conversations/{id}`: the user deletes a chat (a message
/// request, or any other): they leave it, and their devices forget it.
pub async fn delete(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<ConversationId>,
) -> Result<StatusCode, AppError> {
    state
        .chat
        .delete_chat(&current.user, id, now_millis())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/mutes`: the conversations I muted.
pub async fn mutes(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<axum::Json<Vec<Mute>>, AppError> {
    Ok(axum::Json(
        state.chat.mutes(current.user.id, now_millis()).await?,
    ))
}

/// `PUT /api/conversations/{id}/mute`: answers my mutes now.
pub async fn mute(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<ConversationId>,
    Json(mute): Json<MuteFor>,
) -> Result<axum::Json<Vec<Mute>>, AppError> {
    Ok(axum::Json(
        state
            .chat
            .mute(current.user.id, id, mute.for_ms, now_millis())
            .await?,
    ))
}

/// `DELETE /api/conversations/{id}/mute`: answers my mutes now.
pub async fn unmute(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<ConversationId>,
) -> Result<axum::Json<Vec<Mute>>, AppError> {
    Ok(axum::Json(
        state.chat.unmute(current.user.id, id, now_millis()).await?,
    ))
}
