//! Random bytes, and random mixtures of log fragments, thrown at every
//! parser (and at the sniffer): no panic, and the counts always add up.

mod common;

use common::Read;
use mirt_logs::{Item, LogFormat, LogReader};
use proptest::prelude::*;
use std::path::Path;

/// Pieces of real log syntax, so that random input gets deep into parsers.
const FRAGMENTS: &[&str] = &[
    "Jan 22 07:52:33 ",
    "MMM 1 ",
    "Feb 29 01:15:43: ",
    "<13>1 ",
    "<191>",
    "2016-10-25T12:37:23.297265-07:00 ",
    "2024-01-01 00:00:00 ",
    "host ",
    "sshd[12]: ",
    "sudo: ",
    "Accepted password for ",
    "Failed publickey for invalid user ",
    " from ",
    "1.2.3.4",
    " port ",
    "22",
    " ssh2",
    "message repeated 3 times: [ ",
    "]",
    " : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=",
    "(to root) bob on ",
    "pam_unix(su:session): session opened for user root(uid=0) by ",
    "[13/Jan/2016:19:31:16 +0000] ",
    "\"GET /a?b=c HTTP/1.1\" ",
    "200 ",
    "- ",
    "\"",
    "\\\"",
    "[Wed Oct 11 14:32:52 2000] ",
    "[core:error] ",
    "[pid 1:tid 2] ",
    "[client 1.2.3.4:5] ",
    "2024/01/02 03:04:05 [error] 1#0: *1 ",
    ", client: ",
    "#Fields: date time c-ip cs(User-Agent)\n",
    "#Date: 2013-07-30 00:00:00\n",
    "#Time Format: Local\n",
    "{\"a\":{\"b\":[1,{\"c\":2}]},\"time\":\"",
    "\"}",
    "{",
    "}",
    "**********************\n",
    "Windows PowerShell transcript start\n",
    "Start time: 20220721023749\n",
    "PS C:\\> ",
    "Befehlsstartzeit: 2022",
    ",",
    ";",
    "\t",
    " ",
    "\n",
    "\r\n",
    "\0",
    "\u{feff}",
    "\u{fffd}",
    "é",
    "[",
    "] ",
    ":",
    "=",
];

fn fragments() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..80)
        .prop_map(|parts| parts.concat().into_bytes())
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..600), fragments()]
}

fn format() -> impl Strategy<Value = Option<LogFormat>> {
    prop_oneof![
        Just(None),
        prop::sample::select(LogFormat::ALL.to_vec()).prop_map(Some)
    ]
}

fn read(format: Option<LogFormat>, chunk: usize, data: &[u8]) -> Read {
    let mut reader = LogReader::new();
    reader
        .format(format)
        .chunk_size(chunk)
        .max_problems(0)
        .year(Some(2020))
        .max_record(64);
    let mut out = Read::default();
    reader.read_bytes(Path::new("fuzz.log"), data, |item| match item {
        Item::Event(e) => out.events.push(*e),
        Item::Problem(p) => out.problems.push(p),
        Item::FileDone(s) => out.summaries.push(s),
    });
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic_and_counts_add_up(data in input(), format in format(), chunk in 1usize..300) {
        let read = read(format, chunk, &data);
        prop_assert_eq!(read.summaries.len(), 1);
        let s = read.summary();
        for p in &read.problems {
            prop_assert!(!p.reason.contains("the parser failed"), "panic inside a parser: {}", p.reason);
        }
        if s.unreadable {
            return Ok(());
        }
        prop_assert_eq!(s.records, s.events + s.skipped + s.failed);
        prop_assert_eq!(s.emitted as usize, read.events.len());
        let newlines = data.iter().filter(|&&b| b == b'\n').count() as u64;
        let tail = u64::from(!data.is_empty() && data.last() != Some(&b'\n'));
        prop_assert_eq!(s.lines, newlines + tail);
        for e in &read.events {
            let line = e.source.line.unwrap();
            prop_assert!(line >= 1 && line <= s.lines.max(1) + 1);
            prop_assert!(e.source.offset <= data.len() as u64);
        }
        // Problems are listed with line numbers inside the file.
        for p in read.problems.iter().filter(|p| p.line.is_some()) {
            prop_assert!(p.line.unwrap() >= 1 && p.line.unwrap() <= s.lines.max(1) + 1);
        }
    }

    #[test]
    fn chunk_size_does_not_change_the_result(data in fragments(), format in format(), chunk in 1usize..200) {
        let small = read(format, chunk, &data);
        let whole = read(format, 1 << 20, &data);
        let key = |r: &Read| r.events.iter().map(|e| (e.timestamp, e.source.offset, e.source.line, e.message.clone(), e.fields.len())).collect::<Vec<_>>();
        prop_assert_eq!(key(&small), key(&whole));
        prop_assert_eq!(small.summary().failed, whole.summary().failed);
    }
}
