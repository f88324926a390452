//! Each damage helper yields the problem a responder should see, and the
//! good records around the damage still come back.

mod common;

use common::read_bytes;
use mirt_core::ProblemKind;
use mirt_testkit::{Damage, EventSpec, EvtxWriter, damage, layout};

/// 3 chunks of 10 records, ids 1 to 30.
fn base() -> Vec<u8> {
    EvtxWriter::new()
        .max_records_per_chunk(10)
        .extend((1..=30u32).map(|i| {
            EventSpec::new(4624)
                .channel("Security")
                .data("TargetUserName", format!("user{i}"))
                .data_u32("Index", i)
        }))
        .to_bytes()
        .unwrap()
}

fn ids(ranges: &[std::ops::RangeInclusive<u64>]) -> Vec<u64> {
    ranges.iter().flat_map(|r| r.clone()).collect()
}

/// The middle of record `id`, for a cut there.
fn middle_of(bytes: &[u8], id: u64) -> usize {
    let r = layout::find_record(bytes, id).unwrap();
    r.offset - layout::chunk_offset(r.chunk) + r.size / 2
}

#[test]
fn each_damage_is_reported_and_the_rest_is_read() {
    use ProblemKind::*;
    let bytes = base();
    // The damage, the problems (kind, chunk) it gives, the records still read.
    type Case = (Damage, Vec<(ProblemKind, Option<u64>)>, Vec<u64>);
    let cases: Vec<Case> = vec![
        (
            Damage::FileHeaderCrc,
            vec![(DamagedBlock, None)],
            ids(&[1..=30]),
        ),
        (
            Damage::ChunkHeaderCrc { chunk: 1 },
            vec![(DamagedBlock, Some(1))],
            ids(&[1..=30]),
        ),
        (
            Damage::ChunkEventsCrc { chunk: 1 },
            vec![(DamagedBlock, Some(1))],
            ids(&[1..=30]),
        ),
        (
            Damage::ChunkMagic { chunk: 1 },
            vec![(DamagedBlock, Some(1))],
            ids(&[1..=10, 21..=30]),
        ),
        (
            Damage::ZeroChunk { chunk: 1 },
            vec![(DamagedBlock, Some(1))],
            ids(&[1..=10, 21..=30]),
        ),
        (
            Damage::RecordZeroSize { record_id: 15 },
            vec![(DamagedRecord, Some(1))],
            ids(&[1..=14, 16..=30]),
        ),
        (
            Damage::RecordBadMagic { record_id: 15 },
            vec![(DamagedRecord, Some(1))],
            ids(&[1..=14, 16..=30]),
        ),
        (
            Damage::Truncate {
                chunk: 2,
                keep: middle_of(&bytes, 25),
            },
            vec![(Truncated, Some(2))],
            ids(&[1..=24]),
        ),
        (
            Damage::Truncate {
                chunk: 2,
                keep: 100,
            },
            vec![(Truncated, Some(2))],
            ids(&[1..=20]),
        ),
    ];
    for (damage, problems, good) in cases {
        let mut damaged = bytes.clone();
        damage.apply(&mut damaged);
        let read = read_bytes(&damaged, "damaged.evtx");
        let got: Vec<(ProblemKind, Option<u64>)> =
            read.problems.iter().map(|p| (p.kind, p.chunk)).collect();
        assert_eq!(got, problems, "{damage:?}: {:#?}", read.problems);
        assert_eq!(read.record_ids(), good, "{damage:?}");
        let summary = read.summary.unwrap();
        assert_eq!(summary.records, good.len() as u64, "{damage:?}");
        assert_eq!(summary.problems, problems.len() as u64, "{damage:?}");
    }
}

#[test]
fn a_record_cut_by_the_end_of_the_file_is_named_and_not_read() {
    let mut bytes = base();
    let keep = middle_of(&bytes, 25);
    Damage::Truncate { chunk: 2, keep }.apply(&mut bytes);
    let read = read_bytes(&bytes, "cut.evtx");
    let [p] = read.problems.as_slice() else {
        panic!("{:?}", read.problems)
    };
    assert_eq!(
        (p.kind, p.chunk, p.record_id),
        (ProblemKind::Truncated, Some(2), Some(25))
    );
    assert_eq!(
        p.offset,
        Some(layout::find_record(&base(), 25).unwrap().offset as u64)
    );
    assert!(
        p.reason
            .contains(&format!("ends {keep} bytes into chunk 2")),
        "{p}"
    );
    // What the records say is what was written: nothing read from past the cut.
    let last = read.events.last().unwrap();
    assert_eq!(last.record_id, Some(24));
    assert_eq!(
        last.fields.get("TargetUserName"),
        Some(&mirt_core::Value::from("user24"))
    );
}

