//! Settings, from flags or `NATTER_*` environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// What the binary does besides serving.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Moderation: reports, suspensions, deletions (talks to the running
    /// server through its data directory's admin socket).
    #[command(subcommand)]
    Admin(crate::admin::cli::AdminCommand),
}

/// Where the durable data lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// An embedded SQLite database in the data directory.
    Sqlite,
    /// A PostgreSQL database (`--database-url`), which every node of a
    /// cluster shares.
    Postgres,
}

/// How committed events reach the connected devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HubKind {
    /// Within this process (one server node).
    Local,
    /// NATS (`--nats-url`), shared by the nodes of a cluster.
    Nats,
}

#[derive(Debug, Clone, Parser)]
#[command(name = "natter-server", about = "Natter's chat server")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "NATTER_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Directory for the SQLite database, the moderation socket, and (unless
    /// `--shared-dir` says otherwise) uploaded media and the Web Push key.
    #[arg(long, env = "NATTER_DATA", default_value = "data", global = true)]
    pub data_dir: PathBuf,
    /// A directory every node of a cluster shares (a network file system):
    /// uploaded media and the Web Push key. Defaults to the data directory.
    #[arg(long, env = "NATTER_SHARED_DIR")]
    pub shared_dir: Option<PathBuf>,
    /// The store backend.
    #[arg(long, env = "NATTER_STORE", value_enum, default_value_t = StoreKind::Sqlite)]
    pub store: StoreKind,
    /// The PostgreSQL database for `--store postgres`, as
    /// `postgres://user:password@host:port/database`.
    #[arg(long, env = "NATTER_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The hub backend.
    #[arg(long, env = "NATTER_HUB", value_enum, default_value_t = HubKind::Local)]
    pub hub: HubKind,
    /// The NATS server for `--hub nats`.
    #[arg(long, env = "NATTER_NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// The built client (Trunk's output) to serve at `/`.
    #[arg(long, env = "NATTER_DIST", default_value = "dist")]
    pub dist_dir: PathBuf,
    /// Mark the session cookie `Secure`. Turn on when served over TLS.
    #[arg(long, env = "NATTER_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Extra origins trusted besides the server's own, for WebSocket upgrades
    /// and credentialed CORS (e.g. a test runner on another port).
    #[arg(
        long = "allow-origin",
        env = "NATTER_ALLOW_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,
    /// Addresses of reverse proxies in front of the server, whose
    /// `X-Forwarded-For` says who the client is (comma-separated).
    #[arg(
        long = "trusted-proxy",
        env = "NATTER_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Megabytes one account may upload a day.
    #[arg(long, env = "NATTER_UPLOAD_QUOTA_MB", default_value_t = 1000)]
    pub upload_quota_mb: u64,
    /// Sockets one account may have open at once (on this server).
    #[arg(long, env = "NATTER_SOCKETS_PER_ACCOUNT", default_value_t = 32)]
    pub sockets_per_account: u32,
    /// Sockets one address may have open at once (on this server).
    #[arg(long, env = "NATTER_SOCKETS_PER_ADDRESS", default_value_t = 1024)]
    pub sockets_per_address: u32,
    /// Accounts one address may make an hour.
    #[arg(long, env = "NATTER_SIGN_UPS_PER_HOUR", default_value_t = crate::throttle::Throttle::SIGN_UPS)]
    pub sign_ups_per_hour: u32,
    /// Frames per second one account may send, all its sockets together,
    /// before they are slowed down (bursts of at least 200 go at once); an
    /// address may send ten times as many.
    #[arg(long, env = "NATTER_FRAME_RATE", default_value_t = 50.0, value_parser = positive)]
    pub frame_rate: f64,
    /// The largest photo upload, in bytes.
    #[arg(long, env = "NATTER_MAX_IMAGE_BYTES", default_value_t = 20_000_000)]
    pub max_image_bytes: u64,
    /// The largest video upload, in bytes.
    #[arg(long, env = "NATTER_MAX_VIDEO_BYTES", default_value_t = 100_000_000)]
    pub max_video_bytes: u64,
    /// The largest voice-message upload, in bytes.
    #[arg(long, env = "NATTER_MAX_VOICE_BYTES", default_value_t = 10_000_000)]
    pub max_voice_bytes: u64,
    /// Seconds a WebSocket write may take before the socket is dropped (a
    /// client that stops reading must not hold anything up).
    #[arg(long, env = "NATTER_SEND_TIMEOUT", default_value = "10", value_parser = seconds)]
    pub send_timeout: Duration,
    /// Seconds a client may take to send its request headers.
    #[arg(long, env = "NATTER_HEADER_TIMEOUT", default_value = "10", value_parser = seconds)]
    pub header_timeout: Duration,
    /// Seconds a request body may go without a byte before it is cut off.
    #[arg(long, env = "NATTER_BODY_IDLE_TIMEOUT", default_value = "30", value_parser = seconds)]
    pub body_idle_timeout: Duration,
    /// Seconds shutdown waits for requests, sockets and commits in
    /// progress, whatever the clients do.
    #[arg(long, env = "NATTER_SHUTDOWN_GRACE", default_value = "10", value_parser = seconds)]
    pub shutdown_grace: Duration,
    /// Where push services may reach this server's operator (the VAPID
    /// `sub` claim): a `mailto:` or `https:` URL. Some push services refuse
    /// pushes without a real one.
    #[arg(
        long,
        env = "NATTER_PUSH_CONTACT",
        default_value = "mailto:postmaster@localhost"
    )]
    pub push_contact: String,
    /// For tests only: accept push endpoints on loopback addresses, over
    /// plain http (a stand-in push service). Never in production: it lets
    /// clients make the server call its own machine.
    #[arg(long, env = "NATTER_PUSH_TO_LOOPBACK", hide = true)]
    pub push_to_loopback: bool,
    /// For tests only: link previews may also be fetched from
    /// http://127.0.0.1 on this port (a stand-in web site). Every other
    /// loopback address and port stays refused.
    #[arg(long, env = "NATTER_PREVIEW_TEST_PORT", hide = true)]
    pub preview_test_port: Option<u16>,
    /// For tests only: names link previews resolve without asking the
    /// system (a stand-in for a DNS answer).
    #[arg(skip)]
    pub preview_hosts: std::collections::HashMap<String, Vec<std::net::IpAddr>>,
    /// This process's id among a cluster's nodes, in every log line: random
    /// at every start, so that a restarted node numbers its doorbells
    /// afresh.
    #[arg(skip = rand::random::<u64>())]
    pub node: u64,
    /// Instead of serving: moderate the server running on this data
    /// directory.
    #[command(subcommand)]
    pub command: Option<Command>,
}

