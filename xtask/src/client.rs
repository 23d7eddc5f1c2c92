//! Builds the release web client into `dist/`: the wasm split at its
//! split points (`src/parts.rs`) into a first-screen module and modules
//! loaded on demand,
//! the page and its files, `.br` and `.gz` beside every text and wasm file for
//! the server to send as is, and the sizes.
//!
//! Trunk builds the development client (`trunk serve`) from the same
//! `index.html`, unsplit. It cannot build this one: the split must happen
//! between the compiler and wasm-bindgen, where Trunk has no step. So this
//! module does what Trunk would, with the split in between:
//! 1. `cargo rustc` the `natter` binary with the `split` feature, keeping the
//!    linker's relocations (the splitter needs them to move code), with `std`
//!    rebuilt for size ([`cargo_shipped`]);
//! 2. split it (`wasm_split_cli_support`, the library cargo-leptos uses):
//!    the main module, one wasm per part, and `__wasm_split.js`, which loads
//!    them;
//! 3. `wasm-bindgen --target web` on the main module, `wasm-opt -Oz` on every
//!    wasm;
//! 4. put it all under `dist/app-<hash>/` (one content hash for the build,
//!    so no file ever changes under its URL), and write `index.html` from the
//!    template's `data-trunk` links.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::tools::Tools;
use crate::{check, root, Result, XtaskError};

/// Files worth compressing: everything built but images already compressed
/// by their format.
const COMPRESSIBLE: &[&str] = &["wasm", "js", "css", "html", "svg", "webmanifest", "json"];

/// The wasm-bindgen output's name inside the app directory.
const APP: &str = "natter";
/// The splitter's loader of the parts, beside it.
const LOADER: &str = "__wasm_split.js";

pub struct Sizes {
    rows: Vec<(String, u64, u64)>,
}

impl Sizes {
    pub fn print(&self) {
        println!("\nclient size (dist/):");
        println!("  {:<44} {:>10} {:>10}", "file", "raw", "brotli");
        let (mut raw, mut brotli) = (0, 0);
        for (name, r, b) in &self.rows {
            println!("  {name:<44} {:>10} {:>10}", kib(*r), kib(*b));
            raw += r;
            brotli += b;
        }
        println!("  {:<44} {:>10} {:>10}\n", "total", kib(raw), kib(brotli));
    }
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

/// Whether the built wasm keeps its function names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// Shipped: no name section.
    Stripped,
    /// For `twiggy` (`cargo xtask build-client --names`): the same code,
    /// with names, so the files are larger than what ships. Built into
    /// `target/names-dist/`, never where the server serves from.
    Kept,
}

impl Names {
    fn dist(self) -> PathBuf {
        match self {
            Names::Stripped => root().join("dist"),
            Names::Kept => root().join("target/names-dist"),
        }
    }
}

/// Builds `dist/`.
pub fn build(tools: &Tools, names: Names) -> Result<Sizes> {
    let work = root().join("target/natter-client");
    let app = work.join("app");
    fresh_dir(&work)?;
    cargo_shipped(
        "rustc",
        &[
            "--package",
            "natter",
            "--bin",
            "natter",
            "--features",
            "split",
            "--",
            "-C",
            "link-arg=--emit-relocs",
        ],
    )?;
    let main = work.join("main.wasm");
    let parts = split(
        &root().join("target/wasm32-unknown-unknown/release/natter.wasm"),
        &main,
        &app,
    )?;
    check(
        tools
            .command("wasm-bindgen")
            .args(["--target", "web", "--no-typescript", "--keep-lld-exports"])
            .args(["--out-name", APP])
            .arg("--out-dir")
            .arg(&app)
            .arg(&main),
    )?;
    for wasm in files(&app)? {
        if wasm.extension().is_some_and(|e| e == "wasm") {
            optimise(tools, &wasm, names)?;
        }
    }
    crate::imports::shorten(
        &app.join(format!("{APP}_bg.wasm")),
        &app.join(format!("{APP}.js")),
        &format!("./{APP}_bg.js"),
    )?;

    let dist = names.dist();
    fresh_dir(&dist)?;
    let app_dir = format!("app-{}", hash_of_dir(&app)?);
    copy_tree(&app, &dist.join(&app_dir))?;
    let template = crate::tools::read(&root().join("index.html"))?;
    let start = Start {
        app_dir: &app_dir,
        signed_in: parts.files_of(SIGNED_IN_PART)?,
    };
    let html = page(&template, &start, &dist)?;
    write(&dist.join("index.html"), html.as_bytes())?;
    // The worker's name covers the page, the styles, the icons and the
    // worker's own code (not yet stamped) too, so that a change to any of
    // them reaches devices, and no two builds share a cache.
    let build = format!("build-{}", hash_of_dir(&dist)?);
    stamp_service_worker(&dist, &build, &app_dir)?;
    compress(&dist)
}

