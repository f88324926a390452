//! Every kind of tampering the issue lists is detected, with a message that
//! names the member or custody entry concerned.

mod common;

use common::*;
use mirt_custody::format::{CUSTODY, MANIFEST, ROOT, SIGNATURE, Signature};
use mirt_custody::zip::{Method, ZipIndex};
use mirt_custody::{Check, NewEntry, TrustStore};
use std::io::Cursor;

fn fresh() -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let root = evidence(dir.path(), 2_500_000);
    let bytes = bundle_of(&[root], Method::Store);
    (dir, bytes)
}

#[test]
fn an_untouched_bundle_verifies() {
    let (_d, bytes) = fresh();
    let r = verify_bytes(&bytes, &trust());
    assert!(r.ok(), "{:#?}", r.findings);
    assert_eq!(r.custody.len(), 1);
    assert!(r.signer_trusted);
    assert_eq!(r.manifest.len(), if cfg!(unix) { 5 } else { 4 });
}

#[test]
fn a_flipped_byte_at_sampled_positions_of_every_member_is_found_on_that_member() {
    let (_d, bytes) = fresh();
    let index = ZipIndex::read(&mut Cursor::new(&bytes)).unwrap();
    for m in &index.members {
        let data = m.data_offset();
        let mut positions = vec![
            (m.offset, "local header"),
            (m.offset + 8, "local header"),
            (m.offset + 30, "local header"),
            (m.data_offset() + m.compressed + 4, "data descriptor"),
        ];
        if m.size > 0 {
            positions.push((data, "CRC-32"));
            positions.push((data + m.size / 2, "CRC-32"));
            positions.push((data + m.size - 1, "CRC-32"));
        }
        for (at, words) in positions {
            let mut damaged = bytes.clone();
            damaged[at as usize] ^= 0x20;
            let r = verify_bytes(&damaged, &trust());
            assert_member_finding(&r, &m.name, words);
            if words == "CRC-32" && m.name.starts_with("evidence/") {
                assert_member_finding(&r, &m.name, "does not match the manifest");
            }
        }
    }
}

#[test]
fn every_single_flipped_byte_of_a_small_bundle_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("e");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("a"), b"evidence").unwrap();
    fix_times(&root);
    let bytes = bundle_of(&[root], Method::Store);
    for at in 0..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x01;
        assert!(
            !verify_bytes(&damaged, &trust()).ok(),
            "flip at byte {at} of {} went unnoticed",
            bytes.len()
        );
    }
}

#[test]
fn truncation_is_found() {
    let (_d, bytes) = fresh();
    for keep in [
        0,
        1,
        100,
        bytes.len() / 3,
        bytes.len() / 2,
        bytes.len() - 23,
        bytes.len() - 1,
    ] {
        let r = verify_bytes(&bytes[..keep], &trust());
        assert!(!r.ok());
        assert_eq!(
            r.findings[0].check,
            Check::Container,
            "{keep}: {:?}",
            r.findings
        );
        assert!(
            r.findings[0].message.contains("truncated"),
            "{keep}: {}",
            r.findings[0]
        );
    }
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"appended");
    let r = verify_bytes(&longer, &trust());
    assert!(
        r.findings[0].message.contains("appended"),
        "{}",
        r.findings[0]
    );
}

fn evidence_names(ms: &[(String, Vec<u8>, Method)]) -> Vec<String> {
    ms.iter()
        .map(|m| m.0.clone())
        .filter(|n| n.starts_with("evidence/"))
        .collect()
}

#[test]
fn an_added_member_is_found() {
    let (_d, bytes) = fresh();
    let mut ms = members(&bytes);
    let at = ms.iter().position(|m| m.0 == "collection.json").unwrap();
    ms.insert(
        at,
        (
            "evidence/1/host1/planted.exe".into(),
            b"MZ".to_vec(),
            Method::Store,
        ),
    );
    let r = verify_bytes(&rebuild(&ms), &trust());
    assert_member_finding(
        &r,
        "evidence/1/host1/planted.exe",
        "not listed in the manifest: it was added",
    );
}

