//! The built-in rules, each with samples it must flag and look-alikes it
//! must not: a table of (file name, content, rules expected).

use mirt_yara::{CompileOptions, FileContext, FileScanner, RuleSources, compile, filetype};

/// A PE-looking buffer: `MZ`, padding, then `strings`.
fn pe(strings: &[&str]) -> Vec<u8> {
    let mut v = b"MZ\x90\x00".to_vec();
    v.resize(512, 0);
    for s in strings {
        v.extend_from_slice(s.as_bytes());
        v.push(0);
    }
    v
}

fn wide(s: &str) -> String {
    // UTF-16LE as a Rust string with NULs, for the `wide` modifier.
    s.chars().flat_map(|c| [c, '\0']).collect()
}

fn cases() -> Vec<(&'static str, Vec<u8>, &'static [&'static str])> {
    let note = "YOUR FILES HAVE BEEN ENCRYPTED!\nTo get the decryption key, pay in Bitcoin.\n\
                Download Tor Browser and open http://aaaabbbbccccddddeeeeffffgggghhhhiiiijjjjkkkkllllmmmmnnnn.onion\n\
                Do not rename the files.\n";
    vec![
        ("README_RESTORE.txt", note.as_bytes().to_vec(), &["MIRT_Ransom_Note_Text", "MIRT_Ransom_Note_Name"]),
        ("restore.html", wide(note).into_bytes(), &["MIRT_Ransom_Note_Text", "MIRT_Ransom_Note_Name"]),
        ("readme.txt", b"How to build: run make. To decrypt the test data use gpg; it is encrypted for CI.".to_vec(), &[]),
        ("HOW_TO_DECRYPT.txt", b"To decrypt, write to backup@protonmail.com".to_vec(), &["MIRT_Ransom_Note_Name"]),
        ("notes.txt", b"Bitcoin prices and Tor browser tips".to_vec(), &[]),
        ("svc.exe", pe(&["vssadmin.exe delete shadows /all /quiet", "bcdedit /set {default} recoveryenabled no", "wbadmin delete catalog -quiet"]), &["MIRT_Ransom_Recovery_Inhibition"]),
        ("enc.exe", pe(&["CryptEncrypt", "README.txt", "vssadmin", "http://x.onion"]), &["MIRT_Ransom_Encryptor_Traits"]),
        ("backup.exe", pe(&["vssadmin list shadows"]), &[]),
        ("up.php", b"<?php @eval($_POST['cmd']); ?>".to_vec(), &["MIRT_Webshell_PHP_Input_To_Exec"]),
        ("x.php", b"<?php system($_GET['c']); ?>".to_vec(), &["MIRT_Webshell_PHP_Input_To_Exec"]),
        ("o.php", b"<?php eval(gzinflate(base64_decode('7b1pc9tIkij6vX8FwlERpIokCHCRKFWTbZ'))); ?>".to_vec(), &["MIRT_Webshell_PHP_Obfuscated_Eval"]),
        ("index.php", b"<?php echo htmlspecialchars($_GET['q']); $x = base64_decode($data); ?>".to_vec(), &[]),
        ("cc.aspx", b"<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"pass\"],\"unsafe\");%>".to_vec(), &["MIRT_Webshell_ASPX_Input_To_Exec"]),
        ("cmd.aspx", b"<%@ Page Language=\"C#\" %><script runat=\"server\">var p = new ProcessStartInfo(\"cmd.exe\", \"/c \" + Request.Form[\"c\"]); Process.Start(p);</script>".to_vec(), &["MIRT_Webshell_ASPX_Input_To_Exec"]),
        ("default.aspx", b"<%@ Page Language=\"C#\" %><asp:Label runat=\"server\" Text='<%# Request.QueryString[\"id\"] %>' />".to_vec(), &[]),
        ("c.jsp", b"<% Process p = Runtime.getRuntime().exec(request.getParameter(\"cmd\")); %>".to_vec(), &["MIRT_Webshell_JSP_Input_To_Exec"]),
        ("m.exe", pe(&["sekurlsa::logonpasswords", "privilege::debug", "gentilkiwi"]), &["MIRT_Tool_Mimikatz"]),
        ("m.ps1", b"Invoke-Mimikatz -Command 'privilege::debug sekurlsa::logonpasswords lsadump::sam exit'".to_vec(), &["MIRT_Tool_Mimikatz"]),
        ("r.exe", pe(&["Rubeus", "asktgt", "kerberoast", "asreproast"]), &["MIRT_Tool_Kerberos_Abuse"]),
        ("sh.exe", pe(&["SharpHound", "CollectionMethod", "LdapFilter"]), &["MIRT_Tool_AD_Recon_SharpHound"]),
        ("history.txt", b"cmd.exe /Q /c whoami 1> \\\\127.0.0.1\\ADMIN$\\__1700000000.12 2>&1".to_vec(), &["MIRT_Tool_Impacket_Exec_Artifacts"]),
        ("b.dll", pe(&["ReflectiveLoader", "\\\\.\\pipe\\MSSE-1234-server"]), &["MIRT_Tool_CobaltStrike_Beacon_Strings"]),
        ("d.bat", b"rundll32.exe C:\\windows\\System32\\comsvcs.dll, MiniDump 624 C:\\temp\\l.dmp full".to_vec(), &["MIRT_Tool_LSASS_Dump_Commands"]),
        ("p.bat", b"procdump64.exe -accepteula -ma lsass.exe l.dmp".to_vec(), &["MIRT_Tool_LSASS_Dump_Commands"]),
        ("c", b"\x7fELF....Go build ID: \"x\"....github.com/jpillora/chisel/share".to_vec(), &["MIRT_Tool_Tunnel_Chisel_Ligolo"]),
        ("ls", b"\x7fELF....Go build ID: \"x\"....net/http".to_vec(), &[]),
        // Rule files that quote these strings are not flagged.
        ("mine.yar", b"rule x { strings: $a = \"sekurlsa::logonpasswords\" $b = \"lsadump::sam\" $c = \"privilege::debug\" condition: all of them }".to_vec(), &[]),
    ]
}

#[test]
fn builtin_rules_flag_their_samples_and_nothing_else() {
    let rules = compile(&RuleSources::builtin(), &CompileOptions::default()).unwrap();
    let mut scanner = FileScanner::new(&rules);
    for (name, data, want) in cases() {
        let ext = filetype::extension_of(name);
        let ctx = FileContext {
            filename: name,
            filepath: name,
            extension: &ext,
            filetype: filetype::detect(&data, &ext),
            owner: "",
        };
        let mut got: Vec<String> = scanner
            .scan(&data, &ctx)
            .unwrap()
            .into_iter()
            .map(|m| m.rule)
            .collect();
        got.sort();
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "{name}");
    }
}