/// Runs `cargo <subcommand> <args>` for wasm that ships (the client, and the benchmark's
/// hello world built alike): release, for `wasm32-unknown-unknown`, with the
/// standard library rebuilt for size. A panic then stops the module at once
/// (`panic=immediate-abort`: no message formatting, no panic locations),
/// `Debug` formatting is compiled out (`fmt-debug=none`; the client never
/// shows `{:?}`, see `src/js_error.rs`), and `std` picks its smaller
/// algorithms (`optimize_for_size`). These are unstable options of this
/// stable compiler, hence `RUSTC_BOOTSTRAP`; on 2026-12-01 they took the
/// signed-in start from 306.7 to 272 KiB (brotli) and the sign-in form's
/// module from 89.6 to 75.1 KiB. Development builds and the tests keep
/// panic messages.
pub fn cargo_shipped(subcommand: &str, args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cargo = std::process::Command::new(cargo);
    cargo
        .current_dir(root())
        .env("RUSTC_BOOTSTRAP", "1")
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            "-Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none",
        )
        .arg(subcommand)
        .args(["--release", "--target", "wasm32-unknown-unknown"])
        .args([
            "-Zbuild-std=std,panic_abort",
            "-Zbuild-std-features=optimize_for_size",
        ])
        .args(args);
    check(&mut cargo)
}

/// The module of the part a signed-in start shows first (`parts::chat` in
/// the client).
const SIGNED_IN_PART: &str = "chat";

/// Which files each module of parts needs, by its name in `src/parts.rs`.
struct Parts(HashMap<String, Vec<String>>);

impl Parts {
    fn files_of(&self, part: &str) -> Result<Vec<String>> {
        self.0
            .get(part)
            .map(|files| files.iter().map(|stem| format!("{stem}.wasm")).collect())
            .ok_or_else(|| XtaskError::Setup(format!("the client has no part `{part}`")))
    }
}

/// `wasm-opt -Oz` on `wasm`, in place. Leptos always depends on
/// `server_fn`, which exports wasm-streams' adapters for JS streams to the
/// page; nothing here streams, so those exports (and the code only they
/// reach) are removed first.
pub fn optimise(tools: &Tools, wasm: &Path, names: Names) -> Result<()> {
    let mut command = tools.command("wasm-opt");
    command.args([
        "--remove-exports",
        "--pass-arg=remove-exports@*intounderlying*",
        "-Oz",
    ]);
    if names == Names::Kept {
        command.arg("--debuginfo");
    }
    check(command.arg(wasm).arg("-o").arg(wasm))
}

