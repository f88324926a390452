//! Which reader takes which input: Windows event logs go to the EVTX
//! reader, text logs (syslog, auth.log, web server, IIS, firewall, CSV,
//! JSON Lines, transcripts) to the text-log reader.

use mirt_core::{Problem, ProblemKind};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The inputs of a hunt, by reader.
#[derive(Default)]
pub struct Inputs {
    pub evtx: Vec<PathBuf>,
    pub logs: Vec<PathBuf>,
    pub problems: Vec<Problem>,
}

/// Files named directly go to the reader their content (or name) says;
/// files found in folders are event logs by name or magic, text logs when
/// their start is text, and otherwise counted per folder as not analysed
/// (a collection holds executables, hives and databases too, and one line
/// each would drown the findings).
pub fn split(paths: &[PathBuf]) -> Inputs {
    let mut inputs = Inputs::default();
    let mut skipped: BTreeMap<PathBuf, u64> = BTreeMap::new();
    for path in paths {
        let named = path.is_file();
        let found = mirt_logs::find_log_files(std::slice::from_ref(path));
        inputs.problems.extend(found.problems);
        for file in found.files {
            match classify(&file) {
                Kind::Evtx => inputs.evtx.push(file),
                Kind::Text => inputs.logs.push(file),
                Kind::Other if named => inputs.logs.push(file),
                Kind::Other => *skipped.entry(path.clone()).or_default() += 1,
            }
        }
    }
    for (dir, n) in skipped {
        let reason = format!(
            "{n} files are neither event logs nor text logs (binary content); not analysed"
        );
        inputs
            .problems
            .push(Problem::file(ProblemKind::Skipped, dir, reason));
    }
    inputs
}

enum Kind {
    Evtx,
    Text,
    Other,
}

fn classify(path: &Path) -> Kind {
    let by_name = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("evtx") || e.eq_ignore_ascii_case("evt"));
    if by_name {
        return Kind::Evtx;
    }
    let mut head = vec![0u8; 8192];
    let n = std::fs::File::open(path)
        .and_then(|f| {
            let mut taken = f.take(head.len() as u64);
            let mut n = 0;
            loop {
                match taken.read(&mut head[n..])? {
                    0 => return Ok(n),
                    k => n += k,
                }
            }
        })
        .unwrap_or(0);
    head.truncate(n);
    if head.starts_with(b"ElfFile\0") {
        return Kind::Evtx;
    }
    if mirt_logs::Compression::detect(&head).is_some() {
        // Compressed: the text-log reader looks inside.
        return Kind::Text;
    }
    match mirt_logs::sniff(path, &head) {
        mirt_logs::Sniffed::Binary => Kind::Other,
        _ => Kind::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_logs_text_logs_and_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("Security.evtx"), b"x").unwrap();
        let mut renamed = b"ElfFile\0".to_vec();
        renamed.resize(4096, 0);
        std::fs::write(d.join("renamed.bin"), &renamed).unwrap();
        std::fs::write(d.join("auth.log"), b"Jan  1 00:00:00 h sshd[1]: x\n").unwrap();
        std::fs::write(
            d.join("tool.exe"),
            [
                0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0xff, 0xff, 0, 0,
            ]
            .repeat(64),
        )
        .unwrap();
        let inputs = split(&[d.to_path_buf()]);
        let names = |v: &[PathBuf]| {
            v.iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&inputs.evtx), ["Security.evtx", "renamed.bin"]);
        assert_eq!(names(&inputs.logs), ["auth.log"]);
        assert_eq!(inputs.problems.len(), 1);
        assert!(
            inputs.problems[0].reason.starts_with("1 files"),
            "{}",
            inputs.problems[0].reason
        );
        // Named directly, even a binary file is handed to a reader (which says what it is).
        let named = split(&[d.join("tool.exe")]);
        assert_eq!(names(&named.logs), ["tool.exe"]);
    }
}
