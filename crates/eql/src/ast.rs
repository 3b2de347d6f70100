//! The typed syntax tree of an Elasticsearch EQL query.
//!
//! The tree is what the text says, after the parser has resolved everything that is purely
//! lexical: string escapes are decoded, function names are resolved case-insensitively to a
//! [`Function`], `with runs=N` is kept as written (the engine expands it), and chains of `and`
//! or `or` are flattened into one node each so that a rule with hundreds of alternatives does
//! not become a tree hundreds of levels deep. Every node carries the [`Span`] of its text.
//!
//! Two trees compare equal with `==` only if their spans are equal too; compare
//! [`Query::without_spans`] to ask whether two queries mean the same thing.

use crate::function::Function;
use crate::span::Span;

/// A whole EQL statement: a query followed by pipes.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub body: QueryBody,
    pub pipes: Vec<Pipe>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QueryBody {
    /// `<category> where <condition>`
    Event(EventQuery),
    /// `sequence [by ...] [with maxspan=...] [stage] [stage]... [until [stage]]`
    Sequence(Sequence),
    /// `sample [by ...] [stage] [stage]...`
    Sample(Sample),
}

/// `<category> where <condition>`, alone or inside a stage's brackets.
#[derive(Debug, Clone, PartialEq)]
pub struct EventQuery {
    pub category: Category,
    pub condition: Expr,
    pub span: Span,
}

/// The event category an event query selects, matched against the event category field.
#[derive(Debug, Clone, PartialEq)]
pub enum Category {
    /// `any`: every event.
    Any { span: Span },
    /// A category name, written bare (`process`) or quoted (`"my-category"`).
    Named { name: String, span: Span },
}

impl Category {
    pub fn span(&self) -> Span {
        match self {
            Category::Any { span } | Category::Named { span, .. } => *span,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    /// Join keys shared by every stage (`sequence by a, b`).
    pub by: Vec<Expr>,
    pub maxspan: Option<TimeSpan>,
    pub stages: Vec<Stage>,
    pub until: Option<Stage>,
    pub span: Span,
}

/// One bracketed stage of a sequence, or its `until` clause.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub query: EventQuery,
    /// Join keys of this stage (`[...] by a, b`), compared position by position with the keys
    /// of the other stages.
    pub by: Vec<Expr>,
    /// `with runs=N`: the stage repeated N times.
    pub runs: Option<Runs>,
    /// `![...]`: a missing-event stage, which matches when no such event occurs.
    pub missing: bool,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runs {
    pub count: u32,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub by: Vec<Expr>,
    pub stages: Vec<SampleStage>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SampleStage {
    pub query: EventQuery,
    pub by: Vec<Expr>,
    pub span: Span,
}

/// A duration as written (`maxspan=90s` stays 90 seconds, not 1.5 minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSpan {
    pub value: u64,
    pub unit: TimeUnit,
    pub span: Span,
}

impl TimeSpan {
    /// The duration in milliseconds, saturating at `u64::MAX`.
    pub fn millis(&self) -> u64 {
        self.value.saturating_mul(self.unit.millis())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    Millis,
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl TimeUnit {
    pub const ALL: [TimeUnit; 5] = [
        TimeUnit::Millis,
        TimeUnit::Seconds,
        TimeUnit::Minutes,
        TimeUnit::Hours,
        TimeUnit::Days,
    ];

    /// The suffix EQL writes: `ms`, `s`, `m`, `h`, `d`.
    pub fn suffix(self) -> &'static str {
        match self {
            TimeUnit::Millis => "ms",
            TimeUnit::Seconds => "s",
            TimeUnit::Minutes => "m",
            TimeUnit::Hours => "h",
            TimeUnit::Days => "d",
        }
    }

    pub fn millis(self) -> u64 {
        match self {
            TimeUnit::Millis => 1,
            TimeUnit::Seconds => 1_000,
            TimeUnit::Minutes => 60_000,
            TimeUnit::Hours => 3_600_000,
            TimeUnit::Days => 86_400_000,
        }
    }

    pub fn from_suffix(suffix: &str) -> Option<TimeUnit> {
        TimeUnit::ALL.into_iter().find(|u| u.suffix() == suffix)
    }
}

/// `| head N` or `| tail N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pipe {
    pub kind: PipeKind,
    pub count: u64,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PipeKind {
    Head,
    Tail,
}

impl PipeKind {
    pub fn name(self) -> &'static str {
        match self {
            PipeKind::Head => "head",
            PipeKind::Tail => "tail",
        }
    }
}

/// An expression with the span of its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    Field(FieldRef),
    /// `not e`
    Not(Box<Expr>),
    /// `a and b and ...`: two or more operands.
    And(Vec<Expr>),
    /// `a or b or ...`: two or more operands.
    Or(Vec<Expr>),
    /// `a == b`, `a < b`, ... (never chained: `a < b < c` is rejected).
    Compare {
        op: CompareOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `a + b`, `a * b`, ...
    Arithmetic {
        op: ArithmeticOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `-e`
    Negate(Box<Expr>),
    /// `e in (...)`, `e not in (...)`, `e in~ (...)`, `e not in~ (...)`
    In {
        value: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
        case_insensitive: bool,
    },
    /// `e : "p"`, `e like~ ("p", "q")`, `e regex "p"`, ...
    Match {
        value: Box<Expr>,
        op: MatchOp,
        patterns: Vec<Pattern>,
    },
    /// `fn(args)` or `fn~(args)`
    Call {
        function: Function,
        case_insensitive: bool,
        args: Vec<Expr>,
        /// The span of the function name as written.
        name_span: Span,
    },
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(String),
}

impl Literal {
    /// The literal's type as messages name it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Literal::Null => "null",
            Literal::Bool(_) => "boolean",
            Literal::Integer(_) => "integer",
            Literal::Float(_) => "float",
            Literal::String(_) => "string",
        }
    }
}

/// A field reference: `process.name`, `` `user-agent`.os ``, `process.args[0]`, `?user.id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldRef {
    pub path: Vec<PathSegment>,
    /// Written `?field`: a field that may be absent from the mapping (and, as a join key, one
    /// whose null value joins).
    pub optional: bool,
}