/// Splits `input` at its split points: the main module to `main`, the parts
/// and their loader to `out`.
fn split(input: &Path, main: &Path, out: &Path) -> Result<Parts> {
    let wasm = std::fs::read(input).map_err(|source| io(input, source))?;
    let mut options = wasm_split_cli_support::Options::new(&wasm);
    options.output_dir = out;
    options.main_out_path = main;
    let main_module = format!("./{APP}.js");
    options.main_module = &main_module;
    let link_name = format!("./{LOADER}");
    options.link_name = &link_name;
    println!("xtask: splitting {}", input.display());
    wasm_split_cli_support::transform(options)
        .map(|split| Parts(split.prefetch_map))
        .map_err(|err| XtaskError::Setup(format!("splitting the client's wasm: {err:#}")))
}

/// What the page's start script needs to know.
struct Start<'a> {
    app_dir: &'a str,
    /// The files of the part a signed-in start shows first.
    signed_in: Vec<String>,
}

/// The page: the template with each `data-trunk` link done the way Trunk
/// does it (copy a file, add a hashed stylesheet, start the app).
fn page(template: &str, start: &Start, dist: &Path) -> Result<String> {
    let mut html = String::new();
    for line in template.lines() {
        if !line.contains("data-trunk") {
            html.push_str(line);
            html.push('\n');
            continue;
        }
        let href = attribute(line, "href");
        match attribute(line, "rel").as_deref() {
            Some("copy-file") => {
                let source = root().join(href.as_deref().unwrap_or_default());
                let name = source
                    .file_name()
                    .ok_or_else(|| XtaskError::Setup(format!("bad copy-file link: {line}")))?;
                copy(&source, &dist.join(name))?;
            }
            Some("css") => {
                let source = root().join(href.as_deref().unwrap_or_default());
                let css = std::fs::read(&source).map_err(|e| io(&source, e))?;
                let stem = source
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("style");
                let name = format!("{stem}-{}.css", hash_hex(&css));
                write(&dist.join(&name), &css)?;
                html.push_str(&format!(
                    "    <link rel=\"stylesheet\" href=\"/{name}\" />\n"
                ));
            }
            Some("rust") => html.push_str(&start_script(start)),
            _ => {
                return Err(XtaskError::Setup(format!(
                    "index.html: unknown Trunk link: {line}"
                )))
            }
        }
    }
    Ok(html)
}

/// Starts the app: the script, the split loader it imports and the main
/// wasm are fetched in parallel (preloads), the wasm compiled as it streams
/// in. When this device
/// remembers an account (`account.rs` keeps it under `natter.account`), the
/// chat's files are fetched at once too, rather than after the main module
/// asks for them. The mark `natter:wasm-ready` says when the main module
/// has started and drawn (the sign-in form; for a signed-in start the chat
/// is then still loading), for the benchmark.
fn start_script(start: &Start) -> String {
    let app_dir = start.app_dir;
    let signed_in = start
        .signed_in
        .iter()
        .map(|file| format!("'{file}'"))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        r#"    <link rel="modulepreload" href="/{app_dir}/{APP}.js" />
    <link rel="modulepreload" href="/{app_dir}/{LOADER}" />
    <link rel="preload" href="/{app_dir}/{APP}_bg.wasm" as="fetch" type="application/wasm" crossorigin="anonymous" />
    <script type="module">
      import init from '/{app_dir}/{APP}.js';
      if (localStorage.getItem('natter.account')) {{
        for (const file of [{signed_in}]) {{
          const link = document.createElement('link');
          Object.assign(link, {{ rel: 'preload', as: 'fetch', crossOrigin: 'anonymous', href: `/{app_dir}/${{file}}` }});
          document.head.append(link);
        }}
      }}
      init({{ module_or_path: '/{app_dir}/{APP}_bg.wasm' }}).then(() => performance.mark('natter:wasm-ready'));
    </script>
"#
    )
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_owned())
}

