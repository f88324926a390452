//! Bundles on disk: reproducibility, failed runs, independent readers,
//! encryption, extraction, appending custody entries.

mod common;

use common::*;
use mirt_custody::zip::{Method, ZipIndex};
use mirt_custody::{
    AtomicFile, BundleWriter, CreateOptions, EncryptedSeal, Error, Event, NewEntry, Sink,
    VerifyOptions,
};
use std::io::{self, Cursor, Read, Write};
use std::path::{Path, PathBuf};

#[test]
fn the_same_inputs_metadata_and_key_give_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let root = evidence(dir.path(), 1_500_000);
    for method in [Method::Store, Method::Deflate, Method::Zstd] {
        let a = bundle_of(std::slice::from_ref(&root), method);
        let b = bundle_of(std::slice::from_ref(&root), method);
        assert!(a == b, "{method:?}: two runs differ");
        let r = verify_bytes(&a, &trust());
        assert!(r.ok(), "{method:?}: {:#?}", r.findings);
    }
    // And the evidence was not touched: reading did not change access times.
    let t = std::fs::metadata(root.join("auth.log"))
        .unwrap()
        .accessed()
        .unwrap();
    assert_eq!(
        t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
        1_709_287_200
    );
}

/// Fails every write after `budget` bytes, like a full disk.
struct DiskFull<W> {
    inner: W,
    budget: usize,
}

impl<W: Write> Write for DiskFull<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.budget == 0 {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "no space left on device",
            ));
        }
        let n = buf.len().min(self.budget);
        self.budget -= n;
        self.inner.write(&buf[..n])
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn leftovers(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn a_full_disk_leaves_no_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let root = evidence(dir.path(), 3_000_000);
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let final_path = out_dir.join("case.mirt.zip");
    for budget in [0, 10, 100_000, 2_000_000] {
        let file = AtomicFile::create(&final_path, false).unwrap();
        let sink = DiskFull {
            inner: file,
            budget,
        };
        let result = BundleWriter::new(sink, &final_path, CreateOptions::default())
            .and_then(|mut w| w.add_paths(std::slice::from_ref(&root), false));
        assert!(
            matches!(result, Err(Error::Write { .. })),
            "{budget}: {result:?}"
        );
        drop(result);
        assert!(!final_path.exists());
        assert!(leftovers(&out_dir).is_empty(), "{:?}", leftovers(&out_dir));
    }
}

/// Yields `good` bytes, then fails like a bad sector.
struct BadSector {
    good: usize,
}

impl Read for BadSector {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.good == 0 {
            return Err(io::Error::other("Input/output error"));
        }
        let n = buf.len().min(self.good);
        buf[..n].fill(0xAA);
        self.good -= n;
        Ok(n)
    }
}

fn entry(path: &str) -> mirt_custody::ManifestEntry {
    mirt_custody::source::entry_for(mirt_custody::EntryKind::File, Path::new(path), None)
}

#[test]
fn a_read_error_stops_the_run_without_a_bundle_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let final_path = dir.path().join("case.mirt.zip");
    let sink = Sink::plain(&final_path, false).unwrap();
    let opts = CreateOptions {
        stop_on_read_error: true,
        ..CreateOptions::default()
    };
    let mut w = BundleWriter::new(sink, &final_path, opts).unwrap();
    let err = w
        .add_reader(
            entry("/dev/sdb1"),
            "evidence/1/sdb1",
            BadSector { good: 3_000_000 },
        )
        .unwrap_err();
    match &err {
        Error::EvidenceRead { offset, .. } => assert_eq!(*offset, 3_000_000),
        other => panic!("{other:?}"),
    }
    drop(w);
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn a_read_error_is_recorded_and_the_rest_is_sealed_by_default() {
    let mut w = BundleWriter::new(Vec::new(), Path::new("x"), CreateOptions::default()).unwrap();
    w.add_reader(
        entry("/dev/sdb1"),
        "evidence/1/sdb1",
        BadSector { good: 1_500_000 },
    )
    .unwrap();
    w.add_reader(entry("/ok.txt"), "evidence/2/ok.txt", &b"fine"[..])
        .unwrap();
    let (bytes, sealed) = w
        .finish(&mirt_custody::example_collection(), &examiner_key())
        .unwrap();
    assert_eq!(sealed.totals.partial, 1);
    let r = verify_bytes(&bytes, &trust());
    assert!(r.ok(), "{:#?}", r.findings);
    let bad = &r.manifest[0];
    assert_eq!(bad.status, mirt_custody::Status::Partial);
    assert_eq!(bad.size, 1_500_000);
    assert!(
        bad.errors[0].contains("read error at offset 1500000"),
        "{:?}",
        bad.errors
    );
}

