//! The KQL that threshold rules filter with, translated to an EQL condition.
//!
//! Kibana's threshold rules take a KQL (`kuery`) query, not EQL, so the pack's threshold twin
//! is written in KQL to export unchanged. Quarry evaluates it by translating the subset rules
//! need into an EQL `any where` query with the same meaning on keyword fields:
//!
//! | KQL | EQL |
//! |---|---|
//! | `field : "text"` (quoted: exact, no wildcards) | `field == "text"` |
//! | `field : text` / `field : 200` | `field == "text"` / `field == 200` |
//! | `field : te*t` (unquoted with `*`) | `field like "te*t"` |
//! | `field : *` | `field != null` |
//! | `field : ("a" or "b")`, `field : (a and b)` | `field in ("a", "b")`, both tests joined |
//! | `field > 5`, `<`, `>=`, `<=` | the same comparison |
//! | `a and b`, `a or b`, `not a`, `( ... )` | the same |
//!
//! Free-text terms without a field (searching every field) and nested-field syntax
//! (`field:{ ... }`) are refused with a clear error: no rule in the pack needs them.

use quarry_eql::ast;

/// A KQL problem at a byte offset of the query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at byte {offset})")]
pub struct KqlError {
    pub offset: usize,
    pub message: String,
}

/// A parsed KQL query.
#[derive(Debug, Clone, PartialEq)]
pub enum Kql {
    And(Vec<Kql>),
    Or(Vec<Kql>),
    Not(Box<Kql>),
    /// `field : values`, with the field's byte range in the query.
    Match {
        field: String,
        span: (usize, usize),
        values: ValueList,
    },
    /// `field : *`
    Exists {
        field: String,
        span: (usize, usize),
    },
    /// `field > value` and friends.
    Range {
        field: String,
        span: (usize, usize),
        op: &'static str,
        value: Term,
    },
}

/// The right side of `field : ...`: one term or a parenthesised list joined by `or` / `and`.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueList {
    One(Term),
    Any(Vec<Term>),
    All(Vec<Term>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The value: literal text, or for a wildcard term an EQL `like` pattern.
    pub text: String,
    pub quoted: bool,
    /// An unquoted term with an unescaped `*`.
    pub wildcard: bool,
}

/// Parses `source` as KQL.
pub fn parse(source: &str) -> Result<Kql, KqlError> {
    let tokens = lex(source)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        end: source.len(),
    };
    let q = p.or()?;
    if let Some(t) = p.peek() {
        return Err(p.error_at(t.start, format!("unexpected `{}`", t.text)));
    }
    Ok(q)
}

/// Parses `source` as KQL and translates it to `any where <condition>`.
pub fn to_eql(source: &str) -> Result<ast::Query, KqlError> {
    let kql = parse(source)?;
    let text = format!("any where {}", kql.to_eql());
    quarry_eql::parse(&text).map_err(|e| KqlError {
        offset: 0,
        message: format!(
            "translates to EQL that does not verify ({}): {text}",
            e.first().message
        ),
    })
}

impl Kql {
    /// Every field the query reads, with its byte range in the KQL text.
    pub fn fields(&self) -> Vec<(&str, (usize, usize))> {
        let mut out = Vec::new();
        self.collect_fields(&mut out);
        out
    }

    fn collect_fields<'a>(&'a self, out: &mut Vec<(&'a str, (usize, usize))>) {
        match self {
            Kql::And(xs) | Kql::Or(xs) => xs.iter().for_each(|x| x.collect_fields(out)),
            Kql::Not(x) => x.collect_fields(out),
            Kql::Match { field, span, .. }
            | Kql::Exists { field, span }
            | Kql::Range { field, span, .. } => out.push((field, *span)),
        }
    }

