//! Groups over HTTP: creating one, adding, removing and promoting members,
//! leaving, renaming, and finding and joining public groups by hashtag.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use natter_protocol::{
    AddMember, Conversation, ConversationId, GroupSearch, NewGroup, PublicGroup, RenameGroup, User,
    UserId,
};

use super::extract::{Json, Query};
use crate::auth::CurrentUser;
use crate::chat::groups::GroupChange;
use crate::error::AppError;
use crate::{now_millis, AppState};

/// `POST /api/groups`.
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(request): Json<NewGroup>,
) -> Result<(StatusCode, axum::Json<Conversation>), AppError> {
    let conversation = state
        .chat
        .create_group(&current.user, request, now_millis())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(conversation)))
}

/// `POST /api/groups/{id}/members` (admins).
pub async fn add(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<ConversationId>,
    Json(request): Json<AddMember>,
) -> Result<axum::Json<Conversation>, AppError> {
    change(&state, &current, id, GroupChange::Add(request.username)).await
}

/// `DELETE /api/groups/{id}/members/{user}`: admins remove others; anyone
/// removes themselves, which is leaving.
pub async fn remove(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((id, user)): Path<(ConversationId, UserId)>,
) -> Result<axum::Json<Conversation>, AppError> {
    change(&state, &current, id, GroupChange::Remove(user)).await
}

/// `POST /api/groups/{id}/admins/{user}` (admins).
pub async fn promote(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((id, user)): Path<(ConversationId, UserId)>,
) -> Result<axum::Json<Conversation>, AppError> {
    change(&state, &current, id, GroupChange::Promote(user)).await
}

/// `PATCH /api/groups/{id}` (admins).
pub async fn rename(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<ConversationId>,
    Json(request): Json<RenameGroup>,
) -> Result<axum::Json<Conversation>, AppError> {
    change(&state, &current, id, GroupChange::Rename(request.name)).await
}

/// `POST /api/groups/{id}/join`: anyone, for a public group.
pub async fn join(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<ConversationId>,
) -> Result<axum::Json<Conversation>, AppError> {
    change(&state, &current, id, GroupChange::Join).await
}

/// `GET /api/groups/{id}/bans` (admins): who may not join again.
pub async fn bans(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<ConversationId>,
) -> Result<axum::Json<Vec<User>>, AppError> {
    Ok(axum::Json(state.chat.bans(&current.user, id).await?))
}

/// `DELETE /api/groups/{id}/bans/{user}` (admins): lets them join again.
pub async fn unban(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((id, user)): Path<(ConversationId, UserId)>,
) -> Result<axum::Json<Conversation>, AppError> {
    change(&state, &current, id, GroupChange::Unban(user)).await
}

/// `GET /api/groups?hashtag=prefix`: public groups by hashtag prefix.
pub async fn search(
    State(state): State<AppState>,
    _current: CurrentUser,
    Query(query): Query<GroupSearch>,
) -> Result<axum::Json<Vec<PublicGroup>>, AppError> {
    Ok(axum::Json(state.chat.search_groups(&query.hashtag).await?))
}

async fn change(
    state: &AppState,
    current: &CurrentUser,
    id: ConversationId,
    change: GroupChange,
) -> Result<axum::Json<Conversation>, AppError> {
    Ok(axum::Json(
        state
            .chat
            .change_group(&current.user, id, change, now_millis())
            .await?,
    ))
}