#[test]
fn independent_readers_accept_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let root = evidence(dir.path(), 2_000_000);
    for method in [Method::Store, Method::Deflate] {
        let path = dir.path().join(format!("{method:?}.mirt.zip"));
        std::fs::write(&path, bundle_of(std::slice::from_ref(&root), method)).unwrap();
        if let Some(unzip) = tool("unzip") {
            let out = std::process::Command::new(unzip)
                .arg("-t")
                .arg(&path)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && text.contains("No errors detected"),
                "{text}"
            );
        }
        if let Some(zipinfo) = tool("zipinfo") {
            let out = std::process::Command::new(zipinfo)
                .arg(&path)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("80-Jan-01 00:00 VERSION"), "{text}");
        }
        if let Some(py) = tool("python3") {
            let script = "import sys, zipfile\n\
                z = zipfile.ZipFile(sys.argv[1])\n\
                assert z.testzip() is None\n\
                names = z.namelist()\n\
                assert names[0] == 'VERSION' and names[-1] == 'custody.jsonl', names\n\
                print(len(names))";
            let out = std::process::Command::new(py)
                .args(["-c", script])
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

fn seal_entry() -> NewEntry {
    NewEntry {
        event: Event::Encrypted,
        time: "2024-03-01T10:00:00Z".parse().unwrap(),
        actor: String::new(),
        place: None,
        purpose: None,
        from: None,
        to: None,
        note: None,
        ciphertext: None,
    }
}

fn encrypted_bundle(dir: &Path) -> (PathBuf, age::x25519::Identity) {
    let root = evidence(dir, 1_200_000);
    let id = age::x25519::Identity::generate();
    let path = dir.join("case.mirt.zip.age");
    let recipients: Vec<Box<dyn age::Recipient + Send>> = vec![Box::new(id.to_public())];
    let sink = Sink::encrypted(&path, false, &recipients).unwrap();
    let mut w = BundleWriter::new(sink, &path, CreateOptions::default()).unwrap();
    w.add_paths(&[root], false).unwrap();
    let (sink, sealed) = w
        .finish(&mirt_custody::example_collection(), &examiner_key())
        .unwrap();
    let root_bytes = format!("{}\n", sealed.root);
    let seal = EncryptedSeal {
        root_bytes: root_bytes.as_bytes(),
        recipients: vec![id.to_public().to_string()],
        entry: seal_entry(),
        key: &examiner_key(),
    };
    sink.commit(&path, Some(seal)).unwrap();
    (path, id)
}

fn verify_file(path: &Path, ids: &mirt_custody::Identities) -> mirt_custody::Report {
    let opts = VerifyOptions {
        trust: &trust(),
        custody_head: None,
    };
    mirt_custody::verify_path(path, ids, &opts, &mut |_| {}).unwrap()
}

#[test]
fn an_encrypted_bundle_verifies_with_its_identity_and_its_sidecar_catches_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let (path, id) = encrypted_bundle(dir.path());
    if let Some(age_cli) = tool("age") {
        // The reference implementation decrypts it to a valid bundle too.
        use age::secrecy::ExposeSecret;
        let key = dir.path().join("id.key");
        std::fs::write(&key, id.to_string().expose_secret()).unwrap();
        let out = std::process::Command::new(age_cli)
            .args(["-d", "-i"])
            .arg(&key)
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r = verify_bytes(&out.stdout, &trust());
        assert!(r.ok(), "{:#?}", r.findings);
    }
    let ids: mirt_custody::Identities = vec![Box::new(id)];
    let r = verify_file(&path, &ids);
    assert!(r.ok(), "{:#?}", r.findings);
    assert_eq!(r.custody.len(), 2); // sealed (inside), encrypted (sidecar)

    let outer = verify_file(&path, &Vec::new());
    assert_eq!(outer.findings.len(), 1, "{:#?}", outer.findings);
    assert!(outer.findings[0].message.contains("give its age identity"));

    let e = NewEntry {
        event: Event::Received,
        ..seal_entry()
    };
    let done = mirt_custody::append(&path, e, &examiner_key()).unwrap();
    assert_eq!(done.seq, 1);
    let r = verify_file(&path, &ids);
    assert!(r.ok(), "{:#?}", r.findings);
    assert_eq!(r.custody_head.as_deref(), Some(done.head.as_str()));

    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let r = verify_file(&path, &ids);
    assert!(
        r.findings
            .iter()
            .any(|f| f.message.contains("does not match its sidecar")),
        "{:#?}",
        r.findings
    );
}

