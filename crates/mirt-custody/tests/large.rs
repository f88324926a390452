//! A file over 4 GiB goes in and verifies (ZIP64 sizes and offsets).
//!
//! The evidence is a sparse file and the bundle is written sparse as well
//! (zero blocks become holes), so the test needs almost no disk; mirt reads
//! holes without asking the kernel for zero pages, but still hashes every
//! one of the 4 GiB twice (create and verify): about 7 s of CPU in the dev
//! profile (hashing crates at opt-level 2). It is a test binary of its own,
//! so it can be run or skipped by name (`--test large`).

mod common;

use common::*;
use mirt_custody::zip::ZipIndex;
use mirt_custody::{BundleWriter, CreateOptions, VerifyOptions};
use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::time::Instant;

const SIZE: u64 = (4 << 30) + 1234;

/// Writes zero blocks as holes.
struct Sparse {
    file: File,
    pos: u64,
}

impl Write for Sparse {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() >= 4096 && is_zero(buf) {
            self.file.seek(SeekFrom::Current(buf.len() as i64))?;
        } else {
            self.file.write_all(buf)?;
        }
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        // A hole at the very end must still count as file length.
        self.file.set_len(self.pos)
    }
}

fn is_zero(buf: &[u8]) -> bool {
    // Slice comparison is a memcmp: fast even in the dev profile.
    const ZEROS: [u8; 4096] = [0; 4096];
    buf.chunks(4096).all(|c| c == &ZEROS[..c.len()])
}

#[test]
fn a_sparse_file_over_4_gib_goes_in_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("disk");
    std::fs::create_dir(&ev).unwrap();
    let image = ev.join("disk.img");
    let mut f = File::create(&image).unwrap();
    f.write_all(b"start of the image").unwrap();
    f.set_len(SIZE).unwrap();
    f.seek(SeekFrom::Start(SIZE - 3)).unwrap();
    f.write_all(b"end").unwrap();
    drop(f);

    let out = dir.path().join("big.mirt.zip");
    let t = Instant::now();
    let sink = Sparse {
        file: File::create(&out).unwrap(),
        pos: 0,
    };
    let mut w = BundleWriter::new(sink, &out, CreateOptions::default()).unwrap();
    w.add_paths(&[ev], false).unwrap();
    let (mut sink, sealed) = w
        .finish(&mirt_custody::example_collection(), &examiner_key())
        .unwrap();
    sink.flush().unwrap();
    drop(sink);
    let created = t.elapsed();
    assert_eq!(sealed.totals.bytes, SIZE);

    let mut file = File::open(&out).unwrap();
    let index = ZipIndex::read(&mut file).unwrap();
    let m = index
        .members
        .iter()
        .find(|m| m.name.ends_with("disk.img"))
        .unwrap();
    assert_eq!((m.size, m.compressed), (SIZE, SIZE));
    assert!(index.members.last().unwrap().offset > u32::MAX as u64);

    let t = Instant::now();
    let opts = VerifyOptions {
        trust: &trust(),
        custody_head: None,
    };
    let r = mirt_custody::verify_path(&out, &Vec::new(), &opts, &mut |_| {}).unwrap();
    let verified = t.elapsed();
    assert!(r.ok(), "{:#?}", r.findings);
    assert_eq!(r.manifest[0].size, SIZE);
    eprintln!("4 GiB: created in {created:.1?}, verified in {verified:.1?}");

    if let Some(py) = tool("python3") {
        let script = "import sys, zipfile\n\
            z = zipfile.ZipFile(sys.argv[1])\n\
            i = [i for i in z.infolist() if i.filename.endswith('disk.img')][0]\n\
            print(i.file_size, i.header_offset)";
        let o = std::process::Command::new(py)
            .args(["-c", script])
            .arg(&out)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.starts_with(&format!("{SIZE} ")),
            "{text} {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
