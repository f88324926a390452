//! The value modifiers of the Sigma 2.1 modifier appendix.

/// A value modifier (`field|contains|all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    /// Value anywhere in the field.
    Contains,
    /// Value at the start of the field.
    StartsWith,
    /// Value at the end of the field.
    EndsWith,
    /// The values are linked with AND instead of OR.
    All,
    /// The field exists (`true`) or not (`false`).
    Exists,
    /// Match case-sensitively.
    Cased,
    /// The field differs from the values.
    Neq,
    /// `-` and `/` at the start of a word, in all their Windows forms.
    Windash,
    /// A regular expression.
    Re,
    /// Regex flag `i`: case-insensitive.
    ReIgnoreCase,
    /// Regex flag `m`: `^`/`$` at line ends.
    ReMultiLine,
    /// Regex flag `s`: `.` matches newlines.
    ReDotAll,
    /// Base64 of the value.
    Base64,
    /// The three Base64 forms of the value at any offset.
    Base64Offset,
    /// UTF-16 little endian.
    Utf16Le,
    /// UTF-16 big endian.
    Utf16Be,
    /// UTF-16 with a byte order mark.
    Utf16,
    /// Alias of `utf16le`.
    Wide,
    /// Field less than the value.
    Lt,
    /// Field less than or equal.
    Lte,
    /// Field greater than the value.
    Gt,
    /// Field greater than or equal.
    Gte,
    /// The minute (0-59) of a date field.
    Minute,
    /// The hour (0-23) of a date field.
    Hour,
    /// The day of the month (1-31) of a date field.
    Day,
    /// The ISO week (1-53) of a date field.
    Week,
    /// The month (1-12) of a date field.
    Month,
    /// The year of a date field.
    Year,
    /// The field is an IP address in the CIDR range.
    Cidr,
    /// Placeholders `%name%` are expanded.
    Expand,
    /// The value names another field of the same event.
    FieldRef,
}

impl Modifier {
    /// Parses a modifier name as written after `|`.
    pub fn parse(name: &str) -> Option<Modifier> {
        use Modifier::*;
        Some(match name {
            "contains" => Contains,
            "startswith" => StartsWith,
            "endswith" => EndsWith,
            "all" => All,
            "exists" => Exists,
            "cased" => Cased,
            "neq" => Neq,
            "windash" => Windash,
            "re" => Re,
            "i" => ReIgnoreCase,
            "m" => ReMultiLine,
            "s" => ReDotAll,
            "base64" => Base64,
            "base64offset" => Base64Offset,
            "utf16le" => Utf16Le,
            "utf16be" => Utf16Be,
            "utf16" => Utf16,
            "wide" => Wide,
            "lt" => Lt,
            "lte" => Lte,
            "gt" => Gt,
            "gte" => Gte,
            "minute" => Minute,
            "hour" => Hour,
            "day" => Day,
            "week" => Week,
            "month" => Month,
            "year" => Year,
            "cidr" => Cidr,
            "expand" => Expand,
            "fieldref" => FieldRef,
            _ => return None,
        })
    }

    /// The name as written in rules.
    pub fn name(self) -> &'static str {
        use Modifier::*;
        match self {
            Contains => "contains",
            StartsWith => "startswith",
            EndsWith => "endswith",
            All => "all",
            Exists => "exists",
            Cased => "cased",
            Neq => "neq",
            Windash => "windash",
            Re => "re",
            ReIgnoreCase => "i",
            ReMultiLine => "m",
            ReDotAll => "s",
            Base64 => "base64",
            Base64Offset => "base64offset",
            Utf16Le => "utf16le",
            Utf16Be => "utf16be",
            Utf16 => "utf16",
            Wide => "wide",
            Lt => "lt",
            Lte => "lte",
            Gt => "gt",
            Gte => "gte",
            Minute => "minute",
            Hour => "hour",
            Day => "day",
            Week => "week",
            Month => "month",
            Year => "year",
            Cidr => "cidr",
            Expand => "expand",
            FieldRef => "fieldref",
        }
    }

    /// A numeric comparison (`lt`, `lte`, `gt`, `gte`).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            Modifier::Lt | Modifier::Lte | Modifier::Gt | Modifier::Gte
        )
    }

    /// A time part (`minute` ... `year`).
    pub fn is_time_part(self) -> bool {
        matches!(
            self,
            Modifier::Minute
                | Modifier::Hour
                | Modifier::Day
                | Modifier::Week
                | Modifier::Month
                | Modifier::Year
        )
    }

    /// A regex flag (`i`, `m`, `s`).
    pub fn is_regex_flag(self) -> bool {
        matches!(
            self,
            Modifier::ReIgnoreCase | Modifier::ReMultiLine | Modifier::ReDotAll
        )
    }

    /// An encoding of the value (`base64`, `utf16le`, ...).
    pub fn is_encoding(self) -> bool {
        matches!(
            self,
            Modifier::Base64
                | Modifier::Base64Offset
                | Modifier::Utf16Le
                | Modifier::Utf16Be
                | Modifier::Utf16
                | Modifier::Wide
        )
    }
}

