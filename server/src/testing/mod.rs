//! What the tests of a cluster start: private PostgreSQL, NATS and HAProxy
//! servers on loopback ports ([`postgres`], [`nats`], [`haproxy`]), each a
//! child of a small
//! shell loop that stops it once the test process is gone, however that
//! ends (a failed assertion, a timeout, Ctrl-C).

pub mod haproxy;
pub mod nats;
pub mod postgres;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The flags of a cluster node (a `natter-server` process) on this
/// database, NATS server and shared directory.
pub fn node_args(database_url: &str, nats_url: &str, shared: &Path) -> Vec<String> {
    [
        "--store",
        "postgres",
        "--database-url",
        database_url,
        "--hub",
        "nats",
        "--nats-url",
        nats_url,
        "--shared-dir",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([shared.display().to_string()])
    .collect()
}

/// Whether the tests run as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// A free loopback port (free when asked; the server takes it at once).
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A server process watched on behalf of this test process.
pub struct Watched {
    pid_file: PathBuf,
    /// Killed already: nothing left to stop.
    killed: std::sync::atomic::AtomicBool,
}

impl Watched {
    /// Runs the shell command `command` (its output to `log`) as `user` (or
    /// as this process's user); once this process ends it is stopped with
    /// SIGTERM (SIGINT would not do: a shell starts background commands
    /// with it ignored) and `then` (a shell command) runs.
    pub fn spawn(
        command: &str,
        log: &Path,
        user: Option<&str>,
        then: &str,
    ) -> std::io::Result<Self> {
        // One pid file per start: a server started again in the same
        // directory must not be stopped by its predecessor's handle.
        static STARTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let start = STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let pid_file = log.with_extension(format!("{start}.pid"));
        let script = format!(
            "{command} >'{log}' 2>&1 & server=$!; echo $server >'{pid}'; \
             while [ -d /proc/{parent} ] && kill -0 $server 2>/dev/null; do sleep 1; done; \
             kill -TERM $server 2>/dev/null; wait $server; {then}",
            log = log.display(),
            pid = pid_file.display(),
            parent = std::process::id(),
        );
        let mut shell = match user {
            Some(user) => {
                let mut runuser = Command::new("runuser");
                runuser.args(["-u", user, "--", "/bin/sh"]);
                runuser
            }
            None => Command::new("/bin/sh"),
        };
        shell
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(Watched {
            pid_file,
            killed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// SIGKILLs the server (its watcher then ends too).
    pub fn kill(&self) {
        if self.killed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        // The watcher writes the pid file just after starting the server
        // (unless its directory is gone already).
        let dir_exists = || self.pid_file.parent().is_some_and(Path::exists);
        while !self.pid_file.exists() && dir_exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        if let Ok(pid) = std::fs::read_to_string(&self.pid_file) {
            let _ = Command::new("kill").args(["-9", pid.trim()]).status();
            let _ = std::fs::remove_file(&self.pid_file);
        }
    }
}

impl Drop for Watched {
    /// A server a test no longer holds stops with it (one kept for the
    /// whole test process, such as the PostgreSQL server, is never dropped).
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits up to 30 s for a TCP listener on `port`.
pub fn await_port(port: u16, log: &Path) -> Result<(), String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if std::time::Instant::now() > deadline {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!("nothing listens on port {port} after 30 s:\n{log}"));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Ok(())
}
