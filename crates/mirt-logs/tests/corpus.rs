//! The plaso test logs: for every file in a format mirt reads, mirt finds as
//! many events as plaso does (`EXPECTED_EVENT_COUNTS.tsv`); the files in
//! formats mirt has no parser for are listed, so that a new row in the
//! table fails until it is classified.

mod common;

use mirt_logs::{LogFormat, LogReader};
use std::collections::BTreeMap;

/// (file, format mirt detects, events mirt finds, records it cannot read, why
/// the count differs from plaso's if it does).
const SUPPORTED: &[(&str, LogFormat, u64, u64, &str)] = &[
    ("jsonl/gcp_logging.jsonl", LogFormat::Jsonl, 11, 0, ""),
    ("jsonl/aws_cloudtrail.jsonl", LogFormat::Jsonl, 6, 0, ""),
    ("jsonl/azure_activity_log.jsonl", LogFormat::Jsonl, 4, 0, ""),
    (
        "jsonl/microsoft_audit_log.jsonl",
        LogFormat::Jsonl,
        4,
        0,
        "",
    ),
    // plaso's one warning is the line whose user agent is cut off.
    ("apache_access.log", LogFormat::ApacheAccess, 14, 1, ""),
    ("iis/iis6.log", LogFormat::IisW3c, 12, 0, ""),
    ("iis/iis7_sqli.log", LogFormat::IisW3c, 2, 0, ""),
    ("iis/iis7_owa.log", LogFormat::IisW3c, 3, 0, ""),
    ("iis/iis_without_date.log", LogFormat::IisW3c, 11, 0, ""),
    ("iis/iis10.log", LogFormat::IisW3c, 1, 0, ""),
    ("iis/iis10_cookies.log", LogFormat::IisW3c, 3, 0, ""),
    (
        "powershell_transcript.txt",
        LogFormat::PowerShellTranscript,
        1,
        0,
        "",
    ),
    (
        "powershell_transcript_ger.txt",
        LogFormat::PowerShellTranscript,
        3,
        0,
        "plaso drops the last command block (`rm .\\filename`) because the transcript ends without a closing line (its parser's TODO); mirt keeps it",
    ),
    ("syslog/syslog_chromeos", LogFormat::Syslog, 8, 0, ""),
    ("syslog/syslog_rsyslog", LogFormat::Syslog, 5, 0, ""),
    (
        "syslog/syslog_rsyslog_SyslogProtocol23Format",
        LogFormat::Syslog,
        9,
        0,
        "",
    ),
    // plaso's one warning is the line with the month `MMM`.
    ("syslog/syslog", LogFormat::Syslog, 16, 1, ""),
    ("syslog/syslog_cron.log", LogFormat::Syslog, 9, 0, ""),
    ("syslog/syslog_osx", LogFormat::Syslog, 2, 0, ""),
    (
        "syslog/syslog_rsyslog_SysklogdFileFormat",
        LogFormat::Syslog,
        9,
        0,
        "",
    ),
    (
        "syslog/syslog_rsyslog_traditional",
        LogFormat::Syslog,
        8,
        0,
        "",
    ),
    ("syslog/syslog_ssh.log", LogFormat::Syslog, 9, 0, ""),
    (
        "windows_firewall.log",
        LogFormat::WindowsFirewall,
        15,
        0,
        "",
    ),
    // macOS securityd lines are BSD syslog lines; the syslog reader gets them all.
    ("security.log", LogFormat::Syslog, 9, 0, ""),
];

/// Formats without a parser of their own (read line by line by the generic
/// reader, so their event counts may differ from plaso's).
const UNSUPPORTED: &[(&str, &str)] = &[
    ("aws_elb_access.log", "AWS Elastic Load Balancer access log"),
    ("dpkg.log", "Debian dpkg log"),
    ("postgresql.log", "PostgreSQL server log"),
    ("selinux.log", "SELinux / Linux audit log"),
    ("setupapi.dev.log", "Windows SetupAPI device log"),
    ("snort3_alert_fast.log", "Snort 3 fast alert log"),
    ("suricata_alert_fast.log", "Suricata fast alert log"),
    ("vsftpd.log", "vsftpd transfer log"),
];

