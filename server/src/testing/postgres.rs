//! A private PostgreSQL server for the tests, and a fresh database in it
//! for each test.
//!
//! `NATTER_TEST_POSTGRES` (a `postgres://user@host:port` URL of a server
//! whose user may create databases) names a server to use; otherwise the
//! first test to ask starts one for this test process: Debian's
//! `postgresql` binaries, a data directory in a temporary directory,
//! loopback only, durability off (these tests are about behaviour, not
//! crashes). It stops when the test process ends, whatever way it ends: a
//! small shell loop beside it watches for the process to go (and then
//! removes its files). PostgreSQL refuses to run as root, so as root it
//! runs as the `postgres` user.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{await_port, free_port, is_root, Watched};
use crate::store::postgres::PostgresStore;

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
    database_on(&server()).await
}

/// An empty database on a server that flushes every commit to disk, as a
/// real one does (for benchmarks; the tests' server does not).
pub async fn fresh_durable_database() -> Database {
    static SERVER: OnceLock<(String, Watched)> = OnceLock::new();
    let (server, _) = SERVER.get_or_init(|| {
        start(true).unwrap_or_else(|err| panic!("starting PostgreSQL for the bench: {err}"))
    });
    database_on(server).await
}

async fn database_on(server: &str) -> Database {
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
    // The server lives as long as the test process (a static is never
    // dropped); its watcher stops it then.
    static SERVER: OnceLock<(String, Option<Watched>)> = OnceLock::new();
    SERVER
        .get_or_init(|| match std::env::var("NATTER_TEST_POSTGRES") {
            Ok(url) if !url.is_empty() => (url, None),
            _ => start(false)
                .map(|(url, watched)| (url, Some(watched)))
                .unwrap_or_else(|err| panic!("starting PostgreSQL for the tests: {err}")),
        })
        .0
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

/// Starts a server; `durable` keeps PostgreSQL's default of flushing
/// every commit, otherwise commits are not flushed at all.
fn start(durable: bool) -> Result<(String, Watched), String> {
    let bin = bin_dir()?;
    let user = is_root().then_some("postgres");
    let dir = tempfile::Builder::new()
        .prefix("natter-pg-")
        .tempdir()
        .map_err(|err| err.to_string())?
        .keep();
    if let Some(user) = user {
        let status = Command::new("chown")
            .args(["-R", &format!("{user}:{user}")])
            .arg(&dir)
            .status()
            .map_err(|err| err.to_string())?;
        if !status.success() {
            return Err(format!("chown {} failed", dir.display()));
        }
    }
    let data = dir.join("data");
    let mut initdb = match user {
        Some(user) => {
            let mut runuser = Command::new("runuser");
            runuser.args(["-u", user, "--"]).arg(bin.join("initdb"));
            runuser
        }
        None => Command::new(bin.join("initdb")),
    };
    let initdb = initdb
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
    let port = free_port().map_err(|err| err.to_string())?;
    let durability = if durable {
        ""
    } else {
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    };
    let command = format!(
        "'{postgres}' -D '{data}' -p {port} -c listen_addresses=127.0.0.1 \
         -c unix_socket_directories='{dir}' {durability} -c max_connections=300",
        postgres = bin.join("postgres").display(),
        data = data.display(),
        dir = dir.display(),
    );
    let log = dir.join("postgres.log");
    let watched = Watched::spawn(&command, &log, user, &format!("rm -rf '{}'", dir.display()))
        .map_err(|err| err.to_string())?;
    await_port(port, &log)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    // Listening is not yet accepting: wait until it answers.
    while !Command::new(bin.join("pg_isready"))
        .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
        .status()
        .is_ok_and(|status| status.success())
    {
        if Instant::now() > deadline {
            return Err("PostgreSQL did not accept connections in 30 s".to_owned());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((format!("postgres://natter@127.0.0.1:{port}"), watched))
}
