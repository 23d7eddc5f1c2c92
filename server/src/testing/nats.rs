//! A private NATS server (Debian's `nats-server`) on a loopback port, one
//! per test that asks: tests kill and restart it.

use std::path::PathBuf;

use super::{await_port, free_port, Watched};

pub struct NatsServer {
    pub port: u16,
    /// Before `dir`: fields drop in order, and the server must stop before
    /// its directory goes.
    process: Watched,
    dir: tempfile::TempDir,
}

fn program() -> PathBuf {
    ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("nats-server"))
}

impl NatsServer {
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("natter-nats-")
            .tempdir()
            .expect("temp dir");
        let port = free_port().expect("a free port");
        let process = Self::run(&dir, port);
        NatsServer { port, process, dir }
    }

    fn run(dir: &tempfile::TempDir, port: u16) -> Watched {
        let log = dir.path().join("nats.log");
        let command = format!("'{}' -a 127.0.0.1 -p {port}", program().display());
        let process = Watched::spawn(&command, &log, None, "")
            .unwrap_or_else(|err| panic!("starting nats-server (install `nats-server`): {err}"));
        await_port(port, &log).unwrap_or_else(|err| panic!("nats-server: {err}"));
        process
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// SIGKILLs the server.
    pub fn kill(&self) {
        self.process.kill();
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.process = Self::run(&self.dir, self.port);
    }
}
