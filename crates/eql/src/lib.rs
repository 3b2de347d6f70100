//! Elasticsearch EQL, the language: text in, a typed syntax tree with exact spans out.
//!
//! Quarry's detections are Elasticsearch EQL rules. This crate is the language alone, with no
//! I/O and no evaluation: the engine compiles what [`parse`] returns, rule validation reports
//! what [`Error::render`] shows, and exports print what [`ast::Query`]'s `Display` writes.
//!
//! ```
//! let query = quarry_eql::parse(r#"process where process.name : "cmd.exe" | head 5"#).unwrap();
//! assert_eq!(query.to_string(), r#"process where process.name : "cmd.exe" | head 5"#);
//!
//! let error = quarry_eql::parse("process where a = 1").unwrap_err();
//! assert_eq!(error.first().message, "`=` is not a comparison operator");
//! assert_eq!(error.first().help.as_deref(), Some("did you mean `==`?"));
//! ```
//!
//! - [`span`]: byte spans and their `line:column`;
//! - [`ast`]: the syntax tree;
//! - [`function`]: the function catalogue (names, arity, argument kinds);
//! - [`diagnostic`]: errors with spans, hints and caret rendering;
//! - parsing ([`parse_syntax`]), semantic checks ([`verify`]), and the canonical printer
//!   (the `Display` impls of the tree).

pub mod ast;
pub mod diagnostic;
pub mod function;
mod lexer;
mod parser;
mod print;
pub mod span;
mod verify;

pub use diagnostic::{Diagnostic, Error, Style};
pub use parser::{MAX_DEPTH, MAX_QUERY_BYTES};

/// Parses and verifies `source`: the query Elasticsearch would accept, or every reason it would
/// not (a syntax error stops at the first problem; semantic checks report them all).
pub fn parse(source: &str) -> Result<ast::Query, Error> {
    let query = parse_syntax(source)?;
    verify(&query)?;
    Ok(query)
}

/// Parses `source` without the semantic checks: the grammar only.
pub fn parse_syntax(source: &str) -> Result<ast::Query, Error> {
    parser::parse_syntax(source).map_err(|d| Error::new(vec![d]))
}

/// The semantic checks Elasticsearch applies after parsing (comparisons against fields,
/// function arity and argument kinds, `runs` and `maxspan` ranges, pattern literals, stage
/// counts, missing-event placement).
pub fn verify(query: &ast::Query) -> Result<(), Error> {
    let problems = verify::verify(query);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::new(problems))
    }
}
