//! [`AppError`]: every way an HTTP request can fail, and the response each
//! one gets. The use cases' refusals ([`ChatError`]) keep their words and
//! get a status here, once; internal details go to the log, never to the
//! client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use natter_protocol::{ApiError, ApiErrorCode};

use crate::chat::ChatError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Chat(#[from] ChatError),
    /// A body or query that could not be read.
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not logged in")]
    Unauthenticated,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("too large: {0}")]
    TooLarge(String),
    #[error("unsupported media: {0}")]
    UnsupportedMedia(String),
    /// A socket past the caps for its account or address.
    #[error("too many sockets: {0:?}")]
    TooManySockets(crate::ws::caps::Full),
    /// Past a fair-use allowance ([`crate::fair`]).
    #[error("rate limited for {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A link that could not be previewed.
    #[error(transparent)]
    Preview(#[from] crate::links::PreviewError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// The status and code of a use case's refusal.
fn status_of(err: &ChatError) -> (StatusCode, ApiErrorCode) {
    use ChatError::*;
    match err {
        Invalid(_)
        | BadAttachment
        | AttachmentUsed
        | BadTarget
        | NotYours
        | ClientIdReused
        | NotAGroup
        | Yourself
        | YouBlocked
        | AccountEnded
        | BlockYourself
        | NotBanned
        | ReportYourself
        | BadMuteLength
        | BadPushSubscription(_) => (StatusCode::BAD_REQUEST, ApiErrorCode::InvalidInput),
        QuotaExceeded { .. } => (StatusCode::TOO_MANY_REQUESTS, ApiErrorCode::QuotaExceeded),
        NotAMember | NoSuchUsername(_) | NoSuchMember | NoSuchFile | NoSuchReport | PushOff => {
            (StatusCode::NOT_FOUND, ApiErrorCode::NotFound)
        }
        NotAdmin | Banned | CannotAdd(_) | Suspended => {
            (StatusCode::FORBIDDEN, ApiErrorCode::Forbidden)
        }
        GroupFull => (StatusCode::CONFLICT, ApiErrorCode::GroupFull),
        HashtagTaken => (StatusCode::CONFLICT, ApiErrorCode::HashtagTaken),
        AlreadyMember | AlreadyAdmin => (StatusCode::CONFLICT, ApiErrorCode::AlreadyMember),
        UsernameTaken => (StatusCode::CONFLICT, ApiErrorCode::UsernameTaken),
        BadCredentials => (StatusCode::UNAUTHORIZED, ApiErrorCode::BadCredentials),
        WrongPassword => (StatusCode::FORBIDDEN, ApiErrorCode::BadCredentials),
        TooManyAttempts { .. } | TooManySignUps { .. } => {
            (StatusCode::TOO_MANY_REQUESTS, ApiErrorCode::TooManyAttempts)
        }
        Busy => (StatusCode::SERVICE_UNAVAILABLE, ApiErrorCode::Busy),
        Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, ApiErrorCode::Internal),
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(err: crate::store::StoreError) -> Self {
        AppError::Chat(err.into())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            AppError::Chat(err) => {
                if let ChatError::Internal(cause) = err {
                    tracing::error!(error = %cause, "request failed");
                }
                let (status, code) = status_of(err);
                (status, code, err.to_string())
            }
            AppError::BadRequest(why) => (
                StatusCode::BAD_REQUEST,
                ApiErrorCode::InvalidInput,
                why.clone(),
            ),
            AppError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                ApiErrorCode::Unauthenticated,
                "Please log in.".to_owned(),
            ),
            AppError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                ApiErrorCode::NotFound,
                format!("No such {what}."),
            ),
            AppError::Forbidden(why) => (
                StatusCode::FORBIDDEN,
                ApiErrorCode::Forbidden,
                (*why).to_owned(),
            ),
            AppError::TooLarge(why) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                ApiErrorCode::TooLarge,
                why.clone(),
            ),
            AppError::UnsupportedMedia(why) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ApiErrorCode::UnsupportedMediaType,
                why.clone(),
            ),
            AppError::TooManySockets(full) => (
                StatusCode::TOO_MANY_REQUESTS,
                ApiErrorCode::TooManyAttempts,
                match full {
                    crate::ws::caps::Full::Account => {
                        "This account has too many connections open. Close a tab or two."
                    }
                    crate::ws::caps::Full::Address => {
                        "Too many connections from this address. Try again later."
                    }
                }
                .to_owned(),
            ),
            AppError::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                ApiErrorCode::RateLimited,
                "Too many requests. Wait a moment and try again.".to_owned(),
            ),
            AppError::Preview(err) => {
                use crate::links::PreviewError;
                let (status, code) = match err {
                    PreviewError::NotAUrl | PreviewError::TooLong => {
                        (StatusCode::BAD_REQUEST, ApiErrorCode::InvalidInput)
                    }
                    PreviewError::RateLimited { .. } => {
                        (StatusCode::TOO_MANY_REQUESTS, ApiErrorCode::RateLimited)
                    }
                    PreviewError::Fetch(_) | PreviewError::TooSlow => {
                        (StatusCode::UNPROCESSABLE_ENTITY, ApiErrorCode::NoPreview)
                    }
                };
                (status, code, format!("No preview: {err}."))
            }
            AppError::Internal(why) => {
                tracing::error!(error = %why, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ApiErrorCode::Internal,
                    ChatError::internal(Hidden).to_string(),
                )
            }
        };
        let mut response = (
            status,
            Json(ApiError {
                error: code,
                message,
            }),
        )
            .into_response();
        let retry_after = match self {
            AppError::Chat(
                ChatError::TooManyAttempts { retry_after_secs }
                | ChatError::TooManySignUps { retry_after_secs },
            ) => Some(retry_after_secs),
            AppError::Chat(ChatError::Busy) => Some(1),
            AppError::RateLimited { retry_after_secs }
            | AppError::Preview(crate::links::PreviewError::RateLimited { retry_after_secs }) => {
                Some(retry_after_secs)
            }
            AppError::Chat(ChatError::QuotaExceeded { .. }) => Some(3600),
            _ => None,
        };
        if let Some(value) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Stands in for a cause that is logged, not shown.
#[derive(Debug, thiserror::Error)]
#[error("hidden")]
struct Hidden;
