//! The layout helpers agree with mirt's reader on real Windows logs, so
//! that damage can be aimed at real records too.

mod common;

use common::read_path;
use mirt_testkit::{Damage, corpus, layout};

#[test]
fn layout_finds_the_records_of_real_logs() {
    let Some(samples) = corpus::require("evtx/evtx-crate/samples") else {
        return;
    };
    for name in ["security.evtx", "system.evtx", "sysmon.evtx"] {
        let path = samples.join(name);
        let bytes = std::fs::read(&path).unwrap();
        let read = read_path(&path, 1);
        let mut found: Vec<u64> = layout::records(&bytes)
            .iter()
            .map(|r| r.record_id)
            .collect();
        let mut ids = read.record_ids();
        found.sort_unstable();
        ids.sort_unstable();
        assert_eq!(found, ids, "{name}");
    }
}

#[test]
fn damage_aimed_at_a_real_log_is_reported() {
    let Some(path) = corpus::require("evtx/evtx-crate/samples/security.evtx") else {
        return;
    };
    let mut bytes = std::fs::read(&path).unwrap();
    let all = layout::records(&bytes).len();
    let victim = layout::records(&bytes)[100].record_id;
    Damage::RecordBadMagic { record_id: victim }.apply(&mut bytes);
    let read = common::read_bytes(&bytes, "security.evtx");
    assert_eq!(read.events.len(), all - 1);
    assert!(!read.record_ids().contains(&victim));
    assert_eq!(read.problems.len(), 1, "{:?}", read.problems);
}
