//! `cargo xtask bench`: the server's benchmarks (`server/benches/delivery`)
//! and the client's (`tests/bench/client.mjs`), each beside its baseline.
//!
//! The client's baseline is Leptos's hello world (`tests/bench/hello`),
//! built with the same release profile, wasm-bindgen and wasm-opt, and
//! served under `/hello/` by the same server from a copy of `dist/`.

use std::path::Path;

use crate::{cargo, check, client, root, tools, Result, XtaskError};

/// Runs the benchmarks; `args` are `--check`, `--record` and
/// `--only PART` (`client`, or one of the server's parts).
pub fn run(args: &[String]) -> Result<()> {
    let only = args
        .iter()
        .position(|arg| arg == "--only")
        .and_then(|at| args.get(at + 1))
        .map(String::as_str);
    if args.iter().any(|arg| arg == "--cluster") {
        tools::cluster_packages()?;
        return server(args);
    }
    // Both run even when the first misses a budget, so that one run
    // measures (and records) everything.
    let server = (only != Some("client")).then(|| server(args));
    let client = (only.is_none() || only == Some("client")).then(|| {
        let flags: Vec<&str> = args
            .iter()
            .map(String::as_str)
            .filter(|arg| matches!(*arg, "--check" | "--record"))
            .collect();
        client(&flags)
    });
    server.transpose()?;
    client.transpose()?;
    Ok(())
}

fn server(args: &[String]) -> Result<()> {
    let mut command = vec![
        "bench",
        "--package",
        "natter-server",
        "--bench",
        "delivery",
        "--",
    ];
    command.extend(args.iter().map(String::as_str));
    cargo(&command)
}

fn client(flags: &[&str]) -> Result<()> {
    let tools = tools::ensure(true)?;
    client::build(&tools, client::Names::Stripped)?.print();
    cargo(&["build", "--release", "--package", "natter-server"])?;
    let served = root().join("target/bench-dist");
    client::copy_tree(&root().join("dist"), &served)?;
    hello(&tools, &served.join("hello"))?;
    check(
        tools
            .command("node")
            .arg("tests/bench/client.mjs")
            .args(flags)
            .env(
                "NATTER_SERVER_BIN",
                root().join("target/release/natter-server"),
            )
            .env("NATTER_DIST", &served)
            .env("NATTER_BENCHMARKS", root().join("BENCHMARKS.md"))
            .env("CHROMIUM", tools::CHROMIUM),
    )
}

/// Builds the baseline page into `out`: its wasm as the client's is built
/// (wasm-bindgen `--target web`, `wasm-opt -Oz`), precompressed. Its start
/// script is a file, not inline, so that the server's CSP (made for the
/// client's `index.html`) lets it run.
fn hello(tools: &tools::Tools, out: &Path) -> Result<()> {
    client::cargo_shipped("build", &["--package", "natter-hello"])?;
    check(
        tools
            .command("wasm-bindgen")
            .args(["--target", "web", "--no-typescript", "--out-dir"])
            .arg(out)
            .arg(root().join("target/wasm32-unknown-unknown/release/natter-hello.wasm")),
    )?;
    client::optimise(
        tools,
        &out.join("natter-hello_bg.wasm"),
        client::Names::Stripped,
    )?;
    crate::imports::shorten(
        &out.join("natter-hello_bg.wasm"),
        &out.join("natter-hello.js"),
        "./natter-hello_bg.js",
    )?;
    let write = |name: &str, text: &str| {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|source| XtaskError::Io { path, source })
    };
    write(
        "index.html",
        "<!DOCTYPE html>\n<html lang=\"en\">\n  <head>\n    <meta charset=\"utf-8\" />\n    <title>Hello</title>\n    <script type=\"module\" src=\"/hello/start.js\"></script>\n  </head>\n  <body></body>\n</html>\n",
    )?;
    write(
        "start.js",
        "import init from '/hello/natter-hello.js';\ninit({ module_or_path: '/hello/natter-hello_bg.wasm' });\n",
    )?;
    client::compress(out).map(drop)
}