#[test]
fn a_removed_member_is_found() {
    let (_d, bytes) = fresh();
    let mut ms = members(&bytes);
    let gone = evidence_names(&ms)[0].clone();
    ms.retain(|m| m.0 != gone);
    let r = verify_bytes(&rebuild(&ms), &trust());
    assert_member_finding(&r, &gone, "missing: it was removed");
}

#[test]
fn a_renamed_member_is_found_with_both_names() {
    let (_d, bytes) = fresh();
    let mut ms = members(&bytes);
    let old = evidence_names(&ms)[0].clone();
    let new = format!("{old}.renamed");
    ms.iter_mut().find(|m| m.0 == old).unwrap().0 = new.clone();
    let r = verify_bytes(&rebuild(&ms), &trust());
    assert_member_finding(
        &r,
        &new,
        &format!("renamed: the manifest lists this content as {old:?}"),
    );
}

#[test]
fn reordered_members_are_found() {
    let (_d, bytes) = fresh();
    let mut ms = members(&bytes);
    let names = evidence_names(&ms);
    let a = ms.iter().position(|m| m.0 == names[0]).unwrap();
    let b = ms.iter().position(|m| m.0 == names[1]).unwrap();
    ms.swap(a, b);
    let r = verify_bytes(&rebuild(&ms), &trust());
    assert_member_finding(&r, &names[1], "out of order");

    let mut ms = members(&bytes);
    let n = ms.len();
    ms.swap(n - 1, n - 2); // SIGNATURE after custody.jsonl
    let r = verify_bytes(&rebuild(&ms), &trust());
    assert!(
        r.findings
            .iter()
            .any(|f| f.message.contains("in this order")),
        "{:#?}",
        r.findings
    );
}