    /// The query as KQL text (values quoted; wildcard terms left bare).
    pub fn to_kql(&self) -> String {
        let term = |t: &Term| {
            // Wildcards and bare numbers are written bare; everything else quoted.
            if t.wildcard || (!t.quoted && literal_forms(t).len() == 2) {
                t.text.clone()
            } else {
                format!("\"{}\"", t.text.replace('\\', "\\\\").replace('"', "\\\""))
            }
        };
        let group = |k: &Kql| match k {
            Kql::And(_) | Kql::Or(_) => format!("({})", k.to_kql()),
            _ => k.to_kql(),
        };
        match self {
            Kql::And(xs) => xs.iter().map(group).collect::<Vec<_>>().join(" and "),
            Kql::Or(xs) => xs.iter().map(group).collect::<Vec<_>>().join(" or "),
            Kql::Not(x) => format!("not {}", group(x)),
            Kql::Exists { field, .. } => format!("{field} : *"),
            Kql::Range {
                field, op, value, ..
            } => format!("{field} {op} {}", term(value)),
            Kql::Match { field, values, .. } => match values {
                ValueList::One(t) => format!("{field} : {}", term(t)),
                ValueList::Any(ts) => format!(
                    "{field} : ({})",
                    ts.iter().map(term).collect::<Vec<_>>().join(" or ")
                ),
                ValueList::All(ts) => format!(
                    "{field} : ({})",
                    ts.iter().map(term).collect::<Vec<_>>().join(" and ")
                ),
            },
        }
    }

    /// The EQL condition with the same meaning.
    pub fn to_eql(&self) -> String {
        self.eql(false)
    }

