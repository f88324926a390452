//! The reader against the real corpus: the evtx crate's own expectations
//! for its damaged samples, plaso's counts, and every EVTX file present
//! read without a panic or a hang.

use mirt_core::{Problem, ProblemKind};
use mirt_evtx::{EvtxReader, FileSummary, Item};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

fn corpus() -> Option<PathBuf> {
    mirt_testkit::corpus::dir()
}

#[derive(Default)]
struct Read {
    events: u64,
    problems: Vec<Problem>,
    summaries: Vec<FileSummary>,
}

fn read(files: &[PathBuf], threads: usize) -> Read {
    let mut out = Read::default();
    let mut reader = EvtxReader::new();
    reader.threads(threads);
    reader.read_files(files, |item| match item {
        Item::Event(_) => out.events += 1,
        Item::Problem(p) => out.problems.push(p),
        Item::FileDone(s) => out.summaries.push(s),
    });
    out
}

/// Problems with records or chunks, as the evtx crate counts failed records
/// (a damaged file header is reported too, but is not a lost record; nor
/// are chunk CRC32 mismatches whose records are read anyway, or chunks of
/// zeros, which the evtx crate skips without counting).
fn record_problems(problems: &[Problem]) -> usize {
    problems
        .iter()
        .filter(|p| p.chunk.is_some() || p.record_id.is_some())
        .filter(|p| !p.reason.ends_with("records read anyway") && !p.reason.contains("all zeros"))
        .count()
}

#[test]
fn evtx_crate_samples_give_the_expected_counts() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("evtx/evtx-crate");
    let table = std::fs::read_to_string(dir.join("EXPECTED_RECORD_COUNTS.tsv")).unwrap();
    let mut checked = 0;
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let (name, ok, err) = (
            cols[0],
            cols[1].parse::<u64>().unwrap(),
            cols[2].parse::<usize>().unwrap(),
        );
        for threads in [1, 4] {
            let got = read(&[dir.join("samples").join(name)], threads);
            assert_eq!(got.events, ok, "{name}: good records (threads {threads})");
            assert_eq!(
                record_problems(&got.problems),
                err,
                "{name}: bad records (threads {threads}): {:#?}",
                got.problems
            );
            // Every lost record is reported with the file and where it was.
            for p in &got.problems {
                assert!(p.path.ends_with(name));
                assert!(p.offset.is_some() || p.record_id.is_some(), "{p}");
            }
        }
        checked += 1;
    }
    assert!(checked >= 14, "only {checked} files in the table");
}

#[test]
fn wrapped_logs_come_out_oldest_first() {
    let Some(corpus) = corpus() else { return };
    let file =
        corpus.join("evtx/evtx-crate/samples/2-system-Microsoft-Windows-LiveId%4Operational.evtx");
    let mut ids = Vec::new();
    EvtxReader::new().read_files(&[file], |item| {
        if let Item::Event(e) = item {
            ids.push(e.record_id.unwrap());
        }
    });
    assert_eq!(ids.first(), Some(&2032));
    assert_eq!(ids.last(), Some(&2430));
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "record ids out of order"
    );
}

#[test]
fn plaso_system_logs_and_legacy_evt() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("evtx/plaso");
    let full = read(&[dir.join("System.evtx")], 0);
    assert_eq!(full.events, 5009);
    // plaso reads the 194 records of the two whole chunks; the file ends
    // 64832 bytes into its third, whose 89 whole records are read too.
    let truncated = read(&[dir.join("System2.evtx")], 0);
    assert_eq!(truncated.events, 283);
    assert_eq!(truncated.problems[0].kind, ProblemKind::Truncated);
    assert_eq!(truncated.problems[0].chunk, Some(2));
    let legacy = read(&[dir.join("SysEvent.Evt")], 0);
    assert_eq!(legacy.events, 0);
    assert_eq!(legacy.problems.len(), 1);
    assert_eq!(legacy.problems[0].kind, ProblemKind::Unsupported);
    assert!(
        legacy.problems[0].reason.contains(".evt"),
        "{}",
        legacy.problems[0]
    );
    assert!(legacy.summaries[0].unreadable);
}

#[test]
fn every_corpus_event_log_is_read_without_panic_or_hang() {
    let Some(corpus) = corpus() else { return };
    let found = mirt_evtx::find_evtx_files(std::slice::from_ref(&corpus));
    assert!(found.files.len() >= 300, "{} files", found.files.len());
    for file in found.files {
        // A parser that loops forever would hang the suite: give each file
        // its own thread and a generous deadline.
        let (tx, rx) = mpsc::channel();
        let path = file.clone();
        std::thread::spawn(move || {
            let got = read(&[path], 1);
            let _ = tx.send(got);
        });
        let got = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{} took over 60 s or panicked", file.display()));
        assert_eq!(got.summaries.len(), 1, "{}", file.display());
        assert!(
            got.events > 0 || !got.problems.is_empty(),
            "{}: neither events nor a problem",
            file.display()
        );
    }
}

#[test]
fn parallel_and_single_threaded_reads_agree() {
    let Some(corpus) = corpus() else { return };
    let files =
        mirt_evtx::find_evtx_files(&[corpus.join("evtx/attack-samples/Lateral Movement")]).files;
    let collect = |threads| {
        let mut lines = Vec::new();
        let mut reader = EvtxReader::new();
        reader.threads(threads);
        reader.read_files(&files, |item| {
            if let Item::Event(e) = item {
                lines.push(serde_json::to_string(&*e).unwrap());
            }
        });
        lines
    };
    let one = collect(1);
    assert!(one.len() > 100);
    assert_eq!(one, collect(4));
}

#[test]
fn checksums_and_zeroed_chunks_are_reported_where_they_matter() {
    let Some(corpus) = corpus() else { return };
    let samples = corpus.join("evtx/evtx-crate/samples");
    // Logs copied from a running system: the chunk being written has a
    // stale records CRC32, which is not damage.
    for live in [
        "Microsoft-Windows-HelloForBusiness%4Operational.evtx",
        "Microsoft-Windows-LanguagePackSetup%4Operational.evtx",
    ] {
        let got = read(&[samples.join(live)], 1);
        assert!(got.problems.is_empty(), "{live}: {:#?}", got.problems);
    }
    let got = read(&[samples.join("security_bad_string_cache.evtx")], 1);
    assert!(
        got.problems
            .iter()
            .any(|p| p.chunk == Some(0) && p.reason.starts_with("chunk header CRC32 invalid")),
        "{:#?}",
        got.problems
    );
    let got = read(&[samples.join("sample_with_a_bad_chunk_magic.evtx")], 1);
    let zeroed: Vec<&str> = got
        .problems
        .iter()
        .filter(|p| p.reason.contains("all zeros"))
        .map(|p| p.reason.split(" are").next().unwrap())
        .collect();
    assert_eq!(zeroed, ["chunks 1 to 5", "chunks 11 to 15"]);
}
