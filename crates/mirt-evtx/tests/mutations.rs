//! Damaged logs as a fuzzer would make them: random bytes of a real log
//! changed, cut or zeroed. The reader must never panic (a panic inside the
//! parser would be reported as a problem, which this test refuses), never
//! hang, and must account for every file.

use mirt_evtx::{EvtxReader, Item};
use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::OnceLock;

fn fixture() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let path = mirt_testkit::fixtures::path("sample-sysmon.evtx");
        std::fs::read(path).expect("fixtures/evtx/sample-sysmon.evtx")
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, xor: u8 },
    Zero { at: usize, len: usize },
    Cut { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let len = fixture().len();
    prop_oneof![
        6 => (0..len, 1u8..=255).prop_map(|(at, xor)| Mutation::Flip { at, xor }),
        2 => (0..len, 1usize..600).prop_map(|(at, len)| Mutation::Zero { at, len }),
        1 => (0..len).prop_map(|at| Mutation::Cut { at }),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    match *m {
        Mutation::Flip { at, xor } => {
            if let Some(b) = bytes.get_mut(at) {
                *b ^= xor;
            }
        }
        Mutation::Zero { at, len } => {
            let end = (at + len).min(bytes.len());
            if at < end {
                bytes[at..end].fill(0);
            }
        }
        Mutation::Cut { at } => bytes.truncate(at),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn damaged_logs_never_panic(mutations in proptest::collection::vec(mutation(), 1..12)) {
        let mut bytes = fixture().to_vec();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let dir = tempfile::tempdir().unwrap();
        let path: PathBuf = dir.path().join("mutated.evtx");
        std::fs::write(&path, &bytes).unwrap();
        let mut done = 0;
        let mut panics = Vec::new();
        let mut reader = EvtxReader::new();
        reader.threads(1);
        reader.read_files(&[path], |item| match item {
            Item::Problem(p) if p.reason.contains("parser failed") => panics.push(p),
            Item::FileDone(_) => done += 1,
            _ => {}
        });
        prop_assert_eq!(done, 1);
        prop_assert!(panics.is_empty(), "{:?}: {:?}", mutations, panics);
    }
}
