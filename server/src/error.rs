//! [`AppError`]: every way an HTTP request can fail, and the response each
//! one gets. Internal details go to the log, never to the client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use natter_protocol::{limits::Invalid, ApiError, ApiErrorCode};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Invalid(#[from] Invalid),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("wrong username or password")]
    BadCredentials,
    #[error("not logged in")]
    Unauthenticated,
    #[error("username taken")]
    UsernameTaken,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Nobody has the username that was asked for.
    #[error("no user called {0:?}")]
    NoSuchUsername(String),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The request clashes with what exists (a taken hashtag, a full group).
    #[error("conflict: {1}")]
    Conflict(ApiErrorCode, &'static str),
    #[error("too large: {0}")]
    TooLarge(String),
    #[error("unsupported media: {0}")]
    UnsupportedMedia(String),
    #[error("too many attempts; retry in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error(transparent)]
    Store(StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::UsernameTaken => AppError::UsernameTaken,
            StoreError::NotAMember => AppError::NotFound("conversation"),
            StoreError::NoSuchUser => AppError::NotFound("user"),
            StoreError::NoSuchMember => AppError::NotFound("member"),
            StoreError::NotAdmin => AppError::Forbidden("Only the group's admins can do that."),
            StoreError::NotAGroup => {
                AppError::BadRequest("That is a 1:1 conversation, not a group.".to_owned())
            }
            StoreError::GroupFull => AppError::Conflict(
                ApiErrorCode::GroupFull,
                "The group is full: groups have at most 100 members.",
            ),
            StoreError::HashtagTaken => AppError::Conflict(
                ApiErrorCode::HashtagTaken,
                "Another public group has that hashtag. Try another one.",
            ),
            StoreError::AlreadyMember => AppError::Conflict(
                ApiErrorCode::AlreadyMember,
                "They are already in the group.",
            ),
            StoreError::AlreadyAdmin => {
                AppError::Conflict(ApiErrorCode::AlreadyMember, "They are already an admin.")
            }
            other => AppError::Store(other),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            AppError::Invalid(invalid) => (
                StatusCode::BAD_REQUEST,
                ApiErrorCode::InvalidInput,
                invalid.to_string(),
            ),
            AppError::BadRequest(why) => (
                StatusCode::BAD_REQUEST,
                ApiErrorCode::InvalidInput,
                why.clone(),
            ),
            AppError::BadCredentials => (
                StatusCode::UNAUTHORIZED,
                ApiErrorCode::BadCredentials,
                "Wrong username or password.".to_owned(),
            ),
            AppError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                ApiErrorCode::Unauthenticated,
                "Please log in.".to_owned(),
            ),
            AppError::UsernameTaken => (
                StatusCode::CONFLICT,
                ApiErrorCode::UsernameTaken,
                "That username is taken. Try another one.".to_owned(),
            ),
            AppError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                ApiErrorCode::NotFound,
                format!("No such {what}."),
            ),
            AppError::NoSuchUsername(name) => (
                StatusCode::NOT_FOUND,
                ApiErrorCode::NotFound,
                natter_protocol::limits::unknown_username(name),
            ),
            AppError::Conflict(code, why) => (StatusCode::CONFLICT, *code, (*why).to_owned()),
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
            AppError::TooManyAttempts { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                ApiErrorCode::TooManyAttempts,
                match retry_after_secs.div_ceil(60) {
                    1 => "Too many login attempts. Try again in a minute.".to_owned(),
                    minutes => {
                        format!("Too many login attempts. Try again in {minutes} minutes.")
                    }
                },
            ),
            AppError::Store(_) | AppError::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ApiErrorCode::Internal,
                    "Something went wrong on our side. Please try again.".to_owned(),
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
        if let AppError::TooManyAttempts { retry_after_secs } = self {
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}
