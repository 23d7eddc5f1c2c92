//! `cargo xtask bench --cluster`: the cluster on this box. PostgreSQL
//! (flushing every commit, as a real one does), NATS, and one or two
//! Natter nodes, every process unpinned (two nodes, the database, NATS and
//! the load share two cores, so this measures what the parts cost, not
//! what more machines would bring):
//! - acked messages per second from 64 sockets spread over the nodes
//!   (ack after commit), beside single-row PostgreSQL commits with the same
//!   durability, in the same run;
//! - fan-out deliveries per second in groups of 10 whose members are spread
//!   over the nodes, beside the raw relay;
//! - p99 send→receive at an offered rate, counting with two nodes only the
//!   deliveries that crossed from one node to the other.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use natter_server::testing::nats::NatsServer;
use natter_server::testing::node_args;
use natter_server::testing::postgres::{fresh_durable_database, Database};

use crate::load::{self, Account, Clock, Pace, Tally};
use crate::process::Process;
use crate::stats::Latencies;

const SENDERS: usize = 64;
const MESSAGES: usize = 32_000;
const WINDOW: usize = 64;
const GROUPS: usize = 20;
const GROUP_SIZE: usize = 10;
const SATURATION_WINDOW: usize = 16;
const OFFERED_PER_SECOND: u64 = 2_000;
const RUN: Duration = Duration::from_secs(3);
const WARM_UP: Duration = Duration::from_millis(500);

/// What `--check` holds a two-node run to.
mod budget {
    /// Acks per second, as many as single-row commits times this.
    pub const TIMES_BASELINE: f64 = 10.0;
    /// Send→receive across nodes at the offered rate.
    pub const CROSS_P99_MS: f64 = 50.0;
}

struct Run {
    nodes: usize,
    acked_per_second: f64,
    ack_p50_ms: f64,
    ack_p99_ms: f64,
    deliveries_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    samples: usize,
}

/// The nodes of one run, on a database of their own.
struct Nodes {
    nodes: Vec<Process>,
    _database: Database,
    _dirs: Vec<tempfile::TempDir>,
}

impl Nodes {
    async fn start(count: usize, nats: &NatsServer) -> Nodes {
        let database = fresh_durable_database().await;
        let shared = tempfile::tempdir().expect("temp dir");
        let args = node_args(&database.url, &nats.url(), shared.path());
        let mut dirs = vec![shared];
        let mut nodes = Vec::new();
        for _ in 0..count {
            let data = tempfile::tempdir().expect("temp dir");
            nodes.push(Process::natter_with(data.path(), None, &args));
            dirs.push(data);
        }
        Nodes {
            nodes,
            _database: database,
            _dirs: dirs,
        }
    }

    /// The node that person `n` talks to.
    fn of(&self, n: usize) -> std::net::SocketAddr {
        self.nodes[n % self.nodes.len()].addr
    }
}

pub async fn measure(record: bool, check: bool) {
    let baseline = baseline_commits(5_000).await;
    let relay = relay_fan_out().await;
    let nats = NatsServer::start();
    let mut runs = Vec::new();
    for count in [1, 2] {
        runs.push(run(count, &nats).await);
    }
    let mut report = String::new();
    let _ = writeln!(
        report,
        "\n### Cluster run of {}\n\nMachine: {}. PostgreSQL 15 flushing every commit, NATS 2.9, \
         unpinned: the nodes, the database, NATS and the load share the cores.\n",
        crate::utc_now(),
        crate::machine()
    );
    let _ = writeln!(
        report,
        "| nodes | acked msg/s (64 sockets) | ack p50 | ack p99 | × single-row commits | \
         fan-out deliveries/s (groups of 10) | × relay | send→receive p50 | p99 | samples |"
    );
    let _ = writeln!(report, "|---|---|---|---|---|---|---|---|---|---|");
    for run in &runs {
        let _ = writeln!(
            report,
            "| {} | {:.0} | {:.2} ms | {:.2} ms | {:.1} | {:.0} | {:.2} | {:.2} ms | {:.2} ms | {} |",
            run.nodes,
            run.acked_per_second,
            run.ack_p50_ms,
            run.ack_p99_ms,
            run.acked_per_second / baseline,
            run.deliveries_per_second,
            run.deliveries_per_second / relay,
            run.p50_ms,
            run.p99_ms,
            run.samples
        );
    }
    let _ = writeln!(
        report,
        "\nBaselines in the same run: single-row commits into PostgreSQL (one INSERT, one \
         COMMIT, flushed) {baseline:.0}/s; the raw relay's fan-out {relay:.0} deliveries/s. \
         Send→receive is timed at {OFFERED_PER_SECOND} messages/s offered; with two nodes, \
         only deliveries whose sender was on the other node count."
    );
    print!("{report}");
    if record {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../BENCHMARKS.md");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .expect("BENCHMARKS.md");
        std::io::Write::write_all(&mut file, report.as_bytes()).expect("append");
        println!("(appended to BENCHMARKS.md)");
    }
    let two = &runs[1];
    let mut missed = Vec::new();
    if two.acked_per_second < baseline * budget::TIMES_BASELINE {
        missed.push(format!(
            "two nodes ack {:.0}/s, under {}× single-row commits ({:.0}/s)",
            two.acked_per_second,
            budget::TIMES_BASELINE,
            baseline * budget::TIMES_BASELINE
        ));
    }
    if two.p99_ms.is_nan() || two.p99_ms > budget::CROSS_P99_MS {
        missed.push(format!(
            "p99 send→receive across nodes {:.2} ms, over {} ms",
            two.p99_ms,
            budget::CROSS_P99_MS
        ));
    }
    if check && !missed.is_empty() {
        eprintln!("budgets missed:\n  {}", missed.join("\n  "));
        std::process::exit(1);
    }
}

