//! Uploading and serving media files.
//!
//! An upload is streamed to storage: the size limit is enforced as bytes
//! arrive, the first bytes must match the declared type before anything
//! else is read, and photos lose their metadata on the way (`scrub`). Files are served only to members of the conversation they
//! were uploaded to, with HTTP ranges, so videos stream and voice messages
//! seek.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use natter_protocol::{MediaKind, MediaLimits, Upload, UploadQuery};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use super::extract::Query;
use crate::auth::CurrentUser;
use crate::chat::ChatError;
use crate::error::AppError;
use crate::media::scrub::Scrubber;
use crate::media::{self, sniff};
use crate::store::MediaRecord;
use crate::{now_millis, AppState};

/// `GET /api/limits`: how large uploads may be.
pub async fn limits(State(state): State<AppState>) -> axum::Json<MediaLimits> {
    axum::Json(state.config.media_limits())
}

/// `POST /api/media?conversation=ID&kind=image|video|voice`, the raw file as
/// the body and its type in `Content-Type`.
pub async fn upload(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, axum::Json<Upload>), AppError> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| {
            AppError::UnsupportedMedia("Say what kind of file this is (Content-Type).".to_owned())
        })?
        .to_owned();
    let essence = sniff::essence(&declared);
    if !sniff::accepted(query.kind).contains(&essence.as_str()) {
        return Err(AppError::UnsupportedMedia(format!(
            "A {} can't be a {essence} file. Accepted: {}.",
            noun(query.kind),
            sniff::accepted(query.kind).join(", ")
        )));
    }
    let allowance = state
        .chat
        .may_upload(current.user.id, query.conversation, now_millis())
        .await?;
    let quota = || {
        AppError::Chat(ChatError::QuotaExceeded {
            limit_bytes: state.config.upload_quota_mb.saturating_mul(1_000_000),
        })
    };
    let limit = state.config.media_limits().bytes(query.kind);
    let declared_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > limit) {
        return Err(too_large(query.kind, limit));
    }
    if declared_length.is_some_and(|length| length > allowance) {
        return Err(quota());
    }

    let id = media::new_id();
    let mut writer = state
        .chat
        .media_storage()
        .create(&id)
        .await
        .map_err(|err| AppError::Internal(err.to_string()))?;
    let mut stream = body.into_data_stream();
    let mut head = Vec::with_capacity(sniff::HEAD);
    let mut received: u64 = 0;
    let mut size: u64 = 0;
    let mut scrubber = Scrubber::for_type(&essence);
    let mut kept = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| {
            AppError::BadRequest(format!("The upload was interrupted ({err}). Try again."))
        })?;
        received += chunk.len() as u64;
        if received > limit {
            return Err(too_large(query.kind, limit));
        }
        if received > allowance {
            return Err(quota());
        }
        if head.len() < sniff::HEAD {
            let take = (sniff::HEAD - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            if head.len() == sniff::HEAD && !sniff::matches(&essence, &head) {
                return Err(not_what_it_says(&essence));
            }
        }
        kept.clear();
        scrubber
            .feed(&chunk, &mut kept)
            .map_err(|err| AppError::UnsupportedMedia(format!("{err}, so it was not uploaded.")))?;
        size += kept.len() as u64;
        writer
            .write(&kept)
            .await
            .map_err(|err| AppError::Internal(err.to_string()))?;
    }
    if received == 0 {
        return Err(AppError::BadRequest("The file is empty.".to_owned()));
    }
    if head.len() < sniff::HEAD && !sniff::matches(&essence, &head) {
        return Err(not_what_it_says(&essence));
    }
    writer
        .commit()
        .await
        .map_err(|err| AppError::Internal(err.to_string()))?;
    let record = MediaRecord {
        id,
        uploader: current.user.id,
        conversation: query.conversation,
        kind: query.kind,
        content_type: declared,
        size,
        message_seq: None,
    };
    state.chat.uploaded(&record, now_millis()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Upload {
            id: record.id,
            kind: record.kind,
            content_type: record.content_type,
            size: record.size,
        }),
    ))
}

fn noun(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "photo",
        MediaKind::Video => "video",
        MediaKind::Voice => "voice message",
    }
}

fn too_large(kind: MediaKind, limit: u64) -> AppError {
    AppError::TooLarge(format!(
        "This {} is too large: the limit is {} MB.",
        noun(kind),
        limit / 1_000_000
    ))
}

fn not_what_it_says(essence: &str) -> AppError {
    AppError::UnsupportedMedia(format!(
        "This file is not really a {essence} file, so it was not uploaded."
    ))
}

/// `GET /api/media/{id}`: the file, to members of its conversation only.
pub async fn download(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, AppError> {
    let record = state.chat.media_for(current.user.id, &id).await?;
    let mime = record
        .content_type
        .parse()
        .map_err(|_| AppError::Internal(format!("stored type {:?}", record.content_type)))?;
    let mut response = ServeFile::new_with_mime(state.chat.media_storage().path(&id), &mime)
        .oneshot(request)
        .await
        .map_err(|err| AppError::Internal(err.to_string()))?
        .map(Body::new);
    let headers = response.headers_mut();
    // Not kept by the browser: a message deleted for everyone must leave no
    // copy behind. The app keeps what it wants offline in IndexedDB, where
    // a deletion reaches it.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(super::headers::MEDIA_POLICY),
    );
    if let Ok(disposition) = HeaderValue::from_str(&format!(
        "inline; filename=\"{id}.{}\"",
        sniff::extension(&record.content_type)
    )) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response.into_response())
}
