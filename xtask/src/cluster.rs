//! A Natter cluster on this machine: PostgreSQL (a private data directory,
//! loopback only), NATS, two Natter nodes and HAProxy in front of them.
//! `cargo xtask run --cluster` starts one on the usual address and stops
//! it on Ctrl-C; the test suites start one on free ports.
//!
//! For `run --cluster` every process gets a process group of its own, so
//! that Ctrl-C reaches only xtask, which then stops them in order: the
//! balancer first (no newcomers), the nodes (gracefully: in-flight commits
//! finish), NATS, and PostgreSQL last. For the tests they stay in xtask's
//! group, so that a Ctrl-C that stops the tests stops them too.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tools::{self, HAPROXY, NATS_SERVER};
use crate::{check, describe, root, Result, XtaskError};

/// Where each part listens.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub balancer: u16,
    pub nodes: [u16; 2],
    pub postgres: u16,
    pub nats: u16,
}

impl Ports {
    /// What `run --cluster` uses: the app on 8080, as with one server.
    pub const USUAL: Ports = Ports {
        balancer: 8080,
        nodes: [8081, 8082],
        postgres: 5433,
        nats: 4223,
    };

    /// Free ports, for tests.
    pub fn free() -> Result<Ports> {
        let port = crate::server::free_port;
        Ok(Ports {
            balancer: port()?,
            nodes: [port()?, port()?],
            postgres: port()?,
            nats: port()?,
        })
    }
}

/// Whether Ctrl-C at the terminal reaches the cluster's processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtrlC {
    /// Only xtask hears it, and stops them in order.
    ToXtask,
    /// They hear it too, and stop with xtask.
    ToAll,
}

/// One process of the cluster.
struct Part {
    name: String,
    child: Child,
}

pub struct Cluster {
    pub ports: Ports,
    dir: PathBuf,
    postgres_bin: PathBuf,
    /// Started in this order; stopped the other way round.
    parts: Vec<Part>,
    /// How each node was started.
    node_commands: Vec<(String, Vec<String>)>,
    ctrl_c: CtrlC,
}

impl Cluster {
    /// Starts everything under `dir` (kept between runs: the database
    /// survives a restart) with `server` and the client in `dist`.
    pub fn start(
        dir: &Path,
        ports: Ports,
        server: &Path,
        dist: &Path,
        node_args: &[String],
        ctrl_c: CtrlC,
    ) -> Result<Cluster> {
        tools::cluster_packages()?;
        let postgres_bin = tools::postgres_bin()
            .ok_or_else(|| XtaskError::Setup("PostgreSQL is not installed".to_owned()))?;
        create_dir(dir)?;
        let mut cluster = Cluster {
            ports,
            dir: dir.to_owned(),
            postgres_bin,
            parts: Vec::new(),
            node_commands: Vec::new(),
            ctrl_c,
        };
        cluster.start_postgres()?;
        let nats = cluster.spawn(
            "nats",
            Command::new(NATS_SERVER).args(["-a", "127.0.0.1", "-p", &ports.nats.to_string()]),
        )?;
        cluster.parts.push(nats);
        await_port(ports.nats, "NATS")?;
        let shared = dir.join("shared");
        for (n, port) in ports.nodes.iter().enumerate() {
            let data = dir.join(format!("node{}", n + 1));
            let mut args: Vec<String> = vec![
                "--addr".into(),
                format!("127.0.0.1:{port}"),
                "--data-dir".into(),
                data.display().to_string(),
                "--shared-dir".into(),
                shared.display().to_string(),
                "--dist-dir".into(),
                dist.display().to_string(),
                "--store".into(),
                "postgres".into(),
                "--database-url".into(),
                cluster.database_url(),
                "--hub".into(),
                "nats".into(),
                "--nats-url".into(),
                format!("nats://127.0.0.1:{}", ports.nats),
                // Behind the balancer every request comes from it.
                "--trusted-proxy".into(),
                "127.0.0.1".into(),
            ];
            args.extend(node_args.iter().cloned());
            cluster
                .node_commands
                .push((server.display().to_string(), args));
            cluster.start_node(n)?;
        }
        let config = std::fs::read_to_string(root().join("deploy/haproxy.cfg"))
            .map_err(|source| io(&root().join("deploy/haproxy.cfg"), source))?
            .replace("{bind}", &format!("127.0.0.1:{}", ports.balancer))
            .replace(
                "{servers}",
                &ports
                    .nodes
                    .iter()
                    .enumerate()
                    .map(|(n, port)| format!("    server node{} 127.0.0.1:{port}\n", n + 1))
                    .collect::<String>(),
            );
        let config_path = dir.join("haproxy.cfg");
        std::fs::write(&config_path, config).map_err(|source| io(&config_path, source))?;
        let balancer = cluster.spawn(
            "haproxy",
            Command::new(HAPROXY).arg("-db").arg("-f").arg(&config_path),
        )?;
        cluster.parts.push(balancer);
        await_port(ports.balancer, "HAProxy")?;
        cluster.write_description()?;
        Ok(cluster)
    }

