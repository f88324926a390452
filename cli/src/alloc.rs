//! The allocator: mimalloc (musl's own is slow under threads, and the
//! static binary is built on musl).
//!
//! For `mirt hunt` on Linux, mimalloc's arenas are committed when reserved
//! ("eager commit"), which makes mimalloc ask the kernel for transparent
//! huge pages for them (`MADV_HUGEPAGE`, the only way to get them where THP
//! is set to `madvise`, the common default). Memory is then mapped 2 MiB per
//! page fault instead of 4 KiB: a hunt with SigmaHQ's Windows rules holds a
//! compiled rule set, its automata and the events read while the rules load,
//! and took about 10,000 page faults; with huge pages about 600. The other
//! commands stream and hold little: for them the rounding of the resident
//! size to whole huge pages (some 35 MiB for `mirt evtx`) would cost more
//! than it saves, so they keep 4 KiB pages. `MIMALLOC_ARENA_EAGER_COMMIT`
//! in the environment still decides either way.

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(target_os = "linux")]
mod options {
    /// mimalloc's `mi_option_arena_eager_commit` (`eager_region_commit`
    /// in its version 2, the same number).
    const ARENA_EAGER_COMMIT: std::ffi::c_int = 4;

    unsafe extern "C" {
        fn mi_option_set_default(option: std::ffi::c_int, value: std::ffi::c_long);
    }

    /// Sets mimalloc's defaults before it starts: it reserves its first
    /// arena in its own constructor (priority 101), before `main`, so
    /// setting them in `main` would be too late. A value from the
    /// environment still wins (it is read after the default is set).
    extern "C" fn set_defaults() {
        let mut buf = [0; 1024];
        if super::subcommand_is(cmdline(&mut buf), b"hunt") {
            // SAFETY: sets one entry of mimalloc's option table, in a
            // single-threaded constructor, before mimalloc reads it.
            unsafe { mi_option_set_default(ARENA_EAGER_COMMIT, 1) };
        }
    }

    /// The start of the process's arguments, NUL-separated, read into
    /// `buf` without allocating (the allocator has not started yet):
    /// empty if they cannot be read.
    fn cmdline(buf: &mut [u8]) -> &[u8] {
        use std::io::Read;
        let read = std::fs::File::open("/proc/self/cmdline").and_then(|mut f| f.read(buf));
        &buf[..read.unwrap_or(0)]
    }

    /// Runs `set_defaults` among the first constructors (the linker sorts
    /// `.init_array.N` by N), before mimalloc's.
    #[used]
    #[unsafe(link_section = ".init_array.00100")]
    static SET_DEFAULTS: extern "C" fn() = set_defaults;
}

/// Whether the subcommand in `cmdline` (the process's arguments,
/// NUL-separated, the program first) is `name`: the first argument that is
/// neither an option nor the value of `--threads`, the one global option
/// that takes a value.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn subcommand_is(cmdline: &[u8], name: &[u8]) -> bool {
    let mut args = cmdline.split(|&b| b == 0).skip(1);
    while let Some(arg) = args.next() {
        if arg == b"--threads" {
            args.next();
        } else if !arg.starts_with(b"-") {
            return arg == name;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::subcommand_is;

    #[test]
    fn the_subcommand_is_the_first_argument_that_is_not_an_option() {
        let is_hunt = |args: &str| subcommand_is(args.replace(' ', "\0").as_bytes(), b"hunt");
        assert!(is_hunt("mirt hunt logs"));
        assert!(is_hunt("/usr/bin/mirt --threads 2 hunt -q x.evtx"));
        assert!(is_hunt("mirt --threads=2 hunt"));
        assert!(!is_hunt("mirt evtx hunt"));
        assert!(!is_hunt("mirt --threads hunt evtx"));
        assert!(!is_hunt("hunt"));
        assert!(!is_hunt("mirt --version"));
        assert!(!is_hunt(""));
    }
}
