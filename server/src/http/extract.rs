//! Extractors whose rejections speak the API's JSON error format.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// Like `axum::Json`, but a malformed body is a 400 with an [`ApiError`]
/// body naming the problem.
///
/// [`ApiError`]: natter_protocol::ApiError
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(AppError::BadRequest(describe_json(&rejection))),
        }
    }
}

fn describe_json(rejection: &JsonRejection) -> String {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "The request body must be JSON (Content-Type: application/json).".to_owned()
        }
        other => format!("The request body is not valid: {}", other.body_text()),
    }
}

/// Like `axum::extract::Query`, with JSON errors.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(AppError::BadRequest(describe_query(&rejection))),
        }
    }
}

fn describe_query(rejection: &QueryRejection) -> String {
    format!("The query string is not valid: {}", rejection.body_text())
}
