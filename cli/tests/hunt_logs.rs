//! `mirt hunt` over text logs: each of the project's own log rules fires on
//! its fixture and stays quiet on its look-alike; the corpus logs give the
//! detections a responder expects.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::run as mirt;

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/logs/sigma")
        .join(rel)
        .display()
        .to_string()
}

/// The rule ids of the detections in `out`.
fn rule_ids(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            v["rule_id"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

/// Detections expected in each `fires*.log` of a fixture folder.
type Fires = &'static [(&'static str, usize)];

/// (fixture folder, rule id, detections in each `fires*.log`).
const RULES: &[(&str, &str, Fires)] = &[
    (
        "web_webshell_access",
        "565a553e-b657-4f7e-a39a-12ab6e8a68f3",
        &[("fires.log", 2), ("fires_iis.log", 1)],
    ),
    (
        "web_sql_injection_in_url",
        "9324d280-1e5c-45a4-a86c-fbe33c13a1fb",
        &[("fires.log", 2), ("fires_iis.log", 1)],
    ),
    (
        "web_path_traversal_in_url",
        "b50c8de3-7034-416a-9312-ed12431280da",
        &[("fires.log", 2)],
    ),
    // The correlation: one finding for the twelve failures in 48 seconds.
    (
        "lnx_sshd_brute_force",
        "f2ee65d9-3943-4e30-b7cc-700810f9f551",
        &[("fires.log", 1)],
    ),
    (
        "lnx_sudo_root_by_service_account",
        "1f552ca8-5d6f-4eae-a557-1f2aa4922031",
        &[("fires.log", 2)],
    ),
];

#[test]
fn each_log_rule_fires_on_its_fixture_and_not_on_the_look_alike() {
    for (dir, rule, fires) in RULES {
        for (file, want) in *fires {
            let out = mirt(&["hunt", &fixture(&format!("{dir}/{file}")), "--year", "2026"]);
            assert!(
                out.status.success(),
                "{dir}/{file}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let ids = rule_ids(&out);
            let hits = ids.iter().filter(|id| id == rule).count();
            assert_eq!(hits, *want, "{dir}/{file}: {ids:?}");
        }
        let out = mirt(&[
            "hunt",
            &fixture(&format!("{dir}/quiet.log")),
            "--year",
            "2026",
        ]);
        assert!(out.status.success());
        assert_eq!(rule_ids(&out), Vec::<String>::new(), "{dir}/quiet.log");
    }
}

#[test]
fn detections_on_log_lines_name_the_line() {
    let out = mirt(&[
        "hunt",
        &fixture("lnx_sudo_root_by_service_account/fires.log"),
        "--year",
        "2026",
        "--tz",
        "Europe/Berlin",
    ]);
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["channel"], "syslog");
    assert_eq!(first["timestamp"], "2026-03-02T12:37:01Z");
    let text = first.to_string();
    assert!(
        text.contains("\"line\":1") && text.contains("www-data"),
        "{text}"
    );
}

#[test]
fn folders_mix_event_logs_text_logs_and_other_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("web_webshell_access/fires.log"),
        dir.path().join("access.log"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("tool.exe"),
        [0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0].repeat(100),
    )
    .unwrap();
    let out = mirt(&["hunt", dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(rule_ids(&out).len(), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 files are neither event logs nor text logs"),
        "{err}"
    );
}

#[test]
fn corpus_logs_give_the_expected_findings() {
    let corpus = std::env::var_os("MIRT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    if !corpus.is_dir() {
        eprintln!("skipped: corpus not found at {}", corpus.display());
        return;
    }
    let out = mirt(&["hunt", corpus.join("logs/plaso").to_str().unwrap(), "-q"]);
    assert!(out.status.success());
    let ids = rule_ids(&out);
    let count = |id: &str| ids.iter().filter(|x| *x == id).count();
    // evil.php?cmd=... in the Apache log (twice, in two vhost variants).
    assert_eq!(count("565a553e-b657-4f7e-a39a-12ab6e8a68f3"), 4, "{ids:?}");
    // ID=1' or 1=@@version-- in the IIS 7 log.
    assert_eq!(count("9324d280-1e5c-45a4-a86c-fbe33c13a1fb"), 2, "{ids:?}");
    assert_eq!(ids.len(), 6, "{ids:?}");
}
