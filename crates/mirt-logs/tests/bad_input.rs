//! Damaged and awkward input: every case is read without a panic, and what
//! could not be read is counted and listed with its line number.

mod common;

use common::Read;
use mirt_core::ProblemKind;
use mirt_logs::{Item, LogFormat, LogReader};
use std::path::Path;

fn read_bytes(reader: &LogReader, name: &str, data: &[u8]) -> Read {
    let mut out = Read::default();
    reader.read_bytes(Path::new(name), data, |item| match item {
        Item::Event(e) => out.events.push(*e),
        Item::Problem(p) => out.problems.push(p),
        Item::FileDone(s) => out.summaries.push(s),
    });
    out
}

const ACCESS: &str =
    r#"10.0.0.1 - - [13/Jan/2016:19:31:16 +0000] "GET /index.html HTTP/1.1" 200 494 "-" "curl/8""#;

#[test]
fn invalid_utf8_is_kept_lossily_and_flagged() {
    let data = [
        ACCESS.as_bytes(),
        b"\n",
        &ACCESS.as_bytes()[..60],
        b"\xff\xfe",
        &ACCESS.as_bytes()[60..],
        b"\n",
    ]
    .concat();
    let read = read_bytes(&LogReader::new(), "access.log", &data);
    let s = read.summary();
    assert_eq!((s.events, s.failed, s.damaged), (2, 0, 1));
    assert_eq!(read.problems.len(), 1);
    assert_eq!(read.problems[0].kind, ProblemKind::Lossy);
    assert_eq!(read.problems[0].line, Some(2));
    assert!(
        read.events[1]
            .fields
            .iter()
            .any(|(_, v)| v.to_text().contains('\u{fffd}')),
        "{:?}",
        read.events[1].fields
    );
}

#[test]
fn nul_bytes_are_removed_and_nul_padding_is_skipped() {
    let data = [
        ACCESS.as_bytes(),
        b"\n",
        &[0u8; 4096],
        ACCESS.as_bytes(),
        b"\n\0\0\0\n",
        ACCESS.as_bytes(),
    ]
    .concat();
    let read = read_bytes(&LogReader::new(), "access.log", &data);
    let s = read.summary();
    assert_eq!(s.events, 3, "{:?}", read.problems);
    assert_eq!(s.damaged, 2);
    assert!(
        read.problems
            .iter()
            .all(|p| p.kind == ProblemKind::Lossy && p.reason.contains("NUL"))
    );
    assert_eq!(read.events[1].source.offset, ACCESS.len() as u64 + 1);
    assert_eq!(read.events[2].source.line, Some(4));
}

#[test]
fn over_long_lines_are_cut_and_reported() {
    let long = format!("Jan  1 00:00:00 host app: {}\n", "x".repeat(5000));
    let data = format!("Jan  1 00:00:00 host app: short\n{long}Jan  1 00:00:01 host app: after\n");
    let mut reader = LogReader::new();
    reader.max_record(1000).year(Some(2024));
    let read = read_bytes(&reader, "syslog", data.as_bytes());
    assert_eq!(read.summary().events, 3);
    assert_eq!(read.summary().damaged, 1);
    assert_eq!(read.problems[0].kind, ProblemKind::Truncated);
    assert_eq!(read.problems[0].line, Some(2));
    assert!(
        read.problems[0]
            .reason
            .contains("5026 bytes cut to the 1000-byte limit"),
        "{}",
        read.problems[0].reason
    );
    assert_eq!(read.events[1].message.as_ref().unwrap().len(), 1000 - 26);
}

#[test]
fn crlf_and_missing_final_newline() {
    let data = "#Fields: date time c-ip sc-status\r\n2024-01-01 00:00:00 1.2.3.4 200\r\n2024-01-01 00:00:01 1.2.3.5 404";
    let read = read_bytes(&LogReader::new(), "u_ex.log", data.as_bytes());
    assert_eq!(read.summary().format, Some(LogFormat::IisW3c));
    assert_eq!(read.summary().events, 2);
    assert_eq!(read.summary().lines, 3);
    assert_eq!(
        read.events[0].fields.get("sc-status").unwrap().as_i64(),
        Some(200)
    );
    assert_eq!(
        read.events[1].fields.get("sc-status").unwrap().as_i64(),
        Some(404)
    );
}

#[test]
fn mixed_formats_count_and_sample_the_foreign_lines() {
    let mut data = String::new();
    for i in 0..100 {
        if i % 10 == 9 {
            data.push_str("Jan  1 00:00:00 host sshd[1]: a syslog line among access log lines\n");
        } else {
            data.push_str(ACCESS);
            data.push('\n');
        }
    }
    let mut reader = LogReader::new();
    reader.max_problems(3);
    let read = read_bytes(&reader, "access.log", data.as_bytes());
    let s = read.summary();
    assert_eq!(
        (s.format, s.events, s.failed, s.problems_listed),
        (Some(LogFormat::ApacheAccess), 90, 10, 3)
    );
    let lines: Vec<_> = read.problems.iter().filter_map(|p| p.line).collect();
    assert_eq!(lines, [10, 20, 30]);
    assert!(
        read.problems.last().unwrap().reason.starts_with("7 more"),
        "{:?}",
        read.problems.last()
    );
}

