//! The allocator's settings as the binary starts with them.

mod common;
use common::mirt;

/// On Linux, mimalloc commits its arenas eagerly (which gets them
/// transparent huge pages), unless the environment says otherwise: the
/// option number the binary sets must be the option of that name.
#[test]
#[cfg(target_os = "linux")]
fn arenas_are_committed_eagerly_unless_the_environment_says_no() {
    let option = |env: Option<&str>| {
        let mut cmd = mirt();
        cmd.arg("--version").env("MIMALLOC_VERBOSE", "1");
        if let Some(v) = env {
            cmd.env("MIMALLOC_ARENA_EAGER_COMMIT", v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stderr).into_owned();
        text.lines()
            .find_map(|l| l.strip_prefix("option 'arena_eager_commit': "))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("no arena_eager_commit in:\n{text}"))
    };
    assert_eq!(option(None), "1");
    assert_eq!(option(Some("0")), "0");
}
