//! Recursive-descent parser for Elasticsearch's EQL grammar.
//!
//! The structure mirrors the grammar's precedence levels, loosest first:
//!
//! ```text
//! or  >  and  >  not  >  comparison (==, !=, <, <=, >, >=; never chained)
//!     >  + -  >  * / %  >  unary - +  >  primary [predicate]
//! ```
//!
//! A predicate (`in`, `not in`, `in~`, `:`, `like`, `like~`, `regex`, `regex~`) binds to the
//! primary just before it, exactly as in Elasticsearch: `a + b in (1)` is `a + (b in (1))`.
//!
//! The parser stops at the first syntax error. It limits nesting depth so that no input, however
//! hostile, can overflow the stack of the parser or of anything that walks the tree afterwards.

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::function::Function;
use crate::lexer::{Keyword, Token, TokenKind, tokenize};
use crate::span::Span;

/// How deep parentheses, `not`, unary signs, function calls and arithmetic chains may nest.
/// Elasticsearch stops at 200 levels of any one grammar rule; we count all of them together.
pub const MAX_DEPTH: usize = 200;

/// When less stack than this remains at a recursion point, continue on a new segment of
/// [`STACK_SEGMENT`] bytes (see the `stacker` crate).
pub(crate) const STACK_RED_ZONE: usize = 128 * 1024;
pub(crate) const STACK_SEGMENT: usize = 2 * 1024 * 1024;

/// The longest query text accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 8 << 20;

/// Binding power of each level, loosest first. The printer parenthesizes by the same numbers,
/// which is what makes `parse(print(q)) == q` hold.
pub(crate) const BP_OR: u8 = 1;
pub(crate) const BP_AND: u8 = 2;
pub(crate) const BP_NOT: u8 = 3;
pub(crate) const BP_COMPARE: u8 = 4;
pub(crate) const BP_ADD: u8 = 5;
pub(crate) const BP_MUL: u8 = 6;
pub(crate) const BP_UNARY: u8 = 7;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Infix {
    Or,
    And,
    Compare(CompareOp),
    Arithmetic(ArithmeticOp),
}

impl Infix {
    fn binding_power(self) -> u8 {
        match self {
            Infix::Or => BP_OR,
            Infix::And => BP_AND,
            Infix::Compare(_) => BP_COMPARE,
            Infix::Arithmetic(op) if op.precedence() == 1 => BP_ADD,
            Infix::Arithmetic(_) => BP_MUL,
        }
    }
}

#[cold]
fn assign_is_not_equality(at: Span) -> Diagnostic {
    Diagnostic::new(at, "`=` is not a comparison operator").with_help("did you mean `==`?")
}

#[cold]
fn chained_comparison(at: Span, first: CompareOp, second: CompareOp) -> Diagnostic {
    Diagnostic::new(at, "comparisons cannot be chained")
        .with_label(format!("second comparison `{}`", second.symbol()))
        .with_help(format!(
            "compare twice and join with `and`: `a {} b and b {} c`",
            first.symbol(),
            second.symbol()
        ))
}

