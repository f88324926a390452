//! The allocator: mimalloc (musl's own is slow under threads, and the
//! static binary is built on musl).
//!
//! On Linux its arenas are committed when reserved ("eager commit"), which
//! makes mimalloc ask the kernel for transparent huge pages for them
//! (`MADV_HUGEPAGE`, the only way to get them where THP is set to
//! `madvise`, the common default). Memory is then mapped 2 MiB per page
//! fault instead of 4 KiB: a hunt with SigmaHQ's Windows rules touches
//! some 60 MB (rule set, automata, events queued while the rules load) and
//! took about 10,000 page faults, a sixth of its CPU on this machine;
//! with huge pages it takes about 600. Nothing is committed that is not
//! touched (Linux overcommits), so the resident size does not grow by more
//! than the rounding to 2 MiB. `MIMALLOC_ARENA_EAGER_COMMIT=0` in the
//! environment still turns it off.

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
    /// arena in its own constructor (priority 101), before `main`. A value
    /// from the environment still wins (it is read after the default is
    /// set).
    extern "C" fn set_defaults() {
        // SAFETY: sets one entry of mimalloc's option table, in a
        // single-threaded constructor, before mimalloc reads it.
        unsafe { mi_option_set_default(ARENA_EAGER_COMMIT, 1) };
    }

    /// Runs `set_defaults` among the first constructors (the linker sorts
    /// `.init_array.N` by N), before mimalloc's.
    #[used]
    #[unsafe(link_section = ".init_array.00100")]
    static SET_DEFAULTS: extern "C" fn() = set_defaults;
}
