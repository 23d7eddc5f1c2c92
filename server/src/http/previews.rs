//! Link previews over HTTP: `GET /api/previews?url=…` says what is at a
//! link (see [`crate::links`]); `GET /api/previews/images/{id}` serves a
//! preview's picture, to anyone signed in, like avatars.

use axum::extract::{Path, State};
use axum::response::Response;
use natter_protocol::LinkInfo;
use serde::Deserialize;

use super::extract::Query;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::AppState;

#[derive(Debug, Deserialize)]
pub struct Link {
    url: String,
}

/// `GET /api/previews?url=…`.
pub async fn look_up(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(link): Query<Link>,
) -> Result<axum::Json<LinkInfo>, AppError> {
    let info = state.previews.look_up(current.user.id, &link.url).await?;
    Ok(axum::Json(info))
}

/// `GET /api/previews/images/{id}`.
pub async fn picture(
    State(state): State<AppState>,
    _signed_in: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let jpeg = state
        .previews
        .pictures()
        .read(&id)
        .await
        .map_err(|err| AppError::Internal(format!("reading preview picture {id}: {err}")))?
        .ok_or(AppError::NotFound("picture"))?;
    Ok(super::pictures::named_by_content(jpeg))
}