fn plaso_counts(dir: &std::path::Path) -> BTreeMap<String, u64> {
    let tsv = std::fs::read_to_string(dir.join("EXPECTED_EVENT_COUNTS.tsv")).unwrap();
    tsv.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols[0].to_string(), cols[1].parse().unwrap())
        })
        .collect()
}

#[test]
fn event_counts_match_plaso() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("logs/plaso");
    let plaso = plaso_counts(&dir);
    let mut failures = Vec::new();
    for (file, plaso_count) in &plaso {
        if UNSUPPORTED.iter().any(|(f, _)| f == file) {
            continue;
        }
        let Some(&(_, format, want, want_failed, why)) = SUPPORTED.iter().find(|row| row.0 == file)
        else {
            failures.push(format!(
                "{file}: in the plaso table but neither supported nor listed as unsupported"
            ));
            continue;
        };
        if why.is_empty() {
            assert_eq!(
                want, *plaso_count,
                "{file}: the table must agree with plaso unless it says why"
            );
        }
        let read = common::read(&dir.join(file));
        let s = read.summary();
        let got = (s.format, s.events, s.failed);
        if got != (Some(format), want, want_failed) {
            failures.push(format!(
                "{file}: got format {:?}, {} events, {} failed; want {format}, {want} events (plaso {plaso_count}), {want_failed} failed; problems: {:?}",
                s.format, s.events, s.failed, read.problems
            ));
        }
        assert_eq!(read.events.len() as u64, s.emitted, "{file}");
        assert!(
            read.events.iter().all(|e| e.source.line.is_some()),
            "{file}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn compressed_logs_read_like_plain_ones() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("logs/plaso");
    let mut reader = LogReader::new();
    reader.year(Some(2012));
    // The same text, decompressed into a plain file and read memory-mapped.
    let tmp = tempfile::tempdir().unwrap();
    let mut text = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(dir.join("syslog.gz")).unwrap()),
        &mut text,
    )
    .unwrap();
    std::fs::write(tmp.path().join("syslog"), &text).unwrap();
    let plain = common::read_with(&reader, &[tmp.path().join("syslog")]);
    assert_eq!(plain.summary().compression, None);
    assert_eq!((plain.summary().events, plain.summary().failed), (12, 1));
    for name in ["syslog.gz", "syslog.bz2", "syslog.xz"] {
        let read = common::read_with(&reader, &[dir.join(name)]);
        let s = read.summary();
        assert_eq!(
            (s.format, s.events, s.failed),
            (Some(LogFormat::Syslog), 12, 1),
            "{name}"
        );
        assert!(s.compression.is_some(), "{name}");
        let times = |r: &common::Read| {
            r.events
                .iter()
                .map(|e| (e.timestamp, e.source.offset, e.source.line))
                .collect::<Vec<_>>()
        };
        assert_eq!(times(&read), times(&plain), "{name}");
    }
}

#[test]
fn unsupported_formats_are_still_read_line_by_line() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("logs/plaso");
    for (file, what) in UNSUPPORTED {
        let read = common::read(&dir.join(file));
        let s = read.summary();
        assert!(!s.unreadable, "{file} ({what})");
        assert!(s.events > 0, "{file} ({what})");
    }
}

#[test]
fn syslog_years_follow_year_turns() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut reader = LogReader::new();
    // plaso's test reads this file with the year 2012 (it holds 29 February).
    reader.year(Some(2012));
    let read = common::read_with(&reader, &[corpus.join("logs/plaso/syslog/syslog")]);
    let times: Vec<String> = read
        .events
        .iter()
        .map(|e| e.timestamp.map(|t| t.to_string()).unwrap_or_default())
        .collect();
    assert_eq!(times[0], "2012-01-22T07:52:33Z");
    assert_eq!(times[6], "2012-02-29T01:15:43Z");
    assert_eq!(times[7], "2012-12-18T17:54:32Z");
    assert_eq!(times[8], "2013-03-23T23:01:18Z");
    let multi = read
        .events
        .iter()
        .find(|e| e.provider.as_deref() == Some("aprocess"))
        .unwrap();
    assert_eq!(
        multi.message.as_deref(),
        Some("This is a multi-line message that screws up\n\tmany syslog parsers.")
    );
    assert_eq!(read.problems.len(), 1);
    assert_eq!(read.problems[0].line, Some(8));
}
