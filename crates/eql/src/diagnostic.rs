//! Errors a person can act on: a message, the exact span it is about, and a hint where one helps.
//!
//! The parser stops at the first syntax error; the verifier reports every problem it finds (as
//! Elasticsearch does, "Found 2 problems"). Both produce [`Diagnostic`]s, collected in an
//! [`Error`]. Rendering to text (the source line with a caret under the offending token) is done
//! here with `annotate-snippets`, but printing is the caller's business.

use std::fmt;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::span::{LineColumn, Span, line_column};

/// One problem in a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What is wrong, in one sentence without a trailing period.
    pub message: String,
    /// The text the message is about. Empty spans point between two characters
    /// ("expected `]` here").
    pub span: Span,
    /// A short note printed under the caret, when the message alone is not enough.
    pub label: Option<String>,
    /// How to fix it, when we can tell (`did you mean `==`?`).
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            span,
            label: None,
            help: None,
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Where the diagnostic starts, as `line:column` in `source`.
    pub fn line_column(&self, source: &str) -> LineColumn {
        line_column(source, self.span.start as usize)
    }
}

/// How [`Error::render`] styles its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// Plain text, for files, logs and tests.
    #[default]
    Plain,
    /// ANSI colours, for terminals.
    Color,
}

/// A query that could not be accepted, with every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Error {
    diagnostics: Vec<Diagnostic>,
}

impl Error {
    /// An error holding `diagnostics`, which must not be empty.
    pub(crate) fn new(diagnostics: Vec<Diagnostic>) -> Self {
        debug_assert!(!diagnostics.is_empty());
        Error { diagnostics }
    }

    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// An error holding `diagnostics`, or `None` when there are none: for callers that
    /// collect their own problems (rule files) and render them as query errors are rendered.
    pub fn from_diagnostics(diagnostics: Vec<Diagnostic>) -> Option<Error> {
        (!diagnostics.is_empty()).then_some(Error { diagnostics })
    }

    /// The first problem: for a syntax error, the only one.
    pub fn first(&self) -> &Diagnostic {
        &self.diagnostics[0]
    }

    /// Every diagnostic as `origin:line:column: message` lines, followed by the source line and a
    /// caret under the offending text, as compilers print them. `origin` names where the query
    /// came from (a file name, or `query` for a command-line argument).
    pub fn render(&self, source: &str, origin: &str, style: Style) -> String {
        let renderer = match style {
            Style::Plain => Renderer::plain(),
            Style::Color => Renderer::styled(),
        };
        let mut out = String::new();
        for diagnostic in &self.diagnostics {
            let span = clamp_to_source(diagnostic.span, source);
            let mut annotation = AnnotationKind::Primary.span(span);
            if let Some(label) = &diagnostic.label {
                annotation = annotation.label(label.as_str());
            }
            let mut group = Level::ERROR
                .primary_title(diagnostic.message.as_str())
                .element(
                    Snippet::source(source)
                        .line_start(1)
                        .path(origin)
                        .annotation(annotation),
                );
            if let Some(help) = &diagnostic.help {
                group = group.element(Level::HELP.message(help.as_str()));
            }
            let report: [Group<'_>; 1] = [group];
            out.push_str(&renderer.render(&report));
            out.push('\n');
        }
        if self.diagnostics.len() > 1 {
            out.push_str(&format!(
                "error: found {} problems in the query\n",
                self.diagnostics.len()
            ));
        }
        out
    }
}

impl From<Diagnostic> for Error {
    fn from(diagnostic: Diagnostic) -> Self {
        Error::new(vec![diagnostic])
    }
}

impl fmt::Display for Error {
    /// The first message only, without position: `render` is the full form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first = self.first();
        write!(f, "{}", first.message)?;
        if let Some(help) = &first.help {
            write!(f, " ({help})")?;
        }
        if self.diagnostics.len() > 1 {
            write!(f, " (and {} more problems)", self.diagnostics.len() - 1)?;
        }
        Ok(())
    }
}

/// `span` moved onto character boundaries inside `source`, which the renderer requires.
fn clamp_to_source(span: Span, source: &str) -> std::ops::Range<usize> {
    let fix = |mut at: usize| {
        at = at.min(source.len());
        while !source.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let range = span.range();
    fix(range.start)..fix(range.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_shows_position_source_line_caret_and_help() {
        let source = "process where a = 1";
        let error = Error::new(vec![
            Diagnostic::new(Span::new(16, 17), "unexpected `=`")
                .with_label("not an operator")
                .with_help("did you mean `==`?"),
        ]);
        let text = error.render(source, "query", Style::Plain);
        let expected = "\
error: unexpected `=`
 --> query:1:17
  |
1 | process where a = 1
  |                 ^ not an operator
  |
  = help: did you mean `==`?
";
        assert_eq!(text, expected, "got:\n{text}");
    }

    #[test]
    fn render_counts_several_problems() {
        let source = "a\nbb";
        let error = Error::new(vec![
            Diagnostic::new(Span::new(0, 1), "first"),
            Diagnostic::new(Span::new(2, 4), "second"),
        ]);
        let text = error.render(source, "q.eql", Style::Plain);
        assert!(text.contains(" --> q.eql:1:1"), "{text}");
        assert!(text.contains(" --> q.eql:2:1"), "{text}");
        assert!(
            text.ends_with("error: found 2 problems in the query\n"),
            "{text}"
        );
        assert_eq!(error.to_string(), "first (and 1 more problems)");
    }

    #[test]
    fn render_survives_spans_off_the_end_and_inside_characters() {
        let source = "é";
        let error = Error::new(vec![Diagnostic::new(Span::new(1, 9), "odd")]);
        let text = error.render(source, "query", Style::Plain);
        assert!(text.contains("query:1:1"), "{text}");
    }
}
