//! Measures what normalising costs next to rendering, on one EVTX file:
//! `cargo run --release -p mirt-evtx --example normalize_cost -- FILE`.

use evtx::{EvtxParser, ParserSettings};
use mirt_core::{Event, Source, SourceKind};
use std::time::Instant;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: normalize_cost FILE.evtx");
    let settings = ParserSettings::new().indent(false).num_threads(1);
    let t = Instant::now();
    let mut parser = EvtxParser::from_path(&path)
        .unwrap()
        .with_configuration(settings);
    let rendered: Vec<Vec<u8>> = parser
        .records_json_bytes()
        .filter_map(Result::ok)
        .map(|r| r.data)
        .collect();
    let render = t.elapsed();
    let bytes: usize = rendered.iter().map(Vec::len).sum();

    let phases = std::env::var("PHASES").unwrap_or_else(|_| "ns".into());
    if !phases.contains('n') {
        println!(
            "render only: {} records, {:.2} us/rec",
            rendered.len(),
            render.as_secs_f64() * 1e6 / rendered.len() as f64
        );
        return;
    }
    let t = Instant::now();
    let mut events = Vec::with_capacity(rendered.len());
    for json in &rendered {
        let mut e = Event::new(Source::new(SourceKind::Evtx, &path, 0));
        mirt_evtx::normalize_record(json, &mut e).unwrap();
        events.push(e);
    }
    let normalize = t.elapsed();

    if !phases.contains('s') {
        println!("render+normalize: {} events", events.len());
        return;
    }
    let t = Instant::now();
    let mut out = Vec::with_capacity(bytes * 2);
    for e in &events {
        serde_json::to_writer(&mut out, e).unwrap();
        out.push(b'\n');
    }
    let serialize = t.elapsed();
    let n = rendered.len() as f64;
    println!(
        "{} records, {} bytes rendered: render {:.2} us/rec, normalize {:.2} us/rec, serialize {:.2} us/rec ({} bytes out)",
        rendered.len(),
        bytes,
        render.as_secs_f64() * 1e6 / n,
        normalize.as_secs_f64() * 1e6 / n,
        serialize.as_secs_f64() * 1e6 / n,
        out.len()
    );
}
