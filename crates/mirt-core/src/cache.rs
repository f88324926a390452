//! Where mirt keeps what it can rebuild: compiled YARA rules, compiled
//! Sigma rule sets. One folder per kind under a common root.

use std::path::PathBuf;

/// The cache folder for `kind` (`yara`, `sigma`): `$MIRT_CACHE_DIR/<kind>`,
/// else the platform's user cache folder (`$XDG_CACHE_HOME/mirt/<kind>`,
/// `~/.cache/mirt/<kind>`, `%LOCALAPPDATA%\mirt\cache\<kind>`); `None`
/// when none of these is set.
pub fn cache_dir(kind: &str) -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = env("MIRT_CACHE_DIR") {
        return Some(dir.join(kind));
    }
    if cfg!(windows) {
        return env("LOCALAPPDATA").map(|d| d.join("mirt").join("cache").join(kind));
    }
    env("XDG_CACHE_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".cache")))
        .map(|d| d.join("mirt").join(kind))
}
