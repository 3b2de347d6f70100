//! Turns query text into tokens, following the token rules of Elasticsearch's EQL grammar.
//!
//! Keywords are lowercase only (`AND` is a field name, as in Elasticsearch). String escapes are
//! decoded here so that the parser and everything after it see values, not spellings.

use crate::diagnostic::Diagnostic;
use crate::span::Span;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    /// A bare name: field, category, function, pipe or time unit.
    Ident(String),
    /// `` `name` ``, with doubled backticks decoded.
    QuotedIdent(String),
    /// `name~`: a case-insensitive function name (the `~` is not included).
    TildeIdent(String),
    /// A decoded string literal.
    String(String),
    /// Digits, as written (converted by the parser, which knows whether a `-` precedes them).
    Integer(String),
    /// A decimal or exponent number, as written.
    Decimal(String),
    Keyword(Keyword),
    /// `:`
    Colon,
    /// `=`
    Assign,
    /// `==`
    Eq,
    /// `!=`
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Dot,
    Comma,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Pipe,
    /// `?` before a field name.
    Question,
    /// `![`, which opens a missing-event stage.
    MissingOpen,
    Eof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    And,
    Any,
    By,
    False,
    In,
    InInsensitive,
    Join,
    Like,
    LikeInsensitive,
    Maxspan,
    Not,
    Null,
    Of,
    Or,
    Regex,
    RegexInsensitive,
    Sample,
    Sequence,
    True,
    Until,
    Where,
    With,
}

impl Keyword {
    pub(crate) fn text(self) -> &'static str {
        match self {
            Keyword::And => "and",
            Keyword::Any => "any",
            Keyword::By => "by",
            Keyword::False => "false",
            Keyword::In => "in",
            Keyword::InInsensitive => "in~",
            Keyword::Join => "join",
            Keyword::Like => "like",
            Keyword::LikeInsensitive => "like~",
            Keyword::Maxspan => "maxspan",
            Keyword::Not => "not",
            Keyword::Null => "null",
            Keyword::Of => "of",
            Keyword::Or => "or",
            Keyword::Regex => "regex",
            Keyword::RegexInsensitive => "regex~",
            Keyword::Sample => "sample",
            Keyword::Sequence => "sequence",
            Keyword::True => "true",
            Keyword::Until => "until",
            Keyword::Where => "where",
            Keyword::With => "with",
        }
    }

    const ALL: [Keyword; 22] = [
        Keyword::And,
        Keyword::Any,
        Keyword::By,
        Keyword::False,
        Keyword::In,
        Keyword::InInsensitive,
        Keyword::Join,
        Keyword::Like,
        Keyword::LikeInsensitive,
        Keyword::Maxspan,
        Keyword::Not,
        Keyword::Null,
        Keyword::Of,
        Keyword::Or,
        Keyword::Regex,
        Keyword::RegexInsensitive,
        Keyword::Sample,
        Keyword::Sequence,
        Keyword::True,
        Keyword::Until,
        Keyword::Where,
        Keyword::With,
    ];

    /// The keyword spelled exactly `text` (keywords are case-sensitive).
    pub(crate) fn from_text(text: &str) -> Option<Keyword> {
        Keyword::ALL.into_iter().find(|k| k.text() == text)
    }

    /// The keyword `text` spells in another case (`AND`, `Where`), for a hint.
    pub(crate) fn from_text_ignoring_case(text: &str) -> Option<Keyword> {
        Keyword::ALL
            .into_iter()
            .find(|k| k.text().eq_ignore_ascii_case(text))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

impl TokenKind {
    /// How a message names this token: `` `==` ``, `` `where` ``, `string "a"`, `end of query`.
    pub(crate) fn describe(&self) -> String {
        match self {
            TokenKind::Ident(s) => format!("`{s}`"),
            TokenKind::QuotedIdent(s) => format!("field `{s}`"),
            TokenKind::TildeIdent(s) => format!("`{s}~`"),
            TokenKind::String(s) => {
                let shown: String = s.chars().take(40).collect();
                if shown.len() < s.len() {
                    format!("string \"{shown}...\"")
                } else {
                    format!("string \"{shown}\"")
                }
            }
            TokenKind::Integer(s) | TokenKind::Decimal(s) => format!("number `{s}`"),
            TokenKind::Keyword(k) => format!("`{}`", k.text()),
            TokenKind::Eof => "end of query".to_string(),
            other => format!("`{}`", other.punctuation()),
        }
    }

    fn punctuation(&self) -> &'static str {
        match self {
            TokenKind::Colon => ":",
            TokenKind::Assign => "=",
            TokenKind::Eq => "==",
            TokenKind::NotEq => "!=",
            TokenKind::Lt => "<",
            TokenKind::LtEq => "<=",
            TokenKind::Gt => ">",
            TokenKind::GtEq => ">=",
            TokenKind::Plus => "+",
            TokenKind::Minus => "-",
            TokenKind::Star => "*",
            TokenKind::Slash => "/",
            TokenKind::Percent => "%",
            TokenKind::Dot => ".",
            TokenKind::Comma => ",",
            TokenKind::LBracket => "[",
            TokenKind::RBracket => "]",
            TokenKind::LParen => "(",
            TokenKind::RParen => ")",
            TokenKind::Pipe => "|",
            TokenKind::Question => "?",
            TokenKind::MissingOpen => "![",
            _ => "",
        }
    }
}

