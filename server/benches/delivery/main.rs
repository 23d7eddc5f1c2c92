//! Natter's server benchmarks, each side by side with a baseline measured in
//! the same run, on the same machine:
//! - **durable**: messages acknowledged per second (ack after commit, SQLite
//!   WAL with `synchronous=FULL`) from 8 and 64 sockets, each with a window
//!   of messages in flight, with ack latency; against single-row SQLite
//!   commits with the same durability, the ceiling of one commit per
//!   message.
//! - **fan-out** in groups of 10: deliveries per second at saturation, and
//!   send→receive latency at 10,000 messages/s offered; against a raw
//!   tokio-tungstenite relay under the same load. Beside it, each one's CPU
//!   per message, and the storage floor (`floor.rs`): what storing the
//!   messages costs SQLite alone, which bounds any SQLite-backed server.
//! - **memory** per idle authenticated socket: the server's resident memory
//!   over 10,000 sockets; against the relay's.
//! - **login storm**: 300 wrong passwords at once; how many are turned
//!   away, a bystander's request times against the idle server's, and the
//!   server's peak memory over its resting level.
//!
//! The server and the relay run pinned to core 0, the load to core 1
//! (`taskset`). Run with `cargo xtask bench`; `--check` fails when a budget
//! is missed, `--record` appends the results to BENCHMARKS.md, and
//! `--only durable|fanout|relay|floor|memory|storm` runs one part (to profile it);
//! `--cluster` measures a cluster instead (`cluster.rs`). Speed goals live
//! here, never in tests.

mod cluster;
mod floor;
mod load;
mod process;
mod relay;
mod stats;
mod storm;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use natter_server::chat::pipeline::MAX_BATCH;

use load::{Account, Clock, Pace, Tally};
use process::Process;
use stats::Latencies;
use uuid::Uuid;

/// Where the server and the relay run, and where the load runs.
const SERVER_CORE: usize = 0;
const LOAD_CORE: usize = 1;

const DURABLE_MESSAGES: usize = 64_000;
const DURABLE_WINDOW: usize = 64;
const GROUPS: usize = 20;
const GROUP_SIZE: usize = 10;
const SATURATION_WINDOW: usize = 16;
const OFFERED_PER_SECOND: u64 = 10_000;
const RUN: Duration = Duration::from_secs(3);
const WARM_UP: Duration = Duration::from_millis(500);
const IDLE_SOCKETS: usize = 10_000;

/// The budgets `--check` holds the results to (GUIDE §7).
mod budget {
    pub const ACKED_PER_SECOND: f64 = 50_000.0;
    pub const TIMES_BASELINE: f64 = 10.0;
    pub const OF_RELAY: f64 = 0.5;
    pub const P99_MS: f64 = 10.0;
    pub const KIB_PER_SOCKET: f64 = 10.0;
    /// A bystander's requests during a login storm (issue 11: "answered
    /// within 1 s").
    pub const STORM_P99_MS: f64 = 1000.0;
    /// The server's peak memory over its resting level during the storm.
    pub const STORM_PEAK_MIB: f64 = 32.0;
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("relay") {
        return run_relay(&args[1]);
    }
    // A cluster's processes share the cores; the rest is measured pinned.
    if !args.iter().any(|arg| arg == "--cluster") {
        pin_to_load_core(&args);
    }
    let check = args.iter().any(|arg| arg == "--check");
    let record = args.iter().any(|arg| arg == "--record");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let only = args
        .iter()
        .position(|arg| arg == "--only")
        .and_then(|at| args.get(at + 1))
        .cloned();
    if let Some(part) = only {
        return runtime.block_on(measure_part(&part));
    }
    if args.iter().any(|arg| arg == "--cluster") {
        return runtime.block_on(cluster::measure(record, check));
    }
    let results = runtime.block_on(measure());
    let report = results.report();
    print!("{report}");
    if record {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../BENCHMARKS.md");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .expect("BENCHMARKS.md");
        std::io::Write::write_all(&mut file, report.as_bytes()).expect("append");
        println!("(appended to BENCHMARKS.md)");
    }
    let missed = results.missed();
    if check && !missed.is_empty() {
        eprintln!("budgets missed:\n  {}", missed.join("\n  "));
        std::process::exit(1);
    }
}

