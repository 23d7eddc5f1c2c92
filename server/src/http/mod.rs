//! The HTTP side: JSON API under `/api`, the WebSocket at `/ws`, and the
//! built client for everything else.

mod account_data;
mod accounts;
pub mod assets;
mod conversations;
pub mod extract;
mod groups;
mod headers;
mod health;
mod limits;
mod media;
mod pictures;
mod previews;
mod push;
mod safety;

use axum::http::{header, HeaderValue, Method};
use axum::routing::{any, get, post};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::error::AppError;
use crate::AppState;

pub fn router(state: AppState) -> Result<Router, assets::AssetsError> {
    let client = assets::Client::load(&state.config.dist_dir)?;
    let api = Router::new()
        .route("/signup", post(accounts::signup))
        .route("/login", post(accounts::login))
        .route("/logout", post(accounts::logout))
        .route("/logout/everywhere", post(accounts::logout_everywhere))
        .route("/password", post(accounts::change_password))
        .route("/me", get(accounts::me).patch(accounts::update_profile))
        .route("/session", get(accounts::session))
        .route("/me/delete", post(account_data::delete))
        .route("/me/export", get(account_data::export))
        .route("/users/{username}", get(conversations::find_user))
        .route(
            "/conversations",
            get(conversations::list).post(conversations::open_direct),
        )
        .route(
            "/conversations/{id}",
            get(conversations::one).delete(conversations::delete),
        )
        .route("/conversations/{id}/messages", get(conversations::history))
        .route("/conversations/{id}/accept", post(conversations::accept))
        .route(
            "/conversations/{id}/mute",
            axum::routing::put(conversations::mute).delete(conversations::unmute),
        )
        .route("/mutes", get(conversations::mutes))
        .route("/push", get(push::key))
        .route(
            "/push/subscription",
            axum::routing::put(push::subscribe).delete(push::unsubscribe),
        )
        .route("/groups", get(groups::search).post(groups::create))
        .route("/groups/{id}", axum::routing::patch(groups::rename))
        .route("/groups/{id}/members", post(groups::add))
        .route(
            "/groups/{id}/members/{user}",
            axum::routing::delete(groups::remove),
        )
        .route("/groups/{id}/admins/{user}", post(groups::promote))
        .route("/groups/{id}/join", post(groups::join))
        .route("/groups/{id}/bans", get(groups::bans))
        .route(
            "/groups/{id}/bans/{user}",
            axum::routing::delete(groups::unban),
        )
        .route("/reports", post(safety::report))
        .route("/blocks", get(safety::blocked))
        .route(
            "/blocks/{user}",
            axum::routing::put(safety::block).delete(safety::unblock),
        )
        .route("/limits", get(media::limits))
        .route("/avatars/{hash}", get(pictures::picture))
        .route("/media", post(media::upload))
        .route("/media/{id}", get(media::download))
        .route("/previews", get(previews::look_up))
        .route("/previews/images/{id}", get(previews::picture))
        .fallback(any(|| async { AppError::NotFound("API route") }))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::limit,
        ))
        // A body that stops arriving (a slow-loris upload) is cut off.
        .layer(RequestBodyTimeoutLayer::new(state.config.body_idle_timeout))
        // API answers are personal and change: never cached, unless a route
        // says otherwise (media files never change under their id).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let mut app = Router::new()
        .nest("/api", api)
        .route("/ws", get(crate::ws::upgrade))
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(health::metrics))
        // Shares from other apps are the service worker's to take; one
        // that reaches the server (no worker yet) opens the app instead.
        .route(
            "/share",
            post(|| async { axum::response::Redirect::to("/") }),
        )
        .fallback_service(client.service())
        .with_state(state.clone());
    if !state.config.allowed_origins.is_empty() {
        let origins = state
            .config
            .allowed_origins
            .iter()
            .filter_map(|origin| HeaderValue::from_str(origin).ok());
        app = app.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_credentials(true)
                .allow_methods([
                    Method::GET,
                    Method::POST,
                    Method::PUT,
                    Method::PATCH,
                    Method::DELETE,
                ])
                .allow_headers([header::CONTENT_TYPE]),
        );
    }
    Ok(headers::secure(app, &client.inline_script_hashes))
}
