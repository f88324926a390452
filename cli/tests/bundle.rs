//! `mirt keys`, `mirt bundle` and `mirt custody` from the command line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        let ev = env.path("evidence/host1");
        std::fs::create_dir_all(ev.join("logs")).unwrap();
        std::fs::write(
            ev.join("logs/auth.log"),
            "Mar  1 10:00:00 sshd[1]: Accepted\n",
        )
        .unwrap();
        std::fs::write(ev.join("notes.txt"), "seized at 10:05\n").unwrap();
        std::fs::create_dir_all(env.path("out")).unwrap();
        env
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn mirt(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_mirt"))
            .args(args)
            .env("MIRT_KEYS_DIR", self.path("keys"))
            .env_remove("MIRT_KEY")
            .env_remove("MIRT_KEY_PASSPHRASE")
            .env("MIRT_KEY_SCRYPT_LOG_N", "10")
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.mirt(args);
        assert!(
            out.status.success(),
            "mirt {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn keys(&self) {
        self.ok(&["keys", "generate", "--name", "Erika Mustermann"]);
    }
}

const CREATE: &[&str] = &[
    "bundle",
    "create",
    "--case",
    "CERT-2024-0042",
    "--examiner",
    "Erika Mustermann",
    "--municipality",
    "Musterstadt",
    "--witness",
    "Max Mustermann",
    "--host",
    "RATHAUS-DC01",
    "--started",
    "2024-03-01T09:00:00Z",
    "--ended",
    "2024-03-01T11:00:00Z",
    "-q",
];

fn create(env: &Env, extra: &[&str]) -> Output {
    let mut args = CREATE.to_vec();
    args.extend_from_slice(extra);
    env.mirt(&args)
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.lines().next().unwrap_or_default()).unwrap()
}