impl FieldRef {
    /// The dotted name, as Elasticsearch would look it up (`process.args[0]` keeps its index).
    pub fn dotted(&self) -> String {
        let mut out = String::new();
        for segment in &self.path {
            match segment {
                PathSegment::Name(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                PathSegment::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSegment {
    Name(String),
    /// `[N]`: an array element.
    Index(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::NotEq => "!=",
            CompareOp::Lt => "<",
            CompareOp::LtEq => "<=",
            CompareOp::Gt => ">",
            CompareOp::GtEq => ">=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArithmeticOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl ArithmeticOp {
    pub fn symbol(self) -> &'static str {
        match self {
            ArithmeticOp::Add => "+",
            ArithmeticOp::Sub => "-",
            ArithmeticOp::Mul => "*",
            ArithmeticOp::Div => "/",
            ArithmeticOp::Mod => "%",
        }
    }

    /// Binding strength: `*`, `/` and `%` bind tighter than `+` and `-`.
    pub fn precedence(self) -> u8 {
        match self {
            ArithmeticOp::Add | ArithmeticOp::Sub => 1,
            ArithmeticOp::Mul | ArithmeticOp::Div | ArithmeticOp::Mod => 2,
        }
    }
}

/// The string-pattern operators, each with its case-sensitivity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `:` wildcard match, case-insensitive.
    Seq,
    /// `like` (wildcards, case-sensitive) or `like~`.
    Like { case_insensitive: bool },
    /// `regex` (Lucene syntax, case-sensitive) or `regex~`.
    Regex { case_insensitive: bool },
}

impl MatchOp {
    pub fn symbol(self) -> &'static str {
        match self {
            MatchOp::Seq => ":",
            MatchOp::Like {
                case_insensitive: false,
            } => "like",
            MatchOp::Like {
                case_insensitive: true,
            } => "like~",
            MatchOp::Regex {
                case_insensitive: false,
            } => "regex",
            MatchOp::Regex {
                case_insensitive: true,
            } => "regex~",
        }
    }

    pub fn is_case_insensitive(self) -> bool {
        match self {
            MatchOp::Seq => true,
            MatchOp::Like { case_insensitive } | MatchOp::Regex { case_insensitive } => {
                case_insensitive
            }
        }
    }

    pub fn is_regex(self) -> bool {
        matches!(self, MatchOp::Regex { .. })
    }
}

/// A pattern of `:`, `like` or `regex`: always a string literal once the query is verified.
/// The parser accepts any literal, as Elasticsearch's grammar does, so that the verifier can say
/// precisely what is wrong with `x : 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub literal: Literal,
    pub span: Span,
}

impl Pattern {
    /// The pattern text, if it is a string (it is, in any verified query).
    pub fn text(&self) -> Option<&str> {
        match &self.literal {
            Literal::String(s) => Some(s),
            _ => None,
        }
    }
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }

    /// The literal, if this expression is one.
    pub fn as_literal(&self) -> Option<&Literal> {
        match &self.kind {
            ExprKind::Literal(l) => Some(l),
            _ => None,
        }
    }

    /// The field, if this expression is a bare field reference.
    pub fn as_field(&self) -> Option<&FieldRef> {
        match &self.kind {
            ExprKind::Field(f) => Some(f),
            _ => None,
        }
    }

    /// Calls `visit` on this expression and every expression below it, parents first.
    pub fn walk<'a>(&'a self, visit: &mut dyn FnMut(&'a Expr)) {
        visit(self);
        match &self.kind {
            ExprKind::Literal(_) | ExprKind::Field(_) => {}
            ExprKind::Not(e) | ExprKind::Negate(e) => e.walk(visit),
            ExprKind::And(es) | ExprKind::Or(es) => es.iter().for_each(|e| e.walk(visit)),
            ExprKind::Compare { left, right, .. } | ExprKind::Arithmetic { left, right, .. } => {
                left.walk(visit);
                right.walk(visit);
            }
            ExprKind::In { value, list, .. } => {
                value.walk(visit);
                list.iter().for_each(|e| e.walk(visit));
            }
            ExprKind::Match { value, .. } => value.walk(visit),
            ExprKind::Call { args, .. } => args.iter().for_each(|e| e.walk(visit)),
        }
    }

    /// Every field this expression reads, in order of appearance (with repeats).
    pub fn fields(&self) -> Vec<&FieldRef> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let ExprKind::Field(f) = &e.kind {
                out.push(f);
            }
        });
        out
    }

    fn clear_spans(&mut self) {
        self.span = Span::default();
        match &mut self.kind {
            ExprKind::Literal(_) | ExprKind::Field(_) => {}
            ExprKind::Not(e) | ExprKind::Negate(e) => e.clear_spans(),
            ExprKind::And(es) | ExprKind::Or(es) => es.iter_mut().for_each(Expr::clear_spans),
            ExprKind::Compare { left, right, .. } | ExprKind::Arithmetic { left, right, .. } => {
                left.clear_spans();
                right.clear_spans();
            }
            ExprKind::In { value, list, .. } => {
                value.clear_spans();
                list.iter_mut().for_each(Expr::clear_spans);
            }
            ExprKind::Match {
                value, patterns, ..
            } => {
                value.clear_spans();
                patterns.iter_mut().for_each(|p| p.span = Span::default());
            }
            ExprKind::Call {
                args, name_span, ..
            } => {
                *name_span = Span::default();
                args.iter_mut().for_each(Expr::clear_spans);
            }
        }
    }
}

