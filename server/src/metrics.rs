//! What a node tells Prometheus at `/metrics`: sockets, sends, how long
//! acks take, how large commit batches are, how far behind NATS is, and
//! how often devices had to read back what they missed.
//!
//! One registry per process, as Prometheus expects one process per node
//! (tests that run several servers in one process see their sum).

use std::sync::atomic::AtomicU64;
use std::sync::LazyLock;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

pub struct Metrics {
    /// WebSockets open on this node.
    pub sockets: Gauge,
    /// Messages this node committed (each once: repeats of a client id
    /// are not counted).
    pub sends: Counter,
    /// From a send read off a socket to its ack written back (the commit
    /// is most of it).
    pub ack_seconds: Histogram,
    /// Writes per commit of the pipeline.
    pub batch_writes: Histogram,
    /// Devices that read conversations back from the database because
    /// events were lost on the way (a full queue, missing doorbells).
    pub catch_ups: Counter,
    /// Doorbells this node published to NATS.
    pub nats_published: Counter,
    /// Doorbells heard from other nodes.
    pub nats_heard: Counter,
    /// Times this node found doorbells missing, or its NATS connection
    /// back, and had every device read back.
    pub nats_gaps: Counter,
    /// From a doorbell's publication to its arrival here, for the newest.
    pub nats_lag_seconds: Gauge<f64, AtomicU64>,
    registry: Registry,
}

pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("natter");
        let metrics = Metrics {
            sockets: Gauge::default(),
            sends: Counter::default(),
            // 100 µs … 3 s.
            ack_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 15)),
            // 1 … 4096.
            batch_writes: Histogram::new(exponential_buckets(1.0, 2.0, 13)),
            catch_ups: Counter::default(),
            nats_published: Counter::default(),
            nats_heard: Counter::default(),
            nats_gaps: Counter::default(),
            nats_lag_seconds: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("sockets", "WebSockets open", metrics.sockets.clone());
        registry.register("sends", "Messages committed", metrics.sends.clone());
        registry.register(
            "ack_seconds",
            "From a send read to its ack written",
            metrics.ack_seconds.clone(),
        );
        registry.register(
            "commit_batch_writes",
            "Writes per commit",
            metrics.batch_writes.clone(),
        );
        registry.register(
            "catch_ups",
            "Devices that read back what they missed",
            metrics.catch_ups.clone(),
        );
        registry.register(
            "nats_published",
            "Doorbells published to NATS",
            metrics.nats_published.clone(),
        );
        registry.register(
            "nats_heard",
            "Doorbells heard from other nodes",
            metrics.nats_heard.clone(),
        );
        registry.register(
            "nats_gaps",
            "Times doorbells went missing and every device read back",
            metrics.nats_gaps.clone(),
        );
        registry.register(
            "nats_lag_seconds",
            "From the newest doorbell's publication to its arrival",
            metrics.nats_lag_seconds.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// The text Prometheus scrapes.
    pub fn text(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}
