//! The bytes of a bundle are fixed by its inputs: these digests were taken
//! from bundles written by an earlier version of the writer (one that
//! copied, hashed and wrote every block in turn), so a faster writer has
//! to produce exactly the same archive, member for member, byte for byte.
//! (The deflated case is pinned to zlib-rs, the deflate implementation the
//! crate now requests: a different implementation makes different, equally
//! valid, bytes.)

mod common;

use common::*;
use mirt_custody::zip::Method;
use mirt_custody::{BundleWriter, CreateOptions, EntryKind};
use mirt_hash::Algorithms;
use std::io::{self, Read};
use std::path::Path;

/// Yields `data`, then fails like a bad sector.
struct BadSector<'a>(&'a [u8]);

impl Read for BadSector<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.0.is_empty() {
            return Err(io::Error::other("Input/output error"));
        }
        self.0.read(buf)
    }
}

/// Hands out at most `step` bytes per read.
struct Trickle<'a>(&'a [u8], usize);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.1);
        self.0.read(&mut buf[..n])
    }
}

fn bundle(method: Method, extra: Algorithms) -> Vec<u8> {
    let opts = CreateOptions {
        method,
        extra,
        tool_version: "0.0.0-golden".into(),
        ..CreateOptions::default()
    };
    let mut w = BundleWriter::new(Vec::new(), Path::new("golden.mirt.zip"), opts).unwrap();
    let sizes = [0usize, 1, 4095, 4096, 70_000, (9 << 20) + 3, 17 << 20];
    for (i, n) in sizes.into_iter().enumerate() {
        let data = noise(n, i as u64);
        let path = format!("/evidence/file{i}.bin");
        let entry = mirt_custody::source::entry_for(EntryKind::File, Path::new(&path), None);
        let stored = format!("evidence/1/file{i}.bin");
        if i == 4 {
            w.add_reader(entry, &stored, Trickle(&data, 777)).unwrap();
        } else {
            w.add_reader(entry, &stored, &data[..]).unwrap();
        }
    }
    let data = noise(3_000_000, 99);
    let entry = mirt_custody::source::entry_for(EntryKind::File, Path::new("/dev/sdb1"), None);
    w.add_reader(entry, "evidence/1/sdb1", BadSector(&data))
        .unwrap();
    let entry =
        mirt_custody::source::entry_for(EntryKind::Result, Path::new("/out/hits.jsonl"), None);
    w.add_reader(entry, "results/hits.jsonl", &b"{\"hit\":1}\n"[..])
        .unwrap();
    let mut c = mirt_custody::example_collection();
    c.compression = method;
    c.tool.version = "0.0.0-golden".into();
    w.finish(&c, &examiner_key()).unwrap().0
}

fn blake3(bytes: &[u8]) -> String {
    let mut h = mirt_hash::MultiHasher::new(Algorithms::default());
    h.update(bytes);
    h.finalize().blake3_hex()
}

#[test]
fn bundles_are_byte_identical_to_the_reference_writer() {
    // Size and BLAKE3 of the bundle, as the reference writer made it.
    let cases = [
        (
            Method::Store,
            Algorithms::default(),
            30349836,
            "c3573328d8fc7e79045a2bfd98e760776f6a189f134ce21884a802e2c4be4b85",
        ),
        (
            Method::Store,
            Algorithms::all(),
            30350448,
            "40721da038555844768d4576d29a3a67693df6e4e7a7081176933ed055f1853e",
        ),
        (
            Method::Deflate,
            Algorithms::default(),
            30359129,
            "321a441bbd61cd0f81d62e4739f1a26dcde79b63dd8132e91903f2ebdf3f9130",
        ),
    ];
    for (method, extra, len, digest) in cases {
        let bytes = bundle(method, extra);
        let report = verify_bytes(&bytes, &trust());
        assert!(report.ok(), "{method:?}: {:?}", report.findings);
        assert_eq!(
            (bytes.len(), blake3(&bytes).as_str()),
            (len, digest),
            "{method:?} {extra:?}"
        );
    }
}
