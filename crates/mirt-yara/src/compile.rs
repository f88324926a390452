//! Compiling rule sources with the external variables defined, attributing
//! every error to its file and line, and skipping bad files on request.

use crate::cache;
use crate::error::{Error, Result, RuleFileError};
use crate::sources::{RuleSource, RuleSources};
use std::path::PathBuf;

/// The external variables every scanned file sets (the names LOKI and THOR
/// use, which signature-base rules test).
pub const EXTERNALS: [&str; 5] = ["filename", "filepath", "extension", "filetype", "owner"];

/// The yara-x release these rules are compiled with; part of the cache key,
/// because compiled rules only load into the release that made them.
pub const YARA_X_VERSION: &str = "1.22.1";

/// How to compile.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Leave out rule files that do not compile, listing them, instead of
    /// failing.
    pub skip_bad_rules: bool,
    /// Folder of the compiled-rule cache; `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
}

/// Rules ready to scan with, and what was left out.
pub struct CompiledRules {
    pub(crate) rules: yara_x::Rules,
    pub(crate) skipped: Vec<RuleFileError>,
    pub(crate) files: usize,
    pub(crate) from_cache: bool,
    pub(crate) cache_problem: Option<String>,
}

impl CompiledRules {
    /// The yara-x rules.
    pub fn rules(&self) -> &yara_x::Rules {
        &self.rules
    }

    /// Rule files left out because they did not compile, with their errors.
    pub fn skipped(&self) -> &[RuleFileError] {
        &self.skipped
    }

    /// Number of rule files given (compiled and skipped).
    pub fn files(&self) -> usize {
        self.files
    }

    /// Number of rules compiled.
    pub fn rule_count(&self) -> usize {
        self.rules.iter().len()
    }

    /// Whether the rules came from the on-disk cache instead of the compiler.
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }

    /// Why the cache could not be read or written, if it could not (the
    /// rules are then compiled and still usable).
    pub fn cache_problem(&self) -> Option<&str> {
        self.cache_problem.as_deref()
    }
}

/// Compiles `sources`, from the cache when it holds them.
pub fn compile(sources: &RuleSources, options: &CompileOptions) -> Result<CompiledRules> {
    let key = cache::key(sources, options.skip_bad_rules);
    let mut cache_problem = None;
    if let Some(dir) = &options.cache_dir {
        match cache::load(dir, &key) {
            Ok(Some((rules, skipped))) => {
                return Ok(CompiledRules {
                    rules,
                    skipped,
                    files: sources.len(),
                    from_cache: true,
                    cache_problem: None,
                });
            }
            Ok(None) => {}
            Err(e) => cache_problem = Some(e),
        }
    }
    let (rules, skipped) = compile_now(sources, options.skip_bad_rules)?;
    if let Some(dir) = &options.cache_dir
        && let Err(e) = cache::store(dir, &key, &rules, &skipped)
    {
        cache_problem.get_or_insert(e);
    }
    Ok(CompiledRules {
        rules,
        skipped,
        files: sources.len(),
        from_cache: false,
        cache_problem,
    })
}

fn compile_now(
    sources: &RuleSources,
    skip_bad: bool,
) -> Result<(yara_x::Rules, Vec<RuleFileError>)> {
    let all: Vec<&RuleSource> = sources.files().iter().collect();
    let (compiler, errors) = add_all(&all)?;
    if errors.is_empty() {
        return Ok((compiler.build(), Vec::new()));
    }
    if !skip_bad {
        return Err(Error::Compile { errors });
    }
    // Rules that compiled before an error in the same file may have been
    // kept; start again without the bad files so each file is all or nothing.
    let mut skipped = errors;
    loop {
        let bad: std::collections::BTreeSet<_> = skipped.iter().map(|e| &e.path).collect();
        let good: Vec<&RuleSource> = all
            .iter()
            .copied()
            .filter(|f| !bad.contains(&f.origin))
            .collect();
        if good.is_empty() {
            return Err(Error::NothingCompiled { skipped: bad.len() });
        }
        let (compiler, errors) = add_all(&good)?;
        if errors.is_empty() {
            return Ok((compiler.build(), skipped));
        }
        skipped.extend(errors);
    }
}