impl EventQuery {
    fn clear_spans(&mut self) {
        self.span = Span::default();
        match &mut self.category {
            Category::Any { span } | Category::Named { span, .. } => *span = Span::default(),
        }
        self.condition.clear_spans();
    }
}

impl Stage {
    fn clear_spans(&mut self) {
        self.span = Span::default();
        self.query.clear_spans();
        self.by.iter_mut().for_each(Expr::clear_spans);
        if let Some(runs) = &mut self.runs {
            runs.span = Span::default();
        }
    }
}

impl Query {
    /// The same query with every span zeroed: equal for any two texts that differ only in
    /// layout, comments, redundant parentheses or literal spelling (`"\u{41}"` and `"A"`).
    pub fn without_spans(mut self) -> Query {
        self.span = Span::default();
        match &mut self.body {
            QueryBody::Event(q) => q.clear_spans(),
            QueryBody::Sequence(s) => {
                s.span = Span::default();
                s.by.iter_mut().for_each(Expr::clear_spans);
                if let Some(m) = &mut s.maxspan {
                    m.span = Span::default();
                }
                s.stages.iter_mut().for_each(Stage::clear_spans);
                if let Some(u) = &mut s.until {
                    u.clear_spans();
                }
            }
            QueryBody::Sample(s) => {
                s.span = Span::default();
                s.by.iter_mut().for_each(Expr::clear_spans);
                for stage in &mut s.stages {
                    stage.span = Span::default();
                    stage.query.clear_spans();
                    stage.by.iter_mut().for_each(Expr::clear_spans);
                }
            }
        }
        for pipe in &mut self.pipes {
            pipe.span = Span::default();
        }
        self
    }

    /// Every event query in the statement: the query itself, or each stage (and `until`) of a
    /// sequence or sample, in order.
    pub fn event_queries(&self) -> Vec<&EventQuery> {
        match &self.body {
            QueryBody::Event(q) => vec![q],
            QueryBody::Sequence(s) => s
                .stages
                .iter()
                .chain(s.until.as_ref())
                .map(|st| &st.query)
                .collect(),
            QueryBody::Sample(s) => s.stages.iter().map(|st| &st.query).collect(),
        }
    }
}