#[test]
fn problems_point_at_the_damage() {
    let bytes = base();
    let record = layout::find_record(&bytes, 15).unwrap();
    let mut damaged = bytes.clone();
    Damage::RecordBadMagic { record_id: 15 }.apply(&mut damaged);
    let read = read_bytes(&damaged, "damaged.evtx");
    assert_eq!(read.problems[0].offset, Some(record.offset as u64));

    let mut damaged = bytes;
    Damage::ChunkHeaderCrc { chunk: 2 }.apply(&mut damaged);
    let read = read_bytes(&damaged, "damaged.evtx");
    assert_eq!(
        read.problems[0].offset,
        Some(layout::chunk_offset(2) as u64)
    );
    assert!(
        read.problems[0]
            .reason
            .contains("chunk header CRC32 invalid"),
        "{}",
        read.problems[0]
    );
}

#[test]
fn a_stale_records_crc_in_the_open_chunk_of_a_live_log_is_expected() {
    // Windows updates the records CRC32 of the chunk it is writing later:
    // a log copied from a running system (dirty) has a stale one there.
    let live = EvtxWriter::new()
        .dirty(true)
        .max_records_per_chunk(10)
        .extend((0..20).map(|_| EventSpec::new(4624)))
        .to_bytes()
        .unwrap();
    let mut stale = live.clone();
    Damage::ChunkEventsCrc { chunk: 1 }.apply(&mut stale);
    let read = read_bytes(&stale, "live.evtx");
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    assert_eq!(read.events.len(), 20);
    // In a chunk already finished, it is damage.
    let mut damaged = live;
    Damage::ChunkEventsCrc { chunk: 0 }.apply(&mut damaged);
    assert_eq!(
        read_bytes(&damaged, "live.evtx").problem_kinds(),
        vec![ProblemKind::DamagedBlock]
    );
}

#[test]
fn zeroed_chunks_in_a_row_are_one_problem() {
    let mut bytes = EvtxWriter::new()
        .max_records_per_chunk(5)
        .extend((0..25).map(|_| EventSpec::new(1)))
        .to_bytes()
        .unwrap();
    Damage::ZeroChunk { chunk: 1 }.apply(&mut bytes);
    Damage::ZeroChunk { chunk: 2 }.apply(&mut bytes);
    Damage::ZeroChunk { chunk: 3 }.apply(&mut bytes);
    let read = read_bytes(&bytes, "zeros.evtx");
    assert_eq!(read.problem_kinds(), vec![ProblemKind::DamagedBlock]);
    assert!(
        read.problems[0]
            .reason
            .starts_with("chunks 1 to 3 are all zeros"),
        "{}",
        read.problems[0]
    );
    assert_eq!(read.record_ids(), ids(&[1..=5, 21..=25]));
}

#[test]
fn files_that_are_not_evtx_say_what_they_are() {
    let cases = [
        (
            damage::not_evtx(),
            "not-evtx.evtx",
            ProblemKind::NotThisFormat,
        ),
        (damage::empty_file(), "empty.evtx", ProblemKind::Truncated),
        (damage::legacy_evt(), "legacy.evt", ProblemKind::Unsupported),
        (
            base()[..2000].to_vec(),
            "header-only.evtx",
            ProblemKind::Truncated,
        ),
    ];
    for (bytes, name, kind) in cases {
        let read = read_bytes(&bytes, name);
        assert_eq!(read.problem_kinds(), vec![kind], "{name}");
        assert!(read.events.is_empty());
        assert!(read.summary.unwrap().unreadable, "{name}");
    }
}

#[test]
fn legacy_evt_has_its_header_and_end_of_file_record() {
    let evt = damage::legacy_evt();
    assert_eq!(&evt[4..8], b"LfLe");
    let u32_at = |at: usize| u32::from_le_bytes(evt[at..at + 4].try_into().unwrap());
    assert_eq!(u32_at(0), 0x30);
    let end = u32_at(20) as usize;
    assert_eq!(
        u32_at(end + 4),
        0x1111_1111,
        "the end-of-file record starts where the header says"
    );
    assert_eq!(evt.len(), end + 0x28);
    // The record is framed by its size on both ends.
    let size = u32_at(0x30) as usize;
    assert_eq!(u32_at(0x30 + size - 4) as usize, size);
}
