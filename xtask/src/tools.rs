//! Installs the build and test tools a fresh machine lacks, and nothing it already has.
//!
//! Every check asks the tool for its version first, because compiling trunk or wasm-bindgen-cli
//! costs about ten minutes each on two cores. Versions are pinned: trunk 0.21.14 is the newest that
//! builds with our rustc, and the wasm-bindgen CLI must equal the `wasm-bindgen` crate in
//! Cargo.lock exactly or trunk would try (and fail) to download another one.
use crate::{cargo, run};
use std::path::{Path, PathBuf};
use std::process::Command;

const TRUNK_VERSION: &str = "0.21.14";
/// The npm package whose `wasm-opt` works offline (Debian's binaryen 108 is too old).
const BINARYEN_PACKAGE: &str = "binaryen@132";
/// The JavaScript minifier that trunk's release hook runs on the wasm-bindgen glue
/// (web/minify-js.sh): about 2.6 KB gzip off the bundle. Pure JavaScript, no install scripts.
const TERSER_PACKAGE: &str = "terser@5.51.2";

/// Adds a rustup target unless it is installed.
pub fn ensure_target(target: &str) -> Result<(), String> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))?;
    if installed.lines().any(|line| line.trim() == target) {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", target]))
}

/// The wasm target and the wasm-bindgen CLI (with its test runner) at the lockfile's version.
pub fn ensure_wasm_bindgen(root: &Path) -> Result<(), String> {
    ensure_target("wasm32-unknown-unknown")?;
    let wasm_bindgen = locked_version(root, "wasm-bindgen")?;
    if !reports_version("wasm-bindgen", &wasm_bindgen) {
        cargo(&["install", "wasm-bindgen-cli", "--version", &format!("={wasm_bindgen}")])?;
    }
    Ok(())
}

/// Everything trunk needs to build the web app offline. Returns a PATH that puts the
/// npm-installed `wasm-opt` and `terser` first.
pub fn ensure_web_toolchain(root: &Path) -> Result<String, String> {
    ensure_wasm_bindgen(root)?;
    if !reports_version("trunk", TRUNK_VERSION) {
        cargo(&["install", "trunk", "--version", TRUNK_VERSION, "--locked"])?;
    }
    let tools = root.join("target/tools");
    let bin = tools.join("node_modules/.bin");
    // Both in one npm call: a later `npm install` of one package alone may prune the other.
    if !bin.join("wasm-opt").exists() || !bin.join("terser").exists() {
        std::fs::create_dir_all(&tools).map_err(|e| format!("cannot create {tools:?}: {e}"))?;
        run(Command::new("npm")
            .args(["install", "--no-save", "--prefix"])
            .arg(&tools)
            .args([BINARYEN_PACKAGE, TERSER_PACKAGE]))?;
    }
    Ok(prepend_path(&bin))
}

/// Debian's Chromium and chromedriver, the only browser a test may use here.
pub fn ensure_chromium() -> Result<(), String> {
    if Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists() {
        return Ok(());
    }
    run(Command::new("apt-get").arg("update"))?;
    run(Command::new("apt-get").args(["install", "-y", "chromium", "chromium-driver"]))
}

/// The version of `package` that Cargo.lock pins.
fn locked_version(root: &Path, package: &str) -> Result<String, String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{package}\"") {
            if let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(version.trim_end_matches('"').to_string());
            }
        }
    }
    Err(format!("Cargo.lock has no package {package}"))
}

fn reports_version(tool: &str, version: &str) -> bool {
    output(Command::new(tool).arg("--version"))
        .is_ok_and(|out| out.split_whitespace().any(|word| word == version))
}

fn prepend_path(dir: &Path) -> String {
    let mut paths = vec![PathBuf::from(dir)];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(paths).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()
}

fn output(command: &mut Command) -> Result<String, String> {
    let out = command.output().map_err(|e| format!("cannot run {command:?}: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