/// Splits `source` into tokens, ending with [`TokenKind::Eof`]. Comments and whitespace are
/// dropped. The first lexical error stops the scan.
pub(crate) fn tokenize(source: &str) -> Result<Vec<Token>, Diagnostic> {
    let mut lexer = Lexer {
        src: source,
        bytes: source.as_bytes(),
        pos: 0,
    };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let end = token.kind == TokenKind::Eof;
        tokens.push(token);
        if end {
            return Ok(tokens);
        }
    }
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    fn error(&self, start: usize, end: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Span::new(start, end), message)
    }

    fn skip_trivia(&mut self) -> Result<(), Diagnostic> {
        loop {
            match (self.peek_at(0), self.peek_at(1)) {
                (Some(b' ' | b'\t' | b'\r' | b'\n'), _) => self.pos += 1,
                (Some(b'/'), Some(b'/')) => {
                    while let Some(b) = self.peek_at(0) {
                        if b == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                (Some(b'/'), Some(b'*')) => self.skip_block_comment()?,
                _ => return Ok(()),
            }
        }
    }

    /// Skips a `/* ... */` comment; comments nest, as in Elasticsearch's grammar.
    fn skip_block_comment(&mut self) -> Result<(), Diagnostic> {
        let start = self.pos;
        let mut depth = 0usize;
        while self.pos < self.bytes.len() {
            if self.bytes[self.pos..].starts_with(b"/*") {
                depth += 1;
                self.pos += 2;
            } else if self.bytes[self.pos..].starts_with(b"*/") {
                depth -= 1;
                self.pos += 2;
                if depth == 0 {
                    return Ok(());
                }
            } else {
                self.pos += 1;
            }
        }
        Err(self
            .error(start, start + 2, "unterminated comment")
            .with_label("this `/*` has no matching `*/`"))
    }

    fn next_token(&mut self) -> Result<Token, Diagnostic> {
        self.skip_trivia()?;
        let start = self.pos;
        let Some(c) = self.peek_at(0) else {
            return Ok(Token {
                kind: TokenKind::Eof,
                span: Span::point(start),
            });
        };
        let two = |a: u8, b: u8| c == a && self.peek_at(1) == Some(b);
        let (kind, len) = match c {
            b'"' => return self.string(),
            b'\'' => return Err(self.single_quoted(start)),
            b'`' => return self.quoted_ident(),
            b'0'..=b'9' => return Ok(self.number()),
            b'.' if self.peek_at(1).is_some_and(|b| b.is_ascii_digit()) => {
                return Ok(self.number());
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'@' => return Ok(self.word()),
            _ if two(b'=', b'=') => (TokenKind::Eq, 2),
            _ if two(b'!', b'=') => (TokenKind::NotEq, 2),
            _ if two(b'!', b'[') => (TokenKind::MissingOpen, 2),
            _ if two(b'<', b'=') => (TokenKind::LtEq, 2),
            _ if two(b'>', b'=') => (TokenKind::GtEq, 2),
            _ if two(b'&', b'&') => {
                return Err(self
                    .error(start, start + 2, "`&&` is not an EQL operator")
                    .with_help("use `and`"));
            }
            _ if two(b'|', b'|') => {
                return Err(self
                    .error(start, start + 2, "`||` is not an EQL operator")
                    .with_help("use `or`"));
            }
            _ if two(b'<', b'>') => {
                return Err(self
                    .error(start, start + 2, "`<>` is not an EQL operator")
                    .with_help("use `!=`"));
            }
            b'=' => (TokenKind::Assign, 1),
            b'<' => (TokenKind::Lt, 1),
            b'>' => (TokenKind::Gt, 1),
            b':' => (TokenKind::Colon, 1),
            b'+' => (TokenKind::Plus, 1),
            b'-' => (TokenKind::Minus, 1),
            b'*' => (TokenKind::Star, 1),
            b'/' => (TokenKind::Slash, 1),
            b'%' => (TokenKind::Percent, 1),
            b'.' => (TokenKind::Dot, 1),
            b',' => (TokenKind::Comma, 1),
            b'[' => (TokenKind::LBracket, 1),
            b']' => (TokenKind::RBracket, 1),
            b'(' => (TokenKind::LParen, 1),
            b')' => (TokenKind::RParen, 1),
            b'|' => (TokenKind::Pipe, 1),
            b'?' if matches!(self.peek_at(1), Some(b'"' | b'\'')) => {
                let quote = self.peek_at(1).map_or('"', char::from);
                return Err(self
                    .error(
                        start,
                        start + 2,
                        format!("`?{quote}...{quote}` is not a raw string in Elasticsearch EQL"),
                    )
                    .with_help("write raw strings in triple double quotes: \"\"\"...\"\"\""));
            }
            b'?' => (TokenKind::Question, 1),
            b'!' => {
                return Err(self
                    .error(start, start + 1, "unexpected `!`")
                    .with_help("use `not` to negate, `!=` for inequality, or `![` to open a missing-event stage"));
            }
            _ => {
                let ch = self.src[start..].chars().next().unwrap_or('\u{fffd}');
                let mut d = self.error(
                    start,
                    start + ch.len_utf8(),
                    format!("unexpected character `{}`", ch.escape_debug()),
                );
                if !ch.is_ascii() && ch.is_alphabetic() {
                    d = d.with_help(
                        "field names with non-ASCII letters must be escaped with backticks: `name`",
                    );
                }
                return Err(d);
            }
        };
        self.pos += len;
        Ok(Token {
            kind,
            span: Span::new(start, self.pos),
        })
    }

    /// An identifier, a keyword, or a `name~` function name.
    fn word(&mut self) -> Token {
        let start = self.pos;
        self.pos += 1;
        while let Some(b) = self.peek_at(0) {
            if b.is_ascii_alphanumeric() || b == b'_' {
                self.pos += 1;
            } else {
                break;
            }
        }
        let text = &self.src[start..self.pos];
        // `name~` (a case-insensitive function, or `in~`, `like~`, `regex~`) starts with a letter.
        if self.peek_at(0) == Some(b'~') && self.bytes[start].is_ascii_alphabetic() {
            self.pos += 1;
            let kind = match text {
                "in" => TokenKind::Keyword(Keyword::InInsensitive),
                "like" => TokenKind::Keyword(Keyword::LikeInsensitive),
                "regex" => TokenKind::Keyword(Keyword::RegexInsensitive),
                _ => TokenKind::TildeIdent(text.to_string()),
            };
            return Token {
                kind,
                span: Span::new(start, self.pos),
            };
        }
        let kind = match Keyword::from_text(text) {
            Some(k) => TokenKind::Keyword(k),
            None => TokenKind::Ident(text.to_string()),
        };
        Token {
            kind,
            span: Span::new(start, self.pos),
        }
    }

    /// `INTEGER_VALUE` or `DECIMAL_VALUE`: `12`, `1.5`, `1.`, `.5`, `1e3`, `2.5E-3`.
    fn number(&mut self) -> Token {
        let start = self.pos;
        let digits = |lexer: &mut Self| {
            let from = lexer.pos;
            while lexer.peek_at(0).is_some_and(|b| b.is_ascii_digit()) {
                lexer.pos += 1;
            }
            lexer.pos - from
        };
        let int_digits = digits(self);
        let mut decimal = false;
        if self.peek_at(0) == Some(b'.') {
            // Longest match, as in Elasticsearch's lexer: `1.` is a decimal, `1.x` is `1.` `x`.
            let frac_follows = self.peek_at(1).is_some_and(|b| b.is_ascii_digit());
            if int_digits > 0 || frac_follows {
                self.pos += 1;
                digits(self);
                decimal = true;
            }
        }
        // An exponent only counts when digits follow it (`1e` is `1` then the name `e`).
        if matches!(self.peek_at(0), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(self.peek_at(1), Some(b'+' | b'-')));
            if self.peek_at(1 + sign).is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1 + sign;
                digits(self);
                decimal = true;
            }
        }
        let text = self.src[start..self.pos].to_string();
        Token {
            kind: if decimal {
                TokenKind::Decimal(text)
            } else {
                TokenKind::Integer(text)
            },
            span: Span::new(start, self.pos),
        }
    }

    /// `` `field name` ``: any characters but a backtick, which is written twice.
    fn quoted_ident(&mut self) -> Result<Token, Diagnostic> {
        let start = self.pos;
        self.pos += 1;
        let mut name = String::new();
        loop {
            match self.src[self.pos..].find('`') {
                None => {
                    return Err(self
                        .error(start, start + 1, "unterminated escaped field name")
                        .with_label("this backtick is never closed"));
                }
                Some(i) => {
                    name.push_str(&self.src[self.pos..self.pos + i]);
                    self.pos += i + 1;
                    if self.peek_at(0) == Some(b'`') {
                        name.push('`');
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
            }
        }
        if name.is_empty() {
            return Err(self.error(start, self.pos, "empty escaped field name"));
        }
        Ok(Token {
            kind: TokenKind::QuotedIdent(name),
            span: Span::new(start, self.pos),
        })
    }

    fn single_quoted(&self, start: usize) -> Diagnostic {
        // Find the closing quote on the same line, to underline the whole literal.
        let rest = &self.src[start + 1..];
        let end = rest
            .find(['\'', '\n'])
            .map_or(self.src.len(), |i| start + 1 + i + 1)
            .min(self.src.len());
        self.error(
            start,
            end,
            "single quotes are not allowed for strings; use double quotes",
        )
        .with_help("EQL strings are written \"...\", or \"\"\"...\"\"\" for raw strings")
    }

    /// A `"..."` string with escapes, or a `"""..."""` raw string.
    fn string(&mut self) -> Result<Token, Diagnostic> {
        let start = self.pos;
        if self.bytes[start..].starts_with(b"\"\"\"") {
            return self.raw_string();
        }
        self.pos += 1;
        let mut value = String::new();
        loop {
            // Copy the run of plain characters in one step.
            let rest = &self.src[self.pos..];
            let run = rest.find(['"', '\\', '\n', '\r']).unwrap_or(rest.len());
            value.push_str(&rest[..run]);
            self.pos += run;
            match self.peek_at(0) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Token {
                        kind: TokenKind::String(value),
                        span: Span::new(start, self.pos),
                    });
                }
                Some(b'\\') => value.push(self.escape()?),
                Some(_) | None => {
                    return Err(self
                        .error(start, start + 1, "unterminated string")
                        .with_label(if self.pos < self.bytes.len() {
                            "this string is not closed before the end of the line"
                        } else {
                            "this string is not closed before the end of the query"
                        })
                        .with_help(
                            "strings cannot span lines; write `\\n`, or use a raw string \"\"\"...\"\"\"",
                        ));
                }
            }
        }
    }

    /// Decodes the escape sequence at `self.pos` (which holds the backslash).
    fn escape(&mut self) -> Result<char, Diagnostic> {
        let start = self.pos;
        let Some(next) = self.src[start + 1..].chars().next() else {
            return Err(self.error(start, start + 1, "unterminated string"));
        };
        let simple = match next {
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            '"' => Some('"'),
            '\'' => Some('\''),
            '\\' => Some('\\'),
            _ => None,
        };
        if let Some(c) = simple {
            self.pos += 2;
            return Ok(c);
        }
        if next == 'u' {
            return self.unicode_escape();
        }
        let end = start + 1 + next.len_utf8();
        Err(self
            .error(
                start,
                end,
                format!("invalid escape sequence `\\{}`", next.escape_debug()),
            )
            .with_help("valid escapes are \\n \\r \\t \\b \\f \\\" \\' \\\\ and \\u{XXXX}; for backslash-heavy text use a raw string \"\"\"...\"\"\""))
    }

    /// `\u{X..}`: 2 to 8 hexadecimal digits naming a Unicode scalar value.
    fn unicode_escape(&mut self) -> Result<char, Diagnostic> {
        let start = self.pos;
        let help = "write a Unicode escape as \\u{XXXX}: 2 to 8 hexadecimal digits in braces";
        if self.peek_at(2) != Some(b'{') {
            return Err(self
                .error(start, start + 2, "invalid Unicode escape")
                .with_help(help));
        }
        let digits_start = start + 3;
        let digits_len = self.bytes[digits_start..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        let close = digits_start + digits_len;
        if self.bytes.get(close) != Some(&b'}') {
            let end = (close + 1).min(self.bytes.len());
            let end = if self.src.is_char_boundary(end) {
                end
            } else {
                close
            };
            return Err(self
                .error(start, end, "invalid Unicode escape")
                .with_help(help));
        }
        let end = close + 1;
        if !(2..=8).contains(&digits_len) {
            return Err(self
                .error(
                    start,
                    end,
                    format!("Unicode escape needs 2 to 8 hexadecimal digits, found {digits_len}"),
                )
                .with_help(help));
        }
        let code = u32::from_str_radix(&self.src[digits_start..close], 16).unwrap_or(u32::MAX);
        match char::from_u32(code) {
            Some(c) => {
                self.pos = end;
                Ok(c)
            }
            None => Err(self.error(
                start,
                end,
                format!("`\\u{{{:X}}}` is not a Unicode scalar value", code),
            )),
        }
    }

    /// `"""..."""`: no escapes, no line breaks; ends at the first `"""`, which may be followed by
    /// up to two more quotes that belong to the value (`"""a""""` is `a"`).
    fn raw_string(&mut self) -> Result<Token, Diagnostic> {
        let start = self.pos;
        let content_start = start + 3;
        let rest = &self.src[content_start..];
        let close_at = rest.find("\"\"\"");
        let line_break = rest.find(['\n', '\r']);
        let Some(i) = close_at.filter(|&i| line_break.is_none_or(|nl| i < nl)) else {
            return Err(self
                .error(start, content_start, "unterminated raw string")
                .with_label(if line_break.is_some() {
                    "this `\"\"\"` is not closed before the end of the line"
                } else {
                    "this `\"\"\"` is never closed"
                })
                .with_help("raw strings cannot span lines"));
        };
        let mut close = content_start + i;
        // As in Elasticsearch's grammar (`'"""' .*? '"""' '"'? '"'?`), up to two quotes right
        // after the closing triple belong to the value.
        let mut extra = 0;
        while extra < 2 && self.bytes.get(close + 3) == Some(&b'"') {
            close += 1;
            extra += 1;
        }
        let value = self.src[content_start..close].to_string();
        self.pos = close + 3;
        Ok(Token {
            kind: TokenKind::String(value),
            span: Span::new(start, self.pos),
        })
    }
}
