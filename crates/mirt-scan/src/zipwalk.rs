//! Zip members as files of their own (`archive.zip!dir/member`), read from
//! the archive's bytes already in memory, with limits against zip bombs:
//! how deep archives in archives are opened, and how many bytes and members
//! one file's archives may yield in total. The uncompressed size a member
//! declares is not trusted: reading stops at the remaining budget.

use crate::engine::{Engine, Item, Output};
use crate::record::{FileRecord, ScanStatus};
use mirt_core::{Problem, ProblemKind};
use mirt_yara::FileScanner;
use std::io::{Cursor, Read};

/// What is left of one top-level file's archive limits.
#[derive(Debug)]
pub(crate) struct Budget {
    bytes: u64,
    members: u64,
    max_bytes: u64,
    max_members: u64,
}

impl Budget {
    pub(crate) fn new(max_bytes: u64, max_members: u64) -> Self {
        Budget {
            bytes: max_bytes,
            members: max_members,
            max_bytes,
            max_members,
        }
    }
}

/// Whether `data` starts like a zip archive.
pub(crate) fn is_zip(data: &[u8]) -> bool {
    data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06")
}

/// Examines every member of the zip archive `item`.
pub(crate) fn members<'r>(
    engine: &Engine<'r>,
    mut scanner: Option<&mut FileScanner<'r>>,
    item: &Item<'_>,
    budget: &mut Budget,
    emit: &mut dyn FnMut(Output),
) {
    let mut archive = match zip::ZipArchive::new(Cursor::new(item.data)) {
        Ok(a) => a,
        Err(e) => {
            emit(problem(
                ProblemKind::Unsupported,
                &item.path,
                format!("looks like a zip archive but cannot be opened: {e}"),
            ));
            return;
        }
    };
    for i in 0..archive.len() {
        let name = archive
            .name_for_index(i)
            .and_then(|n| n.ok())
            .map(|n| n.into_owned())
            .unwrap_or_else(|| format!("#{i}"));
        if name.ends_with('/') {
            continue;
        }
        let path = format!("{}!{}", item.path, name);
        if budget.members == 0 {
            emit(problem(
                ProblemKind::Skipped,
                &item.path,
                format!(
                    "archive member limit ({}) reached: {} further member(s) not read",
                    budget.max_members,
                    archive.len() - i
                ),
            ));
            return;
        }
        budget.members -= 1;
        let data = match read_member(&mut archive, i, budget) {
            Ok(d) => d,
            Err((status, reason)) => {
                let kind = match status {
                    ScanStatus::ArchiveLimit => ProblemKind::Skipped,
                    _ => ProblemKind::Unreadable,
                };
                emit(problem(kind, &path, reason.clone()));
                let mut rec = FileRecord::new(path);
                rec.scan = status;
                rec.reason = Some(reason);
                emit(Output::Record(Box::new(rec)));
                continue;
            }
        };
        let base = name.rsplit('/').next().unwrap_or(&name).to_string();
        let member = Item {
            path: path.clone(),
            name: &base,
            data: &data,
            depth: item.depth + 1,
        };
        engine.examine(
            scanner.as_deref_mut(),
            member,
            FileRecord::new(path),
            budget,
            emit,
        );
    }
}

fn read_member(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    index: usize,
    budget: &mut Budget,
) -> Result<Vec<u8>, (ScanStatus, String)> {
    let unreadable =
        |e: &dyn std::fmt::Display| (ScanStatus::Error, format!("cannot read zip member: {e}"));
    let mut member = archive.by_index(index).map_err(|e| unreadable(&e))?;
    let declared = member.size();
    let limit = || {
        (
            ScanStatus::ArchiveLimit,
            format!(
                "archive size limit ({} bytes uncompressed per file) reached; member not read",
                budget.max_bytes
            ),
        )
    };
    if declared > budget.bytes {
        return Err(limit());
    }
    let mut data = Vec::with_capacity(declared.min(budget.bytes) as usize);
    (&mut member)
        .take(budget.bytes + 1)
        .read_to_end(&mut data)
        .map_err(|e| unreadable(&e))?;
    if data.len() as u64 > budget.bytes {
        budget.bytes = 0;
        return Err(limit());
    }
    budget.bytes -= data.len() as u64;
    Ok(data)
}

fn problem(kind: ProblemKind, path: &str, reason: String) -> Output {
    Output::Problem(Problem::file(kind, path, reason))
}