/// Single-row transactions straight into PostgreSQL, flushed.
async fn baseline_commits(rows: usize) -> f64 {
    let database = fresh_durable_database().await;
    let pool = sqlx::PgPool::connect(&database.url).await.expect("connect");
    sqlx::query("CREATE TABLE m (id BIGSERIAL PRIMARY KEY, client_id UUID UNIQUE, body TEXT)")
        .execute(&pool)
        .await
        .expect("schema");
    let started = Instant::now();
    for n in 0..rows {
        sqlx::query("INSERT INTO m (client_id, body) VALUES ($1, $2)")
            .bind(uuid::Uuid::new_v4())
            .bind(format!("message {n}"))
            .execute(&pool)
            .await
            .expect("insert");
    }
    rows as f64 / started.elapsed().as_secs_f64()
}

async fn relay_fan_out() -> f64 {
    let relay = Process::relay(None);
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let clock = Clock {
        epoch: Instant::now(),
    };
    let mut members = Vec::new();
    for group in 0..GROUPS {
        for _ in 0..GROUP_SIZE {
            let url = format!("ws://{}/ws?group={group}", relay.addr);
            let socket = load::connect(&url, None).await;
            members.push(tokio::spawn(load::fan_out_member(
                socket,
                group as i64,
                Pace::Saturate {
                    window: SATURATION_WINDOW,
                },
                clock,
                tally.clone(),
                stop.clone(),
                None,
            )));
        }
    }
    let per_second = timed(&tally).await;
    stop.store(true, Ordering::Relaxed);
    for member in members {
        let _ = member.await;
    }
    per_second
}

/// Deliveries per second over [`RUN`], after [`WARM_UP`].
async fn timed(tally: &Tally) -> f64 {
    tokio::time::sleep(WARM_UP).await;
    let (start, started) = (tally.deliveries.load(Ordering::Relaxed), Instant::now());
    tokio::time::sleep(RUN).await;
    (tally.deliveries.load(Ordering::Relaxed) - start) as f64 / started.elapsed().as_secs_f64()
}

async fn run(count: usize, nats: &NatsServer) -> Run {
    eprintln!("measuring a cluster of {count}");
    let nodes = Nodes::start(count, nats).await;
    // Acks: each sender writes to a peer; senders alternate nodes.
    let mut senders = Vec::new();
    for n in 0..SENDERS {
        let me = load::sign_up(nodes.of(n), &format!("sender{n}")).await;
        load::sign_up(nodes.of(n), &format!("peer{n}")).await;
        let conversation = load::open_direct(nodes.of(n), &me, &format!("peer{n}")).await;
        senders.push((load::natter_socket(nodes.of(n), &me).await, conversation));
    }
    let per_socket = MESSAGES / SENDERS;
    let started = Instant::now();
    let tasks: Vec<_> = senders
        .into_iter()
        .map(|(socket, conversation)| {
            tokio::spawn(load::durable_sender(
                socket,
                conversation,
                per_socket,
                WINDOW,
            ))
        })
        .collect();
    let mut acks = Latencies::default();
    for task in tasks {
        acks.merge(task.await.expect("sender"));
    }
    let acked_per_second = (per_socket * SENDERS) as f64 / started.elapsed().as_secs_f64();

    // Fan-out: member m of each group on node m % count.
    let mut groups: Vec<(i64, Vec<Account>)> = Vec::new();
    for g in 0..GROUPS {
        let mut members = Vec::new();
        for m in 0..GROUP_SIZE {
            members.push(load::sign_up(nodes.of(m), &format!("g{g}m{m}")).await);
        }
        let names: Vec<&str> = members[1..]
            .iter()
            .map(|member| member.user.username.as_str())
            .collect();
        let conversation = load::create_group(nodes.of(0), &members[0], &names).await;
        groups.push((conversation, members));
    }
    let saturated = phase(
        &nodes,
        &groups,
        Pace::Saturate {
            window: SATURATION_WINDOW,
        },
    )
    .await;
    let every =
        Duration::from_micros(1_000_000 * (GROUPS * GROUP_SIZE) as u64 / OFFERED_PER_SECOND);
    let mut paced = phase(&nodes, &groups, Pace::Every(every)).await;
    Run {
        nodes: count,
        acked_per_second,
        ack_p50_ms: acks.percentile_ms(50.0),
        ack_p99_ms: acks.percentile_ms(99.0),
        deliveries_per_second: saturated.0,
        p50_ms: paced.1.percentile_ms(50.0),
        p99_ms: paced.1.percentile_ms(99.0),
        samples: paced.1.len(),
    }
}

/// Every member at `pace`: deliveries per second, and latencies.
async fn phase(nodes: &Nodes, groups: &[(i64, Vec<Account>)], pace: Pace) -> (f64, Latencies) {
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let clock = Clock {
        epoch: Instant::now(),
    };
    let cluster = nodes.nodes.len() > 1;
    let mut members = Vec::new();
    for (conversation, accounts) in groups {
        for (m, account) in accounts.iter().enumerate() {
            let socket = load::natter_socket(nodes.of(m), account).await;
            members.push(tokio::spawn(load::fan_out_member(
                socket,
                *conversation,
                pace,
                clock,
                tally.clone(),
                stop.clone(),
                cluster.then_some(m % nodes.nodes.len()),
            )));
        }
    }
    let per_second = timed(&tally).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Latencies::default();
    for member in members {
        latencies.merge(member.await.expect("member"));
    }
    (per_second, latencies)
}
