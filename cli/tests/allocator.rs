//! The allocator's settings as the binary starts with them.

mod common;
use common::mirt;

/// On Linux, `mirt hunt` has mimalloc commit its arenas eagerly (which gets
/// them transparent huge pages) unless the environment says otherwise, and
/// the other commands do not: the option number the binary sets must be
/// the option of that name.
#[test]
#[cfg(target_os = "linux")]
fn hunts_commit_arenas_eagerly_unless_the_environment_says_no() {
    let option = |args: &[&str], env: Option<&str>| {
        let mut cmd = mirt();
        cmd.args(args).arg("--version").env("MIMALLOC_VERBOSE", "1");
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
    assert_eq!(option(&["hunt"], None), "1");
    assert_eq!(option(&["--threads", "2", "hunt"], None), "1");
    assert_eq!(option(&["hunt"], Some("0")), "0");
    assert_eq!(option(&["evtx"], None), "0");
    assert_eq!(option(&["evtx"], Some("1")), "1");
}
