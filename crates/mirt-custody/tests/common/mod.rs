//! Helpers shared by the integration tests: an evidence folder generated
//! here, bundles made from it with fixed metadata and keys, and rebuilding
//! a bundle with changed members (as an attacker with a zip tool would).
#![allow(dead_code)]

use mirt_custody::zip::{Method, ZipIndex, ZipWriter};
use mirt_custody::{BundleWriter, CreateOptions, Report, SigningKey, TrustStore, VerifyOptions};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

pub fn examiner_key() -> SigningKey {
    SigningKey::from_seed([11; 32], "Erika Mustermann")
}

pub fn other_key() -> SigningKey {
    SigningKey::from_seed([66; 32], "Mallory")
}

pub fn trust() -> TrustStore {
    let mut t = TrustStore::new();
    t.add(examiner_key().public());
    t
}

/// Deterministic pseudo-random bytes.
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

/// An evidence folder: text, an empty file, a file spanning several hash
/// blocks, a Unicode name, and (on Unix) a name that is not UTF-8. Times
/// are set so that bundles made from it are reproducible.
pub fn evidence(dir: &Path, big: usize) -> PathBuf {
    let root = dir.join("host1");
    std::fs::create_dir_all(root.join("Windows/Logs")).unwrap();
    let files: Vec<(PathBuf, Vec<u8>)> = vec![
        (
            root.join("auth.log"),
            b"Mar  1 10:00:00 sshd[1]: Accepted password for root\n".to_vec(),
        ),
        (root.join("empty.bin"), Vec::new()),
        (root.join("Windows/Logs/Bürgeramt.evtx"), noise(big, 1)),
        (root.join("Windows/Logs/small.txt"), b"x".to_vec()),
    ];
    for (p, data) in &files {
        std::fs::write(p, data).unwrap();
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let odd = root.join(std::ffi::OsStr::from_bytes(b"caf\xe9.txt"));
        std::fs::write(odd, b"latin-1 name").unwrap();
    }
    fix_times(&root);
    root
}

/// Sets every file's access and modification time to a fixed moment.
pub fn fix_times(root: &Path) {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_709_287_200);
    for e in walkdir_files(root) {
        let f = std::fs::File::options().write(true).open(&e).unwrap();
        f.set_times(std::fs::FileTimes::new().set_accessed(t).set_modified(t))
            .unwrap();
    }
}

fn walkdir_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A bundle of `roots` in memory, signed by the examiner.
pub fn bundle_of(roots: &[PathBuf], method: Method) -> Vec<u8> {
    let opts = CreateOptions {
        method,
        ..CreateOptions::default()
    };
    let mut w = BundleWriter::new(Vec::new(), Path::new("test.mirt.zip"), opts).unwrap();
    w.add_paths(roots, false).unwrap();
    let mut c = mirt_custody::example_collection();
    c.compression = method;
    w.finish(&c, &examiner_key()).unwrap().0
}

pub fn verify_bytes(bytes: &[u8], trust: &TrustStore) -> Report {
    let opts = VerifyOptions {
        trust,
        custody_head: None,
    };
    mirt_custody::verify(&mut Cursor::new(bytes), &opts, &mut |_| {})
}

/// Every member: name, uncompressed bytes, method.
pub fn members(bytes: &[u8]) -> Vec<(String, Vec<u8>, Method)> {
    let mut c = Cursor::new(bytes);
    let index = ZipIndex::read(&mut c).unwrap();
    index
        .members
        .iter()
        .map(|m| {
            let mut data = Vec::new();
            mirt_custody::open_member(&mut c, m)
                .unwrap()
                .read_to_end(&mut data)
                .unwrap();
            (m.name.clone(), data, m.method)
        })
        .collect()
}

/// A well-formed archive of `members`, in this order.
pub fn rebuild(members: &[(String, Vec<u8>, Method)]) -> Vec<u8> {
    let mut z = ZipWriter::new(Vec::new());
    for (name, data, method) in members {
        z.add(name, *method, data).unwrap();
    }
    z.finish().unwrap()
}

pub fn member<'a>(ms: &'a mut [(String, Vec<u8>, Method)], name: &str) -> &'a mut Vec<u8> {
    &mut ms.iter_mut().find(|m| m.0 == name).unwrap().1
}

/// Asserts that some finding is about `member` and says `words`.
#[track_caller]
pub fn assert_member_finding(r: &Report, member: &str, words: &str) {
    assert!(
        r.findings
            .iter()
            .any(|f| f.member.as_deref() == Some(member) && f.message.contains(words)),
        "expected a finding on {member:?} saying {words:?}, got {:#?}",
        r.findings
    );
}

/// Asserts that some finding is about custody line `line` and says `words`.
#[track_caller]
pub fn assert_entry_finding(r: &Report, line: u64, words: &str) {
    assert!(
        r.findings
            .iter()
            .any(|f| f.entry == Some(line) && f.message.contains(words)),
        "expected a finding on custody entry {line} saying {words:?}, got {:#?}",
        r.findings
    );
}

/// The tool if installed; on CI (env `CI`) a missing tool fails the test.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is required on CI (apt-get install unzip python3)"
        );
        eprintln!("skipped: {name} not installed");
    }
    found
}
