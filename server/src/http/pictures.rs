//! `GET /api/avatars/{hash}`: avatars and group pictures, by the hash of
//! their content, to anyone signed in. Frames and lists carry these URLs
//! instead of the pictures, and a URL's content never changes, so browsers
//! (and the app's service worker) keep them.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::AppState;

pub async fn picture(
    State(state): State<AppState>,
    _signed_in: CurrentUser,
    Path(hash): Path<String>,
) -> Result<Response, AppError> {
    let jpeg = state.chat.picture(&hash).await?;
    Ok(named_by_content(jpeg))
}

/// A JPEG whose URL names its content: kept by browsers for good, and
/// never run as anything but a picture.
pub(super) fn named_by_content(jpeg: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=31536000, immutable"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(super::headers::MEDIA_POLICY),
            ),
        ],
        jpeg,
    )
        .into_response()
}
