//! String matching as Elasticsearch does it: wildcard patterns (`:`, `like`, `like~`), Lucene
//! regular expressions (`regex`, `regex~`), and case folding (`~` forms, `in~`, `:`).
//!
//! STUB: the interface the engine calls; a helper is implementing the bodies.

use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("{0}")]
    Invalid(String),
}

/// Folds `text` for case-insensitive comparison exactly as Elasticsearch does.
pub fn fold_case(text: &str) -> Cow<'_, str> {
    let _ = text;
    unimplemented!()
}

/// Case-insensitive equality as Elasticsearch's `in~` and `:` (without wildcards) compare.
pub fn eq_ignore_case(a: &str, b: &str) -> bool {
    let _ = (a, b);
    unimplemented!()
}

/// One or more wildcard patterns OR'ed together (`x : ("a*", "*b")`): `*` is any run of
/// characters, `?` exactly one character, anchored at both ends, no escape character.
#[derive(Debug, Clone)]
pub struct WildcardSet {
    _private: (),
}

impl WildcardSet {
    pub fn new(patterns: &[&str], case_insensitive: bool) -> WildcardSet {
        let _ = (patterns, case_insensitive);
        unimplemented!()
    }
    pub fn is_match(&self, text: &str) -> bool {
        let _ = text;
        unimplemented!()
    }
}

/// One or more Lucene regular expressions OR'ed together, anchored.
#[derive(Debug, Clone)]
pub struct RegexSet {
    _private: (),
}

impl RegexSet {
    pub fn new(patterns: &[&str], case_insensitive: bool) -> Result<RegexSet, PatternError> {
        let _ = (patterns, case_insensitive);
        unimplemented!()
    }
    pub fn is_match(&self, text: &str) -> bool {
        let _ = text;
        unimplemented!()
    }
}