#[test]
fn empty_binary_and_utf16_files() {
    let read = read_bytes(&LogReader::new(), "empty.log", b"");
    assert_eq!(
        (read.summary().events, read.summary().unreadable),
        (0, false)
    );
    let elf = [b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0".as_slice(); 40].concat();
    let read = read_bytes(&LogReader::new(), "binary", &elf);
    assert!(read.summary().unreadable);
    assert_eq!(read.problems[0].kind, ProblemKind::NotThisFormat);
    // UTF-16 (as PowerShell 5 writes with `>`) is converted to UTF-8.
    let text =
        "Jan  1 00:00:00 host sshd[1]: Failed password for root from 1.2.3.4 port 22 ssh2\r\n";
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let read = read_bytes(&LogReader::new(), "utf16.log", &utf16);
    assert_eq!(read.summary().encoding, Some("utf-16le"));
    assert_eq!(read.summary().format, Some(LogFormat::Syslog));
    assert_eq!(
        read.events[0].fields.get("src_ip").unwrap().to_text(),
        "1.2.3.4"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("utf16.log");
    std::fs::write(&file, &utf16).unwrap();
    let read = common::read(&file);
    assert_eq!(
        (read.summary().encoding, read.summary().events),
        (Some("utf-16le"), 1)
    );
}

/// A syslog file with continuation lines, year turns and W3C-like oddities,
/// read with tiny chunks, in one piece, as a stream and gzip-compressed:
/// the same events every time.
#[test]
fn chunking_mmap_stream_and_gzip_agree() {
    let mut text = String::new();
    let months = ["Nov", "Dec", "Jan", "Feb", "Dec", "Mar"];
    for i in 0..600 {
        let m = months[i / 100];
        text.push_str(&format!(
            "{m} {:2} 10:00:{:02} host app[{i}]: message {i}\n",
            i % 28 + 1,
            i % 60
        ));
        if i % 7 == 0 {
            text.push_str("\tcontinued\n");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("messages");
    std::fs::write(&plain, &text).unwrap();
    let gz = dir.path().join("messages.1.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, text.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();

    let key = |r: &Read| -> Vec<(String, u64, Option<u64>, Option<String>)> {
        r.events
            .iter()
            .map(|e| {
                (
                    e.timestamp.unwrap().to_string(),
                    e.source.offset,
                    e.source.line,
                    e.message.clone(),
                )
            })
            .collect()
    };
    let mut whole = LogReader::new();
    whole.year(Some(2020)).threads(1);
    let reference = common::read_with(&whole, std::slice::from_ref(&plain));
    assert_eq!(reference.summary().events, 600);
    assert_eq!(
        reference.events[0].timestamp.unwrap().to_string(),
        "2020-11-01T10:00:00Z"
    );
    assert_eq!(
        reference.events[599].timestamp.unwrap().to_string(),
        "2022-03-12T10:00:59Z"
    );
    for (chunk, mmap) in [(64, true), (1000, true), (64, false), (4096, false)] {
        let mut r = LogReader::new();
        r.year(Some(2020)).chunk_size(chunk).mmap(mmap);
        for path in [&plain, &gz] {
            let got = common::read_with(&r, std::slice::from_ref(path));
            assert_eq!(
                key(&got),
                key(&reference),
                "chunk {chunk}, mmap {mmap}, {}",
                path.display()
            );
            assert_eq!(got.summary().lines, reference.summary().lines);
        }
    }
}

#[test]
fn w3c_fields_and_csv_quotes_survive_small_chunks() {
    let mut iis = String::from("#Fields: date time c-ip\n");
    let mut csv = String::from("time,user,note\n");
    for i in 0..300 {
        if i == 150 {
            iis.push_str("#Fields: date time cs-method c-ip\n");
        }
        if i >= 150 {
            iis.push_str(&format!("2024-01-01 00:00:00 GET 10.0.0.{}\n", i % 250));
        } else {
            iis.push_str(&format!("2024-01-01 00:00:00 10.0.0.{}\n", i % 250));
        }
        csv.push_str(&format!(
            "2024-01-01 00:00:00,u{i},\"multi\nline, \"\"quoted\"\" {i}\"\n"
        ));
    }
    for chunk in [32, 200, 1 << 20] {
        let mut r = LogReader::new();
        r.chunk_size(chunk);
        let read = read_bytes(&r, "u_ex.log", iis.as_bytes());
        assert_eq!(
            (read.summary().events, read.summary().failed),
            (300, 0),
            "iis chunk {chunk}: {:?}",
            read.problems
        );
        assert!(read.events[200].fields.get("cs-method").is_some());
        let read = read_bytes(&r, "notes.csv", csv.as_bytes());
        assert_eq!(
            (read.summary().events, read.summary().failed),
            (300, 0),
            "csv chunk {chunk}: {:?}",
            read.problems
        );
        assert_eq!(
            read.events[7].fields.get("note").unwrap().to_text(),
            "multi\nline, \"quoted\" 7"
        );
        assert_eq!(read.events[7].source.line, Some(16));
    }
}
