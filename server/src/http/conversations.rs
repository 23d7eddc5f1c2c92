//! Finding people, opening 1:1 conversations, listing conversations and
//! reading history.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use natter_protocol::{
    limits, Conversation, ConversationId, HistoryQuery, Message, OpenDirect, User,
};

use super::extract::{Json, Query};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::hub::Event;
use crate::{now_millis, AppState};

pub async fn find_user(
    State(state): State<AppState>,
    _current: CurrentUser,
    Path(username): Path<String>,
) -> Result<axum::Json<User>, AppError> {
    limits::check_username(&username)?;
    let user = state
        .store
        .user_by_name(&username)
        .await?
        .ok_or_else(|| AppError::NoSuchUsername(username.clone()))?;
    Ok(axum::Json(user))
}

/// Opens the 1:1 conversation with a user, starting it if needed. Both users'
/// devices hear of a new conversation at once.
pub async fn open_direct(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(request): Json<OpenDirect>,
) -> Result<(StatusCode, axum::Json<Conversation>), AppError> {
    limits::check_username(&request.username)?;
    let other = state
        .store
        .user_by_name(&request.username)
        .await?
        .ok_or_else(|| AppError::NoSuchUsername(request.username.clone()))?;
    if other.id == current.user.id {
        return Err(AppError::BadRequest(
            "You can't start a conversation with yourself.".to_owned(),
        ));
    }
    let (conversation, created) = state
        .store
        .open_direct(current.user.id, other.id, now_millis())
        .await?;
    if created {
        state.hub.publish(
            &[current.user.id, other.id],
            Event::Conversation(Arc::new(conversation.clone())),
        );
    }
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
    let mut conversations = state.store.conversations(current.user.id).await?;
    conversations.sort_by_key(|c| {
        std::cmp::Reverse(
            c.last_message
                .as_ref()
                .map_or(c.created_at, |message| message.sent_at),
        )
    });
    Ok(axum::Json(conversations))
}

pub async fn one(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<ConversationId>,
) -> Result<axum::Json<Conversation>, AppError> {
    state
        .store
        .conversation(current.user.id, id)
        .await?
        .map(axum::Json)
        .ok_or(AppError::NotFound("conversation"))
}

/// A page of history, oldest first: the newest messages, or those before
/// `before`.
pub async fn history(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<ConversationId>,
    Query(query): Query<HistoryQuery>,
) -> Result<axum::Json<Vec<Message>>, AppError> {
    let limit = query.limit.unwrap_or(50).clamp(1, limits::MAX_PAGE);
    let before = query.before.unwrap_or(u64::MAX >> 1);
    let page = state
        .store
        .messages_before(current.user.id, id, before, limit)
        .await?;
    Ok(axum::Json(page))
}
