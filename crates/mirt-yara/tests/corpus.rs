//! The corpus checks of issue 4: signature-base compiles whole with the
//! externals defined, plaso's rules match its test PE exactly, and a rule
//! file importing an unknown module fails naming the module.

use mirt_yara::{CompileOptions, Error, FileContext, FileScanner, RuleSources, compile};
use std::path::{Path, PathBuf};

/// The corpus, or `None` (said) when absent; under `MIRT_REQUIRE_CORPUS`
/// its absence fails the test.
fn corpus() -> Option<PathBuf> {
    mirt_testkit::corpus::dir()
}

/// A cache shared by the test runs, so signature-base compiles once.
fn cached() -> CompileOptions {
    CompileOptions {
        skip_bad_rules: false,
        cache_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).join("rule-cache")),
    }
}

#[test]
fn signature_base_compiles_whole_with_externals() {
    let Some(corpus) = corpus() else { return };
    let mut sources = RuleSources::new();
    sources
        .add_path(&corpus.join("yara/signature-base/yara"))
        .unwrap();
    assert!(sources.len() >= 700, "{} rule files", sources.len());
    let rules = compile(&sources, &cached()).unwrap_or_else(|e| panic!("{e}"));
    assert!(rules.skipped().is_empty());
    assert!(rules.rule_count() > 4000, "{} rules", rules.rule_count());
    // A second compile of the same set comes from the cache.
    assert!(compile(&sources, &cached()).unwrap().from_cache());
}

#[test]
fn plaso_rules_match_test_pe_exactly() {
    let Some(corpus) = corpus() else { return };
    let mut sources = RuleSources::new();
    sources
        .add_path(&corpus.join("yara/plaso/rules.yara"))
        .unwrap();
    let rules = compile(&sources, &CompileOptions::default()).unwrap();
    let data = std::fs::read(corpus.join("yara/plaso/test_pe.exe")).unwrap();
    let ctx = FileContext {
        filename: "test_pe.exe",
        extension: ".exe",
        filetype: "EXE",
        ..Default::default()
    };
    let matches = FileScanner::new(&rules).scan(&data, &ctx).unwrap();
    let mut names: Vec<_> = matches.iter().map(|m| m.rule.as_str()).collect();
    names.sort();
    assert_eq!(names, ["PEfile", "PEfileBasic"]);
    assert!(matches.iter().all(|m| m.namespace == "rules"));
}

#[test]
fn unknown_module_fails_naming_it_and_the_file() {
    let Some(corpus) = corpus() else { return };
    let path = corpus.join("yara/plaso/unsupported_rules.yara");
    let mut sources = RuleSources::new();
    sources.add_path(&path).unwrap();
    let err = compile(&sources, &CompileOptions::default()).err().unwrap();
    let Error::Compile { errors } = &err else {
        panic!("{err}")
    };
    // The import fails, and then the use of the module in the condition.
    assert!(errors.iter().all(|e| e.path == path), "{err}");
    assert_eq!(errors[0].line, Some(1));
    assert!(
        errors[0].message.contains("unknown module `bogus`"),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("unsupported_rules.yara:1:"), "{text}");

    // With --skip-bad-rules the other file still loads and the bad one is listed.
    sources
        .add_path(&corpus.join("yara/plaso/rules.yara"))
        .unwrap();
    let opts = CompileOptions {
        skip_bad_rules: true,
        cache_dir: None,
    };
    let rules = compile(&sources, &opts).unwrap();
    assert_eq!(rules.rule_count(), 2);
    assert!(!rules.skipped().is_empty());
    assert!(rules.skipped().iter().all(|e| e.path == path));
}

#[test]
fn builtin_rules_compile() {
    let rules = compile(&RuleSources::builtin(), &CompileOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(rules.rule_count() >= 15, "{}", rules.rule_count());
}
