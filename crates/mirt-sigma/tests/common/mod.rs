//! Shared helpers of the corpus tests.

use std::path::PathBuf;

/// The shared corpus, found by `mirt_testkit::corpus` (`MIRT_CORPUS`, or
/// `../shared/corpus` next to the workspace), or `None` (with a note) when
/// it is absent and not required.
pub fn corpus() -> Option<PathBuf> {
    mirt_testkit::corpus::dir()
}
