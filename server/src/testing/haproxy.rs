//! HAProxy in front of test nodes, configured from `deploy/haproxy.cfg`
//! (the file `cargo xtask run --cluster` uses).

use super::{await_port, free_port, Watched};

/// The balancer's configuration, with `{bind}` and `{servers}` to fill in.
const CONFIG: &str = include_str!("../../../deploy/haproxy.cfg");

pub struct Balancer {
    pub port: u16,
    /// Before `_dir`: fields drop in order, and the server must stop
    /// before its directory goes.
    _process: Watched,
    _dir: tempfile::TempDir,
}

impl Balancer {
    /// Round robin over the nodes listening on `nodes`.
    pub fn start(nodes: &[u16]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("natter-haproxy-")
            .tempdir()
            .expect("temp dir");
        let port = free_port().expect("a free port");
        let servers: String = nodes
            .iter()
            .enumerate()
            .map(|(n, node)| format!("    server node{n} 127.0.0.1:{node}\n"))
            .collect();
        let config = CONFIG
            .replace("{bind}", &format!("127.0.0.1:{port}"))
            .replace("{servers}", &servers);
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).expect("write haproxy.cfg");
        let log = dir.path().join("haproxy.log");
        let program = ["/usr/sbin/haproxy", "/usr/bin/haproxy"]
            .into_iter()
            .find(|program| std::path::Path::new(program).exists())
            .unwrap_or("haproxy");
        let process = Watched::spawn(
            &format!("'{program}' -db -f '{}'", path.display()),
            &log,
            None,
            "",
        )
        .unwrap_or_else(|err| panic!("starting haproxy (install `haproxy`): {err}"));
        await_port(port, &log).unwrap_or_else(|err| panic!("haproxy: {err}"));
        Balancer {
            port,
            _process: process,
            _dir: dir,
        }
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}