/// A bundle whose custody log has three entries.
fn with_three_entries() -> (tempfile::TempDir, Vec<u8>) {
    let (dir, bytes) = fresh();
    let path = dir.path().join("b.mirt.zip");
    std::fs::write(&path, &bytes).unwrap();
    for (event, to) in [
        (mirt_custody::Event::Transferred, "CERT Kurier"),
        (mirt_custody::Event::Received, "CERT Labor"),
    ] {
        let e = NewEntry {
            event,
            time: "2024-03-02T08:00:00Z".parse().unwrap(),
            actor: String::new(),
            place: Some("Landesamt".into()),
            purpose: Some("analysis".into()),
            from: Some("Erika Mustermann".into()),
            to: Some(to.into()),
            note: None,
            ciphertext: None,
        };
        mirt_custody::append(&path, e, &examiner_key()).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    let r = verify_bytes(&bytes, &trust());
    assert!(r.ok(), "{:#?}", r.findings);
    assert_eq!(r.custody.len(), 3);
    (dir, bytes)
}

fn with_custody_lines(bytes: &[u8], f: impl FnOnce(&mut Vec<Vec<u8>>)) -> Vec<u8> {
    let mut ms = members(bytes);
    let log = member(&mut ms, CUSTODY);
    let mut lines: Vec<Vec<u8>> = log
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    f(&mut lines);
    *log = lines.concat();
    rebuild(&ms)
}

#[test]
fn an_edited_custody_entry_is_found() {
    let (_d, bytes) = with_three_entries();
    let edited = with_custody_lines(&bytes, |lines| {
        let text = String::from_utf8(lines[1].clone()).unwrap();
        lines[1] = text.replace("CERT Kurier", "Somebody Else").into_bytes();
    });
    let r = verify_bytes(&edited, &trust());
    assert_entry_finding(&r, 2, "does not verify: the entry was edited");
    assert_entry_finding(&r, 3, "does not chain");
}

#[test]
fn a_dropped_custody_entry_is_found() {
    let (_d, bytes) = with_three_entries();
    let dropped = with_custody_lines(&bytes, |lines| {
        lines.remove(1);
    });
    let r = verify_bytes(&dropped, &trust());
    assert_entry_finding(&r, 2, "sequence number 2, expected 1");
    assert_entry_finding(&r, 2, "does not chain");
}

#[test]
fn reordered_custody_entries_are_found() {
    let (_d, bytes) = with_three_entries();
    let swapped = with_custody_lines(&bytes, |lines| lines.swap(1, 2));
    let r = verify_bytes(&swapped, &trust());
    assert_entry_finding(&r, 2, "sequence number 2, expected 1");
    assert_entry_finding(&r, 3, "sequence number 1, expected 2");
}

#[test]
fn a_cut_custody_log_is_found_against_a_known_head() {
    let (_d, bytes) = with_three_entries();
    let full = verify_bytes(&bytes, &trust());
    let cut = with_custody_lines(&bytes, |lines| {
        lines.pop();
    });
    let opts = mirt_custody::VerifyOptions {
        trust: &trust(),
        custody_head: full.custody_head.as_deref(),
    };
    let r = mirt_custody::verify(&mut Cursor::new(&cut), &opts, &mut |_| {});
    assert_member_finding(&r, CUSTODY, "not in the expected head");
}

#[test]
fn a_signature_by_an_untrusted_key_is_found() {
    let (_d, bytes) = fresh();
    let r = verify_bytes(&bytes, &TrustStore::new());
    assert_member_finding(&r, SIGNATURE, "which is not trusted");
    assert_entry_finding(&r, 1, "not trusted");

    // Mallory re-signs the bundle with her key: signature and chain hold,
    // but her key is not trusted.
    let mut ms = members(&bytes);
    let root = member(&mut ms, ROOT).clone();
    *member(&mut ms, SIGNATURE) =
        Signature::sign(&other_key(), &String::from_utf8(root.clone()).unwrap()).to_bytes();
    let seal = NewEntry {
        event: mirt_custody::Event::Sealed,
        time: "2024-03-01T10:00:00Z".parse().unwrap(),
        actor: String::new(),
        place: None,
        purpose: None,
        from: None,
        to: None,
        note: None,
        ciphertext: None,
    };
    *member(&mut ms, CUSTODY) =
        mirt_custody::custody::sign_entry(seal, 0, None, &root, &other_key());
    let r = verify_bytes(&rebuild(&ms), &trust());
    assert_member_finding(&r, SIGNATURE, "(Mallory), which is not trusted");
    assert_entry_finding(&r, 1, "(Mallory), which is not trusted");
    assert_eq!(r.findings.len(), 2, "{:#?}", r.findings);
}

#[test]
fn a_forged_manifest_is_found_by_the_root() {
    let (_d, bytes) = fresh();
    let mut ms = members(&bytes);
    let m = member(&mut ms, MANIFEST);
    let text = String::from_utf8(m.clone()).unwrap();
    *m = text.replace("host1", "host2").into_bytes();
    let r = verify_bytes(&rebuild(&ms), &trust());
    assert_member_finding(&r, ROOT, "does not match");
}

fn small_bundle() -> Vec<u8> {
    static BUNDLE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BUNDLE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("e");
            std::fs::create_dir(&root).unwrap();
            std::fs::write(root.join("a"), b"evidence a").unwrap();
            std::fs::write(root.join("b"), noise(3000, 2)).unwrap();
            fix_times(&root);
            bundle_of(&[root], Method::Deflate)
        })
        .clone()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// Any damage (several bytes changed, then possibly cut) is reported,
    /// and reading damaged input never panics.
    #[test]
    fn random_damage_is_reported_without_panicking(
        edits in proptest::collection::vec((0usize..100_000, 1u8..=255), 1..8),
        cut in proptest::option::of(0usize..100_000),
    ) {
        let mut bytes = small_bundle();
        let n = bytes.len();
        // One change per position, so that two edits never cancel out.
        let edits: std::collections::BTreeMap<usize, u8> =
            edits.into_iter().map(|(at, x)| (at % n, x)).collect();
        for (at, x) in edits {
            bytes[at] ^= x;
        }
        if let Some(c) = cut {
            let n = bytes.len();
            bytes.truncate(c % n);
        }
        let r = verify_bytes(&bytes, &trust());
        proptest::prop_assert!(!r.ok());
    }
}
