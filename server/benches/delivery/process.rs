//! The processes under test: the real `natter-server` binary and the raw
//! relay (this bench re-run with `relay`), each pinned to core 0 with
//! `taskset` while the load runs on core 1, so that they are measured on
//! the same one core.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Process {
    child: Child,
    pub addr: SocketAddr,
}

/// Whether `taskset` can pin processes here.
pub fn can_pin() -> bool {
    Command::new("taskset")
        .args(["-c", "0", "true"])
        .status()
        .is_ok_and(|status| status.success())
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
}

fn pinned(program: &Path, core: Option<usize>) -> Command {
    match core {
        Some(core) if can_pin() => {
            let mut command = Command::new("taskset");
            command.arg("-c").arg(core.to_string()).arg(program);
            command
        }
        _ => Command::new(program),
    }
}

impl Process {
    /// Starts the Natter server on a fresh data directory.
    pub fn natter(data: &Path, core: Option<usize>) -> Self {
        Self::natter_with(data, core, &[])
    }

    /// The same, with settings of its own (a cluster node's).
    pub fn natter_with(data: &Path, core: Option<usize>, extra: &[String]) -> Self {
        let addr = free_addr();
        let mut child = pinned(Path::new(env!("CARGO_BIN_EXE_natter-server")), core);
        child
            .args(["--addr", &addr.to_string(), "--dist-dir", "/nonexistent"])
            .args(["--frame-rate", "1000000000"])
            .args(["--sign-ups-per-hour", "1000000"])
            // The memory figure holds 10,000 sockets from one address, a
            // hundred per account.
            .args(["--sockets-per-account", "1000000"])
            .args(["--sockets-per-address", "1000000"])
            .arg("--data-dir")
            .arg(data)
            .args(extra);
        // NATTER_BENCH_LOG=<filter> shows the server's log, for profiling.
        let log = std::env::var("NATTER_BENCH_LOG").ok();
        let child = child
            .stdout(if log.is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .env("RUST_LOG", log.unwrap_or_else(|| "warn".to_owned()))
            .spawn()
            .expect("start natter-server");
        Self::ready(child, addr)
    }

    /// Starts the raw relay.
    pub fn relay(core: Option<usize>) -> Self {
        let addr = free_addr();
        let child = pinned(&std::env::current_exe().expect("this bench"), core)
            .args(["relay", &addr.to_string()])
            .stdout(Stdio::null())
            .spawn()
            .expect("start the relay");
        Self::ready(child, addr)
    }

    fn ready(child: Child, addr: SocketAddr) -> Self {
        let started = Instant::now();
        while TcpStream::connect(addr).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{addr} never listened"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Process { child, addr }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time the process has used (all its threads, user and kernel),
    /// from `/proc`.
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).expect("stat");
        // The fields after the command name, which may hold spaces.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        // utime and stime (fields 14 and 15), in USER_HZ ticks, which
        // Linux fixes at 100 a second for user space.
        let ticks: u64 = fields[11..13]
            .iter()
            .map(|field| field.parse::<u64>().expect("ticks"))
            .sum();
        ticks as f64 / 100.0
    }

    /// Resident memory in KiB, from `/proc`.
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid()).expect("VmRSS")
    }
}

/// The resident memory of process `pid`, if it is running.
pub fn rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
