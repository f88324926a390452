//! Shared helpers of the corpus tests.

use std::path::PathBuf;

/// The shared corpus (`MIRT_CORPUS`, default `<workspace>/../shared/corpus`),
/// or `None` (with a note) when it is absent.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("MIRT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
        });
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: corpus not found at {}", dir.display());
        None
    }
}
