//! Semantic checks.
use crate::ast::Query;
use crate::diagnostic::Diagnostic;

pub(crate) fn verify(_query: &Query) -> Vec<Diagnostic> {
    Vec::new()
}
