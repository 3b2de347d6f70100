//! Elasticsearch EQL's functions, with Elasticsearch's exact results, one value at a time.
//!
//! STUB: the interface the engine calls; a helper is implementing the bodies.
//! Null arguments never reach these functions (except `concat` and `to_string`): the
//! evaluator returns null for them first, as Elasticsearch does.

use quarry_event::ValueRef;

/// A numeric value: EQL keeps integers and floats apart (`divide(5, 2)` is 2, `divide(5, 2.0)`
/// is 2.5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Integer(i64),
    Float(f64),
}

/// Why a function could not produce a value (Elasticsearch raises an error for these).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FunctionError {
    #[error("{0}")]
    Invalid(String),
}

pub fn add(a: Number, b: Number) -> Result<Option<Number>, FunctionError> {
    let _ = (a, b);
    unimplemented!()
}
pub fn subtract(a: Number, b: Number) -> Result<Option<Number>, FunctionError> {
    let _ = (a, b);
    unimplemented!()
}
pub fn multiply(a: Number, b: Number) -> Result<Option<Number>, FunctionError> {
    let _ = (a, b);
    unimplemented!()
}
pub fn divide(a: Number, b: Number) -> Result<Option<Number>, FunctionError> {
    let _ = (a, b);
    unimplemented!()
}
pub fn modulo(a: Number, b: Number) -> Result<Option<Number>, FunctionError> {
    let _ = (a, b);
    unimplemented!()
}
pub fn between(
    source: &str,
    left: &str,
    right: &str,
    greedy: bool,
    case_insensitive: bool,
) -> String {
    let _ = (source, left, right, greedy, case_insensitive);
    unimplemented!()
}
pub fn ends_with(source: &str, suffix: &str, case_insensitive: bool) -> bool {
    let _ = (source, suffix, case_insensitive);
    unimplemented!()
}
pub fn starts_with(source: &str, prefix: &str, case_insensitive: bool) -> bool {
    let _ = (source, prefix, case_insensitive);
    unimplemented!()
}
pub fn string_contains(source: &str, substring: &str, case_insensitive: bool) -> bool {
    let _ = (source, substring, case_insensitive);
    unimplemented!()
}
/// `None` when not found.
pub fn index_of(
    source: &str,
    substring: &str,
    start: Option<i64>,
    case_insensitive: bool,
) -> Option<i64> {
    let _ = (source, substring, start, case_insensitive);
    unimplemented!()
}
pub fn length(source: &str) -> i64 {
    let _ = source;
    unimplemented!()
}
pub fn substring(source: &str, start: i64, end: Option<i64>) -> String {
    let _ = (source, start, end);
    unimplemented!()
}
/// `number(text[, base])`.
pub fn number(text: &str, base: Option<i64>) -> Result<Option<Number>, FunctionError> {
    let _ = (text, base);
    unimplemented!()
}
/// `string(value)`: the text Elasticsearch gives a value; `None` for null.
pub fn to_string(value: ValueRef<'_>) -> Option<String> {
    let _ = value;
    unimplemented!()
}
/// `concat(values...)`: null if any value is null.
pub fn concat(values: &[ValueRef<'_>]) -> Option<String> {
    let _ = values;
    unimplemented!()
}

/// An IP block for `cidrMatch`: `10.0.0.0/8`, `fd00::/8`, or a single address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cidr {
    _private: (),
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Cidr, FunctionError> {
        let _ = text;
        unimplemented!()
    }
    /// Whether `ip` (text) is an address inside this block; false for text that is not an IP.
    pub fn contains(&self, ip: &str) -> bool {
        let _ = ip;
        unimplemented!()
    }
}