#[test]
fn extraction_gives_back_the_evidence_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = evidence(dir.path(), 1_100_000);
    let path = dir.path().join("b.mirt.zip");
    std::fs::write(&path, bundle_of(std::slice::from_ref(&root), Method::Zstd)).unwrap();
    let out = dir.path().join("out");
    let done = mirt_custody::extract(&path, &Vec::new(), &out).unwrap();
    assert!(done.findings.is_empty(), "{:#?}", done.findings);
    let got = out.join("evidence/1/host1/Windows/Logs/Bürgeramt.evtx");
    assert_eq!(std::fs::read(&got).unwrap(), noise(1_100_000, 1));
    assert!(std::fs::metadata(&got).unwrap().permissions().readonly());
    assert!(out.join("custody.jsonl").is_file());
    // A second extraction into the same (now full) folder is refused.
    assert!(matches!(
        mirt_custody::extract(&path, &Vec::new(), &out),
        Err(Error::Exists { .. })
    ));
}

/// Replaces the name of member `from` (in its local header and the
/// directory) by `to`, of the same length, and optionally marks it a link.
fn patch_name(bytes: &[u8], from: &str, to: &str, link: bool) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = bytes.to_vec();
    let idx = ZipIndex::read(&mut Cursor::new(bytes)).unwrap();
    let mut hits = 0;
    let mut i = 0;
    while let Some(p) = out[i..]
        .windows(from.len())
        .position(|w| w == from.as_bytes())
    {
        let at = i + p;
        out[at..at + from.len()].copy_from_slice(to.as_bytes());
        if link && at as u64 > idx.cd_offset {
            let attrs = at - 46 + 38;
            out[attrs..attrs + 4].copy_from_slice(&(0o120777u32 << 16).to_le_bytes());
        }
        hits += 1;
        i = at + from.len();
    }
    assert!(hits >= 2, "{from} found {hits} times");
    out
}

#[test]
fn extraction_refuses_traversal_absolute_paths_and_links_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("e");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("aaaaaaa"), b"payload").unwrap();
    let bytes = bundle_of(&[root], Method::Store);
    let cases = [
        (
            "evidence/1/e/aaaaaaa",
            "../../../../../tmp/x",
            false,
            "out of the target",
        ),
        (
            "evidence/1/e/aaaaaaa",
            "/tmp/evidence-1-e-ab",
            false,
            "absolute",
        ),
        (
            "evidence/1/e/aaaaaaa",
            "evidence/1/e/C:aaaaa",
            false,
            "not a safe",
        ),
        (
            "evidence/1/e/aaaaaaa",
            "evidence/1/e/bbbbbbb",
            true,
            "symbolic link",
        ),
    ];
    for (from, to, link, words) in cases {
        let crafted = patch_name(&bytes, from, to, link);
        let path = dir.path().join("crafted.mirt.zip");
        std::fs::write(&path, &crafted).unwrap();
        let out = dir.path().join("out");
        let err = mirt_custody::extract(&path, &Vec::new(), &out).unwrap_err();
        assert!(
            matches!(&err, Error::Unsafe { reason, .. } if reason.contains(words)),
            "{to}: {err}"
        );
        assert!(!out.exists(), "{to}: something was written");
        assert!(!Path::new("/tmp/x").exists());
    }
}

#[test]
fn appending_custody_entries_leaves_the_evidence_bytes_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let root = evidence(dir.path(), 1_000_000);
    let bytes = bundle_of(&[root], Method::Store);
    let path = dir.path().join("b.mirt.zip");
    std::fs::write(&path, &bytes).unwrap();
    let index = ZipIndex::read(&mut Cursor::new(&bytes)).unwrap();
    let custody_at = index.members.last().unwrap().offset as usize;
    for event in [Event::Transferred, Event::Received, Event::Verified] {
        let e = NewEntry {
            event,
            ..seal_entry()
        };
        mirt_custody::append(&path, e, &other_key()).unwrap();
    }
    let after = std::fs::read(&path).unwrap();
    assert_eq!(after[..custody_at], bytes[..custody_at]);
    let r = verify_bytes(&after, &trust());
    // Only the untrusted key of the new entries is reported.
    assert_eq!(r.findings.len(), 3, "{:#?}", r.findings);
    assert!(r.findings.iter().all(|f| f.message.contains("not trusted")));
    assert_eq!(r.custody.len(), 4);
}

#[test]
fn extraction_reports_members_that_do_not_match() {
    let dir = tempfile::tempdir().unwrap();
    let root = evidence(dir.path(), 10_000);
    let mut bytes = bundle_of(&[root], Method::Store);
    let index = ZipIndex::read(&mut Cursor::new(&bytes)).unwrap();
    let m = index
        .members
        .iter()
        .find(|m| m.name.ends_with("auth.log"))
        .unwrap();
    bytes[m.data_offset() as usize + 3] ^= 0x40;
    let path = dir.path().join("d.mirt.zip");
    std::fs::write(&path, &bytes).unwrap();
    let done = mirt_custody::extract(&path, &Vec::new(), &dir.path().join("out")).unwrap();
    let names: Vec<_> = done.findings.iter().map(|f| f.to_string()).collect();
    assert!(
        names
            .iter()
            .any(|f| f.contains("auth.log: content does not match the manifest")),
        "{names:#?}"
    );
}