/// Runs this bench again under `taskset -c 1`, once.
fn pin_to_load_core(args: &[String]) {
    if std::env::var_os("NATTER_BENCH_PINNED").is_some() || !process::can_pin() {
        return;
    }
    use std::os::unix::process::CommandExt;
    let error = std::process::Command::new("taskset")
        .arg("-c")
        .arg(LOAD_CORE.to_string())
        .arg(std::env::current_exe().expect("this bench"))
        .args(args)
        .env("NATTER_BENCH_PINNED", "1")
        .exec();
    panic!("could not re-run pinned: {error}");
}

fn run_relay(addr: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        relay::serve(listener).await;
    });
}

struct Durable {
    sockets: usize,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

struct FanOut {
    deliveries_per_second: f64,
    /// The server's CPU per message sent while saturated.
    cpu_micros_per_message: f64,
    /// How busy the server's core was meanwhile, 0 to 1.
    busy: f64,
    p50_ms: f64,
    p99_ms: f64,
    samples: usize,
}

struct Results {
    machine: String,
    pinned: bool,
    baseline_per_second: f64,
    durable: Vec<Durable>,
    natter: FanOut,
    relay: FanOut,
    floor_micros: f64,
    natter_kib_per_socket: f64,
    relay_kib_per_socket: f64,
    storm: storm::Storm,
}

async fn measure() -> Results {
    let baseline_per_second = baseline(20_000);
    let mut durable = Vec::new();
    for sockets in [8, 64] {
        durable.push(durable_run(sockets).await);
    }
    let natter = fan_out(Target::Natter).await;
    let relay = fan_out(Target::Relay).await;
    let floor_micros = storage_floor().await;
    Results {
        machine: machine(),
        pinned: process::can_pin(),
        baseline_per_second,
        durable,
        natter,
        relay,
        floor_micros,
        natter_kib_per_socket: idle_memory(Target::Natter).await,
        relay_kib_per_socket: idle_memory(Target::Relay).await,
        storm: login_storm().await,
    }
}

/// One part alone, printed roughly: for profiling, not for the record.
async fn measure_part(part: &str) {
    match part {
        "durable" => {
            for sockets in [8, 64] {
                let run = durable_run(sockets).await;
                println!(
                    "durable {sockets}: {:.0} msg/s, p99 {:.2} ms",
                    run.per_second, run.p99_ms
                );
            }
        }
        "fanout" => {
            let run = fan_out(Target::Natter).await;
            println!(
                "fan-out: {:.0} deliveries/s, {:.2} µs CPU per message ({:.0} % busy), p99 {:.2} ms",
                run.deliveries_per_second,
                run.cpu_micros_per_message,
                run.busy * 100.0,
                run.p99_ms
            );
        }
        "relay" => {
            let run = fan_out(Target::Relay).await;
            println!(
                "relay fan-out: {:.0} deliveries/s, {:.2} µs CPU per message ({:.0} % busy), p99 {:.2} ms",
                run.deliveries_per_second,
                run.cpu_micros_per_message,
                run.busy * 100.0,
                run.p99_ms
            );
        }
        "floor" => println!(
            "storage floor: {:.2} µs CPU per message",
            storage_floor().await
        ),
        "memory" => println!(
            "{:.1} KiB per idle socket",
            idle_memory(Target::Natter).await
        ),
        "storm" => {
            let run = login_storm().await;
            println!(
                "login storm: {} of {} refused, bystander p99 {:.1} ms (idle {:.1} ms), peak +{:.1} MiB",
                run.refused,
                storm::GUESSES,
                run.storm_p99_ms,
                run.idle_p99_ms,
                run.peak_mib
            );
        }
        other => {
            eprintln!("no part called {other:?}: durable, fanout, relay, floor, memory or storm")
        }
    }
}

/// The login storm, against a fresh server on the server's core.
async fn login_storm() -> storm::Storm {
    let data = tempfile::tempdir().expect("temp dir");
    storm::run(data.path(), Some(SERVER_CORE)).await
}

async fn storage_floor() -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    floor::micros_per_message(dir.path()).await
}

