//! A private PostgreSQL server for the tests, and a fresh database in it
//! for each test.
//!
//! `NATTER_TEST_POSTGRES` (a `postgres://user@host:port` URL of a server
//! whose user may create databases) names a server to use; otherwise the
//! first test to ask starts one for this test process: Debian's
//! `postgresql` binaries, a data directory in a temporary directory,
//! loopback only, durability off (these tests are about behaviour, not
//! crashes). It stops when the test process ends, whatever way it ends: a
//! small shell loop beside it watches for the process to go. PostgreSQL
//! refuses to run as root, so as root it runs as the `postgres` user.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::PostgresStore;

/// A database made for one test (it goes with the server).
pub struct Database {
    pub url: String,
}

/// A migrated store on a database of its own.
pub async fn fresh_store() -> (PostgresStore, Database) {
    let database = fresh_database().await;
    let store = PostgresStore::open(&database.url)
        .await
        .expect("open the test database");
    (store, database)
}

/// An empty database of its own.
pub async fn fresh_database() -> Database {
    let server = server();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin: sqlx::PgPool = sqlx::PgPool::connect(&format!("{server}/postgres"))
        .await
        .expect("connect to the test server");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create a test database");
    admin.close().await;
    Database {
        url: format!("{server}/{name}"),
    }
}

/// The server's URL, without a database.
fn server() -> String {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER
        .get_or_init(|| match std::env::var("NATTER_TEST_POSTGRES") {
            Ok(url) if !url.is_empty() => url,
            _ => start().unwrap_or_else(|err| panic!("starting PostgreSQL for the tests: {err}")),
        })
        .clone()
}

/// Where Debian keeps the newest PostgreSQL's programs.
fn bin_dir() -> Result<PathBuf, String> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|err| format!("no /usr/lib/postgresql ({err}): install `postgresql`"))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|bin| bin.join("postgres").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .ok_or_else(|| "no PostgreSQL under /usr/lib/postgresql".to_owned())
}

/// Runs `program` as the user PostgreSQL runs as.
fn as_postgres(program: &Path) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0");
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn start() -> Result<String, String> {
    let bin = bin_dir()?;
    let dir = tempfile::Builder::new()
        .prefix("natter-pg-")
        .tempdir()
        .map_err(|err| err.to_string())?
        .keep();
    let data = dir.join("data");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0");
    if root {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .map_err(|err| err.to_string())?;
        if !status.success() {
            return Err(format!("chown {} failed", dir.display()));
        }
    }
    let initdb = as_postgres(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-U", "natter", "-A", "trust", "-E", "UTF8", "--no-locale"])
        .args(["--no-sync", "--no-instructions"])
        .stdout(Stdio::null())
        .output()
        .map_err(|err| err.to_string())?;
    if !initdb.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|err| err.to_string())?
        .port();
    // The loop stops the server (fast shutdown) once this process is gone,
    // and removes its files.
    let script = format!(
        "'{postgres}' -D '{data}' -p {port} -c listen_addresses=127.0.0.1 \
         -c unix_socket_directories='{dir}' -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=300 >'{dir}/log' 2>&1 & server=$!; \
         while [ -d /proc/{parent} ] && kill -0 $server 2>/dev/null; do sleep 1; done; \
         kill -INT $server 2>/dev/null; wait $server; rm -rf '{dir}'",
        postgres = bin.join("postgres").display(),
        data = data.display(),
        dir = dir.display(),
        parent = std::process::id(),
    );
    as_postgres(Path::new("/bin/sh"))
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| err.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .is_ok_and(|status| status.success());
        if ready {
            return Ok(format!("postgres://natter@127.0.0.1:{port}"));
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
            return Err(format!("PostgreSQL did not start in 30 s:\n{log}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
