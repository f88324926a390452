//! Where a hunt's time goes, phase by phase, on one thread:
//! `cargo run --release -p mirt-sigma --example hunt_phases -- RULES EVTX_DIR`.
//! Loading the rules, then the first pass over the events (which assembles
//! the buckets the events need), then a second pass (matching alone).
//! With `MIRT_SIGMA_CACHE=DIR` the rule set and the automata the passes
//! built are cached in DIR (run twice);
//! with `PASSES=N`, N more passes follow (to profile matching alone).

use mirt_evtx::{EvtxReader, Item};
use mirt_sigma::{Mapping, RuleSetBuilder, Scratch};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [rules, evtx] = args.as_slice() else {
        eprintln!("usage: hunt_phases RULES EVTX_DIR");
        std::process::exit(2);
    };
    let t = Instant::now();
    let cache = std::env::var_os("MIRT_SIGMA_CACHE").map(PathBuf::from);
    let set = RuleSetBuilder::new(Mapping::builtin())
        .cache_dir(cache)
        .add_path(rules)
        .build();
    let load = t.elapsed();

    let files = mirt_evtx::find_evtx_files(std::slice::from_ref(evtx)).files;
    let mut events = Vec::new();
    let mut reader = EvtxReader::new();
    reader.threads(1);
    let t = Instant::now();
    reader.read_files(&files, |item| {
        if let Item::Event(e) = item {
            events.push(e)
        }
    });
    let read = t.elapsed();

    let mut scratch = Scratch::new();
    let mut hits = Vec::new();
    let mut pass = || {
        hits.clear();
        let t = Instant::now();
        for e in &events {
            set.scan_with(e, &mut scratch, &mut hits);
        }
        t.elapsed()
    };
    let first = pass();
    let second = pass();
    let more = std::env::var("PASSES").ok().and_then(|p| p.parse().ok());
    for _ in 0..more.unwrap_or(0) {
        pass();
    }
    if let Some(why) = set.store_automata() {
        eprintln!("{why}");
    }
    let n = events.len() as f64;
    println!(
        "{} rules, {} events, {} hits\nload {:.3} s (from cache: {})\nread {:.3} s ({:.2} us/event)\n\
         first pass {:.3} s (buckets + matching)\nsecond pass {:.3} s ({:.2} us/event)",
        set.rules().len(),
        events.len(),
        hits.len(),
        load.as_secs_f64(),
        set.cache_problem()
            .map_or(set.from_cache().to_string(), str::to_string),
        read.as_secs_f64(),
        read.as_secs_f64() * 1e6 / n,
        first.as_secs_f64(),
        second.as_secs_f64(),
        second.as_secs_f64() * 1e6 / n,
    );
}
