//! Where the real-world test corpus is, for tests that read it in place.
//!
//! The corpus is found through the environment variable `MIRT_CORPUS`, by
//! default at `<workspace root>/../shared/corpus`. When it is absent, tests
//! say that they were skipped and return; set `MIRT_REQUIRE_CORPUS=1` (CI
//! does) to make its absence fail them instead.
//!
//! ```
//! fn walks_the_samples() {
//!     let Some(samples) = mirt_testkit::corpus::require("evtx/evtx-crate/samples") else {
//!         return;
//!     };
//!     assert!(samples.is_dir());
//! }
//! # walks_the_samples();
//! ```

use std::path::{Path, PathBuf};

/// The environment variable naming the corpus folder.
pub const ENV: &str = "MIRT_CORPUS";
/// The environment variable that, set to anything but `0` or nothing,
/// makes a missing corpus fail the tests that need it.
pub const REQUIRE_ENV: &str = "MIRT_REQUIRE_CORPUS";

/// The workspace's root folder (where the root `Cargo.toml` is).
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// Where the corpus is expected: `MIRT_CORPUS`, or `../shared/corpus`
/// next to the workspace.
pub fn location() -> PathBuf {
    match std::env::var_os(ENV) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => workspace_root().join("../shared/corpus"),
    }
}

/// The corpus folder, or `None` (after printing `skipped: corpus not found
/// at <path>` on stderr) when it is absent.
///
/// # Panics
/// When it is absent and `MIRT_REQUIRE_CORPUS` is set.
pub fn dir() -> Option<PathBuf> {
    let path = location();
    if path.is_dir() {
        return Some(path);
    }
    if required() {
        panic!(
            "corpus not found at {} and {REQUIRE_ENV} is set: set {ENV} to the corpus folder",
            path.display()
        );
    }
    eprintln!("skipped: corpus not found at {}", path.display());
    None
}

/// A file or folder of the corpus by its path relative to the corpus
/// (`evtx/plaso/System.evtx`), or `None` when the corpus is absent (see [`dir`]).
///
/// # Panics
/// When the corpus is there but `relative` is not in it: a test that asks
/// for a corpus file must not pass silently because the corpus changed.
pub fn require(relative: impl AsRef<Path>) -> Option<PathBuf> {
    let path = dir()?.join(relative.as_ref());
    assert!(
        path.exists(),
        "{} is not in the corpus (looked at {})",
        relative.as_ref().display(),
        path.display()
    );
    Some(path)
}

fn required() -> bool {
    std::env::var_os(REQUIRE_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_root_holds_the_workspace_manifest() {
        let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
        assert!(manifest.contains("[workspace]"));
    }
}