/// Single-row commits straight into SQLite, with the server's settings.
fn baseline(rows: usize) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let conn = rusqlite::Connection::open(dir.path().join("baseline.sqlite3")).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("full");
    conn.execute_batch("CREATE TABLE m (id INTEGER PRIMARY KEY, client_id TEXT UNIQUE, body TEXT)")
        .expect("schema");
    let started = Instant::now();
    for n in 0..rows {
        conn.execute(
            "INSERT INTO m (client_id, body) VALUES (?1, ?2)",
            (Uuid::new_v4().to_string(), format!("message {n}")),
        )
        .expect("insert");
    }
    rows as f64 / started.elapsed().as_secs_f64()
}

async fn durable_run(sockets: usize) -> Durable {
    let data = tempfile::tempdir().expect("temp dir");
    let server = Process::natter(data.path(), Some(SERVER_CORE));
    let addr = server.addr;
    let mut senders = Vec::new();
    for n in 0..sockets {
        let me = load::sign_up(addr, &format!("sender{n}")).await;
        load::sign_up(addr, &format!("peer{n}")).await;
        let conversation = load::open_direct(addr, &me, &format!("peer{n}")).await;
        senders.push((load::natter_socket(addr, &me).await, conversation));
    }
    let per_socket = DURABLE_MESSAGES / sockets;
    eprintln!("measuring durable delivery from {sockets} sockets");
    let started = Instant::now();
    let tasks: Vec<_> = senders
        .into_iter()
        .map(|(socket, conversation)| {
            tokio::spawn(load::durable_sender(
                socket,
                conversation,
                per_socket,
                DURABLE_WINDOW,
            ))
        })
        .collect();
    let mut latencies = Latencies::default();
    for task in tasks {
        latencies.merge(task.await.expect("sender"));
    }
    let elapsed = started.elapsed();
    Durable {
        sockets,
        per_second: (per_socket * sockets) as f64 / elapsed.as_secs_f64(),
        p50_ms: latencies.percentile_ms(50.0),
        p99_ms: latencies.percentile_ms(99.0),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Target {
    Natter,
    Relay,
}

/// The server under test, and how a member's socket reaches its group.
struct Setup {
    _data: tempfile::TempDir,
    server: Process,
    /// Per group: its conversation and its members.
    groups: Vec<(i64, Vec<Account>)>,
}

async fn set_up(target: Target, groups: usize) -> Setup {
    let data = tempfile::tempdir().expect("temp dir");
    let server = match target {
        Target::Natter => Process::natter(data.path(), Some(SERVER_CORE)),
        Target::Relay => Process::relay(Some(SERVER_CORE)),
    };
    let mut made = Vec::new();
    for g in 0..groups {
        if target == Target::Relay {
            made.push((g as i64, Vec::new()));
            continue;
        }
        let mut members = Vec::new();
        for m in 0..GROUP_SIZE {
            members.push(load::sign_up(server.addr, &format!("g{g}m{m}")).await);
        }
        let names: Vec<&str> = members[1..]
            .iter()
            .map(|m| m.user.username.as_str())
            .collect();
        let conversation = load::create_group(server.addr, &members[0], &names).await;
        made.push((conversation, members));
    }
    Setup {
        _data: data,
        server,
        groups: made,
    }
}

async fn member_socket(target: Target, setup: &Setup, group: usize, member: usize) -> load::Socket {
    match target {
        Target::Natter => {
            load::natter_socket(setup.server.addr, &setup.groups[group].1[member]).await
        }
        Target::Relay => {
            load::connect(
                &format!(
                    "ws://{}/ws?group={}",
                    setup.server.addr, setup.groups[group].0
                ),
                None,
            )
            .await
        }
    }
}

async fn fan_out(target: Target) -> FanOut {
    let setup = set_up(target, GROUPS).await;
    let senders = GROUPS * GROUP_SIZE;
    // Saturation: everyone sends as fast as acks allow.
    let saturated = phase(
        target,
        &setup,
        Pace::Saturate {
            window: SATURATION_WINDOW,
        },
    )
    .await;
    // Latency at the offered rate, spread evenly over the senders.
    let every = Duration::from_micros(1_000_000 * senders as u64 / OFFERED_PER_SECOND);
    let mut paced = phase(target, &setup, Pace::Every(every)).await;
    let messages_per_second = saturated.deliveries_per_second / (GROUP_SIZE - 1) as f64;
    FanOut {
        deliveries_per_second: saturated.deliveries_per_second,
        cpu_micros_per_message: saturated.busy * 1e6 / messages_per_second,
        busy: saturated.busy,
        p50_ms: paced.latencies.percentile_ms(50.0),
        p99_ms: paced.latencies.percentile_ms(99.0),
        samples: paced.latencies.len(),
    }
}

/// What one phase of the fan-out saw after its warm-up.
struct Phase {
    deliveries_per_second: f64,
    /// The server's CPU seconds per second.
    busy: f64,
    latencies: Latencies,
}

/// One run of every member at `pace`.
async fn phase(target: Target, setup: &Setup, pace: Pace) -> Phase {
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let clock = Clock {
        epoch: Instant::now(),
    };
    let mut members = Vec::new();
    for group in 0..GROUPS {
        for member in 0..GROUP_SIZE {
            let socket = member_socket(target, setup, group, member).await;
            members.push(tokio::spawn(load::fan_out_member(
                socket,
                setup.groups[group].0,
                pace,
                clock,
                tally.clone(),
                stop.clone(),
                None,
            )));
        }
    }
    tokio::time::sleep(WARM_UP).await;
    // On stderr, for whoever profiles the server meanwhile.
    eprintln!("measuring {:?} fan-out for {RUN:?}", pace_name(pace));
    let (start_count, start_cpu, started) = (
        tally.deliveries.load(Ordering::Relaxed),
        setup.server.cpu_seconds(),
        Instant::now(),
    );
    tokio::time::sleep(RUN).await;
    let delivered = tally.deliveries.load(Ordering::Relaxed) - start_count;
    let elapsed = started.elapsed().as_secs_f64();
    let busy = (setup.server.cpu_seconds() - start_cpu) / elapsed;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Latencies::default();
    for member in members {
        latencies.merge(member.await.expect("member"));
    }
    Phase {
        deliveries_per_second: delivered as f64 / elapsed,
        busy,
        latencies,
    }
}

fn pace_name(pace: Pace) -> &'static str {
    match pace {
        Pace::Saturate { .. } => "saturated",
        Pace::Every(_) => "paced",
    }
}

/// Resident memory per idle socket: the server's growth over
/// [`IDLE_SOCKETS`] sockets that said hello and then nothing.
async fn idle_memory(target: Target) -> f64 {
    let users = IDLE_SOCKETS / 100;
    let data = tempfile::tempdir().expect("temp dir");
    let server = match target {
        Target::Natter => Process::natter(data.path(), Some(SERVER_CORE)),
        Target::Relay => Process::relay(Some(SERVER_CORE)),
    };
    let mut accounts = Vec::new();
    if target == Target::Natter {
        for n in 0..users {
            accounts.push(load::sign_up(server.addr, &format!("idle{n}")).await);
        }
    }
    // One socket first, so that what every server allocates once (buffers,
    // the runtime's first connection) is not counted per socket.
    let first = open_idle(target, server.addr, accounts.first()).await;
    settle().await;
    let before = server.rss_kib();
    let mut sockets = Vec::with_capacity(IDLE_SOCKETS);
    for wave in 0..IDLE_SOCKETS / 100 {
        let account = accounts.get(wave % users.max(1));
        let opened = futures_util::future::join_all(
            (0..100).map(|_| open_idle(target, server.addr, account)),
        )
        .await;
        sockets.extend(opened);
    }
    settle().await;
    let after = server.rss_kib();
    drop((first, sockets));
    after.saturating_sub(before) as f64 / IDLE_SOCKETS as f64
}

async fn open_idle(
    target: Target,
    addr: std::net::SocketAddr,
    account: Option<&Account>,
) -> load::Socket {
    match (target, account) {
        (Target::Natter, Some(account)) => load::natter_socket(addr, account).await,
        _ => load::connect(&format!("ws://{addr}/ws?group=0"), None).await,
    }
}

async fn settle() {
    tokio::time::sleep(Duration::from_secs(2)).await;
}

/// Now as `YYYY-MM-DD HH:MM UTC` (civil date from days since the epoch,
/// after Howard Hinnant's algorithm).
fn utc_now() -> String {
    let secs = natter_server::now_millis() / 1000;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3_600,
        rest % 3_600 / 60
    )
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    // Counted from /proc: this process is pinned to one of them.
    let cores = std::fs::read_to_string("/proc/cpuinfo")
        .map(|info| info.lines().filter(|l| l.starts_with("processor")).count())
        .unwrap_or(0);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or_else(String::new, |kb| format!(", {} GiB", kb / (1024 * 1024)));
    format!("{cores} cores ({cpu}){memory}")
}