fn add_all<'a>(files: &[&'a RuleSource]) -> Result<(yara_x::Compiler<'a>, Vec<RuleFileError>)> {
    let mut compiler = yara_x::Compiler::new();
    for name in EXTERNALS {
        compiler
            .define_global(name, "")
            .map_err(|e| Error::Variable {
                name,
                message: e.to_string(),
            })?;
    }
    let mut errors = Vec::new();
    for file in files {
        compiler.new_namespace(&file.namespace);
        let before = compiler.errors().len();
        let code = yara_x::SourceCode::from(file.text.as_slice())
            .with_origin(file.origin.to_string_lossy());
        if compiler.add_source(code).is_err() {
            let new = &compiler.errors()[before..];
            errors.extend(new.iter().map(|e| file_error(file, e)));
        }
    }
    Ok((compiler, errors))
}

fn file_error(file: &RuleSource, err: &yara_x::errors::CompileError) -> RuleFileError {
    // The report's serialised form is the only public place that holds the
    // line and column of the error.
    let json = serde_json::to_value(err).unwrap_or_default();
    let at = |k: &str| json.get(k).and_then(|v| v.as_u64());
    RuleFileError {
        path: file.origin.clone(),
        line: at("line"),
        column: at("column"),
        code: err.code().to_string(),
        message: err.title().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(files: &[(&str, &str)]) -> RuleSources {
        let mut s = RuleSources::new();
        for (name, text) in files {
            s.add_text(name, format!("{name}.yar"), text);
        }
        s
    }

    #[test]
    fn errors_name_file_and_line() {
        let s = sources(&[
            ("good", "rule a { condition: true }"),
            ("bad", "rule b {\n  condition:\n    nosuchthing\n}"),
        ]);
        let err = compile(&s, &CompileOptions::default()).err().unwrap();
        let Error::Compile { errors } = &err else {
            panic!("{err}")
        };
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, PathBuf::from("bad.yar"));
        assert_eq!(errors[0].line, Some(3));
        assert!(errors[0].message.contains("unknown identifier"), "{err}");
    }

    #[test]
    fn skip_bad_rules_drops_whole_files_and_lists_them() {
        let s = sources(&[
            ("good", "rule a { condition: true }"),
            ("bad", "rule b { condition: true }\nrule c { condition: x }"),
        ]);
        let opts = CompileOptions {
            skip_bad_rules: true,
            cache_dir: None,
        };
        let c = compile(&s, &opts).unwrap();
        assert_eq!(c.rule_count(), 1);
        assert_eq!(c.skipped().len(), 1);
        assert_eq!(c.skipped()[0].line, Some(2));
    }

    #[test]
    fn all_bad_is_an_error() {
        let s = sources(&[("bad", "rule b { condition: x }")]);
        let opts = CompileOptions {
            skip_bad_rules: true,
            cache_dir: None,
        };
        assert!(matches!(
            compile(&s, &opts),
            Err(Error::NothingCompiled { skipped: 1 })
        ));
    }

    #[test]
    fn externals_are_defined() {
        let s = sources(&[(
            "ext",
            r#"rule x { condition: filename == "" and filepath == "" and extension == ""
                and filetype == "" and owner == "" }"#,
        )]);
        assert_eq!(
            compile(&s, &CompileOptions::default())
                .unwrap()
                .rule_count(),
            1
        );
    }

    #[test]
    fn yara_x_version_matches_the_lock_file() {
        let lock = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
        let Ok(text) = std::fs::read_to_string(&lock) else {
            return; // built outside the workspace
        };
        let at = text
            .find("name = \"yara-x\"\n")
            .expect("yara-x in Cargo.lock");
        let version = text[at..].lines().nth(1).unwrap();
        assert_eq!(version, format!("version = \"{YARA_X_VERSION}\""));
    }
}
