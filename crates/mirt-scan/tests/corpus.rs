//! Corpus checks of issue 4: signature-base scans the whole corpus, and
//! its hash IOC list loads as a bad-hash list.

use mirt_scan::{Engine, HashList, Output, ScanOptions, ScanStatus, list_files};
use mirt_yara::{CompileOptions, RuleSources, compile};
use std::path::{Path, PathBuf};

/// The corpus, or `None` (said) when absent; under `MIRT_REQUIRE_CORPUS`
/// its absence fails the test.
fn corpus() -> Option<PathBuf> {
    mirt_testkit::corpus::dir()
}

#[test]
fn signature_base_scans_the_corpus() {
    let Some(corpus) = corpus() else { return };
    let mut sources = RuleSources::new();
    sources
        .add_path(&corpus.join("yara/signature-base/yara"))
        .unwrap();
    let opts = CompileOptions {
        skip_bad_rules: false,
        cache_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).join("rule-cache")),
    };
    let rules = compile(&sources, &opts).unwrap_or_else(|e| panic!("{e}"));
    let listing = list_files(std::slice::from_ref(&corpus), false);
    assert!(listing.files.len() > 5000, "{}", listing.files.len());
    let engine = Engine::new(ScanOptions::default(), Some(&rules));
    let (mut files, mut scanned, mut matched) = (0, 0, 0);
    let mut failures = Vec::new();
    engine
        .run(
            &listing.files,
            |o| o,
            |o| match o {
                Output::Record(r) => {
                    files += 1;
                    scanned += u64::from(r.scan == ScanStatus::Scanned);
                    matched += u64::from(!r.matches.is_empty());
                    if matches!(r.scan, ScanStatus::Timeout | ScanStatus::Unreadable) {
                        failures.push(r.path.clone());
                    }
                }
                Output::Problem(_) | Output::FileDone { .. } => {}
            },
        )
        .unwrap();
    assert!(failures.is_empty(), "{failures:?}");
    assert!(files >= listing.files.len(), "{files}");
    assert!(scanned >= listing.files.len() as u64);
    // signature-base's own rule files quote the strings they look for.
    assert!(matched > 0);
    println!("{files} records, {scanned} scanned, {matched} matched");
}

#[test]
fn signature_base_hash_iocs_load_as_bad_hashes() {
    let Some(corpus) = corpus() else { return };
    let (list, problems) =
        HashList::load(&corpus.join("yara/signature-base/iocs/hash-iocs.txt")).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert!(list.len() > 3000, "{}", list.len());
    assert!(list.needs().md5 && list.needs().sha1);
    let mut engine = Engine::new(ScanOptions::default(), None);
    engine.bad_hashes(list);
    assert!(engine.algorithms().md5);
}
