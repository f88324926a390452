//! `mirt hunt` as a user runs it: the shipped rules over the generated
//! fixtures, output formats, levels, correlations, skipped rules, summary.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::run as mirt;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/sigma")
        .join(name)
        .display()
        .to_string()
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn help_has_examples() {
    let out = mirt(&["hunt", "--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Examples:") && text.contains("--list-skipped"),
        "{text}"
    );
}

#[test]
fn detections_carry_rule_event_and_matched_fields() {
    let out = mirt(&[
        "hunt",
        &fixture("shadow_copies_or_backups_deleted.fires.evtx"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let det = lines(&out);
    assert_eq!(det.len(), 3, "{det:?}");
    let d = &det[0];
    assert_eq!(d["kind"], "detection");
    assert_eq!(d["title"], "Shadow Copies or Backups Deleted");
    assert_eq!(d["level"], "critical");
    assert_eq!(d["status"], "test");
    assert_eq!(d["attack"][0], "T1490");
    assert_eq!(d["channel"], "Microsoft-Windows-Sysmon/Operational");
    assert_eq!(d["event_id"], 1);
    assert!(d["record_id"].is_u64() && d["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(
        d["matched"]["CommandLine"]
            .as_str()
            .unwrap()
            .contains("Delete Shadows"),
        "{d}"
    );
    assert_eq!(
        d["event"]["fields"]["Image"],
        r"C:\Windows\System32\vssadmin.exe"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("detections: 3 (3 critical)"), "{stderr}");
}

#[test]
fn brute_force_is_a_correlation_listing_its_events() {
    let out = mirt(&[
        "hunt",
        &fixture("password_brute_force_from_one_source.fires.evtx"),
    ]);
    let det = lines(&out);
    let brute: Vec<_> = det
        .iter()
        .filter(|d| d["title"] == "Password Brute Force From One Source")
        .collect();
    assert_eq!(brute.len(), 1, "{det:?}");
    assert_eq!(brute[0]["kind"], "correlation");
    assert_eq!(brute[0]["correlation"], "event_count");
    assert_eq!(brute[0]["group"]["IpAddress"], "203.0.113.7");
    assert_eq!(brute[0]["event_count"], 20);
    assert_eq!(brute[0]["events"].as_array().unwrap().len(), 20);
    // The single failed logons feed the correlation and are not reported.
    assert!(det.iter().all(|d| d["title"] != "Failed Logon"));
}

#[test]
fn min_level_and_formats() {
    let file = fixture("remote_desktop_logon_from_another_host.fires.evtx");
    let out = mirt(&["hunt", "--min-level", "high", &file]);
    assert!(lines(&out).is_empty());
    let csv = mirt(&["hunt", "--format", "csv", &file]);
    let text = String::from_utf8_lossy(&csv.stdout);
    assert!(text.starts_with("timestamp,level,title,"), "{text}");
    assert!(
        text.contains("Remote Desktop Logon From Another Host"),
        "{text}"
    );
    let table = mirt(&["hunt", "--format", "table", &file]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("TIMESTAMP"));
}

#[test]
fn skipped_rules_are_listed_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "title: Bad\nlogsource: {product: windows}\ndetection:\n    s:\n        A|contain: x\n    condition: s\n").unwrap();
    let listed = mirt(&[
        "hunt",
        "--no-builtin",
        "--rules",
        bad.to_str().unwrap(),
        "--list-skipped",
    ]);
    assert!(listed.status.success());
    let rows = lines(&listed);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["class"], "invalid");
    assert!(
        rows[0]["reason"]
            .as_str()
            .unwrap()
            .contains("unknown modifier 'contain'")
    );
    let summary = dir.path().join("summary.json");
    let out = mirt(&[
        "hunt",
        "--rules",
        bad.to_str().unwrap(),
        "--summary",
        summary.to_str().unwrap(),
        &fixture("clean_baseline.evtx"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        lines(&out).is_empty(),
        "the clean baseline raised detections"
    );
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    assert_eq!(s["skipped_rules"][0]["path"], bad.to_str().unwrap());
    assert!(s["events"].as_u64().unwrap() > 20);
    assert_eq!(s["rules"]["failed"], 1);
}

#[test]
fn a_second_hunt_loads_the_rules_from_the_cache_with_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let summary = dir.path().join("summary.json");
    let hunt = || {
        let out = mirt(&[
            "hunt",
            "--rule-cache",
            cache.to_str().unwrap(),
            "--summary",
            summary.to_str().unwrap(),
            &fixture("shadow_copies_or_backups_deleted.fires.evtx"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let s: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
        (out.stdout, s["rules"]["from_cache"].clone())
    };
    let with_ext = |ext: &str| {
        std::fs::read_dir(&cache)
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.path().extension() == Some(ext.as_ref()))
                })
                .count()
            })
            .unwrap_or(0)
    };
    let (first, cached_first) = hunt();
    // The first hunt stored the compiled set and the automata it built.
    assert_eq!((with_ext("sigc"), with_ext("siga")), (1, 1));
    let (second, cached_second) = hunt();
    assert_eq!(cached_first, false);
    assert_eq!(cached_second, true);
    assert_eq!(first, second);
    assert!(!first.is_empty());
    let uncached = mirt(&[
        "hunt",
        "--no-rule-cache",
        &fixture("shadow_copies_or_backups_deleted.fires.evtx"),
    ]);
    assert_eq!(uncached.stdout, first);
}

#[test]
fn bad_arguments_fail_clearly() {
    let out = mirt(&[
        "hunt",
        "--rules",
        "/no/such/rules",
        &fixture("clean_baseline.evtx"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file or folder"));
    let none: PathBuf = std::env::temp_dir().join("mirt-no-such-dir-for-hunt");
    let out = mirt(&["hunt", none.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_town_hall_intrusion_sample_tells_its_story() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/evtx");
    let sec = dir.join("sample-security.evtx");
    let sysmon = dir.join("sample-sysmon.evtx");
    let out = mirt(&["hunt", sec.to_str().unwrap(), sysmon.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let titles: Vec<String> = lines(&out)
        .iter()
        .map(|d| d["title"].as_str().unwrap().to_string())
        .collect();
    for want in [
        "Password Brute Force From One Source",
        "Successful Logon After Brute Force",
        "Service Installed From an Unusual Path",
        "Account Added to an Administrators Group",
        "Event Log Cleared",
        "PowerShell With an Encoded Command or a Download Cradle",
    ] {
        assert!(
            titles.iter().any(|t| t == want),
            "{want} missing from {titles:?}"
        );
    }
}