fn seconds(text: &str) -> Result<Duration, String> {
    positive(text).map(Duration::from_secs_f64)
}

fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value > 0.0 && value.is_finite() => Ok(value),
        _ => Err(format!("{text:?} is not a positive number")),
    }
}

impl Config {
    /// A configuration for tests and tools: everything default but the paths.
    pub fn new(data_dir: impl Into<PathBuf>, dist_dir: impl Into<PathBuf>) -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            shared_dir: None,
            store: StoreKind::Sqlite,
            database_url: None,
            hub: HubKind::Local,
            nats_url: "nats://127.0.0.1:4222".to_owned(),
            dist_dir: dist_dir.into(),
            secure_cookies: false,
            allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            sign_ups_per_hour: crate::throttle::Throttle::SIGN_UPS,
            upload_quota_mb: 1000,
            sockets_per_account: 32,
            sockets_per_address: 1024,
            frame_rate: 50.0,
            max_image_bytes: 20_000_000,
            max_video_bytes: 100_000_000,
            max_voice_bytes: 10_000_000,
            send_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            body_idle_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            push_contact: "mailto:postmaster@localhost".to_owned(),
            push_to_loopback: false,
            preview_test_port: None,
            preview_hosts: std::collections::HashMap::new(),
            node: rand::random(),
            command: None,
        }
    }

    /// The upload limits, as `GET /api/limits` tells clients.
    pub fn media_limits(&self) -> natter_protocol::MediaLimits {
        natter_protocol::MediaLimits {
            image_bytes: self.max_image_bytes,
            video_bytes: self.max_video_bytes,
            voice_bytes: self.max_voice_bytes,
            voice_ms: natter_protocol::limits::MAX_VOICE_MS,
        }
    }

    /// What the nodes of a cluster share: [`Config::shared_dir`], or the
    /// data directory.
    pub fn shared(&self) -> &std::path::Path {
        self.shared_dir.as_deref().unwrap_or(&self.data_dir)
    }

    pub fn media_dir(&self) -> PathBuf {
        self.shared().join("media")
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("natter.sqlite3")
    }

    /// Which push endpoints are acceptable.
    pub fn push_reach(&self) -> crate::outbound::Reach {
        if self.push_to_loopback {
            crate::outbound::Reach::Loopback
        } else {
            crate::outbound::Reach::Public
        }
    }

    /// Where link previews may be fetched from.
    pub fn preview_reach(&self) -> crate::outbound::Reach {
        match self.preview_test_port {
            Some(port) => crate::outbound::Reach::LoopbackPort(port),
            None => crate::outbound::Reach::Public,
        }
    }

    pub fn admin_socket(&self) -> PathBuf {
        crate::admin::socket_path(&self.data_dir)
    }
}
