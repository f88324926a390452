//! `mirt logs` as a user runs it: detection, output formats, filters,
//! problems on stderr and in --errors, exit codes.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::run;

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/logs")
        .join(rel)
        .display()
        .to_string()
}

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("MIRT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: corpus not found at {}", dir.display());
        None
    }
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn jsonl_events_with_source_and_summary_on_stderr() {
    let out = run(&[
        "logs",
        &fixture("sigma/lnx_sudo_root_by_service_account/fires.log"),
        "--year",
        "2026",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = json_lines(&out);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["timestamp"], "2026-03-02T13:37:01Z");
    assert_eq!(events[0]["provider"], "sudo");
    assert_eq!(events[0]["fields"]["target_user"], "root");
    assert_eq!(events[0]["source"]["line"], 1);
    assert_eq!(events[1]["source"]["offset"], 115);
    let err = stderr(&out);
    assert!(err.contains("fires.log: syslog (detected), 2 lines, 2 events, 0 failed; year-less times: first record in 2026 (--year)"), "{err}");
    assert!(err.contains("logs: 1 files read, 0 not read"), "{err}");
}

#[test]
fn csv_and_table_output() {
    let f = fixture("sigma/web_sql_injection_in_url/fires.log");
    let out = run(&["logs", &f, "--format", "csv", "-q"]);
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("timestamp,computer,provider,format,message,fields,path,line,offset")
    );
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("2026-03-02T10:00:01Z,,,apache_combined,,"),
        "{text}"
    );
    let out = run(&["logs", &f, "--format", "json", "-q"]);
    let array: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(array.len(), 2);
    let out = run(&["logs", &f, "--format", "table", "-q"]);
    assert!(stdout(&out).starts_with("TIMESTAMP"), "{}", stdout(&out));
    assert_eq!(stdout(&out).lines().count(), 3);
}

#[test]
fn grep_time_filters_and_count() {
    let f = fixture("sigma/lnx_sshd_brute_force/fires.log");
    let out = run(&[
        "logs", &f, "--year", "2026", "--grep", "ACCEPTED", "-i", "-q",
    ]);
    let events = json_lines(&out);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["fields"]["outcome"], "success");
    let out = run(&[
        "logs",
        &f,
        "--year",
        "2026",
        "--from",
        "2026-03-02T03:14:20Z",
        "--to",
        "2026-03-02T03:14:40Z",
        "-q",
    ]);
    assert_eq!(json_lines(&out).len(), 5);
    let out = run(&["logs", &f, "--count"]);
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).contains("13 lines, 13 events"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn time_zone_applies_to_local_times() {
    let f = fixture("sigma/lnx_sudo_root_by_service_account/fires.log");
    let out = run(&["logs", &f, "--year", "2026", "--tz", "Europe/Berlin", "-q"]);
    assert_eq!(json_lines(&out)[0]["timestamp"], "2026-03-02T12:37:01Z");
    let out = run(&["logs", &f, "--tz", "Mars/Olympus"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("unknown time zone"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn forced_format_and_unparsed_lines_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let f = fixture("sigma/lnx_sudo_root_by_service_account/fires.log");
    let out = run(&[
        "logs",
        &f,
        "--input-format",
        "apache",
        "--errors",
        errors.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("line 1: offset 0x0: damaged_record: not an Apache/nginx access log line"),
        "{err}"
    );
    assert!(
        err.contains("apache_access (forced), 2 lines, 0 events, 2 failed"),
        "{err}"
    );
    let logged = std::fs::read_to_string(&errors).unwrap();
    assert_eq!(logged.lines().count(), 2);
    assert!(logged.contains("\"line\":2"), "{logged}");
    let out = run(&["logs", &f, "--input-format", "evtx"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown input format"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn exit_codes() {
    let out = run(&["logs", "/nonexistent/path/x.log"]);
    assert_eq!(out.status.code(), Some(1));
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("data.bin");
    std::fs::write(
        &bin,
        [0x7f, b'E', b'L', b'F', 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3].repeat(64),
    )
    .unwrap();
    let out = run(&["logs", bin.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("not a text log"), "{}", stderr(&out));
}

#[test]
fn corpus_folder_reads_every_file() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("logs/plaso");
    let out = run(&["logs", dir.to_str().unwrap(), "--count", "--year", "2012"]);
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("syslog.xz: syslog (detected, xz), 15 lines, 12 events, 1 failed"),
        "{err}"
    );
    assert!(
        err.contains(
            "windows_firewall.log: windows_firewall (detected), 19 lines, 15 events, 0 failed"
        ),
        "{err}"
    );
    assert!(err.contains(" 0 not read;"), "{err}");
}
