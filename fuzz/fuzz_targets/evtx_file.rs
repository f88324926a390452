//! Arbitrary bytes as an EVTX file: the reader must report, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mirt_evtx::{EvtxReader, Item};

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("mirt-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("input.evtx");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let mut reader = EvtxReader::new();
    reader.threads(1);
    reader.read_files(&[path], |item| {
        if let Item::Problem(p) = item {
            // A caught parser panic is a bug to find, not a report to accept.
            assert!(!p.reason.contains("parser failed"), "{p}");
        }
    });
});
