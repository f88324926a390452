//! What every CLI test needs: the `mirt` binary, without colour.

// Each test file uses part of this.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The `mirt` binary under test, with `NO_COLOR` set and its rule caches
/// under the build's temporary folder (not the user's cache).
pub fn mirt() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mirt"));
    cmd.env("NO_COLOR", "1").env(
        "MIRT_CACHE_DIR",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache"),
    );
    cmd
}

/// Runs `mirt` with `args` and waits for its output.
pub fn run(args: &[&str]) -> Output {
    mirt().args(args).output().unwrap()
}
