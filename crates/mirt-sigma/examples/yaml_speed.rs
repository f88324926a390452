//! How fast YAML is read: yaml-rust2 (the reference), the fast reader, and
//! `load_documents` (fast with fallback), over every `.yml` under a folder,
//! as the median of several rounds.
//!
//! `cargo build --release -p mirt-sigma --examples`
//! `./target/release/examples/yaml_speed /work/shared/corpus/sigma/sigmahq/rules/windows [rounds]`

use mirt_sigma::yaml;
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: yaml_speed DIR [ROUNDS]");
    let rounds: usize = args.next().map_or(7, |r| r.parse().expect("ROUNDS"));
    let texts: Vec<String> = walkdir::WalkDir::new(&dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "yml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let accepted = texts
        .iter()
        .filter(|t| yaml::load_documents_fast(t).is_some())
        .count();
    println!(
        "{} files, {:.2} MB, fast reader accepts {accepted}",
        texts.len(),
        bytes as f64 / 1e6
    );
    let reference = median(rounds, || {
        texts
            .iter()
            .for_each(|t| drop(yaml::load_documents_reference(t)))
    });
    let fast = median(rounds, || {
        texts
            .iter()
            .for_each(|t| drop(yaml::load_documents_fast(t)))
    });
    let both = median(rounds, || {
        texts.iter().for_each(|t| drop(yaml::load_documents(t)))
    });
    for (name, d) in [
        ("yaml-rust2", reference),
        ("fast", fast),
        ("load_documents", both),
    ] {
        let mbs = bytes as f64 / 1e6 / d.as_secs_f64();
        println!(
            "{name:>15}: {:8.1} ms  {mbs:7.1} MB/s",
            d.as_secs_f64() * 1e3
        );
    }
    println!(
        "load_documents is {:.1}x yaml-rust2",
        reference.as_secs_f64() / both.as_secs_f64()
    );
}

/// The median time of `rounds` runs of `f`.
fn median(rounds: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..rounds.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}
