//! Builds the web client with Trunk, writes `.br` and `.gz` beside every
//! text and wasm file for the server to send as is, and measures the result.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::tools::Tools;
use crate::{check, root, Result, XtaskError};

/// Files worth compressing: everything Trunk emits but images already
/// compressed by their format.
const COMPRESSIBLE: &[&str] = &["wasm", "js", "css", "html", "svg", "webmanifest", "json"];

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

/// Builds `dist/` (release: optimised for size, with wasm-opt).
pub fn build(tools: &Tools, release: bool) -> Result<Sizes> {
    let mut trunk = tools.command("trunk");
    trunk.args(["build", "--offline"]);
    if release {
        trunk.arg("--release");
    }
    // Trunk would otherwise look for a config in the parent directories too.
    trunk.env("TRUNK_BUILD_DIST", root().join("dist"));
    check(&mut trunk)?;
    stamp_service_worker(&root().join("dist"))?;
    compress(&root().join("dist"))
}

/// Writes the build's name (its content-hashed script) into the service
/// worker, so that each build's worker differs and replaces the last.
fn stamp_service_worker(dist: &Path) -> Result<()> {
    const MARKER: &str = "const BUILD = 'dev';";
    let build = files(dist)?
        .into_iter()
        .filter_map(|path| path.file_name()?.to_str().map(str::to_owned))
        .find(|name| name.starts_with("natter-") && name.ends_with(".js"))
        .ok_or_else(|| XtaskError::Setup("dist/ has no natter-<hash>.js".to_owned()))?;
    let path = dist.join("sw.js");
    let source = std::fs::read_to_string(&path).map_err(|source| io(&path, source))?;
    if !source.contains(MARKER) {
        return Err(XtaskError::Setup(format!(
            "{} lacks `{MARKER}`",
            path.display()
        )));
    }
    write(
        &path,
        source
            .replace(MARKER, &format!("const BUILD = '{build}';"))
            .as_bytes(),
    )
}

fn compress(dist: &Path) -> Result<Sizes> {
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
