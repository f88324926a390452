//! Records the git commit the binary was built from, for `mirt --version`.

use std::process::Command;

fn main() {
    let commit = std::env::var("MIRT_GIT_COMMIT").ok().or_else(|| {
        let out = Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    });
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| !o.stdout.is_empty());
    let commit = match commit {
        Some(c) if dirty => format!("{c}-dirty"),
        Some(c) => c,
        None => "unknown commit".to_string(),
    };
    println!("cargo:rustc-env=MIRT_GIT_COMMIT={commit}");
    println!("cargo:rerun-if-env-changed=MIRT_GIT_COMMIT");
    // Rebuild when HEAD moves (new commit or checkout).
    for path in ["../.git/HEAD", "../.git/index"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