/// Checks that a chain of modifiers makes sense, as the appendix defines
/// them; the message says why not.
pub fn check_chain(mods: &[Modifier]) -> Result<(), String> {
    use Modifier::*;
    let has = |m: Modifier| mods.contains(&m);
    for (i, m) in mods.iter().enumerate() {
        if mods[..i].contains(m) {
            return Err(format!("modifier '{}' is given twice", m.name()));
        }
    }
    if has(Exists) && mods.len() > 1 {
        return Err("'exists' cannot be combined with other modifiers".into());
    }
    if let Some(flag) = mods.iter().find(|m| m.is_regex_flag())
        && !has(Re)
    {
        return Err(format!("'{}' is a flag of 're' and needs it", flag.name()));
    }
    if has(Re) {
        let other = mods
            .iter()
            .find(|m| !(m.is_regex_flag() || matches!(m, Re | All | Neq)));
        if let Some(other) = other {
            return Err(format!("'re' cannot be combined with '{}'", other.name()));
        }
    }
    let positional = [Contains, StartsWith, EndsWith]
        .iter()
        .filter(|m| has(**m))
        .count();
    if positional > 1 {
        return Err("only one of 'contains', 'startswith' and 'endswith' can be used".into());
    }
    let comparisons = mods.iter().filter(|m| m.is_comparison()).count();
    if comparisons > 1 {
        return Err("only one of 'lt', 'lte', 'gt' and 'gte' can be used".into());
    }
    if comparisons == 1 {
        let other = mods
            .iter()
            .find(|m| !(m.is_comparison() || m.is_time_part() || matches!(m, All)));
        if let Some(other) = other {
            return Err(format!(
                "numeric comparisons cannot be combined with '{}'",
                other.name()
            ));
        }
    }
    if mods.iter().filter(|m| m.is_time_part()).count() > 1 {
        return Err("only one time part (minute, hour, ...) can be extracted".into());
    }
    if has(Cidr) && mods.iter().any(|m| !matches!(m, Cidr | All | Neq)) {
        return Err("'cidr' can only be combined with 'neq'".into());
    }
    if has(FieldRef)
        && mods
            .iter()
            .any(|m| m.is_encoding() || matches!(m, Windash | Expand))
    {
        return Err("'fieldref' names a field; it cannot be encoded or expanded".into());
    }
    if let (Some(b), Some(u)) = (
        mods.iter().position(|m| matches!(m, Base64 | Base64Offset)),
        mods.iter()
            .rposition(|m| matches!(m, Utf16Le | Utf16Be | Utf16 | Wide)),
    ) && u > b
    {
        return Err("UTF-16 encoding must come before the Base64 encoding".into());
    }
    if has(Base64) && has(Base64Offset) {
        return Err("'base64' and 'base64offset' exclude each other".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(names: &str) -> Result<(), String> {
        let mods: Vec<Modifier> = names
            .split('|')
            .filter(|s| !s.is_empty())
            .map(|n| Modifier::parse(n).unwrap_or_else(|| panic!("{n}")))
            .collect();
        check_chain(&mods)
    }

    #[test]
    fn every_appendix_modifier_parses_and_names_itself() {
        let names = "contains startswith endswith all exists cased neq windash re i m s base64 \
                     base64offset utf16le utf16be utf16 wide lt lte gt gte minute hour day week \
                     month year cidr expand fieldref";
        for name in names.split_whitespace() {
            let m = Modifier::parse(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(m.name(), name);
        }
        assert_eq!(Modifier::parse("contain"), None);
    }

    #[test]
    fn chains_table() {
        let ok = [
            "contains|all",
            "base64offset|contains",
            "utf16le|base64offset|contains",
            "wide|base64",
            "contains|windash",
            "windash|contains|all",
            "re|i|m|s",
            "re",
            "cidr",
            "hour|gte",
            "lt",
            "fieldref|neq",
            "fieldref|endswith",
            "contains|cased",
            "exists",
            "expand|startswith",
        ];
        for c in ok {
            assert_eq!(chain(c), Ok(()), "{c}");
        }
        let bad = [
            ("i", "needs it"),
            ("re|contains", "cannot be combined"),
            ("contains|startswith", "only one of"),
            ("lt|gt", "only one of"),
            ("exists|all", "cannot be combined"),
            ("base64|wide", "must come before"),
            ("contains|contains", "twice"),
            ("cidr|contains", "can only be combined"),
            ("hour|day", "only one time part"),
            ("gte|contains", "numeric comparisons"),
        ];
        for (c, why) in bad {
            let err = chain(c).unwrap_err();
            assert!(err.contains(why), "{c}: {err}");
        }
    }
}
