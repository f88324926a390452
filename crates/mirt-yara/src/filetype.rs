//! The `filetype` external variable: a file's type by its first bytes, or by
//! its extension for scripts, named as THOR names them (the vocabulary
//! signature-base rules test, e.g. `filetype == "EXE"`).

/// The type of a file whose content starts with `head` and whose extension
/// (lower case, with the dot) is `extension`; empty when unknown.
pub fn detect(head: &[u8], extension: &str) -> &'static str {
    by_magic(head).unwrap_or_else(|| by_extension(extension))
}

fn by_magic(head: &[u8]) -> Option<&'static str> {
    const MAGICS: &[(&[u8], &str)] = &[
        (b"MZ", "EXE"),
        (b"\x7fELF", "ELF"),
        (b"\xfe\xed\xfa\xce", "MACH-O"),
        (b"\xfe\xed\xfa\xcf", "MACH-O"),
        (b"\xce\xfa\xed\xfe", "MACH-O"),
        (b"\xcf\xfa\xed\xfe", "MACH-O"),
        (b"MDMP", "MDMP"),
        (b"PMDM", "MDMP"),
        (b"{\\rt", "RTF"),
        (b"%PDF", "PDF"),
        (b"PK\x03\x04", "ZIP"),
        (b"PK\x05\x06", "ZIP"),
        (b"Rar!", "RAR"),
        (b"7z\xbc\xaf\x27\x1c", "7Z"),
        (b"\x1f\x8b", "GZIP"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE"),
        (b"ElfFile\x00", "EVTX"),
        (b"regf", "REGISTRY"),
        (b"SCCA", "PF"),
        (b"MAM\x04", "PF"),
        (b"L\x00\x00\x00\x01\x14\x02\x00", "LNK"),
        (b"\xca\xfe\xba\xbe", "CLASS"),
        (b"<?php", "PHP"),
        (b"#!/bin/sh", "SHELL"),
        (b"#!/bin/bash", "SHELL"),
        (b"#!/usr/bin/env python", "Python"),
        (b"#!/usr/bin/python", "Python"),
    ];
    MAGICS
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|(_, name)| *name)
}

fn by_extension(extension: &str) -> &'static str {
    match extension {
        ".php" | ".php3" | ".php4" | ".php5" | ".phtml" => "PHP",
        ".jsp" | ".jspx" => "JSP",
        ".asp" => "ASP",
        ".aspx" | ".ashx" | ".asmx" => "ASPX",
        ".vbs" | ".vbe" => "VBS",
        ".js" | ".jse" => "JS",
        ".bat" | ".cmd" => "BATCH",
        ".ps1" | ".psm1" | ".psd1" => "PowerShell",
        ".py" | ".pyw" => "Python",
        ".pl" => "Perl",
        ".sh" => "SHELL",
        ".hta" => "HTA",
        ".lnk" => "LNK",
        _ => "",
    }
}

/// The extension of `name` for the `extension` variable: lower case, with
/// its dot (`.exe`), empty when the name has none.
pub fn extension_of(name: &str) -> String {
    match name.rfind('.') {
        Some(0) | None => String::new(),
        Some(i) => name[i..].to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_by_magic_then_extension() {
        let cases: &[(&[u8], &str, &str)] = &[
            (b"MZ\x90\x00", ".dll", "EXE"),
            (b"\x7fELF\x02", "", "ELF"),
            (b"<?php echo 1;", ".txt", "PHP"),
            (b"<% eval request %>", ".asp", "ASP"),
            (b"@echo off", ".bat", "BATCH"),
            (b"hello", ".txt", ""),
            (b"PK\x03\x04", ".docx", "ZIP"),
        ];
        for (head, ext, want) in cases {
            assert_eq!(detect(head, ext), *want, "{head:?} {ext}");
        }
    }

    #[test]
    fn extensions_are_lowercase_with_dot() {
        assert_eq!(extension_of("Invoice.PDF.EXE"), ".exe");
        assert_eq!(extension_of(".bashrc"), "");
        assert_eq!(extension_of("README"), "");
    }
}
