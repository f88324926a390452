//! Sigma rules for mirt.
//!
//! This crate owns the Sigma specification 2.1: rule files are read into a
//! typed AST ([`Document`]), checked against the specification's JSON
//! schemas, mapped onto concrete event sources with data files
//! ([`Mapping`]), and compiled into a [`Matcher`] that meets each event
//! only with the rules that can match it. Correlation rules (all seven
//! types) run over the detections in a [`CorrelationEngine`].
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod ast;
pub mod condition;
mod error;
pub mod modifier;
pub mod parse;
pub mod schema;
pub mod value;
pub mod yaml;

pub use ast::Document;
pub use error::{Error, Result};
