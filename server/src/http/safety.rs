//! Safety over HTTP: the people I block, block, unblock; reports.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use natter_protocol::{NewReport, ReportFiled, User, UserId};

use super::extract::Json;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::{now_millis, AppState};

/// `GET /api/blocks`: the people I block, most recent first.
pub async fn blocked(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<axum::Json<Vec<User>>, AppError> {
    Ok(axum::Json(state.chat.blocked_users(current.user.id).await?))
}

/// `PUT /api/blocks/{user}`: answers the people I block now.
pub async fn block(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(user): Path<UserId>,
) -> Result<axum::Json<Vec<User>>, AppError> {
    Ok(axum::Json(
        state
            .chat
            .block(current.user.id, user, now_millis())
            .await?,
    ))
}

/// `DELETE /api/blocks/{user}`: answers the people I block now.
pub async fn unblock(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(user): Path<UserId>,
) -> Result<axum::Json<Vec<User>>, AppError> {
    Ok(axum::Json(state.chat.unblock(current.user.id, user).await?))
}

/// `POST /api/reports`: 201 with the report's id.
pub async fn report(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(report): Json<NewReport>,
) -> Result<(StatusCode, axum::Json<ReportFiled>), AppError> {
    let id = state
        .chat
        .report(current.user.id, report, now_millis())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(ReportFiled { id })))
}
