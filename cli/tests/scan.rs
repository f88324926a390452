//! `mirt scan` as a responder runs it: output formats, findings, rule
//! errors, hash lists and what is passed over.

use std::path::Path;
use std::process::{Command, Output};

mod common;

fn mirt(args: &[&str], cache: &Path) -> Output {
    common::mirt()
        .args(args)
        .env("MIRT_CACHE_DIR", cache)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn evidence() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("shell.php"), "<?php @eval($_POST['x']); ?>").unwrap();
    std::fs::write(dir.path().join("plain.txt"), "nothing to see").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("plain.txt", dir.path().join("link.txt")).unwrap();
    dir
}

#[test]
fn builtin_rules_find_a_web_shell_and_hash_everything() {
    let ev = evidence();
    let cache = tempfile::tempdir().unwrap();
    let out = mirt(&["scan", ev.path().to_str().unwrap()], cache.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["path"].as_str().unwrap().ends_with("plain.txt"));
    if let Ok(o) = Command::new("sha256sum")
        .arg(ev.path().join("plain.txt"))
        .output()
    {
        assert_eq!(lines[0]["hashes"]["sha256"], text(&o.stdout)[..64]);
    }
    assert_eq!(
        lines[1]["matches"][0]["rule"],
        "MIRT_Webshell_PHP_Input_To_Exec"
    );
    assert_eq!(lines[1]["matches"][0]["strings"][1]["offsets"][0], 7);
    let err = text(&out.stderr);
    assert!(err.contains("1 files matched"), "{err}");
    #[cfg(unix)]
    assert!(err.contains("1 symlinks"), "{err}");
}

#[test]
fn matches_only_as_csv() {
    let ev = evidence();
    let cache = tempfile::tempdir().unwrap();
    let out = mirt(
        &[
            "scan",
            "-q",
            "--matches-only",
            "-f",
            "csv",
            ev.path().to_str().unwrap(),
        ],
        cache.path(),
    );
    let csv = text(&out.stdout);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows[0].starts_with("path,size,filetype,scan,matches"));
    assert!(rows[1].contains("mirt/webshells:MIRT_Webshell_PHP_Input_To_Exec"));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn bad_rule_file_fails_naming_file_and_line_unless_skipped() {
    let ev = evidence();
    let cache = tempfile::tempdir().unwrap();
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("good.yar"),
        "rule plain { strings: $a = \"nothing\" condition: $a }",
    )
    .unwrap();
    std::fs::write(
        rules.path().join("bad.yar"),
        "rule x {\n condition:\n  nosuch\n}",
    )
    .unwrap();
    let r = rules.path().to_str().unwrap();
    let e = ev.path().to_str().unwrap();
    let out = mirt(&["scan", "-r", r, e], cache.path());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.yar:3:3: unknown identifier `nosuch`"),
        "{err}"
    );

    let errors = ev.path().join("../not-read.jsonl");
    let out = mirt(
        &[
            "scan",
            "-r",
            r,
            "--skip-bad-rules",
            "--matches-only",
            "--errors",
            errors.to_str().unwrap(),
            e,
        ],
        cache.path(),
    );
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("rule file skipped"));
    assert!(text(&out.stdout).contains("\"rule\":\"plain\""));
    let listed = std::fs::read_to_string(&errors).unwrap();
    assert!(listed.contains("\"kind\":\"rule\""), "{listed}");
    #[cfg(unix)]
    assert!(listed.contains("not followed"), "{listed}");
    std::fs::remove_file(errors).unwrap();
}

#[test]
fn bad_hashes_are_findings() {
    let ev = evidence();
    let cache = tempfile::tempdir().unwrap();
    let list = ev.path().join("../iocs.txt");
    // MD5 of "nothing to see": the list asks for MD5, which is then computed.
    let md5 = {
        let out = Command::new("md5sum")
            .arg(ev.path().join("plain.txt"))
            .output();
        match out {
            Ok(o) if o.status.success() => text(&o.stdout)[..32].to_string(),
            _ => return,
        }
    };
    std::fs::write(&list, format!("# test list\n{md5};planted\n")).unwrap();
    let out = mirt(
        &[
            "scan",
            "--no-rules",
            "--matches-only",
            "--bad-hashes",
            list.to_str().unwrap(),
            ev.path().to_str().unwrap(),
        ],
        cache.path(),
    );
    std::fs::remove_file(&list).unwrap();
    let line: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(line["bad_hashes"][0]["algorithm"], "md5");
    assert_eq!(line["bad_hashes"][0]["comment"], "planted");
    assert_eq!(line["hashes"]["md5"], md5);
    assert_eq!(line["scan"], "hash_only");
}
