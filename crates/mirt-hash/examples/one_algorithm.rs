//! Hashes files with ONE algorithm through mirt's evidence read path, for
//! the benchmark that sets each of mirt's hashers beside its reference tool
//! (`benches/scan/run.sh`: BLAKE3 beside `b3sum`, SHA-256 beside `openssl`).
//! `mirt scan` always computes both in the same read; this isolates one.
//!
//! ```sh
//! find /usr/lib -type f -print0 | \
//!     cargo run --release -p mirt-hash --example one_algorithm -- blake3 2
//! ```

use mirt_hash::{DEFAULT_MMAP_THRESHOLD, open_evidence, read_contents, to_hex};
use sha2::Digest as _;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

fn main() {
    let mut args = std::env::args().skip(1);
    let algorithm = args.next().unwrap_or_else(|| usage());
    let threads: usize = args.next().and_then(|t| t.parse().ok()).unwrap_or(1);
    if !matches!(algorithm.as_str(), "blake3" | "sha256") {
        usage();
    }
    let mut list = Vec::new();
    std::io::stdin()
        .read_to_end(&mut list)
        .expect("reading the file list from stdin");
    let files: Vec<PathBuf> = list
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
        .collect();
    let next = AtomicUsize::new(0);
    let out = Mutex::new(std::io::BufWriter::new(std::io::stdout()));
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let line = match hash(path, &algorithm) {
                        Ok(hex) => format!("{hex}  {}\n", path.display()),
                        Err(e) => format!("error  {}: {e}\n", path.display()),
                    };
                    let _ = out.lock().map(|mut o| o.write_all(line.as_bytes()));
                }
            });
        }
    });
}

fn hash(path: &std::path::Path, algorithm: &str) -> std::io::Result<String> {
    let mut file = open_evidence(path, false)?;
    let len = file.metadata()?.len();
    let data = read_contents(&mut file, len, DEFAULT_MMAP_THRESHOLD)?;
    Ok(match algorithm {
        "blake3" => blake3::hash(&data).to_hex().to_string(),
        _ => to_hex(&sha2::Sha256::digest(&data[..])),
    })
}

fn usage() -> ! {
    eprintln!("usage: one_algorithm blake3|sha256 [THREADS] < NUL-separated file list");
    std::process::exit(2)
}
