//! Byte spans into the query text, and their translation to the `line:column` a person reads.
//!
//! Every token and every AST node carries a [`Span`] so that any later stage (the verifier, the
//! engine's compiler, rule validation) can point at the exact text it objects to.

use std::ops::Range;

/// A half-open byte range `start..end` into the query source.
///
/// Spans are positions, not meaning: two ASTs parsed from differently formatted text differ
/// only in their spans (compare them with [`crate::ast::Query::without_spans`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// The span `start..end`. Offsets saturate at `u32::MAX`; the parser refuses longer queries.
    pub fn new(start: usize, end: usize) -> Self {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span {
            start: clamp(start),
            end: clamp(end.max(start)),
        }
    }

    /// An empty span at `at`, used for "expected something here" errors.
    pub fn point(at: usize) -> Self {
        Span::new(at, at)
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl From<Range<usize>> for Span {
    fn from(r: Range<usize>) -> Self {
        Span::new(r.start, r.end)
    }
}

/// A 1-based line and column, as editors and Elasticsearch's own errors count them.
/// The column counts characters (Unicode scalar values), not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineColumn {
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for LineColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// The line and column of byte offset `at` in `source`. Offsets past the end, or inside a
/// multi-byte character, are moved back to the nearest character boundary.
pub fn line_column(source: &str, at: usize) -> LineColumn {
    let mut at = at.min(source.len());
    while !source.is_char_boundary(at) {
        at -= 1;
    }
    let before = &source[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    LineColumn { line, column }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_lines_and_characters() {
        let src = "ab\ncdé f\n";
        assert_eq!(line_column(src, 0), LineColumn { line: 1, column: 1 });
        assert_eq!(line_column(src, 2), LineColumn { line: 1, column: 3 });
        assert_eq!(line_column(src, 3), LineColumn { line: 2, column: 1 });
        // `é` is two bytes: the space after it is the fourth character of line 2.
        assert_eq!(line_column(src, 7), LineColumn { line: 2, column: 4 });
        // Inside `é`: moved back to its start.
        assert_eq!(line_column(src, 6), LineColumn { line: 2, column: 3 });
        assert_eq!(line_column(src, 100), LineColumn { line: 3, column: 1 });
    }

    #[test]
    fn spans_join_and_measure() {
        let a = Span::new(3, 5);
        let b = Span::new(8, 12);
        assert_eq!(a.to(b), Span::new(3, 12));
        assert_eq!(b.to(a), Span::new(3, 12));
        assert_eq!(a.len(), 2);
        assert!(Span::point(4).is_empty());
        assert_eq!(
            Span::new(5, 2),
            Span::new(5, 5),
            "an inverted range collapses"
        );
    }
}