#[test]
fn keys_generate_writes_a_private_key_file_and_trusts_its_key() {
    let env = Env::new();
    let line = env.ok(&["keys", "generate", "--name", "Erika Mustermann"]);
    assert!(line.starts_with("mirt-ed25519 ") && line.trim_end().ends_with("Erika Mustermann"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.path("keys/signing.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let list = env.ok(&["keys", "list"]);
    let row = json(&list);
    assert_eq!(row["own"], true);
    assert_eq!(row["trusted"], true);
    let again = env.mirt(&["keys", "generate", "--name", "X"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
}

#[test]
fn a_passphrase_protected_key_needs_its_passphrase() {
    let env = Env::new();
    let out = Command::new(env!("CARGO_BIN_EXE_mirt"))
        .args(["keys", "generate", "--name", "E", "--passphrase"])
        .env("MIRT_KEYS_DIR", env.path("keys"))
        .env("MIRT_KEY_PASSPHRASE", "correct horse battery")
        .env("MIRT_KEY_SCRYPT_LOG_N", "10")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(env.path("keys/signing.key")).unwrap();
    assert!(text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    assert!(!text.contains("mirt-ed25519-secret"));
    for (pass, works) in [("correct horse battery", true), ("wrong", false)] {
        let out = Command::new(env!("CARGO_BIN_EXE_mirt"))
            .args(CREATE)
            .args(["evidence", "-o", "out/p.mirt.zip", "--force"])
            .env("MIRT_KEYS_DIR", env.path("keys"))
            .env("MIRT_KEY_PASSPHRASE", pass)
            .current_dir(env.dir.path())
            .output()
            .unwrap();
        assert_eq!(
            out.status.success(),
            works,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if !works {
            assert!(String::from_utf8_lossy(&out.stderr).contains("wrong passphrase"));
        }
    }
}

#[test]
fn create_verify_show_extract_and_custody_add_work_together() {
    let env = Env::new();
    env.keys();
    let out = create(&env, &["evidence", "-o", "out/case.mirt.zip"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(created["files"], 2);

    let verified = json(&env.ok(&["bundle", "verify", "out/case.mirt.zip"]));
    assert_eq!(verified["ok"], true);
    assert_eq!(verified["root"], created["root"]);

    let shown = json(&env.ok(&["bundle", "show", "out/case.mirt.zip", "--format", "json"]));
    assert_eq!(shown["collection"]["case_id"], "CERT-2024-0042");
    assert_eq!(shown["collection"]["witness"], "Max Mustermann");
    assert_eq!(shown["manifest"].as_array().unwrap().len(), 2);
    let text = env.ok(&["bundle", "show", "out/case.mirt.zip", "--format", "table"]);
    assert!(text.contains("sealed by Erika Mustermann"), "{text}");

    let line = env.ok(&[
        "custody",
        "add",
        "out/case.mirt.zip",
        "--event",
        "transferred",
        "--from",
        "Erika Mustermann",
        "--to",
        "CERT",
        "--purpose",
        "analysis",
    ]);
    let entry = json(&line);
    assert_eq!(entry["seq"], 1);
    assert_eq!(entry["event"], "transferred");
    let head = format!("sha256:{}", sha256_hex(line.as_bytes()));
    let verified = json(&env.ok(&[
        "bundle",
        "verify",
        "out/case.mirt.zip",
        "--custody-head",
        &head,
    ]));
    assert_eq!(verified["custody_entries"], 2);
    let stale = env.mirt(&[
        "bundle",
        "verify",
        "out/case.mirt.zip",
        "--custody-head",
        "sha256:00",
    ]);
    assert_eq!(stale.status.code(), Some(1));

    env.ok(&["bundle", "extract", "out/case.mirt.zip", "-o", "out/x"]);
    let got = std::fs::read(env.path("out/x/evidence/1/evidence/host1/logs/auth.log")).unwrap();
    assert_eq!(got, b"Mar  1 10:00:00 sshd[1]: Accepted\n");
}

fn sha256_hex(bytes: &[u8]) -> String {
    let mut h = mirt_hash::MultiHasher::new(Default::default());
    h.update(bytes);
    h.finalize().sha256_hex()
}

#[test]
fn the_same_command_gives_the_same_bundle() {
    let env = Env::new();
    env.keys();
    let run = || {
        let p = env.path("out/r.mirt.zip");
        let _ = std::fs::remove_file(&p);
        let out = create(&env, &["evidence", "-o", "out/r.mirt.zip"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(&p).unwrap()
    };
    assert!(run() == run(), "two runs gave different bytes");
}

#[test]
fn verify_fails_for_a_key_that_is_not_trusted() {
    let env = Env::new();
    env.keys();
    assert!(
        create(&env, &["evidence", "-o", "out/u.mirt.zip"])
            .status
            .success()
    );
    std::fs::write(env.path("empty.keys"), "").unwrap();
    let out = env.mirt(&[
        "bundle",
        "verify",
        "out/u.mirt.zip",
        "--trusted",
        "empty.keys",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SIGNATURE: made by key") && err.contains("not trusted"),
        "{err}"
    );
    assert!(err.contains("verify: FAILED"), "{err}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_read_error_is_recorded_or_stops_the_run_leaving_no_bundle() {
    // Reading /proc/self/mem at offset 0 fails with EIO: a real read error.
    let env = Env::new();
    env.keys();
    let out = create(
        &env,
        &["evidence", "/proc/self/mem", "-o", "out/e.mirt.zip"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = json(&env.ok(&["bundle", "show", "out/e.mirt.zip", "--format", "json"]));
    let bad = shown["manifest"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/proc/self/mem")
        .unwrap()
        .clone();
    assert_eq!(bad["status"], "partial");
    assert!(
        bad["errors"][0]
            .as_str()
            .unwrap()
            .contains("read error at offset 0")
    );

    let out = create(
        &env,
        &[
            "evidence",
            "/proc/self/mem",
            "-o",
            "out/f.mirt.zip",
            "--stop-on-read-error",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reading evidence /proc/self/mem"));
    let left: Vec<_> = std::fs::read_dir(env.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("e.mirt.zip")]);
}

#[test]
fn the_bundle_is_not_written_into_the_evidence() {
    let env = Env::new();
    env.keys();
    let out = create(&env, &["evidence", "-o", "evidence/host1/b.mirt.zip"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("inside the evidence folder"));
    assert!(!Path::new(&env.path("evidence/host1/b.mirt.zip")).exists());
}

#[test]
fn a_missing_evidence_path_is_an_error_not_an_empty_bundle() {
    let env = Env::new();
    env.keys();
    let out = create(
        &env,
        &["evidence", "no-such-folder", "-o", "out/m.mirt.zip"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read no-such-folder"));
    assert!(!env.path("out/m.mirt.zip").exists());
}

#[test]
fn help_has_examples() {
    let env = Env::new();
    for cmd in [
        &["bundle", "create"][..],
        &["bundle", "verify"],
        &["custody", "add"],
        &["keys"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let text = env.ok(&args);
        assert!(text.contains("Examples:"), "{cmd:?}");
    }
}