impl Results {
    fn worst_durable(&self) -> f64 {
        self.durable
            .iter()
            .map(|d| d.per_second)
            .fold(f64::INFINITY, f64::min)
    }

    /// The most a server could deliver per second on the relay's core if
    /// it did the relay's work and stored each message, and nothing else.
    fn storing_ceiling(&self) -> f64 {
        (GROUP_SIZE - 1) as f64 * 1e6 / (self.relay.cpu_micros_per_message + self.floor_micros)
    }

    /// Each budget missed, in words.
    fn missed(&self) -> Vec<String> {
        let mut missed = Vec::new();
        let worst = self.worst_durable();
        if worst < budget::ACKED_PER_SECOND {
            missed.push(format!(
                "durable: {worst:.0} acked msg/s < {}",
                budget::ACKED_PER_SECOND
            ));
        }
        if worst < budget::TIMES_BASELINE * self.baseline_per_second {
            missed.push(format!(
                "durable: {:.1}× the baseline < {}×",
                worst / self.baseline_per_second,
                budget::TIMES_BASELINE
            ));
        }
        let share = self.natter.deliveries_per_second / self.relay.deliveries_per_second;
        if share < budget::OF_RELAY {
            missed.push(format!(
                "fan-out: {share:.2}× the relay's deliveries/s < {} (storing alone caps it at {:.2}×)",
                budget::OF_RELAY,
                self.storing_ceiling() / self.relay.deliveries_per_second
            ));
        }
        if self.natter.p99_ms.is_nan() || self.natter.p99_ms > budget::P99_MS {
            missed.push(format!(
                "fan-out: p99 {:.1} ms at {OFFERED_PER_SECOND} msg/s > {} ms",
                self.natter.p99_ms,
                budget::P99_MS
            ));
        }
        if self.natter_kib_per_socket > budget::KIB_PER_SOCKET {
            missed.push(format!(
                "memory: {:.1} KiB per idle socket > {}",
                self.natter_kib_per_socket,
                budget::KIB_PER_SOCKET
            ));
        }
        if self.storm.refused == 0 {
            missed.push("login storm: no guess was refused".to_owned());
        }
        if self.storm.storm_p99_ms.is_nan() || self.storm.storm_p99_ms > budget::STORM_P99_MS {
            missed.push(format!(
                "login storm: bystander p99 {:.0} ms > {} ms",
                self.storm.storm_p99_ms,
                budget::STORM_P99_MS
            ));
        }
        if self.storm.peak_mib > budget::STORM_PEAK_MIB {
            missed.push(format!(
                "login storm: peak +{:.0} MiB > {} MiB",
                self.storm.peak_mib,
                budget::STORM_PEAK_MIB
            ));
        }
        missed
    }

