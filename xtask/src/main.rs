//! `cargo xtask run | test`: everything Natter needs, from a fresh machine.
//!
//! # Layout
//! - [`tools`]: finds or installs the toolchain (wasm32 target, Trunk,
//!   wasm-bindgen-cli, binaryen and Playwright from npm, Chromium).
//! - [`client`]: builds the release web client (split into parts loaded on
//!   demand), precompresses it and reports its sizes.
//! - [`bench`]: the server's and the client's benchmarks.
//! - [`cluster`]: PostgreSQL, NATS, two nodes and HAProxy on this machine.
//! - [`server`]: starts a `natter-server` process for tests and stops it.
//! - [`suites`]: runs every test suite in order.

mod bench;
mod client;
mod cluster;
mod imports;
mod server;
mod suites;
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

#[derive(Debug, thiserror::Error)]
pub enum XtaskError {
    #[error("{0}")]
    Setup(String),
    #[error("`{command}` failed ({status})")]
    Failed { command: String, status: String },
    #[error("could not start `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, XtaskError>;

const USAGE: &str = "usage: cargo xtask <command> [args]

commands:
  run [server flags]   install what is missing, build the client (release),
                       then build and start the server on http://127.0.0.1:8080
  run --cluster [server flags]
                       the same as a cluster: PostgreSQL, NATS, two nodes and
                       HAProxy on http://127.0.0.1:8080; Ctrl-C stops all
  test                 install what is missing and run every test suite
  bench [--check] [--record] [--only PART | --cluster]
                       the server's and the client's benchmarks, each
                       beside its baseline; --check fails on a missed
                       budget, --record appends the results to
                       BENCHMARKS.md; --only client runs the client's;
                       --cluster measures one and two nodes on PostgreSQL
                       and NATS instead
  build-client [--names]
                       build and precompress the client only; --names
                       keeps function names in the wasm, for twiggy
                       (into target/names-dist/, not dist/)
  pwa-assets           draw the app's PNG icons from public/icon.svg and
                       copy the install screenshots (after the Playwright
                       screenshots spec has run)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => suites::all(),
        Some("bench") => bench::run(&args[1..]),
        Some("pwa-assets") => tools::ensure(true).and_then(|tools| {
            check(
                tools
                    .command("node")
                    .arg("xtask/assets/pwa.mjs")
                    .env("CHROMIUM", tools::CHROMIUM),
            )
        }),
        Some("build-client") => {
            let names = if args.iter().any(|arg| arg == "--names") {
                client::Names::Kept
            } else {
                client::Names::Stripped
            };
            tools::ensure(false)
                .and_then(|tools| client::build(&tools, names).map(|sizes| sizes.print()))
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(server_args: &[String]) -> Result<()> {
    let tools = tools::ensure(false)?;
    if server_args.first().is_some_and(|arg| arg == "--cluster") {
        return cluster::run(&tools, &server_args[1..]);
    }
    let sizes = client::build(&tools, client::Names::Stripped)?;
    sizes.print();
    cargo(&["build", "--release", "--package", "natter-server"])?;
    let binary = root().join("target/release/natter-server");
    let mut command = Command::new(&binary);
    command
        .current_dir(root())
        .args(["--data-dir", "data", "--dist-dir", "dist"])
        .args(server_args);
    server::exec(command)
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs `cargo` with `args` in the workspace root, failing on a non-zero exit.
pub fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command.args(args).current_dir(root());
    check(&mut command)
}

/// Runs a command to completion, failing on a non-zero exit.
pub fn check(command: &mut Command) -> Result<()> {
    let shown = describe(command);
    println!("xtask: $ {shown}");
    let status = command.status().map_err(|source| XtaskError::Spawn {
        command: shown.clone(),
        source,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(XtaskError::Failed {
            command: shown,
            status: status.to_string(),
        })
    }
}

pub fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
