//! For load balancers and monitoring: `/healthz` (the process answers),
//! `/readyz` (it can serve: the database answers, the hub reaches the other
//! nodes, and it is not shutting down) and `/metrics` (Prometheus).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;

use crate::metrics::METRICS;
use crate::AppState;

/// `GET /healthz`.
pub async fn alive() -> &'static str {
    "alive\n"
}

/// `GET /readyz`: 200, or 503 with what is wrong.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, String) {
    let mut wrong = Vec::new();
    if state.shutdown.is_cancelled() {
        wrong.push("shutting down".to_owned());
    }
    if let Err(err) = state.chat.store().ping().await {
        wrong.push(format!("database: {err}"));
    }
    if !state.chat.hub().is_ready() {
        wrong.push("hub: not connected to the other nodes".to_owned());
    }
    if wrong.is_empty() {
        (StatusCode::OK, "ready\n".to_owned())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", wrong.join("; ")),
        )
    }
}

/// `GET /metrics`.
pub async fn metrics() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        METRICS.text(),
    )
}