    /// `guard`: under a `not`, where a test of a missing field must be false (Kibana's
    /// `must_not` keeps documents without the field) rather than EQL's null.
    fn eql(&self, guard: bool) -> String {
        match self {
            Kql::And(xs) => join(xs, " and ", guard),
            Kql::Or(xs) => join(xs, " or ", guard),
            Kql::Not(x) => format!("not ({})", x.eql(true)),
            Kql::Exists { field, .. } => format!("{} != null", eql_field(field)),
            Kql::Range {
                field, op, value, ..
            } => {
                let f = eql_field(field);
                let test = format!("{f} {op} {}", range_literal(value));
                guarded(&f, test, guard)
            }
            Kql::Match { field, values, .. } => {
                let f = eql_field(field);
                let test = match values {
                    ValueList::One(t) => term_test(&f, t),
                    ValueList::All(ts) => ts
                        .iter()
                        .map(|t| term_test(&f, t))
                        .collect::<Vec<_>>()
                        .join(" and "),
                    ValueList::Any(ts)
                        if ts
                            .iter()
                            .all(|t| !t.wildcard && literal_forms(t).len() == 1) =>
                    {
                        format!(
                            "{f} in ({})",
                            ts.iter()
                                .map(|t| quote(&t.text))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                    ValueList::Any(ts) => format!(
                        "({})",
                        ts.iter()
                            .map(|t| term_test(&f, t))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ),
                };
                guarded(&f, test, guard)
            }
        }
    }
}

fn guarded(field: &str, test: String, guard: bool) -> String {
    if guard {
        format!("({field} != null and {test})")
    } else {
        test
    }
}

fn join(xs: &[Kql], sep: &str, guard: bool) -> String {
    xs.iter()
        .map(|x| match x {
            Kql::And(_) | Kql::Or(_) => format!("({})", x.eql(guard)),
            _ => x.eql(guard),
        })
        .collect::<Vec<_>>()
        .join(sep)
}

/// The EQL literals an exact KQL value matches: an unquoted number matches a numeric field
/// by value and a keyword field by its text, as Kibana's field-typed query does.
fn literal_forms(t: &Term) -> Vec<String> {
    let number = t.text.parse::<i64>().is_ok() || t.text.parse::<f64>().is_ok_and(f64::is_finite);
    if !t.quoted && number {
        vec![t.text.clone(), quote(&t.text)]
    } else {
        vec![quote(&t.text)]
    }
}

fn term_test(field: &str, t: &Term) -> String {
    if t.wildcard {
        return format!("{field} like {}", quote(&t.text));
    }
    let forms = literal_forms(t);
    if forms.len() == 1 {
        format!("{field} == {}", forms[0])
    } else {
        format!(
            "({})",
            forms
                .iter()
                .map(|v| format!("{field} == {v}"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    }
}

/// A range bound: numbers stay numbers.
fn range_literal(t: &Term) -> String {
    literal_forms(t).swap_remove(0)
}

/// An EQL string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A field name as EQL writes it: backquoted unless every segment is an identifier.
pub fn eql_field(name: &str) -> String {
    let plain = name.split('.').all(|seg| {
        let mut chars = seg.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '@')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    }) && !name.starts_with('@');
    if plain {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: Tok,
    text: String,
    start: usize,
    /// A word with an unescaped `*`.
    wildcard: bool,
    /// A word with a `*` or `?` meant literally (an escaped `*`, or any `?`): EQL's `like`
    /// has no escape, so such a word cannot also hold a wildcard.
    literal_special: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Word,
    Quoted,
    Colon,
    Open,
    Close,
    Range(&'static str),
}

fn lex(source: &str) -> Result<Vec<Token>, KqlError> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b':' => {
                out.push(tok(Tok::Colon, ":", start));
                i += 1;
            }
            b'(' => {
                out.push(tok(Tok::Open, "(", start));
                i += 1;
            }
            b')' => {
                out.push(tok(Tok::Close, ")", start));
                i += 1;
            }
            b'{' | b'}' => {
                return Err(KqlError {
                    offset: start,
                    message: "nested-field queries (`field:{ ... }`) are not supported".into(),
                });
            }
            b'<' | b'>' => {
                let eq = bytes.get(i + 1) == Some(&b'=');
                let op = match (c, eq) {
                    (b'<', false) => "<",
                    (b'<', true) => "<=",
                    (b'>', false) => ">",
                    _ => ">=",
                };
                out.push(tok(Tok::Range(op), op, start));
                i += if eq { 2 } else { 1 };
            }
            b'"' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err(KqlError {
                                offset: start,
                                message: "unterminated quoted string".into(),
                            });
                        }
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\\') => {
                            let next = source[i + 1..].chars().next().ok_or(KqlError {
                                offset: i,
                                message: "a backslash ends the query".into(),
                            })?;
                            text.push(next);
                            i += 1 + next.len_utf8();
                        }
                        Some(_) => {
                            let ch = source[i..].chars().next().expect("in bounds");
                            text.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                out.push(Token {
                    kind: Tok::Quoted,
                    text,
                    start,
                    wildcard: false,
                    literal_special: false,
                });
            }
            _ => {
                let mut text = String::new();
                let (mut wildcard, mut literal_special) = (false, false);
                while i < bytes.len() {
                    let b = bytes[i];
                    if matches!(
                        b,
                        b' ' | b'\t' | b'\n' | b'\r' | b':' | b'(' | b')' | b'"' | b'<' | b'>'
                    ) {
                        break;
                    }
                    if b == b'\\' {
                        let next = source[i + 1..].chars().next().ok_or(KqlError {
                            offset: i,
                            message: "a backslash ends the query".into(),
                        })?;
                        literal_special |= next == '*' || next == '?';
                        text.push(next);
                        i += 1 + next.len_utf8();
                        continue;
                    }
                    let ch = source[i..].chars().next().expect("in bounds");
                    wildcard |= ch == '*';
                    literal_special |= ch == '?';
                    text.push(ch);
                    i += ch.len_utf8();
                }
                out.push(Token {
                    kind: Tok::Word,
                    text,
                    start,
                    wildcard,
                    literal_special,
                });
            }
        }
    }
    Ok(out)
}

fn tok(kind: Tok, text: &str, start: usize) -> Token {
    Token {
        kind,
        text: text.into(),
        start,
        wildcard: false,
        literal_special: false,
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> KqlError {
        KqlError {
            offset,
            message: message.into(),
        }
    }

    fn here(&self) -> usize {
        self.peek().map_or(self.end, |t| t.start)
    }

    fn keyword(&self, word: &str) -> bool {
        self.peek()
            .is_some_and(|t| t.kind == Tok::Word && t.text.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Kql, KqlError> {
        let mut items = vec![self.and()?];
        while self.keyword("or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one")
        } else {
            Kql::Or(items)
        })
    }

    fn and(&mut self) -> Result<Kql, KqlError> {
        let mut items = vec![self.not()?];
        while self.keyword("and") {
            self.pos += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one")
        } else {
            Kql::And(items)
        })
    }

    fn not(&mut self) -> Result<Kql, KqlError> {
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Kql::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Kql, KqlError> {
        let at = self.here();
        match self.next() {
            None => Err(self.error_at(at, "the query ends where a condition should be")),
            Some(t) if t.kind == Tok::Open => {
                let inner = self.or()?;
                match self.next() {
                    Some(c) if c.kind == Tok::Close => Ok(inner),
                    _ => Err(self.error_at(at, "this `(` is never closed")),
                }
            }
            Some(t) if t.kind == Tok::Word => {
                let field = t.text.clone();
                let span = (t.start, t.start + t.text.len());
                match self.next() {
                    Some(c) if c.kind == Tok::Colon => {}
                    Some(Token {
                        kind: Tok::Range(op),
                        ..
                    }) => {
                        let value = self.term()?;
                        return Ok(Kql::Range {
                            field,
                            span,
                            op,
                            value,
                        });
                    }
                    _ => {
                        return Err(self.error_at(
                            t.start,
                            format!(
                                "`{field}` has no field: Quarry runs `field : value` terms only, not free-text search"
                            ),
                        ));
                    }
                }
                if self
                    .peek()
                    .is_some_and(|t| t.kind == Tok::Word && t.text == "*")
                {
                    self.pos += 1;
                    return Ok(Kql::Exists { field, span });
                }
                let values = if self.peek().is_some_and(|t| t.kind == Tok::Open) {
                    let open = self.here();
                    self.pos += 1;
                    self.value_list(open)?
                } else {
                    ValueList::One(self.term()?)
                };
                Ok(Kql::Match {
                    field,
                    span,
                    values,
                })
            }
            Some(t) => Err(self.error_at(t.start, format!("unexpected `{}`", t.text))),
        }
    }

    fn term(&mut self) -> Result<Term, KqlError> {
        let at = self.here();
        match self.next() {
            Some(t) if t.kind == Tok::Quoted => Ok(Term {
                text: t.text,
                quoted: true,
                wildcard: false,
            }),
            Some(t) if t.kind == Tok::Word && t.wildcard && t.literal_special => Err(self.error_at(
                t.start,
                format!(
                    "`{}` mixes a wildcard `*` with a literal `*` or `?`, which EQL's `like` cannot express",
                    t.text
                ),
            )),
            Some(t) if t.kind == Tok::Word => Ok(Term {
                text: t.text,
                quoted: false,
                wildcard: t.wildcard,
            }),
            _ => Err(self.error_at(at, "expected a value")),
        }
    }

    /// `(v or v or ...)` or `(v and v ...)`, after the `(` at `open`.
    fn value_list(&mut self, open: usize) -> Result<ValueList, KqlError> {
        let mut terms = vec![self.term()?];
        let mut joiner: Option<&str> = None;
        loop {
            let at = self.here();
            match self.next() {
                Some(t) if t.kind == Tok::Close => break,
                Some(t)
                    if t.kind == Tok::Word
                        && (t.text.eq_ignore_ascii_case("or")
                            || t.text.eq_ignore_ascii_case("and")) =>
                {
                    let j = if t.text.eq_ignore_ascii_case("or") {
                        "or"
                    } else {
                        "and"
                    };
                    if joiner.is_some_and(|x| x != j) {
                        return Err(self.error_at(
                            t.start,
                            "mixing `and` and `or` in one value list; use parentheses around fields instead",
                        ));
                    }
                    joiner = Some(j);
                    terms.push(self.term()?);
                }
                None => return Err(self.error_at(open, "this value list is never closed")),
                Some(t) => {
                    return Err(self.error_at(
                        at,
                        format!("expected `or`, `and` or `)`, found `{}`", t.text),
                    ));
                }
            }
        }
        Ok(match (joiner, terms.len()) {
            (_, 1) => ValueList::One(terms.pop().expect("one")),
            (Some("and"), _) => ValueList::All(terms),
            _ => ValueList::Any(terms),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eql(kql: &str) -> String {
        parse(kql).unwrap().to_eql()
    }

    #[test]
    fn translations() {
        let cases = [
            (
                r#"event.action : "page_viewed""#,
                r#"event.action == "page_viewed""#,
            ),
            (
                "event.action:page_viewed",
                r#"event.action == "page_viewed""#,
            ),
            (
                "http.response.status_code : 200",
                r#"(http.response.status_code == 200 or http.response.status_code == "200")"#,
            ),
            // Escapes: a literal `*` is an exact value; `?` is not a KQL wildcard.
            (r"event.action : page\*", r#"event.action == "page*""#),
            (
                "event.action : page_view?d",
                r#"event.action == "page_view?d""#,
            ),
            ("url.path : /rest/api/*", r#"url.path like "/rest/api/*""#),
            (
                r#"url.path : "/rest/api/*""#,
                r#"url.path == "/rest/api/*""#,
            ),
            ("user.name : *", "user.name != null"),
            (r#"a : ("x" or "y")"#, r#"a in ("x", "y")"#),
            ("a : (x* or y)", r#"(a like "x*" or a == "y")"#),
            ("a : (x and y)", r#"a == "x" and a == "y""#),
            // Under `not`, a missing field is not a match (Kibana's must_not keeps it).
            ("not a : x", r#"not ((a != null and a == "x"))"#),
            (
                "not (a : x or b : *)",
                r#"not ((a != null and a == "x") or b != null)"#,
            ),
            (
                "a : x or b : y and c : z",
                r#"a == "x" or (b == "y" and c == "z")"#,
            ),
            (
                "(a : x or b : y) and c : z",
                r#"(a == "x" or b == "y") and c == "z""#,
            ),
            ("bytes >= 1000", "bytes >= 1000"),
            (
                "not bytes >= 1000",
                "not ((bytes != null and bytes >= 1000))",
            ),
            (r#"a : "say \"hi\"""#, r#"a == "say \"hi\"""#),
        ];
        for (kql, expected) in cases {
            assert_eq!(eql(kql), expected, "{kql}");
            to_eql(kql).unwrap_or_else(|e| panic!("{kql}: {e}"));
            // Printing KQL back keeps the meaning.
            let printed = parse(kql).unwrap().to_kql();
            assert_eq!(eql(&printed), expected, "{kql} printed as {printed}");
        }
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases = [
            ("password", 0, "has no field"),
            ("a : x and", 9, "ends where a condition"),
            ("a : (x or y", 4, "never closed"),
            (r#"a : "x"#, 4, "unterminated"),
            ("a : (x or y and z)", 12, "mixing"),
            ("a:{ b : c }", 2, "nested-field"),
            ("(a : x", 0, "never closed"),
            (r"a : x*\*", 4, "mixes a wildcard"),
            ("a : x*?", 4, "mixes a wildcard"),
        ];
        for (kql, offset, message) in cases {
            let e = parse(kql).unwrap_err();
            assert_eq!(e.offset, offset, "{kql}: {e}");
            assert!(e.message.contains(message), "{kql}: {e}");
        }
    }

    #[test]
    fn fields_have_spans() {
        let q = parse("event.dataset : x and user.name : *").unwrap();
        assert_eq!(
            q.fields(),
            vec![("event.dataset", (0, 13)), ("user.name", (22, 31))]
        );
    }

    #[test]
    fn field_names_that_need_backquotes() {
        assert_eq!(eql_field("user.name"), "user.name");
        assert_eq!(eql_field("@timestamp"), "`@timestamp`");
        assert_eq!(eql_field("user-agent.x"), "`user-agent.x`");
    }
}
