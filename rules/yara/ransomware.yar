/*
   mirt default rules: ransomware notes and binaries.
   Written for the mirt project (MIT OR Apache-2.0). Generic on purpose:
   they look for what ransomware has to do (tell the victim how to pay,
   stop recovery), not for one family's bytes.
*/

// Rule files and their collections quote these strings; do not flag them.
global private rule mirt_not_a_rule_file
{
    condition:
        not (extension == ".yar" or extension == ".yara" or extension == ".rules")
}

rule MIRT_Ransom_Note_Text : ransomware note
{
    meta:
        description = "Text that tells the reader their files were encrypted and how to pay or contact the attacker"
        author = "mirt"
        severity = "high"
        date = "2026-11-26"
    strings:
        $enc1 = "files have been encrypted" ascii wide nocase
        $enc2 = "files are encrypted" ascii wide nocase
        $enc3 = "network has been penetrated" ascii wide nocase
        $enc4 = "your data has been stolen" ascii wide nocase
        $enc5 = "your data are stolen" ascii wide nocase
        $enc6 = "have been encrypted by" ascii wide nocase
        $pay1 = "bitcoin" ascii wide nocase
        $pay2 = "BTC wallet" ascii wide nocase
        $pay3 = "monero" ascii wide nocase
        $pay4 = "decryption key" ascii wide nocase
        $pay5 = "decryptor" ascii wide nocase
        $pay6 = "private key" ascii wide nocase
        $pay7 = "test decryption" ascii wide nocase
        $pay8 = "decrypt one file" ascii wide nocase
        $con1 = "tor browser" ascii wide nocase
        $con2 = /[a-z2-7]{56}\.onion/ ascii wide nocase
        $con3 = "do not rename" ascii wide nocase
        $con4 = "do not try to decrypt" ascii wide nocase
        $con5 = "third-party software" ascii wide nocase
        $con6 = "leak" ascii wide nocase
        $con7 = "qtox" ascii wide nocase
    condition:
        filesize < 200KB
        and uint16(0) != 0x5A4D
        and 1 of ($enc*) and 1 of ($pay*) and 1 of ($con*)
}

rule MIRT_Ransom_Note_Name : ransomware note
{
    meta:
        description = "Small file named like a ransom note that speaks of decryption and of paying or contacting"
        author = "mirt"
        severity = "medium"
        date = "2026-11-26"
    strings:
        $d1 = "decrypt" ascii wide nocase
        $d2 = "recover your files" ascii wide nocase
        $c1 = "bitcoin" ascii wide nocase
        $c2 = ".onion" ascii wide nocase
        $c3 = "tor browser" ascii wide nocase
        $c4 = "personal id" ascii wide nocase
        $c5 = "@protonmail" ascii wide nocase
        $c6 = "@onionmail" ascii wide nocase
        $c7 = "qtox" ascii wide nocase
    condition:
        filesize < 100KB
        and filename matches /(readme|read_me|restore|recover|decrypt|how_to|help)[^\/\\]*\.(txt|html?|hta|rtf)$/i
        and any of ($d*) and any of ($c*)
}

rule MIRT_Ransom_Recovery_Inhibition : ransomware binary
{
    meta:
        description = "Executable that deletes shadow copies and backups and disables recovery (T1490)"
        author = "mirt"
        severity = "high"
        date = "2026-11-26"
    strings:
        $vss1 = "delete shadows" ascii wide nocase
        $vss2 = "shadowcopy delete" ascii wide nocase
        $vss3 = "resize shadowstorage" ascii wide nocase
        $bcd1 = "recoveryenabled no" ascii wide nocase
        $bcd2 = "bootstatuspolicy ignoreallfailures" ascii wide nocase
        $wb1 = "delete catalog" ascii wide nocase
        $wb2 = "delete systemstatebackup" ascii wide nocase
        $log1 = "wevtutil cl" ascii wide nocase
        $log2 = "Clear-EventLog" ascii wide nocase
    condition:
        (uint16(0) == 0x5A4D or uint32(0) == 0x464C457F)
        and 3 of them
}

rule MIRT_Ransom_Encryptor_Traits : ransomware binary
{
    meta:
        description = "Executable combining file encryption, a ransom-note name and shadow-copy deletion"
        author = "mirt"
        severity = "high"
        date = "2026-11-26"
    strings:
        $c1 = "CryptEncrypt" ascii
        $c2 = "BCryptEncrypt" ascii
        $c3 = "CryptGenRandom" ascii
        $c4 = "expand 32-byte k" ascii
        $c5 = "ChaCha" ascii nocase
        $n1 = "README" ascii wide
        $n2 = "RESTORE" ascii wide nocase
        $n3 = "DECRYPT" ascii wide nocase
        $n4 = "HOW_TO" ascii wide nocase
        $v1 = "vssadmin" ascii wide nocase
        $v2 = "Win32_ShadowCopy" ascii wide nocase
        $v3 = "wbadmin" ascii wide nocase
        $x1 = ".onion" ascii wide nocase
    condition:
        uint16(0) == 0x5A4D
        and filesize < 20MB
        and 1 of ($c*) and 1 of ($n*) and 1 of ($v*) and $x1
}
