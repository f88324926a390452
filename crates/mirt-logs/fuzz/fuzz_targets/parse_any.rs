//! Feeds arbitrary bytes to every parser (the first byte picks the format,
//! or detection) with a small chunk size, so chunk boundaries are exercised.
//!
//! Run with `cargo +nightly fuzz run parse_any` in `crates/mirt-logs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mirt_logs::{Item, LogFormat, LogReader};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let format = LogFormat::ALL.get(usize::from(pick) % (LogFormat::ALL.len() + 1)).copied();
    let mut reader = LogReader::new();
    reader.format(format).threads(1).chunk_size(usize::from(pick) + 1).max_problems(0);
    reader.read_bytes(Path::new("fuzz.log"), rest, |item| {
        if let Item::Problem(p) = item {
            assert!(!p.reason.contains("the parser failed"), "{}", p.reason);
        }
    });
});
