//! Arbitrary bytes as a rendered record: the normaliser must return an
//! error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mirt_core::{Event, Source, SourceKind};

fuzz_target!(|data: &[u8]| {
    let mut event = Event::new(Source::new(SourceKind::Evtx, "fuzz.evtx", 0));
    let _ = mirt_evtx::normalize_record(data, &mut event);
});
