//! Natter's server: accounts, conversations and real-time delivery.
//!
//! # Layout
//! - [`config`]: command-line and environment settings, the backends
//!   among them.
//! - [`chat`]: the application layer, one file per use case: the rules
//!   (who may do what, who hears of it) written once, for every transport
//!   and every backend; and the batched write pipeline.
//! - [`store`]: the durable source of truth, behind the [`store::Store`]
//!   trait of transactional primitives; [`store::sqlite`] is the embedded
//!   default.
//! - [`hub`]: fan-out of committed events to connected devices, behind the
//!   [`hub::Hub`] trait. It is only a doorbell: anything a device misses is
//!   read back from the store.
//! - [`media`]: where uploaded files live, behind [`media::MediaStorage`],
//!   which file types are accepted, and stripping photo metadata.
//! - [`auth`]: session tokens and the session extractor; [`password`]:
//!   Argon2id hashes; [`hashing`]: the bounded pool passwords are hashed
//!   on; [`fair`]: how fast an account or address may write,
//!   search, upload and send.
//! - [`http`], [`ws`]: the transports. They parse, call a use case and
//!   answer; [`error`] maps the use cases' refusals to HTTP once, and
//!   [`ws`] maps them to error frames once.
//!
//! - [`presence`]: which tabs are connected, and on screen.
//! - [`push`]: Web Push to devices with no tab open; [`links`]: link
//!   previews; [`outbound`]: the rules and client for requests to
//!   addresses people give the server.
//! - [`admin`]: moderation from the server's machine, over a Unix socket.
//!
//! [`run`] serves on a listener the caller bound, so tests can use port 0.

pub mod admin;
pub mod auth;
pub mod chat;
pub mod config;
pub mod error;
pub mod fair;
pub mod hashing;
pub mod http;
pub mod hub;
pub mod links;
pub mod logs;
pub mod media;
pub mod metrics;
pub mod outbound;
pub mod password;
pub mod presence;
pub mod push;
pub mod serve;
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod throttle;
pub mod ws;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::chat::{Chat, Limits, PushSetup};
use crate::config::{Config, HubKind, StoreKind};
use crate::fair::FairUse;
use crate::hub::nats::NatsHub;
use crate::hub::{Hub, LocalHub};
use crate::links::Previews;
use crate::media::FsMedia;
use crate::push::PushService;
use crate::store::postgres::PostgresStore;
use crate::store::sqlite::SqliteStore;
use crate::store::Store;
use crate::ws::caps::SocketCaps;

