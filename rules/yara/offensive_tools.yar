/*
   mirt default rules: common offensive tooling seen in intrusions into
   public administrations (credential theft, lateral movement, AD
   reconnaissance, C2 frameworks).
   Written for the mirt project (MIT OR Apache-2.0), from the tools'
   documented command names and module names.
*/

// Rule files and their collections quote these strings; do not flag them.
global private rule mirt_not_a_rule_file
{
    condition:
        not (extension == ".yar" or extension == ".yara" or extension == ".rules")
}

rule MIRT_Tool_Mimikatz : credential_access tool
{
    meta:
        description = "Mimikatz or a build of it: its module::command names and author strings"
        author = "mirt"
        severity = "high"
        date = "2026-11-26"
    strings:
        $m1 = "sekurlsa::logonpasswords" ascii wide nocase
        $m2 = "lsadump::sam" ascii wide nocase
        $m3 = "lsadump::dcsync" ascii wide nocase
        $m4 = "privilege::debug" ascii wide nocase
        $m5 = "kerberos::golden" ascii wide nocase
        $m6 = "sekurlsa::pth" ascii wide nocase
        $a1 = "gentilkiwi" ascii wide
        $a2 = "mimikatz" ascii wide nocase
        $a3 = "mimilib" ascii wide nocase
    condition:
        (uint16(0) == 0x5A4D and (2 of ($m*) or (1 of ($m*) and 1 of ($a*))))
        or (filesize < 5MB and 3 of ($m*))
}

rule MIRT_Tool_Kerberos_Abuse : credential_access tool
{
    meta:
        description = "Rubeus-style Kerberos abuse tooling (roasting, ticket requests, S4U)"
        author = "mirt"
        severity = "high"
        date = "2026-11-26"
    strings:
        $c1 = "asktgt" ascii wide
        $c2 = "asktgs" ascii wide
        $c3 = "kerberoast" ascii wide nocase
        $c4 = "asreproast" ascii wide nocase
        $c5 = "s4u" ascii wide
        $c6 = "ptt" ascii wide
        $c7 = "dump /service:krbtgt" ascii wide nocase
        $n1 = "Rubeus" ascii wide
    condition:
        uint16(0) == 0x5A4D and (($n1 and 3 of ($c*)) or 5 of ($c*))
}

rule MIRT_Tool_AD_Recon_SharpHound : discovery tool
{
    meta:
        description = "BloodHound collectors (SharpHound) and their output"
        author = "mirt"
        severity = "medium"
        date = "2026-11-26"
    strings:
        $s1 = "SharpHound" ascii wide
        $s2 = "CollectionMethod" ascii wide
        $s3 = "--CollectionMethods" ascii wide nocase
        $s4 = "BloodHound" ascii wide
        $s5 = "Invoke-BloodHound" ascii wide nocase
        $s6 = "LdapFilter" ascii wide
    condition:
        (uint16(0) == 0x5A4D and 3 of them) or (filesize < 5MB and $s5 and 1 of ($s1, $s2, $s3))
}

rule MIRT_Tool_Impacket_Exec_Artifacts : lateral_movement tool
{
    meta:
        description = "Command lines and service names left by Impacket's wmiexec/smbexec/psexec"
        author = "mirt"
        severity = "high"
        date = "2026-11-26"
    strings:
        $w1 = "cmd.exe /Q /c" ascii wide nocase
        $w2 = "2>&1" ascii wide
        $w3 = "\\\\127.0.0.1\\ADMIN$\\__" ascii wide nocase
        $s1 = "%COMSPEC% /Q /c echo" ascii wide nocase
        $s2 = "\\\\%COMPUTERNAME%\\C$\\__output" ascii wide nocase
        $p1 = "RemComSvc" ascii wide
        $p2 = "RemCom_communicaton" ascii wide
    condition:
        ($w1 and $w2 and $w3) or $s1 or $s2 or ($p1 and $p2)
}

rule MIRT_Tool_CobaltStrike_Beacon_Strings : c2 tool
{
    meta:
        description = "Strings of Cobalt Strike beacons and their default named pipes"
        author = "mirt"
        severity = "high"
        date = "2026-11-26"
    strings:
        $b1 = "%s as %s\\%s: %d" ascii
        $b2 = "beacon.dll" ascii
        $b3 = "beacon.x64.dll" ascii
        $b4 = "ReflectiveLoader" ascii
        $b5 = "%02d/%02d/%02d %02d:%02d:%02d" ascii
        $b6 = "Started service %s on %s" ascii
        $b7 = "could not spawn %s: %d" ascii
        $p1 = "\\\\.\\pipe\\MSSE-" ascii wide
        $p2 = "\\\\.\\pipe\\msagent_" ascii wide
        $p3 = "\\\\.\\pipe\\postex_" ascii wide
        $p4 = "\\\\.\\pipe\\status_" ascii wide
    condition:
        (uint16(0) == 0x5A4D and (3 of ($b*) or ($b4 and 1 of ($p*))))
        or 2 of ($p*)
}

rule MIRT_Tool_LSASS_Dump_Commands : credential_access
{
    meta:
        description = "Scripts or binaries that dump LSASS memory with system tools (comsvcs MiniDump, procdump)"
        author = "mirt"
        severity = "high"
        date = "2026-11-26"
    strings:
        $c1 = /comsvcs(\.dll)?[",\s]+#?(MiniDump|24)\b/ nocase ascii wide
        $c2 = /procdump(64)?(\.exe)?\s+(-accepteula\s+)?-ma\s+lsass/ nocase ascii wide
        $c3 = "sekurlsa::minidump" nocase ascii wide
        $c4 = /Out-Minidump.{0,80}lsass/ nocase ascii wide
    condition:
        filesize < 10MB and any of them
}

rule MIRT_Tool_Tunnel_Chisel_Ligolo : command_and_control tool
{
    meta:
        description = "Reverse tunnelling tools (chisel, ligolo-ng) built from Go"
        author = "mirt"
        severity = "medium"
        date = "2026-11-26"
    strings:
        $go = "Go build ID" ascii
        $c1 = "jpillora/chisel" ascii
        $c2 = "chisel-v3" ascii
        $l1 = "nicocha30/ligolo-ng" ascii
        $l2 = "ligolo-ng" ascii
    condition:
        $go and (any of ($c*) or any of ($l*))
}
