//! Colour on stderr: only on a terminal, and never when `NO_COLOR` is set
//! (https://no-color.org).

use std::io::IsTerminal;
use std::sync::OnceLock;

/// Whether to colour what goes to stderr.
pub fn color() -> bool {
    static COLOR: OnceLock<bool> = OnceLock::new();
    *COLOR.get_or_init(|| {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        !no_color && std::io::stderr().is_terminal()
    })
}

fn paint(text: &str, code: &str) -> String {
    if color() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// `error:` in bold red.
pub fn error_label() -> String {
    paint("error:", "1;31")
}

/// `warning:` in bold yellow.
pub fn warning_label() -> String {
    paint("warning:", "1;33")
}

/// A bold heading.
pub fn bold(text: &str) -> String {
    paint(text, "1")
}