/// Parses `source` into a syntax tree, without the semantic checks of [`crate::verify`].
pub fn parse_syntax(source: &str) -> Result<Query, Diagnostic> {
    if source.len() > MAX_QUERY_BYTES {
        return Err(Diagnostic::new(
            Span::new(MAX_QUERY_BYTES, source.len()),
            format!(
                "query is {} bytes long; the limit is {} bytes",
                source.len(),
                MAX_QUERY_BYTES
            ),
        ));
    }
    let tokens = tokenize(source)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    parser.statement()
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

type PResult<T> = Result<T, Diagnostic>;

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn peek_kind(&self) -> &TokenKind {
        &self.tokens[self.pos].kind
    }

    fn peek_nth(&self, n: usize) -> &TokenKind {
        let i = (self.pos + n).min(self.tokens.len() - 1);
        &self.tokens[i].kind
    }

    fn next(&mut self) -> Token {
        let token = self.tokens[self.pos].clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn at_keyword(&self, k: Keyword) -> bool {
        *self.peek_kind() == TokenKind::Keyword(k)
    }

    fn eat_keyword(&mut self, k: Keyword) -> Option<Span> {
        if self.at_keyword(k) {
            Some(self.next().span)
        } else {
            None
        }
    }

    fn eat(&mut self, kind: &TokenKind) -> Option<Span> {
        if self.peek_kind() == kind {
            Some(self.next().span)
        } else {
            None
        }
    }

    /// The span of the previous token (or an empty span at the start).
    fn prev_span(&self) -> Span {
        if self.pos == 0 {
            Span::point(0)
        } else {
            self.tokens[self.pos - 1].span
        }
    }

    /// "expected X, found Y" at the current token, with hints for common slips.
    fn unexpected(&self, expected: &str) -> Diagnostic {
        let token = self.peek();
        let mut d = Diagnostic::new(
            token.span,
            format!("expected {expected}, found {}", token.kind.describe()),
        );
        if let Some(help) = self.hint_for_current() {
            d = d.with_help(help);
        }
        d
    }

    /// A hint for the most common reasons the current token is out of place.
    fn hint_for_current(&self) -> Option<String> {
        // A keyword typed in upper or mixed case lexes as a name: `a == 1 AND b == 2`.
        if self.pos > 0
            && let TokenKind::Ident(prev) = &self.tokens[self.pos - 1].kind
            && let Some(k) = Keyword::from_text_ignoring_case(prev)
        {
            return Some(format!(
                "keywords are lowercase: did you mean `{}` instead of `{prev}`?",
                k.text()
            ));
        }
        if let TokenKind::Ident(word) = self.peek_kind()
            && let Some(k) = Keyword::from_text_ignoring_case(word)
        {
            return Some(format!(
                "keywords are lowercase: did you mean `{}`?",
                k.text()
            ));
        }
        match self.peek_kind() {
            TokenKind::Assign => Some("did you mean `==`?".to_string()),
            TokenKind::Keyword(k) => Some(format!(
                "`{0}` is a keyword; to use it as a field name, escape it with backticks: `{0}`",
                k.text()
            )),
            _ => None,
        }
    }

    /// Enters one level of nesting, refusing to go past [`MAX_DEPTH`].
    fn enter(&mut self, at: Span) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Diagnostic::new(
                at,
                format!("query is nested too deeply (more than {MAX_DEPTH} levels)"),
            )
            .with_help("simplify the expression, for example by removing redundant parentheses"));
        }
        Ok(())
    }

    fn leave(&mut self, levels: usize) {
        self.depth -= levels;
    }

    // ---- statement level -------------------------------------------------------------------

    fn statement(&mut self) -> PResult<Query> {
        let start = self.peek().span;
        let body = match self.peek_kind() {
            TokenKind::Keyword(Keyword::Sequence) => QueryBody::Sequence(self.sequence()?),
            TokenKind::Keyword(Keyword::Sample) => QueryBody::Sample(self.sample()?),
            TokenKind::Keyword(Keyword::Join) => {
                return Err(Diagnostic::new(
                    self.peek().span,
                    "`join` is not supported by Elasticsearch EQL",
                )
                .with_help("use `sequence` to correlate events"));
            }
            TokenKind::Eof => {
                return Err(Diagnostic::new(self.peek().span, "empty query").with_help(
                    "an EQL query looks like `process where process.name == \"cmd.exe\"`",
                ));
            }
            _ => QueryBody::Event(self.event_filter()?),
        };
        let mut pipes = Vec::new();
        while self.at_pipe() {
            pipes.push(self.pipe()?);
        }
        if *self.peek_kind() != TokenKind::Eof {
            return Err(self.trailing_input());
        }
        let end = self.prev_span();
        Ok(Query {
            body,
            pipes,
            span: start.to(end),
        })
    }

    fn at_pipe(&self) -> bool {
        *self.peek_kind() == TokenKind::Pipe
    }

    /// The error for a token left over after a complete query.
    fn trailing_input(&self) -> Diagnostic {
        let token = self.peek();
        match &token.kind {
            TokenKind::LBracket | TokenKind::MissingOpen => Diagnostic::new(
                token.span,
                "unexpected `[` after the query",
            )
            .with_help("bracketed stages belong to a `sequence` or `sample`: start the query with `sequence`"),
            TokenKind::Keyword(Keyword::Until) => Diagnostic::new(
                token.span,
                "unexpected `until`: a sequence has at most one `until` stage, after all other stages",
            ),
            _ => self.unexpected("`and`, `or`, `|` or the end of the query"),
        }
    }

    fn pipe(&mut self) -> PResult<Pipe> {
        let pipe_span = self.next().span;
        let name_token = self.next();
        let TokenKind::Ident(name) = &name_token.kind else {
            return Err(Diagnostic::new(
                name_token.span,
                format!(
                    "expected a pipe name after `|`, found {}",
                    name_token.kind.describe()
                ),
            )
            .with_help("Elasticsearch EQL has the pipes `head N` and `tail N`"));
        };
        let kind = match name.as_str() {
            "head" => PipeKind::Head,
            "tail" => PipeKind::Tail,
            "count" | "unique" | "unique_count" | "filter" | "sort" | "window" => {
                return Err(Diagnostic::new(
                    name_token.span,
                    format!("pipe `{name}` is not supported by Elasticsearch EQL"),
                )
                .with_help("Elasticsearch EQL has the pipes `head N` and `tail N`"));
            }
            _ => {
                return Err(
                    Diagnostic::new(name_token.span, format!("unknown pipe `{name}`"))
                        .with_help("Elasticsearch EQL has the pipes `head N` and `tail N`"),
                );
            }
        };
        let count_token = self.peek().clone();
        let count = match &count_token.kind {
            TokenKind::Integer(text) => {
                self.next();
                text.parse::<u64>().map_err(|_| {
                    Diagnostic::new(
                        count_token.span,
                        format!("pipe `{name}` count `{text}` is too large"),
                    )
                })?
            }
            TokenKind::Minus
                if matches!(
                    self.peek_nth(1),
                    TokenKind::Integer(_) | TokenKind::Decimal(_)
                ) =>
            {
                return Err(Diagnostic::new(
                    count_token.span.to(self.tokens[self.pos + 1].span),
                    format!("pipe `{name}` needs a positive integer"),
                ));
            }
            TokenKind::Decimal(text) => {
                return Err(Diagnostic::new(
                    count_token.span,
                    format!("pipe `{name}` needs a positive integer, found `{text}`"),
                ));
            }
            TokenKind::Eof | TokenKind::Pipe => {
                return Err(Diagnostic::new(
                    name_token.span,
                    format!("pipe `{name}` needs a count, as in `| {name} 10`"),
                ));
            }
            other => {
                return Err(Diagnostic::new(
                    count_token.span,
                    format!(
                        "pipe `{name}` needs a positive integer, found {}",
                        other.describe()
                    ),
                ));
            }
        };
        if *self.peek_kind() == TokenKind::Comma {
            return Err(Diagnostic::new(
                self.peek().span,
                format!("pipe `{name}` takes exactly one argument"),
            ));
        }
        Ok(Pipe {
            kind,
            count,
            span: pipe_span.to(self.prev_span()),
        })
    }

    // ---- event queries -----------------------------------------------------------------------

    /// `(any | <category>) where <condition>`
    fn event_filter(&mut self) -> PResult<EventQuery> {
        let token = self.peek().clone();
        let category = match &token.kind {
            TokenKind::Keyword(Keyword::Any) => {
                self.next();
                Category::Any { span: token.span }
            }
            TokenKind::Ident(name) | TokenKind::String(name) => {
                self.next();
                Category::Named {
                    name: name.clone(),
                    span: token.span,
                }
            }
            TokenKind::QuotedIdent(name) => {
                return Err(Diagnostic::new(
                    token.span,
                    "event categories are escaped with double quotes, not backticks",
                )
                .with_help(format!("write \"{}\"", escape_string(name))));
            }
            TokenKind::Keyword(Keyword::Where) => {
                return Err(Diagnostic::new(
                    token.span,
                    "expected an event category before `where`",
                )
                .with_help("name a category (`process where ...`) or match every event with `any where ...`"));
            }
            TokenKind::Keyword(k) => {
                return Err(Diagnostic::new(
                    token.span,
                    format!(
                        "expected an event category, found the keyword `{}`",
                        k.text()
                    ),
                )
                .with_help(format!(
                    "a category named like a keyword must be quoted: \"{}\"",
                    k.text()
                )));
            }
            _ => {
                return Err(self.unexpected("an event category (such as `process` or `any`)"));
            }
        };
        if self.eat_keyword(Keyword::Where).is_none() {
            let mut d = self.unexpected("`where` after the event category");
            if matches!(self.peek_kind(), TokenKind::Dot | TokenKind::Minus) {
                d = d.with_help(
                    "a category containing `.` or `-` must be quoted: \"my-category\" where ...",
                );
            }
            return Err(d);
        }
        let condition = self.expression()?;
        Ok(EventQuery {
            span: category.span().to(condition.span),
            category,
            condition,
        })
    }

    // ---- sequences and samples ---------------------------------------------------------------

    fn sequence(&mut self) -> PResult<Sequence> {
        let start = self.next().span;
        let mut by = Vec::new();
        let mut maxspan = None;
        if self.at_keyword(Keyword::By) {
            by = self.join_keys()?;
        }
        if self.at_keyword(Keyword::With) {
            maxspan = Some(self.maxspan()?);
            if self.at_keyword(Keyword::By) {
                return Err(Diagnostic::new(
                    self.peek().span,
                    "the sequence's `by` must come before `with maxspan`, not after",
                )
                .with_help("write `sequence by key with maxspan=1h`"));
            }
        }
        let mut stages = Vec::new();
        while matches!(
            self.peek_kind(),
            TokenKind::LBracket | TokenKind::MissingOpen
        ) {
            stages.push(self.stage(true)?);
        }
        if stages.is_empty() {
            return Err(self.unexpected("`[` to open the first stage of the sequence"));
        }
        let until = if self.eat_keyword(Keyword::Until).is_some() {
            if *self.peek_kind() == TokenKind::MissingOpen {
                return Err(Diagnostic::new(
                    self.peek().span,
                    "the `until` stage cannot be a missing-event stage",
                ));
            }
            if *self.peek_kind() != TokenKind::LBracket {
                return Err(self.unexpected("`[` to open the `until` stage"));
            }
            let stage = self.stage(false)?;
            Some(stage)
        } else {
            None
        };
        Ok(Sequence {
            by,
            maxspan,
            stages,
            until,
            span: start.to(self.prev_span()),
        })
    }

    /// `with maxspan=<n><unit>`
    fn maxspan(&mut self) -> PResult<TimeSpan> {
        let with = self.next().span;
        match self.peek_kind() {
            TokenKind::Keyword(Keyword::Maxspan) => {
                self.next();
            }
            TokenKind::Ident(name) if name == "runs" => {
                return Err(Diagnostic::new(
                    self.peek().span,
                    "`runs` belongs to a stage, not to the sequence",
                )
                .with_help("write it after the stage: `[process where true] with runs=3`"));
            }
            _ => {
                return Err(self.unexpected("`maxspan` after `with`").with_help(
                    "the only sequence parameter is `maxspan`, as in `with maxspan=1h`",
                ));
            }
        }
        self.expect_assign("maxspan")?;
        let number = self.peek().clone();
        let value = match &number.kind {
            TokenKind::Integer(text) => {
                self.next();
                text.parse::<u64>().map_err(|_| {
                    Diagnostic::new(number.span, format!("maxspan `{text}` is too large"))
                })?
            }
            TokenKind::Decimal(text) => {
                return Err(Diagnostic::new(
                    number.span,
                    format!("maxspan needs a whole number, found `{text}`"),
                )
                .with_help("use a smaller unit instead of a fraction: `90m`, not `1.5h`"));
            }
            TokenKind::Minus => {
                return Err(Diagnostic::new(
                    number.span.to(self.tokens[self.pos + 1].span),
                    "maxspan must be positive",
                ));
            }
            _ => return Err(self.unexpected("a duration such as `1h` after `maxspan=`")),
        };
        let unit_token = self.peek().clone();
        let unit = match &unit_token.kind {
            TokenKind::Ident(suffix) => {
                self.next();
                TimeUnit::from_suffix(suffix).ok_or_else(|| {
                    Diagnostic::new(unit_token.span, format!("unknown time unit `{suffix}`"))
                        .with_help("use one of `ms`, `s`, `m`, `h`, `d`")
                })?
            }
            _ => {
                return Err(Diagnostic::new(
                    number.span,
                    format!("maxspan `{value}` has no time unit"),
                )
                .with_help(format!(
                    "add one of `ms`, `s`, `m`, `h`, `d`: `{value}s` for seconds"
                )));
            }
        };
        Ok(TimeSpan {
            value,
            unit,
            span: with.to(unit_token.span),
        })
    }

    fn expect_assign(&mut self, what: &str) -> PResult<()> {
        match self.peek_kind() {
            TokenKind::Assign => {
                self.next();
                Ok(())
            }
            TokenKind::Eq => Err(Diagnostic::new(
                self.peek().span,
                format!("expected `=` after `{what}`, found `==`"),
            )
            .with_help(format!(
                "parameters are set with a single `=`: `{what}=...`"
            ))),
            _ => Err(self.unexpected(&format!("`=` after `{what}`"))),
        }
    }

    /// `[query] [by keys] [with runs=N]`, or `![query] ...` for a missing-event stage.
    /// The `until` stage (`allow_params == false`) takes no `with`.
    fn stage(&mut self, allow_params: bool) -> PResult<Stage> {
        let open = self.next();
        let missing = open.kind == TokenKind::MissingOpen;
        let query = self.event_filter()?;
        self.expect_close_bracket()?;
        let by = if self.at_keyword(Keyword::By) {
            self.join_keys()?
        } else {
            Vec::new()
        };
        let mut runs = None;
        if self.at_keyword(Keyword::With) {
            if !allow_params {
                return Err(Diagnostic::new(
                    self.peek().span,
                    "the `until` stage takes no `with` parameters",
                ));
            }
            runs = Some(self.runs()?);
        }
        Ok(Stage {
            query,
            by,
            runs,
            missing,
            span: open.span.to(self.prev_span()),
        })
    }

    fn expect_close_bracket(&mut self) -> PResult<()> {
        if self.eat(&TokenKind::RBracket).is_some() {
            return Ok(());
        }
        Err(self.unexpected("`]` to close the stage"))
    }

    /// `with runs=N` after a stage.
    fn runs(&mut self) -> PResult<Runs> {
        let with = self.next().span;
        let key = self.peek().clone();
        match &key.kind {
            TokenKind::Ident(name) if name == "runs" => {
                self.next();
            }
            TokenKind::Keyword(Keyword::Maxspan) => {
                return Err(Diagnostic::new(
                    key.span,
                    "`maxspan` belongs to the sequence, not to a stage",
                )
                .with_help("write it after `sequence`: `sequence by key with maxspan=1h [...]`"));
            }
            TokenKind::Ident(name) => {
                return Err(
                    Diagnostic::new(key.span, format!("unknown stage parameter `{name}`"))
                        .with_help("the only stage parameter is `runs`, as in `with runs=3`"),
                );
            }
            _ => return Err(self.unexpected("`runs` after `with`")),
        }
        self.expect_assign("runs")?;
        let number = self.peek().clone();
        let count = match &number.kind {
            TokenKind::Integer(text) => {
                self.next();
                // Out-of-range counts are the verifier's to report, with the allowed range.
                text.parse::<u32>().unwrap_or(u32::MAX)
            }
            TokenKind::Decimal(text) => {
                return Err(Diagnostic::new(
                    number.span,
                    format!("`runs` needs a whole number, found `{text}`"),
                ));
            }
            TokenKind::Minus => {
                return Err(Diagnostic::new(
                    number.span.to(self.tokens[self.pos + 1].span),
                    "`runs` must be between 1 and 100",
                ));
            }
            _ => return Err(self.unexpected("a number after `runs=`")),
        };
        Ok(Runs {
            count,
            span: with.to(number.span),
        })
    }

    fn sample(&mut self) -> PResult<Sample> {
        let start = self.next().span;
        let by = if self.at_keyword(Keyword::By) {
            self.join_keys()?
        } else {
            Vec::new()
        };
        if self.at_keyword(Keyword::With) {
            return Err(Diagnostic::new(
                self.peek().span,
                "`sample` takes no `with` parameters",
            ));
        }
        let mut stages = Vec::new();
        while matches!(
            self.peek_kind(),
            TokenKind::LBracket | TokenKind::MissingOpen
        ) {
            let open = self.next();
            if open.kind == TokenKind::MissingOpen {
                return Err(Diagnostic::new(
                    open.span,
                    "missing-event stages `![...]` are only allowed in sequences",
                ));
            }
            let query = self.event_filter()?;
            self.expect_close_bracket()?;
            let stage_by = if self.at_keyword(Keyword::By) {
                self.join_keys()?
            } else {
                Vec::new()
            };
            stages.push(SampleStage {
                query,
                by: stage_by,
                span: open.span.to(self.prev_span()),
            });
        }
        if stages.is_empty() {
            return Err(self.unexpected("`[` to open the first stage of the sample"));
        }
        if self.at_keyword(Keyword::Until) {
            return Err(Diagnostic::new(
                self.peek().span,
                "`sample` does not support `until`",
            ));
        }
        Ok(Sample {
            by,
            stages,
            span: start.to(self.prev_span()),
        })
    }

    /// `by expr, expr, ...`
    fn join_keys(&mut self) -> PResult<Vec<Expr>> {
        self.next();
        let mut keys = vec![self.expression()?];
        while self.eat(&TokenKind::Comma).is_some() {
            keys.push(self.expression()?);
        }
        Ok(keys)
    }

    // ---- expressions -------------------------------------------------------------------------

    fn expression(&mut self) -> PResult<Expr> {
        self.expr_bp(BP_OR)
    }

    /// An expression whose binary operators all bind at least as tightly as `min`
    /// (binding-power parsing: one loop for every binary level, so that each level of
    /// parentheses costs two stack frames, not one per precedence level).
    fn expr_bp(&mut self, min: u8) -> PResult<Expr> {
        // Every path that nests (parentheses, calls, `not`, signs, lists) comes back here, so
        // this is where the stack is grown when a deep query would otherwise exhaust it,
        // whatever the build profile or the caller's thread.
        stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || self.expr_bp_inner(min))
    }

    fn expr_bp_inner(&mut self, min: u8) -> PResult<Expr> {
        let mut left = self.prefix(min)?;
        // Left-deep chains (`a + b + c`) deepen the tree without recursion: count each link.
        // On error the parser is abandoned, so only the success path restores the depth.
        let mut links = 0;
        loop {
            let Some(op) = self.infix() else {
                if *self.peek_kind() == TokenKind::Assign {
                    return Err(assign_is_not_equality(self.peek().span));
                }
                break;
            };
            if op.binding_power() < min {
                break;
            }
            let op_span = self.next().span;
            left = match op {
                Infix::Or | Infix::And => {
                    let bp = op.binding_power();
                    let mut operands = vec![left, self.expr_bp(bp + 1)?];
                    while self.infix() == Some(op) {
                        self.next();
                        operands.push(self.expr_bp(bp + 1)?);
                    }
                    let span = operands[0].span.to(operands[operands.len() - 1].span);
                    let kind = if op == Infix::Or {
                        ExprKind::Or(operands)
                    } else {
                        ExprKind::And(operands)
                    };
                    Expr::new(kind, span)
                }
                Infix::Compare(op) => {
                    let right = self.expr_bp(BP_ADD)?;
                    if let Some(Infix::Compare(second)) = self.infix() {
                        return Err(chained_comparison(self.peek().span, op, second));
                    }
                    let span = left.span.to(right.span);
                    Expr::new(
                        ExprKind::Compare {
                            op,
                            left: Box::new(left),
                            right: Box::new(right),
                        },
                        span,
                    )
                }
                Infix::Arithmetic(op) => {
                    self.enter(op_span)?;
                    links += 1;
                    let bp = if op.precedence() == 1 { BP_ADD } else { BP_MUL };
                    let right = self.expr_bp(bp + 1)?;
                    let span = left.span.to(right.span);
                    Expr::new(
                        ExprKind::Arithmetic {
                            op,
                            left: Box::new(left),
                            right: Box::new(right),
                        },
                        span,
                    )
                }
            };
        }
        self.leave(links);
        Ok(left)
    }

    /// The binary operator at the current token, if any.
    fn infix(&self) -> Option<Infix> {
        Some(match self.peek_kind() {
            TokenKind::Keyword(Keyword::Or) => Infix::Or,
            TokenKind::Keyword(Keyword::And) => Infix::And,
            TokenKind::Eq => Infix::Compare(CompareOp::Eq),
            TokenKind::NotEq => Infix::Compare(CompareOp::NotEq),
            TokenKind::Lt => Infix::Compare(CompareOp::Lt),
            TokenKind::LtEq => Infix::Compare(CompareOp::LtEq),
            TokenKind::Gt => Infix::Compare(CompareOp::Gt),
            TokenKind::GtEq => Infix::Compare(CompareOp::GtEq),
            TokenKind::Plus => Infix::Arithmetic(ArithmeticOp::Add),
            TokenKind::Minus => Infix::Arithmetic(ArithmeticOp::Sub),
            TokenKind::Star => Infix::Arithmetic(ArithmeticOp::Mul),
            TokenKind::Slash => Infix::Arithmetic(ArithmeticOp::Div),
            TokenKind::Percent => Infix::Arithmetic(ArithmeticOp::Mod),
            _ => return None,
        })
    }

    /// What may start an expression: `not`, a sign, or a primary with its predicate.
    /// `not` is a boolean-level operator: inside a comparison or arithmetic (`min` above
    /// [`BP_NOT`]) it needs parentheses, as in Elasticsearch's grammar.
    fn prefix(&mut self, min: u8) -> PResult<Expr> {
        match self.peek_kind() {
            TokenKind::Keyword(Keyword::Not) => {
                if min > BP_NOT {
                    return Err(self
                        .unexpected("a value")
                        .with_help("put the negated condition in parentheses: `(not ...)`"));
                }
                let not_span = self.next().span;
                self.enter(not_span)?;
                let operand = self.expr_bp(BP_NOT)?;
                self.leave(1);
                let span = not_span.to(operand.span);
                Ok(Expr::new(ExprKind::Not(Box::new(operand)), span))
            }
            TokenKind::Ident(_) if *self.peek_nth(1) == TokenKind::Keyword(Keyword::Of) => {
                Err(self.process_relationship())
            }
            TokenKind::Minus => {
                let minus = self.next().span;
                // `-5` directly before a number is a negative literal, as Elasticsearch folds it.
                if matches!(
                    self.peek_kind(),
                    TokenKind::Integer(_) | TokenKind::Decimal(_)
                ) {
                    let number = self.next();
                    let literal = number_literal(&number, true, minus)?;
                    let expr = Expr::new(ExprKind::Literal(literal), minus.to(number.span));
                    return self.predicate(expr);
                }
                self.enter(minus)?;
                let operand = self.expr_bp(BP_UNARY)?;
                self.leave(1);
                let span = minus.to(operand.span);
                Ok(Expr::new(ExprKind::Negate(Box::new(operand)), span))
            }
            TokenKind::Plus => {
                // Unary plus is the identity; Elasticsearch drops it too.
                let plus = self.next().span;
                self.enter(plus)?;
                let mut operand = self.expr_bp(BP_UNARY)?;
                self.leave(1);
                operand.span = plus.to(operand.span);
                Ok(operand)
            }
            _ => {
                let primary = self.primary()?;
                self.predicate(primary)
            }
        }
    }

    #[cold]
    fn process_relationship(&self) -> Diagnostic {
        let span = self.peek().span.to(self.tokens[self.pos + 1].span);
        let rel = match self.peek_kind() {
            TokenKind::Ident(rel) => rel.as_str(),
            _ => "",
        };
        Diagnostic::new(
            span,
            format!(
                "process relationships (`{rel} of [...]`) are not supported by Elasticsearch EQL"
            ),
        )
        .with_help("correlate the events with `sequence by process.entity_id` instead")
    }

    /// An optional predicate after a primary: `in (...)`, `not in (...)`, `in~ (...)`,
    /// `: "p"`, `like ("p", "q")`, `regex~ "p"`, ...
    fn predicate(&mut self, value: Expr) -> PResult<Expr> {
        let negated = matches!(
            (self.peek_kind(), self.peek_nth(1)),
            (
                TokenKind::Keyword(Keyword::Not),
                TokenKind::Keyword(Keyword::In | Keyword::InInsensitive)
            )
        );
        if negated {
            self.next();
        } else if self.at_keyword(Keyword::Not) {
            let d = Diagnostic::new(self.peek().span, "unexpected `not` after a value");
            return Err(match self.peek_nth(1) {
                TokenKind::Keyword(
                    k @ (Keyword::Like
                    | Keyword::LikeInsensitive
                    | Keyword::Regex
                    | Keyword::RegexInsensitive),
                ) => d.with_help(format!(
                    "`not {0}` is not EQL; negate the whole test: `not field {0} \"...\"`",
                    k.text()
                )),
                TokenKind::Colon => {
                    d.with_help("`not :` is not EQL; negate the whole test: `not field : \"...\"`")
                }
                _ => d.with_help(
                    "`not` goes before a condition, or before `in` as in `x not in (1, 2)`",
                ),
            });
        }
        let token = self.peek().clone();
        let kind = match &token.kind {
            TokenKind::Keyword(Keyword::In) => Some(false),
            TokenKind::Keyword(Keyword::InInsensitive) => Some(true),
            _ => None,
        };
        if let Some(case_insensitive) = kind {
            self.next();
            let open = self.peek().span;
            if self.eat(&TokenKind::LParen).is_none() {
                return Err(self
                    .unexpected(&format!(
                        "`(` after `{}`",
                        token.kind.describe().trim_matches('`')
                    ))
                    .with_help("list the values in parentheses: `x in (\"a\", \"b\")`"));
            }
            self.enter(open)?;
            let mut list = vec![self.expression()?];
            while self.eat(&TokenKind::Comma).is_some() {
                list.push(self.expression()?);
            }
            self.leave(1);
            if self.eat(&TokenKind::RParen).is_none() {
                return Err(self.unexpected("`,` or `)` in the value list"));
            }
            let span = value.span.to(self.prev_span());
            return Ok(Expr::new(
                ExprKind::In {
                    value: Box::new(value),
                    list,
                    negated,
                    case_insensitive,
                },
                span,
            ));
        }
        let op = match &token.kind {
            TokenKind::Colon => MatchOp::Seq,
            TokenKind::Keyword(Keyword::Like) => MatchOp::Like {
                case_insensitive: false,
            },
            TokenKind::Keyword(Keyword::LikeInsensitive) => MatchOp::Like {
                case_insensitive: true,
            },
            TokenKind::Keyword(Keyword::Regex) => MatchOp::Regex {
                case_insensitive: false,
            },
            TokenKind::Keyword(Keyword::RegexInsensitive) => MatchOp::Regex {
                case_insensitive: true,
            },
            _ => return Ok(value),
        };
        self.next();
        let patterns = if self.eat(&TokenKind::LParen).is_some() {
            let mut patterns = vec![self.pattern(op)?];
            while self.eat(&TokenKind::Comma).is_some() {
                patterns.push(self.pattern(op)?);
            }
            if self.eat(&TokenKind::RParen).is_none() {
                return Err(self.unexpected("`,` or `)` in the pattern list"));
            }
            patterns
        } else {
            vec![self.pattern(op)?]
        };
        let span = value.span.to(self.prev_span());
        Ok(Expr::new(
            ExprKind::Match {
                value: Box::new(value),
                op,
                patterns,
            },
            span,
        ))
    }

    /// A pattern after `:`, `like` or `regex`: a literal (the verifier insists on a string).
    fn pattern(&mut self, op: MatchOp) -> PResult<Pattern> {
        let token = self.peek().clone();
        let literal = match &token.kind {
            TokenKind::String(s) => Literal::String(s.clone()),
            TokenKind::Keyword(Keyword::Null) => Literal::Null,
            TokenKind::Keyword(Keyword::True) => Literal::Bool(true),
            TokenKind::Keyword(Keyword::False) => Literal::Bool(false),
            TokenKind::Integer(_) | TokenKind::Decimal(_) => {
                number_literal(&token, false, token.span)?
            }
            _ => {
                let what = if op.is_regex() {
                    "a regular expression string"
                } else {
                    "a string pattern"
                };
                let mut d = self.unexpected(&format!("{what} after `{}`", op.symbol()));
                if matches!(
                    token.kind,
                    TokenKind::Ident(_) | TokenKind::QuotedIdent(_) | TokenKind::Question
                ) {
                    d = d.with_help(format!(
                        "`{}` compares against string literals only, never against another field",
                        op.symbol()
                    ));
                }
                return Err(d);
            }
        };
        self.next();
        Ok(Pattern {
            literal,
            span: token.span,
        })
    }

    fn primary(&mut self) -> PResult<Expr> {
        let token = self.peek().clone();
        match &token.kind {
            TokenKind::String(s) => {
                self.next();
                Ok(Expr::new(
                    ExprKind::Literal(Literal::String(s.clone())),
                    token.span,
                ))
            }
            TokenKind::Integer(_) | TokenKind::Decimal(_) => {
                self.next();
                let literal = number_literal(&token, false, token.span)?;
                Ok(Expr::new(ExprKind::Literal(literal), token.span))
            }
            TokenKind::Keyword(Keyword::Null) => {
                self.next();
                Ok(Expr::new(ExprKind::Literal(Literal::Null), token.span))
            }
            TokenKind::Keyword(Keyword::True) => {
                self.next();
                Ok(Expr::new(
                    ExprKind::Literal(Literal::Bool(true)),
                    token.span,
                ))
            }
            TokenKind::Keyword(Keyword::False) => {
                self.next();
                Ok(Expr::new(
                    ExprKind::Literal(Literal::Bool(false)),
                    token.span,
                ))
            }
            TokenKind::LParen => {
                self.next();
                self.enter(token.span)?;
                let inner = self.expression()?;
                self.leave(1);
                if self.eat(&TokenKind::RParen).is_none() {
                    let mut d = self.unexpected("`)`");
                    d.label = Some("expected `)` to close the `(`".to_string());
                    return Err(d);
                }
                Ok(inner)
            }
            TokenKind::Question => {
                self.next();
                match self.peek_kind() {
                    TokenKind::Ident(_) | TokenKind::QuotedIdent(_) => {
                        let mut field = self.field_path()?;
                        let span = token.span.to(field.span);
                        if let ExprKind::Field(f) = &mut field.kind {
                            f.optional = true;
                        }
                        field.span = span;
                        Ok(field)
                    }
                    _ => Err(self.unexpected("a field name after `?`")),
                }
            }
            TokenKind::Ident(_) if *self.peek_nth(1) == TokenKind::LParen => self.call(),
            TokenKind::TildeIdent(name) => {
                if *self.peek_nth(1) != TokenKind::LParen {
                    return Err(Diagnostic::new(
                        token.span,
                        format!("`{name}~` must be followed by `(`"),
                    )
                    .with_help(
                        "`~` makes a function case-insensitive: `startsWith~(field, \"abc\")`",
                    ));
                }
                self.call()
            }
            TokenKind::Ident(_) | TokenKind::QuotedIdent(_) => self.field_path(),
            TokenKind::Eof => Err(self.unexpected("an expression")),
            _ => Err(self.unexpected("an expression")),
        }
    }

    /// `name`, `a.b.c`, `` a.`b-c` ``, `a[0].b`
    fn field_path(&mut self) -> PResult<Expr> {
        let first = self.next();
        let mut path = vec![PathSegment::Name(ident_text(&first.kind))];
        let mut span = first.span;
        loop {
            match self.peek_kind() {
                TokenKind::Dot => {
                    let dot = self.next().span;
                    let segment = self.peek().clone();
                    match &segment.kind {
                        TokenKind::Ident(name) | TokenKind::QuotedIdent(name) => {
                            self.next();
                            path.push(PathSegment::Name(name.clone()));
                            span = span.to(segment.span);
                        }
                        TokenKind::Keyword(k) => {
                            return Err(Diagnostic::new(
                                segment.span,
                                format!("`{}` is a keyword and cannot be part of a field name unescaped", k.text()),
                            )
                            .with_help(format!("escape it with backticks: {}.`{}`", FieldRef { path: path.clone(), optional: false }.dotted(), k.text())));
                        }
                        _ => {
                            return Err(Diagnostic::new(
                                dot.to(segment.span),
                                format!("expected a field name after `.`, found {}", segment.kind.describe()),
                            )
                            .with_help("field names that start with a digit or contain `-` or spaces are escaped with backticks: a.`1-b`"));
                        }
                    }
                }
                TokenKind::LBracket if matches!(self.peek_nth(1), TokenKind::Integer(_)) => {
                    self.next();
                    let index_token = self.next();
                    let TokenKind::Integer(text) = &index_token.kind else {
                        unreachable!("checked by the match guard")
                    };
                    let index = text.parse::<u64>().map_err(|_| {
                        Diagnostic::new(
                            index_token.span,
                            format!("array index `{text}` is too large"),
                        )
                    })?;
                    if self.eat(&TokenKind::RBracket).is_none() {
                        return Err(self.unexpected("`]` after the array index"));
                    }
                    path.push(PathSegment::Index(index));
                    span = span.to(self.prev_span());
                }
                _ => break,
            }
        }
        Ok(Expr::new(
            ExprKind::Field(FieldRef {
                path,
                optional: false,
            }),
            span,
        ))
    }

    /// `name(args)` or `name~(args)`; the name is resolved case-insensitively.
    fn call(&mut self) -> PResult<Expr> {
        let name_token = self.next();
        let (name, case_insensitive) = match &name_token.kind {
            TokenKind::Ident(n) => (n.clone(), false),
            TokenKind::TildeIdent(n) => (n.clone(), true),
            _ => unreachable!("call() is entered on a name followed by `(`"),
        };
        let Some(function) = Function::from_name(&name) else {
            let mut d = Diagnostic::new(name_token.span, format!("unknown function `{name}`"));
            d = match Function::closest(&name) {
                Some(f) => d.with_help(format!("did you mean `{}`?", f.name())),
                None => d.with_help(format!(
                    "Elasticsearch EQL functions are: {}",
                    Function::ALL
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            return Err(d);
        };
        if case_insensitive && !function.has_case_insensitive_form() {
            return Err(Diagnostic::new(
                name_token.span,
                format!(
                    "function `{}` has no case-insensitive form `{}~`",
                    function.name(),
                    function.name()
                ),
            )
            .with_help(
                "only between, endsWith, indexOf, startsWith and stringContains accept `~`",
            ));
        }
        let open = self.next().span;
        self.enter(open)?;
        let mut args = Vec::new();
        if *self.peek_kind() != TokenKind::RParen {
            args.push(self.expression()?);
            while self.eat(&TokenKind::Comma).is_some() {
                args.push(self.expression()?);
            }
        }
        self.leave(1);
        if self.eat(&TokenKind::RParen).is_none() {
            return Err(self.unexpected(&format!(
                "`,` or `)` in the arguments of `{}`",
                function.name()
            )));
        }
        Ok(Expr::new(
            ExprKind::Call {
                function,
                case_insensitive,
                args,
                name_span: name_token.span,
            },
            name_token.span.to(self.prev_span()),
        ))
    }
}

fn ident_text(kind: &TokenKind) -> String {
    match kind {
        TokenKind::Ident(s) | TokenKind::QuotedIdent(s) => s.clone(),
        _ => String::new(),
    }
}

/// Converts a number token; `negative` folds a preceding `-` into the literal.
fn number_literal(token: &Token, negative: bool, start: Span) -> PResult<Literal> {
    let span = start.to(token.span);
    match &token.kind {
        TokenKind::Integer(text) => {
            let signed = if negative {
                format!("-{text}")
            } else {
                text.clone()
            };
            match signed.parse::<i64>() {
                Ok(i) => Ok(Literal::Integer(i)),
                // Elasticsearch reads an integer too large for a long as a double.
                Err(_) => match signed.parse::<f64>() {
                    Ok(f) if f.is_finite() => Ok(Literal::Float(f)),
                    _ => Err(Diagnostic::new(
                        span,
                        format!("number `{signed}` is too large"),
                    )),
                },
            }
        }
        TokenKind::Decimal(text) => match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Literal::Float(if negative { -v } else { v })),
            _ => Err(Diagnostic::new(
                span,
                format!("number `{text}` is too large"),
            )),
        },
        _ => unreachable!("number_literal is called on number tokens"),
    }
}

/// `s` escaped for a double-quoted EQL string.
pub(crate) fn escape_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:02X}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}
