//! Telling the format of a log from its name and first lines.

use crate::format::LogFormat;
use crate::parse::{apache, apache_error, csv, syslog, transcript};
use std::path::Path;

/// What the first bytes of a file say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// A text log in this format.
    Text(LogFormat),
    /// Not text (a binary file, a database, an executable).
    Binary,
    /// UTF-16 text, which is not read.
    Utf16,
}

/// How many complete lines the scoring looks at.
const SAMPLE_LINES: usize = 40;

/// Detects the format of a log from its path and the start of its content.
pub fn sniff(path: &Path, head: &[u8]) -> Sniffed {
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return Sniffed::Utf16;
    }
    if looks_binary(head) {
        return Sniffed::Binary;
    }
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    Sniffed::Text(detect_text(path, text))
}

/// Control characters other than whitespace and ESC in more than 5% of the
/// non-NUL bytes mark a binary file (NUL runs alone are padding in logs).
fn looks_binary(head: &[u8]) -> bool {
    let mut non_nul = 0usize;
    let mut control = 0usize;
    for &b in head {
        if b == 0 {
            continue;
        }
        non_nul += 1;
        if b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b) {
            control += 1;
        }
    }
    non_nul > 0 && control * 20 > non_nul
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Strips compression and rotation suffixes: `auth.log.2.gz` -> `auth.log`.
fn base_name(name: &str) -> &str {
    let mut n = name;
    for ext in [".gz", ".bz2", ".xz", ".zst"] {
        n = n.strip_suffix(ext).unwrap_or(n);
    }
    match n.rsplit_once('.') {
        Some((stem, num)) if num.bytes().all(|c| c.is_ascii_digit()) && !num.is_empty() => stem,
        _ => n,
    }
    .split('-')
    .next()
    .unwrap_or(n)
}

fn detect_text(path: &Path, text: &str) -> LogFormat {
    let name = file_name(path);
    let base = base_name(&name);
    if transcript::looks_like_transcript(text) {
        return LogFormat::PowerShellTranscript;
    }
    let lines: Vec<&str> = complete_lines(text)
        .filter(|l| !l.trim().is_empty())
        .take(SAMPLE_LINES)
        .collect();
    let Some(first) = lines.first().copied().or_else(|| text.lines().next()) else {
        return LogFormat::Generic;
    };
    if first.starts_with('#') {
        let directives: Vec<&str> = lines
            .iter()
            .copied()
            .take_while(|l| l.starts_with('#'))
            .collect();
        let firewall = directives.iter().any(|d| {
            d.contains("Windows Firewall")
                || (d.starts_with("#Fields:") && d.contains("src-ip") && d.contains("action"))
        });
        if firewall || base == "pfirewall.log" {
            return LogFormat::WindowsFirewall;
        }
        if directives
            .iter()
            .any(|d| d.starts_with("#Fields:") || d.contains("Internet Information Services"))
        {
            return LogFormat::IisW3c;
        }
    }
    if first.trim_start().starts_with('{')
        && (serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(first).is_ok()
            || lines.len() <= 1)
    {
        return LogFormat::Jsonl;
    }
    let scores = [
        (LogFormat::Syslog, score(&lines, is_syslog_line)),
        (
            LogFormat::ApacheAccess,
            score(&lines, |l| apache::access_line(l).is_some()),
        ),
        (
            LogFormat::ApacheError,
            score(&lines, |l| {
                apache_error::is_record_start(l.as_bytes()) && is_error_line(l)
            }),
        ),
    ];
    let (best, best_score) =
        scores
            .into_iter()
            .fold((LogFormat::Generic, 0.0f64), |acc, (f, sc)| {
                if sc > acc.1 { (f, sc) } else { acc }
            });
    if best_score >= 0.5 {
        if best == LogFormat::Syslog && (base == "auth.log" || base == "secure" || base == "auth") {
            return LogFormat::LinuxAuth;
        }
        return best;
    }
    if name.ends_with(".csv") || name.ends_with(".tsv") || looks_like_csv(&lines) {
        return LogFormat::Csv;
    }
    if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        return LogFormat::Jsonl;
    }
    LogFormat::Generic
}

/// Lines that end with a newline (the head may cut the last one).
fn complete_lines(text: &str) -> impl Iterator<Item = &str> {
    let complete = match text.rfind('\n') {
        Some(i) if text.len() > 1 << 15 => &text[..i],
        _ => text,
    };
    complete.lines()
}

