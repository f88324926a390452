//! Embeds the project's own Sigma rules (`rules/sigma/**/*.yml`), and
//! fingerprints this crate's sources, so that a cached compiled rule set
//! (see `src/cache.rs`) is never used by a build that compiles rules
//! differently, even one with the same version number.

use std::fmt::Write;
use std::hash::{DefaultHasher, Hasher};
use std::path::{Path, PathBuf};

fn collect(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, keep, out);
        } else if keep(&path) {
            out.push(path);
        }
    }
}

fn main() {
    embed_rules();
    fingerprint_sources();
}

fn embed_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let sigma = root.join("sigma");
    println!("cargo:rerun-if-changed={}", sigma.display());
    let mut files = Vec::new();
    let yaml = |p: &Path| p.extension().is_some_and(|e| e == "yml" || e == "yaml");
    collect(&sigma, &yaml, &mut files);
    files.sort();
    let mut code = String::from("static RULES: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f
            .strip_prefix(&root)
            .unwrap_or(f)
            .to_string_lossy()
            .replace('\\', "/");
        let abs = f.canonicalize().unwrap_or_else(|_| f.clone());
        let _ = writeln!(
            code,
            "    ({:?}, include_str!({:?})),",
            format!("rules/{rel}"),
            abs.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("builtin_rules.rs");
    std::fs::write(out, code).expect("write builtin_rules.rs");
}

fn fingerprint_sources() {
    println!("cargo:rerun-if-changed=src");
    let mut files = Vec::new();
    collect(Path::new("src"), &|_| true, &mut files);
    files.sort();
    let mut h = DefaultHasher::new();
    for f in &files {
        h.write(f.to_string_lossy().as_bytes());
        h.write(&std::fs::read(f).unwrap_or_default());
    }
    println!(
        "cargo:rustc-env=MIRT_SIGMA_SOURCE_DIGEST={:016x}",
        h.finish()
    );
}
