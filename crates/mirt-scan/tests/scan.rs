//! The scan engine end to end on files the tests make themselves: zip
//! members and zip bombs, hash lists, size limits, output order.

use mirt_scan::{Engine, FileRecord, HashList, Output, ScanOptions, ScanStatus, list_files};
use mirt_yara::{CompileOptions, CompiledRules, RuleSources, compile};
use std::io::Write;
use std::path::Path;

fn rules() -> CompiledRules {
    let mut s = RuleSources::new();
    s.add_text(
        "t",
        "t.yar",
        r#"rule evil { strings: $a = "EVIL-MARKER" condition: $a }
           rule php_name { condition: extension == ".php" and filename == "shell.php"
                and filepath contains "!web/" }"#,
    );
    compile(&s, &CompileOptions::default()).unwrap()
}

fn zip_bytes(members: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, data) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn run(dir: &Path, engine: &Engine<'_>) -> (Vec<FileRecord>, Vec<mirt_core::Problem>) {
    let listing = list_files(&[dir.to_path_buf()], false);
    let (mut recs, mut probs) = (Vec::new(), Vec::new());
    engine
        .run(
            &listing.files,
            |o| o,
            |o| match o {
                Output::Record(r) => recs.push(*r),
                Output::Problem(p) => probs.push(p),
                Output::FileDone { .. } => {}
            },
        )
        .unwrap();
    (recs, probs)
}

fn rel<'a>(dir: &Path, rec: &'a FileRecord) -> &'a str {
    let prefix = format!("{}/", dir.display());
    rec.path.strip_prefix(&prefix).unwrap_or(&rec.path)
}

#[test]
fn zip_members_are_scanned_as_archive_bang_member() {
    let dir = tempfile::tempdir().unwrap();
    let inner = zip_bytes(
        &[("deep.txt", b"x EVIL-MARKER x")],
        zip::CompressionMethod::Deflated,
    );
    let outer = zip_bytes(
        &[
            ("web/shell.php", b"<?php ?>"),
            ("web/", b""),
            ("inner.zip", &inner),
        ],
        zip::CompressionMethod::Deflated,
    );
    std::fs::write(dir.path().join("a.zip"), &outer).unwrap();
    let rules = rules();
    let engine = Engine::new(ScanOptions::default(), Some(&rules));
    let (recs, probs) = run(dir.path(), &engine);
    assert!(probs.is_empty(), "{probs:?}");
    let paths: Vec<_> = recs.iter().map(|r| rel(dir.path(), r)).collect();
    assert_eq!(
        paths,
        [
            "a.zip",
            "a.zip!web/shell.php",
            "a.zip!inner.zip",
            "a.zip!inner.zip!deep.txt"
        ]
    );
    assert_eq!(recs[1].matches[0].rule, "php_name");
    assert_eq!(recs[3].matches[0].rule, "evil");
    assert_eq!(recs[3].size, 15);
    assert_eq!(recs[0].filetype, "ZIP");

    // One level only: the inner archive is hashed and scanned, not opened.
    let engine = Engine::new(
        ScanOptions {
            zip_depth: 1,
            ..ScanOptions::default()
        },
        Some(&rules),
    );
    assert_eq!(run(dir.path(), &engine).0.len(), 3);
}

#[test]
fn zip_bomb_stops_at_the_size_budget() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 4 << 20];
    let bomb = zip_bytes(
        &[("a.bin", &zeros), ("b.bin", &zeros), ("c.bin", &zeros)],
        zip::CompressionMethod::Deflated,
    );
    assert!(bomb.len() < 100_000);
    std::fs::write(dir.path().join("bomb.zip"), &bomb).unwrap();
    let engine = Engine::new(
        ScanOptions {
            zip_max_total: 9 << 20,
            ..ScanOptions::default()
        },
        None,
    );
    let (recs, probs) = run(dir.path(), &engine);
    let status: Vec<_> = recs.iter().map(|r| r.scan).collect();
    assert_eq!(
        status,
        [
            ScanStatus::HashOnly,
            ScanStatus::HashOnly,
            ScanStatus::HashOnly,
            ScanStatus::ArchiveLimit
        ]
    );
    assert!(recs[3].hashes.is_none());
    assert_eq!(probs.len(), 1);
    assert!(probs[0].reason.contains("archive size limit"), "{probs:?}");
}

