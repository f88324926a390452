//! The `owner` of a file, as an account name, for the `owner` external
//! variable (signature-base has rules that test it).

use std::fs::Metadata;

/// The account name owning a file: from the local `/etc/passwd` on Unix
/// (the uid as a number when it has no name there), empty elsewhere.
#[cfg(unix)]
pub fn owner_name(meta: &Metadata) -> String {
    use std::collections::HashMap;
    use std::os::unix::fs::MetadataExt;
    use std::sync::OnceLock;
    static NAMES: OnceLock<HashMap<u32, String>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let text = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        parse_passwd(&text)
    });
    let uid = meta.uid();
    names.get(&uid).cloned().unwrap_or_else(|| uid.to_string())
}

/// The account name owning a file: not known on this platform.
#[cfg(not(unix))]
pub fn owner_name(_meta: &Metadata) -> String {
    String::new()
}

#[cfg_attr(not(unix), allow(dead_code))]
fn parse_passwd(text: &str) -> std::collections::HashMap<u32, String> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.split(':');
            let name = f.next()?;
            let uid = f.nth(1)?.parse().ok()?;
            Some((uid, name.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwd_lines() {
        let m = super::parse_passwd(
            "root:x:0:0:root:/root:/bin/bash\nbad line\nwww-data:x:33:33::/:/x\n",
        );
        assert_eq!(m[&0], "root");
        assert_eq!(m[&33], "www-data");
        assert_eq!(m.len(), 2);
    }
}
