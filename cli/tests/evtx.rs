//! `mirt evtx` as a user runs it: formats, filters, problems, exit codes.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Output, Stdio};

mod common;
use common::mirt;

fn corpus() -> Option<PathBuf> {
    mirt_testkit::corpus::dir()
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    mirt().args(args).output().unwrap()
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn version_names_the_commit() {
    let out = run(&["--version".as_ref()]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("mirt 0."), "{text}");
    assert!(text.contains('('), "{text}");
}

#[test]
fn help_has_examples_and_exit_codes() {
    let out = run(&["evtx".as_ref(), "--help".as_ref()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Examples:"), "{text}");
    let out = run(&["--help".as_ref()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Exit codes:"), "{text}");
}

#[test]
fn jsonl_has_one_event_per_record_in_utc() {
    let Some(c) = corpus() else { return };
    let file = c.join("evtx/plaso/System.evtx");
    let out = run(&["evtx".as_ref(), file.as_os_str()]);
    assert!(out.status.success());
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 5009);
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["timestamp"].as_str().unwrap().ends_with('Z'), "{line}");
        assert!(v["record_id"].is_u64(), "{line}");
        assert_eq!(v["channel"], "System");
        assert_eq!(v["source"]["kind"], "evtx");
        assert!(v["source"]["offset"].as_u64().unwrap() >= 4096);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("5009 records"), "{stderr}");
}

#[test]
fn filters_by_event_id_channel_and_time() {
    let Some(c) = corpus() else { return };
    let file = c.join("evtx/plaso/System.evtx");
    let all = stdout_lines(&run(&["evtx".as_ref(), file.as_os_str()]));
    let parsed: Vec<serde_json::Value> = all
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let want_7036 = parsed.iter().filter(|v| v["event_id"] == 7036).count();
    assert!(want_7036 > 0);
    let got = run(&[
        "evtx".as_ref(),
        file.as_os_str(),
        "--event-id".as_ref(),
        "7036".as_ref(),
    ]);
    assert_eq!(stdout_lines(&got).len(), want_7036);

    let other = run(&[
        "evtx".as_ref(),
        file.as_os_str(),
        "--channel".as_ref(),
        "Security".as_ref(),
    ]);
    assert!(other.status.success());
    assert_eq!(stdout_lines(&other).len(), 0);

    // A window around the median event keeps exactly the events inside it.
    let mut times: Vec<&str> = parsed
        .iter()
        .map(|v| v["timestamp"].as_str().unwrap())
        .collect();
    times.sort();
    let (from, to) = (times[1000], times[3000]);
    let want = parsed
        .iter()
        .filter(|v| {
            let t: jiff::Timestamp = v["timestamp"].as_str().unwrap().parse().unwrap();
            t >= from.parse().unwrap() && t < to.parse().unwrap()
        })
        .count();
    let got = run(&[
        "evtx".as_ref(),
        file.as_os_str(),
        "--from".as_ref(),
        from.as_ref(),
        "--to".as_ref(),
        to.as_ref(),
    ]);
    assert_eq!(stdout_lines(&got).len(), want);
}

#[test]
fn csv_json_and_table_formats() {
    let Some(c) = corpus() else { return };
    let file = c.join("evtx/plaso/System2.evtx");
    let csv = run(&[
        "evtx".as_ref(),
        file.as_os_str(),
        "--format".as_ref(),
        "csv".as_ref(),
    ]);
    let lines = stdout_lines(&csv);
    assert!(
        lines[0].starts_with("timestamp,computer,channel,event_id,record_id"),
        "{}",
        lines[0]
    );
    let mut reader = csv_rows(&csv.stdout);
    // 194 records in two whole chunks, 89 before the cut in the third.
    assert_eq!(reader.len(), 283 + 1);
    assert!(reader.iter().all(|r| r.len() == reader[0].len()));
    reader.clear();

    let json = run(&[
        "evtx".as_ref(),
        file.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 283);

    let table = run(&[
        "evtx".as_ref(),
        file.as_os_str(),
        "-f".as_ref(),
        "table".as_ref(),
    ]);
    let lines = stdout_lines(&table);
    assert!(lines[0].starts_with("TIMESTAMP"));
    assert_eq!(lines.len(), 284);
}

/// A minimal CSV row splitter (quotes, doubled quotes, commas in quotes).
fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8_lossy(bytes);
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match (ch, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    rows
}

#[test]
fn damaged_input_is_reported_and_the_rest_is_read() {
    let Some(c) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let bad = c.join("evtx/evtx-crate/samples/sample_with_a_bad_chunk_magic.evtx");
    let legacy = c.join("evtx/plaso/SysEvent.Evt");
    let out = run(&[
        "evtx".as_ref(),
        bad.as_os_str(),
        legacy.as_os_str(),
        "--errors".as_ref(),
        errors.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "something was read");
    assert_eq!(stdout_lines(&out).len(), 301);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SysEvent.Evt"), "{stderr}");
    assert!(stderr.contains("unsupported"), "{stderr}");
    assert!(stderr.contains("chunk 6"), "{stderr}");
    let logged: Vec<serde_json::Value> = std::fs::read_to_string(&errors)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        logged.len(),
        9,
        "3 bad records/chunks, 3 chunk CRC32 mismatches, 2 runs of zeroed chunks, and the .evt file"
    );
    assert!(logged.iter().any(|p| p["kind"] == "unsupported"));
    assert!(
        logged
            .iter()
            .filter(|p| p["kind"] == "damaged_block")
            .all(|p| p["offset"].is_u64())
    );
}

#[test]
fn exit_code_is_1_only_when_nothing_could_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.evtx");
    std::fs::write(&junk, b"this is not an event log").unwrap();
    let empty = dir.path().join("empty.evtx");
    std::fs::write(&empty, b"").unwrap();
    let out = run(&["evtx".as_ref(), junk.as_os_str(), empty.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not an EVTX file"), "{stderr}");
    assert!(stderr.contains("empty file"), "{stderr}");

    let missing = dir.path().join("missing");
    let out = run(&["evtx".as_ref(), missing.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));

    let out = run(&["evtx".as_ref(), "--no-such-flag".as_ref()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    let Some(c) = corpus() else { return };
    let mut child = mirt()
        .arg("evtx")
        .arg(c.join("evtx/plaso/System.evtx"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 100];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("error"), "{stderr}");
}
