//! The rules and mappings shipped with mirt (`rules/` of the repository),
//! embedded at build time.

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The shipped Sigma rules as (path, text), in path order.
pub fn rules() -> &'static [(&'static str, &'static str)] {
    RULES
}