/// Writes the build's name into the service worker, so that each build's
/// worker differs and replaces the last, and the list of the app's files,
/// which it saves at install so that every part opens offline.
fn stamp_service_worker(dist: &Path, build: &str, app_dir: &str) -> Result<()> {
    const BUILD: &str = "const BUILD = 'dev';";
    const FILES: &str = "const APP_FILES = [];";
    let mut app_files: Vec<String> = files(&dist.join(app_dir))?
        .iter()
        .filter_map(|path| {
            let url = path.strip_prefix(dist).ok()?.to_str()?.replace('\\', "/");
            Some(format!("'/{url}'"))
        })
        .collect();
    app_files.sort();
    let path = dist.join("sw.js");
    let source = std::fs::read_to_string(&path).map_err(|source| io(&path, source))?;
    for marker in [BUILD, FILES] {
        if !source.contains(marker) {
            return Err(XtaskError::Setup(format!(
                "{} lacks `{marker}`",
                path.display()
            )));
        }
    }
    let stamped = source
        .replace(BUILD, &format!("const BUILD = '{build}';"))
        .replace(
            FILES,
            &format!("const APP_FILES = [{}];", app_files.join(", ")),
        );
    write(&path, stamped.as_bytes())
}

/// Writes `.br` and `.gz` beside every compressible file under `dist`.
pub fn compress(dist: &Path) -> Result<Sizes> {
    let mut rows = Vec::new();
    for path in files(dist)? {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if !COMPRESSIBLE.contains(&extension) {
            continue;
        }
        let data = std::fs::read(&path).map_err(|source| io(&path, source))?;
        let brotli = brotli_bytes(&data);
        let gzip = gzip_bytes(&data).map_err(|source| io(&path, source))?;
        write(&with_suffix(&path, "br"), &brotli)?;
        write(&with_suffix(&path, "gz"), &gzip)?;
        let name = path
            .strip_prefix(dist)
            .unwrap_or(&path)
            .display()
            .to_string();
        rows.push((name, data.len() as u64, brotli.len() as u64));
    }
    rows.sort();
    Ok(Sizes { rows })
}

/// One hash over every file of `dir`, by name (relative to `dir`, so the
/// checkout's place does not matter) and content.
fn hash_of_dir(dir: &Path) -> Result<String> {
    let mut contents = BTreeMap::new();
    for path in files(dir)? {
        let data = std::fs::read(&path).map_err(|source| io(&path, source))?;
        let name = path.strip_prefix(dir).unwrap_or(&path).to_owned();
        contents.insert(name, data);
    }
    let mut all = Vec::new();
    for (path, data) in contents {
        all.extend_from_slice(path.to_string_lossy().as_bytes());
        all.extend_from_slice(&data);
    }
    Ok(hash_hex(&all))
}

/// 16 hex digits of a 64-bit FNV-1a hash: names files by content, as Trunk
/// does (not a security measure: nobody chooses these files' contents).
fn hash_hex(data: &[u8]) -> String {
    let hash = data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|source| io(dir, source))? {
        let path = entry.map_err(|source| io(dir, source))?.path();
        if path.is_dir() {
            out.extend(files(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}

fn fresh_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|source| io(dir, source))?;
    }
    std::fs::create_dir_all(dir).map_err(|source| io(dir, source))
}

/// Replaces `to` with a copy of the tree `from`.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fresh_dir(to)?;
    for path in files(from)? {
        let target = to.join(path.strip_prefix(from).unwrap_or(&path));
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|source| io(parent, source))?;
        }
        copy(&path, &target)?;
    }
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|source| io(from, source))
}

fn brotli_bytes(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    let mut input = data;
    // Writing into a Vec cannot fail.
    let _ = brotli::BrotliCompress(&mut input, &mut out, &params);
    out
}

fn gzip_bytes(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data)?;
    encoder.finish()
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn write(path: &Path, data: &[u8]) -> Result<()> {
    std::fs::write(path, data).map_err(|source| io(path, source))
}

fn io(path: &Path, source: std::io::Error) -> XtaskError {
    XtaskError::Io {
        path: path.to_owned(),
        source,
    }
}