    pub fn database_url(&self) -> String {
        format!("postgres://natter@127.0.0.1:{}/natter", self.ports.postgres)
    }

    /// Starts node `n` (0 or 1).
    fn start_node(&mut self, n: usize) -> Result<()> {
        let (program, args) = self.node_commands[n].clone();
        let name = format!("node{}", n + 1);
        let mut command = Command::new(program);
        command.args(&args).env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
        );
        let part = self.spawn(&name, &mut command)?;
        self.parts.push(part);
        await_port(self.ports.nodes[n], &name)
    }

    fn start_postgres(&mut self) -> Result<()> {
        let data = self.dir.join("postgres");
        let user = is_root().then_some("postgres");
        if !data.join("PG_VERSION").exists() {
            create_dir(&data)?;
            if let Some(user) = user {
                check(
                    Command::new("chown")
                        .args(["-R", &format!("{user}:{user}")])
                        .arg(&data),
                )?;
            }
            check(
                as_user(user, &self.postgres_bin.join("initdb"))
                    .arg("-D")
                    .arg(&data)
                    .args(["-U", "natter", "-A", "trust", "-E", "UTF8", "--no-locale"])
                    .stdout(Stdio::null()),
            )?;
        }
        let port = self.ports.postgres.to_string();
        let mut postgres = as_user(user, &self.postgres_bin.join("postgres"));
        postgres
            .arg("-D")
            .arg(&data)
            .args(["-p", &port, "-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", data.display()));
        let part = self.spawn("postgres", &mut postgres)?;
        self.parts.push(part);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !Command::new(self.postgres_bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port])
            .status()
            .is_ok_and(|status| status.success())
        {
            if Instant::now() > deadline {
                return Err(XtaskError::Setup(
                    "PostgreSQL did not start in 30 s".to_owned(),
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let exists = Command::new(self.postgres_bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "natter",
                "-d",
                "postgres",
                "-tAc",
            ])
            .arg("SELECT 1 FROM pg_database WHERE datname = 'natter'")
            .output()
            .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "1")
            .unwrap_or(false);
        if !exists {
            check(Command::new(self.postgres_bin.join("createdb")).args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "natter",
                "natter",
            ]))?;
        }
        Ok(())
    }

    fn spawn(&self, name: &str, command: &mut Command) -> Result<Part> {
        use std::os::unix::process::CommandExt;
        let log = self.dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).map_err(|source| io(&log, source))?;
        let err = file.try_clone().map_err(|source| io(&log, source))?;
        let shown = describe(command);
        if self.ctrl_c == CtrlC::ToXtask {
            command.process_group(0);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .map_err(|source| XtaskError::Spawn {
                command: shown,
                source,
            })?;
        Ok(Part {
            name: name.to_owned(),
            child,
        })
    }

    /// `cluster.json`: where everything runs and each process's id, for
    /// the tests that stop and start parts.
    fn write_description(&self) -> Result<()> {
        let pid = |name: &str| {
            self.parts
                .iter()
                .find(|part| part.name == name)
                .map_or(0, |part| part.child.id())
        };
        let nodes: Vec<String> = self
            .node_commands
            .iter()
            .enumerate()
            .map(|(n, (program, args))| {
                let args: Vec<String> = args.iter().map(|arg| json_string(arg)).collect();
                format!(
                    "{{\"name\": \"node{}\", \"port\": {}, \"pid\": {}, \"program\": {}, \"args\": [{}]}}",
                    n + 1,
                    self.ports.nodes[n],
                    pid(&format!("node{}", n + 1)),
                    json_string(program),
                    args.join(", ")
                )
            })
            .collect();
        let text = format!(
            "{{\"url\": \"http://127.0.0.1:{}\", \"nats_pid\": {}, \"nodes\": [{}]}}\n",
            self.ports.balancer,
            pid("nats"),
            nodes.join(", ")
        );
        let path = self.dir.join("cluster.json");
        std::fs::write(&path, text).map_err(|source| io(&path, source))
    }

    pub fn describe(&self) -> String {
        let p = self.ports;
        format!(
            "Natter cluster (data and logs in {dir}):\n  \
             the app, through HAProxy   http://127.0.0.1:{balancer}\n  \
             node 1                     http://127.0.0.1:{node1}  (/healthz /readyz /metrics)\n  \
             node 2                     http://127.0.0.1:{node2}\n  \
             PostgreSQL                 {database}\n  \
             NATS                       nats://127.0.0.1:{nats}",
            dir = self.dir.display(),
            balancer = p.balancer,
            node1 = p.nodes[0],
            node2 = p.nodes[1],
            database = self.database_url(),
            nats = p.nats,
        )
    }

    /// The parts that exited by themselves since the last call.
    fn exited(&mut self) -> Vec<String> {
        let mut gone = Vec::new();
        self.parts.retain_mut(|part| {
            let exited = part.child.try_wait().ok().flatten().is_some();
            if exited {
                gone.push(part.name.clone());
            }
            !exited
        });
        gone
    }

    /// Stops everything, the balancer first and the database last.
    pub fn stop(&mut self) {
        while let Some(mut part) = self.parts.pop() {
            let started = Instant::now();
            if part.name == "postgres" {
                let _ = as_user(
                    is_root().then_some("postgres"),
                    &self.postgres_bin.join("pg_ctl"),
                )
                .arg("-D")
                .arg(self.dir.join("postgres"))
                .args(["stop", "-m", "fast"])
                .stdout(Stdio::null())
                .status();
            } else {
                let _ = Command::new("kill")
                    .args(["-TERM", &part.child.id().to_string()])
                    .status();
            }
            let deadline = Instant::now() + Duration::from_secs(15);
            while part.child.try_wait().ok().flatten().is_none() {
                if Instant::now() > deadline {
                    let _ = part.child.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = part.child.wait();
            println!(
                "xtask: stopped {} ({:.1} s)",
                part.name,
                started.elapsed().as_secs_f64()
            );
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `cargo xtask run --cluster`: until Ctrl-C. A part that stops by itself
/// (a node killed, say) is reported, and the rest carry on, as a cluster
/// does.
pub fn run(tools: &tools::Tools, node_args: &[String]) -> Result<()> {
    let sizes = crate::client::build(tools, crate::client::Names::Stripped)?;
    sizes.print();
    crate::cargo(&["build", "--release", "--package", "natter-server"])?;
    let (stop, stopped) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop.send(());
    })
    .map_err(|err| XtaskError::Setup(format!("cannot catch Ctrl-C: {err}")))?;
    let mut cluster = Cluster::start(
        &root().join("data/cluster"),
        Ports::USUAL,
        &root().join("target/release/natter-server"),
        &root().join("dist"),
        node_args,
        CtrlC::ToXtask,
    )?;
    println!("{}\nCtrl-C stops it all.", cluster.describe());
    loop {
        if stopped.recv_timeout(Duration::from_millis(500)).is_ok() {
            println!("\nxtask: stopping the cluster");
            break;
        }
        for name in cluster.exited() {
            eprintln!("xtask: {name} stopped by itself; see data/cluster/{name}.log");
        }
    }
    cluster.stop();
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// `program`, run as `user` if given (PostgreSQL refuses to run as root).
fn as_user(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut command = Command::new("runuser");
            command.args(["-u", user, "--"]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

fn await_port(port: u16, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(XtaskError::Setup(format!(
                "{what} is not listening on port {port} after 30 s"
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| io(dir, source))
}

fn io(path: &Path, source: std::io::Error) -> XtaskError {
    XtaskError::Io {
        path: path.to_owned(),
        source,
    }
}

/// `text` as a JSON string.
fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
