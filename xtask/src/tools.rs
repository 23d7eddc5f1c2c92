//! Finds, or installs, every tool the build and the tests need. Each check
//! is cheap when the tool is already there, so `run` and `test` always call
//! it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{check, root, Result, XtaskError};

pub const TRUNK_VERSION: &str = "0.21.14";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Without an emoji font, screenshots show emoji as empty boxes.
const EMOJI_FONT: &str = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf";

/// What the other steps need to find the tools.
pub struct Tools {
    /// PATH with Cargo's bin directory and `node_modules/.bin` in front.
    pub path: OsString,
}

impl Tools {
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command.env("PATH", &self.path).current_dir(root());
        command
    }
}

/// Ensures the build tools, and the browser too when `browser` is set.
pub fn ensure(browser: bool) -> Result<Tools> {
    let tools = Tools {
        path: search_path(),
    };
    wasm_target()?;
    rust_src()?;
    let bindgen = wasm_bindgen_version()?;
    cargo_tool(&tools, "trunk", "trunk", TRUNK_VERSION)?;
    cargo_tool(&tools, "wasm-bindgen", "wasm-bindgen-cli", &bindgen)?;
    npm_packages(&tools)?;
    if browser {
        chromium()?;
    }
    Ok(tools)
}

fn cargo_bin() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
        .join("bin")
}

fn search_path() -> OsString {
    let mut dirs = vec![cargo_bin(), root().join("node_modules/.bin")];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// The first line a program prints for `--version`, if it runs.
fn version_of(tools: &Tools, program: &str) -> Option<String> {
    let output = tools.command(program).arg("--version").output().ok()?;
    output.status.success().then(|| {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    })
}

fn wasm_target() -> Result<()> {
    rustup_installs(&["target"], "wasm32-unknown-unknown")
}

/// The standard library's source: the shipped client rebuilds `std` for size
/// (`client::cargo_shipped`).
fn rust_src() -> Result<()> {
    rustup_installs(&["component"], "rust-src")
}

/// `rustup <kind> add <name>` unless `rustup <kind> list --installed` has it.
fn rustup_installs(kind: &[&str], name: &str) -> Result<()> {
    let output = Command::new("rustup")
        .args(kind)
        .args(["list", "--installed"])
        .output()
        .map_err(|source| XtaskError::Spawn {
            command: format!("rustup {} list --installed", kind.join(" ")),
            source,
        })?;
    let installed = String::from_utf8_lossy(&output.stdout)
        .lines()
        .any(|line| line.trim() == name);
    if installed {
        return Ok(());
    }
    check(Command::new("rustup").args(kind).args(["add", name]))
}

/// The wasm-bindgen version in Cargo.lock, which the CLI must equal; Trunk.toml
/// must pin the same one.
fn wasm_bindgen_version() -> Result<String> {
    let lock = read(&root().join("Cargo.lock"))?;
    let version = lock
        .split("[[package]]")
        .find(|package| package.contains("\nname = \"wasm-bindgen\"\n"))
        .and_then(|package| {
            package
                .lines()
                .find_map(|line| line.strip_prefix("version = \""))
                .map(|rest| rest.trim_end_matches('"').to_owned())
        })
        .ok_or_else(|| XtaskError::Setup("Cargo.lock names no wasm-bindgen version".to_owned()))?;
    let trunk_toml = read(&root().join("Trunk.toml"))?;
    if !trunk_toml.contains(&format!("wasm_bindgen = \"{version}\"")) {
        return Err(XtaskError::Setup(format!(
            "Trunk.toml must pin wasm_bindgen = \"{version}\", the version in Cargo.lock"
        )));
    }
    Ok(version)
}

/// Installs `krate` at `version` with cargo unless `program` reports it.
fn cargo_tool(tools: &Tools, program: &str, krate: &str, version: &str) -> Result<()> {
    if version_of(tools, program).is_some_and(|line| line.ends_with(&format!(" {version}"))) {
        return Ok(());
    }
    println!("xtask: installing {krate} {version} (this can take a while)");
    let install = |locked: bool| {
        let mut command = Command::new("cargo");
        command.args(["install", krate, "--version", version]);
        if locked {
            command.arg("--locked");
        }
        check(&mut command)
    };
    // A locked install fails when the registry lacks one of the pinned
    // dependencies; an unlocked one then still gets the right tool version.
    install(true).or_else(|_| install(false))
}

/// binaryen (wasm-opt) and Playwright, exactly as package-lock.json pins them.
fn npm_packages(tools: &Tools) -> Result<()> {
    let modules = root().join("node_modules");
    let installed = modules.join(".package-lock.json");
    let lock = root().join("package-lock.json");
    let fresh = match (modified(&installed), modified(&lock)) {
        (Some(installed), Some(lock)) => installed >= lock,
        _ => false,
    };
    if fresh && modules.join(".bin/wasm-opt").exists() {
        return Ok(());
    }
    if version_of(tools, "npm").is_none() {
        apt_install(&["nodejs", "npm"])?;
    }
    check(tools.command("npm").args(["ci", "--no-audit", "--no-fund"]))
}

fn chromium() -> Result<()> {
    if [CHROMIUM, CHROMEDRIVER, EMOJI_FONT]
        .iter()
        .all(|path| Path::new(path).exists())
    {
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver", "fonts-noto-color-emoji"])
}

/// Where Debian's newest PostgreSQL keeps its programs.
pub fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|bin| bin.join("postgres").exists())
        .collect();
    versions.sort();
    versions.pop()
}

pub const NATS_SERVER: &str = "/usr/sbin/nats-server";
pub const HAPROXY: &str = "/usr/sbin/haproxy";

/// What a cluster runs on (and its tests start): PostgreSQL, NATS and
/// HAProxy, from Debian. Installed, never started as system services.
pub fn cluster_packages() -> Result<()> {
    let mut missing = Vec::new();
    if postgres_bin().is_none() {
        missing.push("postgresql");
    }
    if !Path::new(NATS_SERVER).exists() {
        missing.push("nats-server");
    }
    if !Path::new(HAPROXY).exists() {
        missing.push("haproxy");
    }
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing)
}

/// Installs Debian packages when running as root; otherwise says what to do.
fn apt_install(packages: &[&str]) -> Result<()> {
    let root_user = Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false);
    if !root_user {
        return Err(XtaskError::Setup(format!(
            "please install the Debian packages {} (e.g. `sudo apt-get install -y {}`), then run again",
            packages.join(", "),
            packages.join(" ")
        )));
    }
    check(Command::new("apt-get").arg("update"))?;
    check(
        Command::new("apt-get")
            .args(["install", "-y"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).ok()?.modified().ok()
}

pub fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| XtaskError::Io {
        path: path.to_owned(),
        source,
    })
}