#[test]
fn member_count_limit() {
    let dir = tempfile::tempdir().unwrap();
    let z = zip_bytes(
        &[("1", b"1"), ("2", b"2"), ("3", b"3")],
        zip::CompressionMethod::Stored,
    );
    std::fs::write(dir.path().join("many.zip"), &z).unwrap();
    let engine = Engine::new(
        ScanOptions {
            zip_max_members: 2,
            ..ScanOptions::default()
        },
        None,
    );
    let (recs, probs) = run(dir.path(), &engine);
    assert_eq!(recs.len(), 3);
    assert!(probs[0].reason.contains("1 further member"), "{probs:?}");
}

#[test]
fn hash_lists_and_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.txt"), b"abc").unwrap();
    std::fs::write(dir.path().join("good.txt"), b"EVIL-MARKER but known good").unwrap();
    std::fs::write(dir.path().join("large.bin"), vec![b'E'; 2000]).unwrap();
    let good_sha1 = {
        let mut h = mirt_hash::MultiHasher::new(mirt_hash::Algorithms::all());
        h.update(b"EVIL-MARKER but known good");
        mirt_hash::to_hex(&h.finalize().sha1.unwrap())
    };
    let (bad, _) = HashList::parse("bad.txt", "900150983cd24fb0d6963f7d28e17f72;abc (md5)\n");
    let (good, _) = HashList::parse("good.csv", &format!("name,sha1\ngood.txt,{good_sha1}\n"));
    let rules = rules();
    let mut engine = Engine::new(
        ScanOptions {
            max_scan_size: 1000,
            ..ScanOptions::default()
        },
        Some(&rules),
    );
    engine.bad_hashes(bad).known_good(good);
    assert_eq!(engine.algorithms(), mirt_hash::Algorithms::all());
    let (recs, _) = run(dir.path(), &engine);
    let by_name = |n: &str| recs.iter().find(|r| r.path.ends_with(n)).unwrap();
    let b = by_name("bad.txt");
    assert_eq!(b.bad_hashes[0].algorithm, "md5");
    assert_eq!(b.bad_hashes[0].comment, "abc (md5)");
    assert!(b.is_finding());
    let g = by_name("good.txt");
    assert_eq!(g.scan, ScanStatus::KnownGood);
    assert!(g.matches.is_empty());
    let l = by_name("large.bin");
    assert_eq!(l.scan, ScanStatus::TooLarge);
    assert!(l.hashes.is_some());
    assert!(l.reason.as_deref().unwrap().contains("maximum scan size"));
}

#[test]
fn large_files_hash_and_scan_the_same_bytes_as_small_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = vec![7u8; (mirt_hash::PARALLEL_MIN) + 5];
    data[1000..1011].copy_from_slice(b"EVIL-MARKER");
    std::fs::write(dir.path().join("big.bin"), &data).unwrap();
    let rules = rules();
    let opts = ScanOptions {
        mmap_threshold: 1,
        ..ScanOptions::default()
    };
    let engine = Engine::new(opts, Some(&rules));
    let (recs, _) = run(dir.path(), &engine);
    let mut h = mirt_hash::MultiHasher::new(Default::default());
    h.update(&data);
    assert_eq!(recs[0].hashes.as_ref().unwrap(), &h.finalize());
    assert_eq!(recs[0].matches[0].strings[0].offsets, [1000]);
}

#[test]
fn output_order_is_the_listing_order() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..50 {
        std::fs::write(dir.path().join(format!("f{i:02}")), vec![b'x'; i * 1000]).unwrap();
    }
    let engine = Engine::new(
        ScanOptions {
            threads: 4,
            ..ScanOptions::default()
        },
        None,
    );
    let (recs, _) = run(dir.path(), &engine);
    let names: Vec<_> = recs
        .iter()
        .map(|r| rel(dir.path(), r).to_string())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(names.len(), 50);
}
