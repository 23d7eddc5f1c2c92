//! Groups over HTTP: creating one, adding, removing and promoting members,
//! leaving, renaming, and finding and joining public groups by hashtag.
//! Every change is announced to everyone it concerns as its event message
//! and the updated conversation.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use natter_protocol::limits::{self, MAX_GROUP_MEMBERS};
use natter_protocol::{
    AddMember, Conversation, ConversationId, GroupSearch, NewGroup, PublicGroup, RenameGroup,
    UserId,
};

use super::extract::{Json, Query};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::hub::Event;
use crate::store::{GroupChange, GroupChanged, GroupSpec};
use crate::{now_millis, AppState};

/// The most public groups one search returns.
const SEARCH_LIMIT: u32 = 20;

/// `POST /api/groups`.
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(request): Json<NewGroup>,
) -> Result<(StatusCode, axum::Json<Conversation>), AppError> {
    let name = limits::check_group_name(&request.name)?;
    let hashtag = request
        .hashtag
        .as_deref()
        .filter(|tag| !tag.trim().is_empty())
        .map(limits::check_hashtag)
        .transpose()?;
    if let Some(picture) = &request.picture {
        limits::check_group_picture(picture)?;
    }
    if request.members.len() >= MAX_GROUP_MEMBERS {
        return Err(AppError::BadRequest(format!(
            "Groups have at most {MAX_GROUP_MEMBERS} members."
        )));
    }
    let mut members = Vec::with_capacity(request.members.len());
    for username in &request.members {
        limits::check_username(username)?;
        let user = state
            .store
            .user_by_name(username)
            .await?
            .ok_or_else(|| AppError::NoSuchUsername(username.clone()))?;
        members.push(user.id);
    }
    let changed = state
        .store
        .create_group(
            current.user.id,
            GroupSpec {
                name,
                members,
                hashtag,
                picture: request.picture,
            },
            now_millis(),
        )
        .await?;
    Ok((StatusCode::CREATED, announce(&state, changed)))
}

/// `POST /api/groups/{id}/members` (admins).
pub async fn add(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<ConversationId>,
    Json(request): Json<AddMember>,
) -> Result<axum::Json<Conversation>, AppError> {
    limits::check_username(&request.username)?;
    let user = state
        .store
        .user_by_name(&request.username)
        .await?
        .ok_or_else(|| AppError::NoSuchUsername(request.username.clone()))?;
    change(&state, &current, id, GroupChange::Add(user.id)).await
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
    let name = limits::check_group_name(&request.name)?;
    change(&state, &current, id, GroupChange::Rename(name)).await
}

/// `POST /api/groups/{id}/join`: anyone, for a public group.
pub async fn join(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<ConversationId>,
) -> Result<axum::Json<Conversation>, AppError> {
    change(&state, &current, id, GroupChange::Join).await
}

/// `GET /api/groups?hashtag=prefix`: public groups by hashtag prefix.
pub async fn search(
    State(state): State<AppState>,
    _current: CurrentUser,
    Query(query): Query<GroupSearch>,
) -> Result<axum::Json<Vec<PublicGroup>>, AppError> {
    let typed = query.hashtag.trim();
    let prefix = typed.strip_prefix('#').unwrap_or(typed);
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if prefix.is_empty() || prefix.len() > limits::HASHTAG_MAX || !prefix.chars().all(allowed) {
        return Err(limits::Invalid::Hashtag.into());
    }
    Ok(axum::Json(
        state.store.public_groups(prefix, SEARCH_LIMIT).await?,
    ))
}

async fn change(
    state: &AppState,
    current: &CurrentUser,
    id: ConversationId,
    change: GroupChange,
) -> Result<axum::Json<Conversation>, AppError> {
    let changed = state
        .store
        .change_group(current.user.id, id, change, now_millis())
        .await?;
    Ok(announce(state, changed))
}

/// Tells everyone concerned: the event message first (which introduces
/// the group to a new member's devices), then the group as it is now.
fn announce(state: &AppState, changed: GroupChanged) -> axum::Json<Conversation> {
    let GroupChanged {
        conversation,
        message,
        audience,
    } = changed;
    state
        .hub
        .publish(&audience, Event::Message(Arc::new(message)));
    state.hub.publish(
        &audience,
        Event::Conversation(Arc::new(conversation.clone())),
    );
    axum::Json(conversation)
}
