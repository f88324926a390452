/*
   mirt default rules: web shells (PHP, ASP/ASPX, JSP).
   Written for the mirt project (MIT OR Apache-2.0): request input that
   reaches code execution, and the obfuscation that hides it.
*/

// Rule files and their collections quote these strings; do not flag them.
global private rule mirt_not_a_rule_file
{
    condition:
        not (extension == ".yar" or extension == ".yara" or extension == ".rules")
}

rule MIRT_Webshell_PHP_Input_To_Exec : webshell php
{
    meta:
        description = "PHP that passes request input to eval/assert/system-like functions"
        author = "mirt"
        severity = "high"
        date = "2026-11-26"
    strings:
        $php = "<?" ascii
        $e1 = /\b(eval|assert|system|exec|shell_exec|passthru|popen|proc_open|pcntl_exec)\s*\(\s*(@\s*)?\$_(GET|POST|REQUEST|COOKIE|SERVER|FILES)\s*\[/ nocase ascii
        $e2 = /\b(eval|assert)\s*\(\s*(@\s*)?(base64_decode|gzinflate|gzuncompress|str_rot13|hex2bin)\s*\(\s*(@\s*)?\$_(GET|POST|REQUEST|COOKIE)/ nocase ascii
        $e3 = /\bcreate_function\s*\([^)]{0,40}\$_(GET|POST|REQUEST|COOKIE)/ nocase ascii
        $e4 = /\bpreg_replace\s*\(\s*['"][\/#|@~!].{0,100}[\/#|@~!][a-z]*e[a-z]*['"]\s*,\s*\$_(GET|POST|REQUEST)/ nocase ascii
        $e5 = /`\s*\$_(GET|POST|REQUEST)\s*\[/ ascii
    condition:
        filesize < 1MB and $php and any of ($e*)
}

rule MIRT_Webshell_PHP_Obfuscated_Eval : webshell php
{
    meta:
        description = "PHP that evaluates a decoded blob: eval(gzinflate(base64_decode(...))) and friends"
        author = "mirt"
        severity = "medium"
        date = "2026-11-26"
    strings:
        $php = "<?" ascii
        $o1 = /\beval\s*\(\s*(gzinflate|gzuncompress|gzdecode|str_rot13|strrev)\s*\(\s*(base64_decode|str_rot13|gzinflate)\s*\(/ nocase ascii
        $o2 = /\beval\s*\(\s*base64_decode\s*\(\s*['"][A-Za-z0-9+\/=]{200,}/ ascii
        $o3 = /\$\w+\s*=\s*str_replace\s*\(\s*['"]\w{1,4}['"]\s*,\s*['"]['"]\s*,\s*['"]b\w{0,4}a\w{0,4}s\w{0,4}e/ nocase ascii
    condition:
        filesize < 2MB and $php and any of ($o*)
}

rule MIRT_Webshell_ASPX_Input_To_Exec : webshell aspx
{
    meta:
        description = "ASP/ASPX page that runs request input: eval of Request, or a process started from it"
        author = "mirt"
        severity = "high"
        date = "2026-11-26"
    strings:
        $asp1 = "<%" ascii wide
        $asp2 = "runat=\"server\"" ascii wide nocase
        $e1 = /eval\s*\(\s*Request(\.Item|\.Form|\.QueryString)?\s*[\[\(]/ nocase ascii wide
        $e2 = /Execute(Global)?\s*\(?\s*Request(\.Item|\.Form|\.QueryString)?\s*[\[\(]/ nocase ascii wide
        $p1 = "Process.Start" nocase ascii wide
        $p2 = "ProcessStartInfo" nocase ascii wide
        $p3 = "WScript.Shell" nocase ascii wide
        $r1 = "Request.Form" nocase ascii wide
        $r2 = "Request.QueryString" nocase ascii wide
        $r3 = "Request.Item" nocase ascii wide
        $r4 = /Request\s*\[\s*"/ nocase ascii wide
        $c1 = "cmd.exe" nocase ascii wide
        $c2 = "powershell" nocase ascii wide
        $c3 = "/c " ascii wide
    condition:
        filesize < 1MB and any of ($asp*)
        and (any of ($e*) or (any of ($p*) and any of ($r*) and any of ($c*)))
}

rule MIRT_Webshell_JSP_Input_To_Exec : webshell jsp
{
    meta:
        description = "JSP that runs a command taken from a request parameter"
        author = "mirt"
        severity = "high"
        date = "2026-11-26"
    strings:
        $jsp = "<%" ascii
        $x1 = /Runtime\.getRuntime\(\)\.exec\s*\(\s*request\.getParameter/ ascii
        $x2 = /new\s+ProcessBuilder\s*\([^;]{0,80}request\.getParameter/ ascii
        $x3 = "defineClass" ascii
        $x4 = "getParameter" ascii
        $x5 = "ClassLoader" ascii
    condition:
        filesize < 1MB and $jsp and ($x1 or $x2 or ($x3 and $x4 and $x5))
}
