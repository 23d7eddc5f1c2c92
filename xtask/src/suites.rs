//! Every test suite, in the order that fails fastest.

use crate::client;
use crate::cluster::{Cluster, CtrlC, Ports};
use crate::server::{free_port, Running};
use crate::tools::{self, CHROMEDRIVER, CHROMIUM};
use crate::{cargo, check, root, Result, XtaskError};

pub fn all() -> Result<()> {
    let tools = tools::ensure(true)?;
    // The server's cluster tests start PostgreSQL, NATS and HAProxy.
    tools::cluster_packages()?;

    println!("\nxtask: == native unit and server integration tests ==");
    cargo(&["test", "--workspace"])?;

    println!("\nxtask: == wasm-bindgen tests in headless Chromium ==");
    cargo(&["build", "--package", "natter-server"])?;
    let server_binary = root().join("target/debug/natter-server");
    let scratch = tempdir()?;
    // Chromium and the Playwright fixtures put their temporary files here,
    // so that what a killed browser leaves behind goes with the scratch
    // directory instead of piling up in /tmp.
    let temporary = scratch.join("tmp");
    std::fs::create_dir_all(&temporary).map_err(|source| XtaskError::Io {
        path: temporary.clone(),
        source,
    })?;
    let page_port = free_port()?;
    let page_origin = format!("http://127.0.0.1:{page_port}");
    let server = Running::start(
        &server_binary,
        free_port()?,
        &scratch.join("browser-tests"),
        // The browser tests sign many people up from one address.
        &[
            "--allow-origin",
            &page_origin,
            "--sign-ups-per-hour",
            "100000",
        ],
    )?;
    let mut wasm_tests = tools.command(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    wasm_tests
        .args([
            "test",
            "--package",
            "natter",
            "--target",
            "wasm32-unknown-unknown",
            "--test",
            "browser",
            "--test",
            "cache",
            "--test",
            "media",
        ])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("CHROMEDRIVER", CHROMEDRIVER)
        .env(
            "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
            root().join("tests/webdriver.json"),
        )
        .env(
            "WASM_BINDGEN_TEST_ADDRESS",
            format!("127.0.0.1:{page_port}"),
        )
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
        .env("TMPDIR", &temporary)
        .env(
            "NATTER_TEST_SERVER",
            format!("http://127.0.0.1:{}", server.port),
        );
    check(&mut wasm_tests)?;
    drop(server);

    println!("\nxtask: == end-to-end tests with Playwright ==");
    client::build(&tools, client::Names::Stripped)?.print();
    // The cluster spec's: two nodes behind HAProxy.
    let cluster_dir = scratch.join("cluster");
    let cluster = Cluster::start(
        &cluster_dir,
        Ports::free()?,
        &server_binary,
        &root().join("dist"),
        &["--sign-ups-per-hour".to_owned(), "100000".to_owned()],
        CtrlC::ToAll,
    )?;
    let mut e2e = tools.command("playwright");
    e2e.args(["test", "--config", "tests/e2e/playwright.config.mjs"])
        .env("NATTER_SERVER_BIN", &server_binary)
        .env("NATTER_DIST", root().join("dist"))
        .env("NATTER_CLUSTER", cluster_dir.join("cluster.json"))
        .env("CHROMIUM", CHROMIUM)
        .env("TMPDIR", &temporary);
    let passed = check(&mut e2e);
    drop(cluster);
    passed?;
    std::fs::remove_dir_all(&scratch).map_err(|source| XtaskError::Io {
        path: scratch,
        source,
    })?;
    println!("\nxtask: every suite passed");
    Ok(())
}

/// A fresh scratch directory under the target directory.
fn tempdir() -> Result<std::path::PathBuf> {
    let dir = root()
        .join("target/xtask-scratch")
        .join(std::process::id().to_string());
    std::fs::create_dir_all(&dir).map_err(|source| XtaskError::Io {
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}