/// Everything a request handler or a connection needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub chat: Chat,
    pub config: Arc<Config>,
    /// Cancelled when the server begins shutting down: sockets close with
    /// "going away" so that clients reconnect at once.
    pub shutdown: CancellationToken,
    /// Tracks WebSocket tasks, which outlive the HTTP request that upgraded
    /// them, so shutdown can wait for their last commits.
    pub connections: TaskTracker,
    /// How many sockets each account and address holds.
    pub sockets: Arc<SocketCaps>,
    /// How fast each account and address may write, search, upload and
    /// send.
    pub fair: Arc<FairUse>,
    /// Link previews, fetched by this server.
    pub previews: Arc<Previews>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the database: {0}")]
    Store(#[from] store::StoreError),
    #[error("cannot read the client files: {0}")]
    Client(#[from] http::assets::AssetsError),
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot open the moderation socket in the data directory: {0}")]
    Admin(#[source] std::io::Error),
    #[error("cannot set up Web Push: {0}")]
    PushKey(#[from] push::vapid::VapidError),
    #[error("cannot set up Web Push: {0}")]
    Push(#[from] push::PushError),
    #[error("cannot set up link previews: {0}")]
    Previews(#[source] reqwest::Error),
    #[error("--store postgres needs --database-url (NATTER_DATABASE_URL)")]
    NoDatabaseUrl,
    #[error("--hub nats needs --store postgres: the nodes of a cluster share one database")]
    NotShared,
    #[error(transparent)]
    Nats(#[from] hub::nats::NatsError),
}

/// The store `config` names.
async fn open_store(config: &Config) -> Result<Arc<dyn Store>, ServeError> {
    Ok(match config.store {
        StoreKind::Sqlite => Arc::new(SqliteStore::open(&config.database_path()).await?),
        StoreKind::Postgres => {
            let url = config
                .database_url
                .as_deref()
                .ok_or(ServeError::NoDatabaseUrl)?;
            Arc::new(PostgresStore::open(url).await?)
        }
    })
}

/// The hub `config` names, for node `node`.
async fn open_hub(
    config: &Config,
    node: u64,
    store: Arc<dyn Store>,
) -> Result<Arc<dyn Hub>, ServeError> {
    Ok(match config.hub {
        HubKind::Local => Arc::new(LocalHub::default()),
        HubKind::Nats => Arc::new(NatsHub::connect(&config.nats_url, node, store).await?),
    })
}

/// Opens the backends named by `config`, then serves until `shutdown`
/// resolves. On shutdown it stops accepting, lets in-flight requests and
/// commits finish, and closes every WebSocket with "going away".
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if config.hub == HubKind::Nats && config.store != StoreKind::Postgres {
        // Other nodes would read doorbells' messages from a database that
        // never had them.
        return Err(ServeError::NotShared);
    }
    let store = open_store(&config).await?;
    let node = config.node;
    let hub = open_hub(&config, node, store.clone()).await?;
    std::fs::create_dir_all(&config.data_dir)?;
    std::fs::create_dir_all(config.shared())?;
    let push = PushSetup {
        service: PushService::new(
            push::vapid::load_or_create(config.shared())?,
            config.push_contact.clone(),
            config.push_reach(),
        )?,
        subscribed: store.push_users().await?,
    };
    let chat = Chat::with_limits(
        store,
        hub,
        Arc::new(FsMedia::new(config.media_dir())),
        Limits {
            sign_ups_per_hour: config.sign_ups_per_hour,
            upload_quota_bytes: config.upload_quota_mb.saturating_mul(1_000_000),
        },
        Some(push),
    );
    let sockets = Arc::new(SocketCaps::new(
        config.sockets_per_account,
        config.sockets_per_address,
    ));
    let previews = Previews::new(
        config.preview_reach(),
        Arc::new(config.preview_hosts.clone()),
        config.shared().join("previews"),
    )
    .map_err(ServeError::Previews)?;
    let state = AppState {
        chat,
        sockets,
        previews: Arc::new(previews),
        fair: Arc::new(FairUse::new(config.frame_rate)),
        config: Arc::new(config),
        shutdown: CancellationToken::new(),
        connections: TaskTracker::new(),
    };
    let app = http::router(state.clone())?;
    let moderation =
        admin::socket::bind(&state.config.admin_socket()).map_err(ServeError::Admin)?;
    tokio::spawn(admin::socket::serve(
        moderation,
        state.chat.clone(),
        state.shutdown.clone(),
    ));
    tokio::spawn(housekeeping(state.chat.clone(), state.shutdown.clone()));
    tokio::spawn(forget_idle(state.fair.clone(), state.shutdown.clone()));
    let token = state.shutdown.clone();
    let grace = state.config.shutdown_grace;
    serve::serve(
        listener,
        app,
        async move {
            shutdown.await;
            token.cancel();
        },
        state.config.header_timeout,
        grace,
    )
    .await?;
    // Sockets were told to close; each has `send_timeout` to say so.
    state.connections.close();
    if tokio::time::timeout(grace, state.connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("some sockets did not close in time");
    }
    // What was queued before the last socket closed is committed.
    if tokio::time::timeout(grace, state.chat.settle())
        .await
        .is_err()
    {
        tracing::warn!("the last writes did not commit in time");
    }
    Ok(())
}

/// Now and every hour, until shutdown: deletes expired sessions, frees the
/// usernames of accounts deleted long enough ago, and deletes uploads that
/// no message took within a day.
async fn housekeeping(chat: Chat, shutdown: CancellationToken) {
    let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = hourly.tick() => {}
            () = shutdown.cancelled() => return,
        }
        match chat.purge_sessions().await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired sessions deleted"),
            Err(err) => tracing::warn!(error = %err, "deleting expired sessions failed"),
        }
        match chat.free_usernames(now_millis()).await {
            Ok(0) => {}
            Ok(freed) => tracing::info!(freed, "usernames of deleted accounts freed"),
            Err(err) => tracing::warn!(error = %err, "freeing usernames failed"),
        }
        match chat.collect_unattached(now_millis()).await {
            Ok(0) => {}
            Ok(collected) => tracing::info!(collected, "unattached uploads deleted"),
            Err(err) => tracing::warn!(error = %err, "deleting unattached uploads failed"),
        }
    }
}

/// Every ten seconds, forgets the fair-use buckets that are full again, so
/// that their memory is bounded by the keys active within that time.
async fn forget_idle(fair: Arc<FairUse>, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(10));
    loop {
        tokio::select! {
            _ = every.tick() => fair.forget_idle(),
            () = shutdown.cancelled() => return,
        }
    }
}

/// The current time in milliseconds since the Unix epoch.
pub fn now_millis() -> natter_protocol::Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as natter_protocol::Millis)
        .unwrap_or(0)
}