    /// The results as a Markdown section.
    fn report(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "\n### Run of {}\n", utc_now());
        let _ = writeln!(
            out,
            "Machine: {}. Server and relay {} core {SERVER_CORE}, load on core {LOAD_CORE}.\n",
            self.machine,
            if self.pinned {
                "pinned to"
            } else {
                "NOT pinned (no taskset) —"
            }
        );
        let _ = writeln!(
            out,
            "| durable, ack after commit | acked msg/s | ack p50 | ack p99 | × baseline |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|");
        let _ = writeln!(
            out,
            "| baseline: single-row SQLite commits, same settings | {:.0} | | | 1.0 |",
            self.baseline_per_second
        );
        for durable in &self.durable {
            let _ = writeln!(
                out,
                "| Natter, {} sockets × window {DURABLE_WINDOW} | {:.0} | {:.2} ms | {:.2} ms | {:.1} |",
                durable.sockets,
                durable.per_second,
                durable.p50_ms,
                durable.p99_ms,
                durable.per_second / self.baseline_per_second
            );
        }
        let _ = writeln!(
            out,
            "\n| fan-out, {GROUPS} groups of {GROUP_SIZE} | deliveries/s at saturation | p50 at {OFFERED_PER_SECOND} msg/s | p99 | samples |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|");
        for (name, run) in [
            ("raw tokio-tungstenite relay", &self.relay),
            ("Natter", &self.natter),
        ] {
            let _ = writeln!(
                out,
                "| {name} | {:.0} | {:.2} ms | {:.2} ms | {} |",
                run.deliveries_per_second, run.p50_ms, run.p99_ms, run.samples
            );
        }
        let _ = writeln!(
            out,
            "\nNatter/relay deliveries: {:.2}×.\n",
            self.natter.deliveries_per_second / self.relay.deliveries_per_second
        );
        let _ = writeln!(
            out,
            "| per message sent, saturated | server CPU | core busy |"
        );
        let _ = writeln!(out, "|---|---|---|");
        for (name, run) in [
            ("raw relay: read, forward to 9, ack", &self.relay),
            ("Natter", &self.natter),
        ] {
            let _ = writeln!(
                out,
                "| {name} | {:.2} µs | {:.0} % |",
                run.cpu_micros_per_message,
                run.busy * 100.0
            );
        }
        let _ = writeln!(
            out,
            "| storage floor: the same rows into SQLite alone, batches of {MAX_BATCH} | {:.2} µs | |",
            self.floor_micros
        );
        let _ = writeln!(
            out,
            "\nRelaying plus storing, and nothing else, would deliver at most {:.0}/s: {:.2}× the relay.\n",
            self.storing_ceiling(),
            self.storing_ceiling() / self.relay.deliveries_per_second
        );
        let _ = writeln!(
            out,
            "| memory per idle socket ({IDLE_SOCKETS} sockets) | KiB |"
        );
        let _ = writeln!(out, "|---|---|");
        let _ = writeln!(out, "| raw relay | {:.1} |", self.relay_kib_per_socket);
        let _ = writeln!(
            out,
            "| Natter (authenticated, after hello) | {:.1} |",
            self.natter_kib_per_socket
        );
        let _ = writeln!(
            out,
            "\n| login storm: {} wrong passwords at once | refused (429/503) | bystander p99, idle | bystander p99, during | peak memory over resting |",
            storm::GUESSES
        );
        let _ = writeln!(out, "|---|---|---|---|---|");
        let _ = writeln!(
            out,
            "| Natter | {} | {:.1} ms | {:.1} ms | {:.1} MiB |",
            self.storm.refused,
            self.storm.idle_p99_ms,
            self.storm.storm_p99_ms,
            self.storm.peak_mib
        );
        let missed = self.missed();
        let _ = writeln!(
            out,
            "\nBudgets: {}\n",
            if missed.is_empty() {
                "all met.".to_owned()
            } else {
                format!("missed: {}.", missed.join("; "))
            }
        );
        out
    }
}