fn score(lines: &[&str], is: impl Fn(&str) -> bool) -> f64 {
    if lines.is_empty() {
        return 0.0;
    }
    lines.iter().filter(|l| is(l)).count() as f64 / lines.len() as f64
}

/// A syslog record start that is not just any ISO-dated line: BSD time,
/// `<PRI>`, or an RFC 3339 time with `T` followed by a host or severity.
fn is_syslog_line(l: &str) -> bool {
    let b = l.as_bytes();
    if syslog::bsd_month(b).is_some() {
        return true;
    }
    if b.first() == Some(&b'<') {
        return syslog::is_record_start(b);
    }
    match crate::timefmt::iso_datetime(b) {
        Some((_, Some(_), used)) => b.get(10) == Some(&b'T') && b.get(used) == Some(&b' '),
        _ => false,
    }
}

fn is_error_line(l: &str) -> bool {
    // nginx: `yyyy/mm/dd hh:mm:ss [level]`; Apache: `[Www Mmm dd ...]`.
    l.starts_with('[') || (l.as_bytes().get(4) == Some(&b'/') && l.contains(" ["))
}

/// A header row and rows with the same number of cells.
fn looks_like_csv(lines: &[&str]) -> bool {
    let Some(header) = lines.first() else {
        return false;
    };
    let Some(delimiter) = csv::guess_delimiter(header) else {
        return false;
    };
    let width = csv::cells(header, delimiter).len();
    if width < 2 || header.len() > 4096 {
        return false;
    }
    let rows = &lines[1..];
    if rows.is_empty() {
        return true;
    }
    let same = rows
        .iter()
        .filter(|r| {
            memchr::memchr(b'"', r.as_bytes()).is_some() || csv::cells(r, delimiter).len() == width
        })
        .count();
    same * 10 >= rows.len() * 8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(name: &str, text: &str) -> Sniffed {
        sniff(Path::new(name), text.as_bytes())
    }

    #[test]
    fn formats_by_content_and_name() {
        use LogFormat::*;
        let cases = [
            (
                "messages",
                "Jan 22 07:52:33 host prog[1]: x\nJan 22 07:52:34 host prog[1]: y\n",
                Syslog,
            ),
            ("auth.log.1", "Jan 22 07:52:33 host sshd[1]: x\n", LinuxAuth),
            (
                "secure-20240101",
                "Jan 22 07:52:33 host sshd[1]: x\n",
                LinuxAuth,
            ),
            (
                "x",
                "2020-05-31T00:00:45.698463+00:00 localhost systemd[1]: Started.\n",
                Syslog,
            ),
            (
                "x",
                "<13>1 2020-05-31T00:00:45Z host app - - - msg\n",
                Syslog,
            ),
            (
                "access.log",
                "1.2.3.4 - - [13/Jan/2016:19:31:16 +0000] \"GET / HTTP/1.1\" 200 494\n",
                ApacheAccess,
            ),
            (
                "error.log",
                "[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] x\n",
                ApacheError,
            ),
            (
                "error.log",
                "2024/01/02 03:04:05 [error] 1#0: x\n",
                ApacheError,
            ),
            (
                "u_ex.log",
                "#Software: Microsoft Internet Information Services 10.0\n#Fields: date time c-ip\n",
                IisW3c,
            ),
            (
                "pfirewall.log",
                "#Version: 1.5\n#Software: Microsoft Windows Firewall\n",
                WindowsFirewall,
            ),
            ("x.json", "{\"a\":1}\n{\"a\":2}\n", Jsonl),
            (
                "export.txt",
                "time,user,action\n2024-01-01 10:00,bob,login\n",
                Csv,
            ),
            (
                "dpkg.log",
                "2009-02-25 11:45:23 conffile /etc/X11/Xsession keep\n",
                Generic,
            ),
            (
                "t.txt",
                "\u{feff}**********************\r\nWindows PowerShell transcript start\r\n",
                PowerShellTranscript,
            ),
            ("empty", "", Generic),
        ];
        for (name, text, want) in cases {
            assert_eq!(detect(name, text), Sniffed::Text(want), "{name}: {text}");
        }
    }

    #[test]
    fn binary_and_utf16() {
        assert_eq!(detect("x", "\u{1}\u{2}\u{3}ELF\u{4}\u{5}"), Sniffed::Binary);
        assert_eq!(
            sniff(Path::new("x"), &[0xff, 0xfe, b'a', 0]),
            Sniffed::Utf16
        );
        assert_eq!(
            sniff(Path::new("x"), b"\0\0\0\0Jan 22 07:52:33 h p: x\n"),
            Sniffed::Text(LogFormat::Syslog)
        );
    }
}
