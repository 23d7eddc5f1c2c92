//! Natter's server: accounts, conversations and real-time delivery.
//!
//! # Layout
//! - [`config`]: command-line and environment settings.
//! - [`store`]: the durable source of truth, behind the [`store::Store`] trait;
//!   [`store::sqlite`] is the embedded default.
//! - [`hub`]: fan-out of live events to connected devices, behind the
//!   [`hub::Hub`] trait. It is only a doorbell: anything a device misses is
//!   read back from the store.
//! - [`media`]: where uploaded files live, behind [`media::MediaStorage`],
//!   and which file types are accepted.
//! - [`auth`]: password hashing, session tokens, the session extractor and
//!   login throttling.
//! - [`http`]: the HTTP routes, security headers and static client files.
//! - [`ws`]: the WebSocket endpoint and the per-connection protocol loop.
//! - [`error`]: [`error::AppError`], the HTTP error type.
//!
//! [`run`] serves on a listener the caller bound, so tests can use port 0.

pub mod auth;
pub mod config;
pub mod error;
pub mod http;
pub mod hub;
pub mod media;
pub mod store;
pub mod ws;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Throttle;
use crate::config::Config;
use crate::hub::{Hub, LocalHub};
use crate::media::{FsMedia, MediaStorage};
use crate::store::sqlite::SqliteStore;
use crate::store::Store;

/// Everything a request handler or a connection needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub hub: Arc<dyn Hub>,
    pub media: Arc<dyn MediaStorage>,
    pub config: Arc<Config>,
    pub throttle: Arc<Throttle>,
    /// Cancelled when the server begins shutting down: sockets close with
    /// "going away" so that clients reconnect at once.
    pub shutdown: CancellationToken,
    /// Tracks WebSocket tasks, which outlive the HTTP request that upgraded
    /// them, so shutdown can wait for their last commits.
    pub connections: TaskTracker,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the database: {0}")]
    Store(#[from] store::StoreError),
    #[error("cannot read the client files: {0}")]
    Client(#[from] http::assets::AssetsError),
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Opens the store named by `config`, then serves until `shutdown` resolves.
/// On shutdown it stops accepting, lets in-flight requests and commits
/// finish, and closes every WebSocket with "going away".
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let store = SqliteStore::open(&config.database_path()).await?;
    let state = AppState {
        store: Arc::new(store),
        hub: Arc::new(LocalHub::default()),
        media: Arc::new(FsMedia::new(config.media_dir())),
        throttle: Arc::new(Throttle::default()),
        config: Arc::new(config),
        shutdown: CancellationToken::new(),
        connections: TaskTracker::new(),
    };
    let app = http::router(state.clone())?;
    let token = state.shutdown.clone();
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        token.cancel();
    })
    .await?;
    state.connections.close();
    state.connections.wait().await;
    Ok(())
}

/// The current time in milliseconds since the Unix epoch.
pub fn now_millis() -> natter_protocol::Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as natter_protocol::Millis)
        .unwrap_or(0)
}
