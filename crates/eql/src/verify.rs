//! The semantic checks Elasticsearch applies to a query that parses.
//!
//! Each check has its own message, and every problem is reported (not just the first), as
//! Elasticsearch's verifier does. Without an index mapping we cannot know a field's type, so
//! type checks apply only where a kind is certain: literals, arithmetic, comparisons and
//! function results.

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::function::{Function, Kind};
use crate::span::Span;

/// Bounds of `with runs=N`, as Elasticsearch enforces them.
pub const MIN_RUNS: u32 = 1;
pub const MAX_RUNS: u32 = 100;
/// The most stages a sequence may have once `runs` is expanded.
pub const MAX_SEQUENCE_STAGES: u64 = 256;
/// Bounds on the number of stages of a sample.
pub const MIN_SAMPLE_STAGES: usize = 2;
pub const MAX_SAMPLE_STAGES: usize = 5;

pub(crate) fn verify(query: &Query) -> Vec<Diagnostic> {
    let mut v = Verifier::default();
    match &query.body {
        QueryBody::Event(q) => v.event_query(q),
        QueryBody::Sequence(s) => v.sequence(s),
        QueryBody::Sample(s) => {
            v.sample(s);
            if let (Some(first), Some(last)) = (query.pipes.first(), query.pipes.last()) {
                v.report(Diagnostic::new(
                    first.span.to(last.span),
                    "`sample` does not support pipes",
                ));
            }
        }
    }
    v.problems.sort_by_key(|d| (d.span.start, d.span.end));
    v.problems
}

#[derive(Default)]
struct Verifier {
    problems: Vec<Diagnostic>,
}

/// What is statically known of an expression's value.
fn kind_of(e: &Expr) -> Option<Kind> {
    match &e.kind {
        ExprKind::Literal(l) => match l {
            Literal::Null => None,
            Literal::Bool(_) => Some(Kind::Boolean),
            Literal::Integer(_) | Literal::Float(_) => Some(Kind::Numeric),
            Literal::String(_) => Some(Kind::String),
        },
        ExprKind::Field(_) => None,
        ExprKind::Not(_)
        | ExprKind::And(_)
        | ExprKind::Or(_)
        | ExprKind::Compare { .. }
        | ExprKind::In { .. }
        | ExprKind::Match { .. } => Some(Kind::Boolean),
        ExprKind::Arithmetic { .. } | ExprKind::Negate(_) => Some(Kind::Numeric),
        ExprKind::Call { function, .. } => match function.signature().returns {
            Kind::Any => None,
            k => Some(k),
        },
    }
}

/// Whether `e` reads no field: its value is the same for every event.
fn is_constant(e: &Expr) -> bool {
    let mut constant = true;
    e.walk(&mut |x| {
        if matches!(x.kind, ExprKind::Field(_)) {
            constant = false;
        }
    });
    constant
}

/// `integer `5``, `string "a"`, `numeric expression `a + 1``: how messages name a value.
fn describe(e: &Expr) -> String {
    let kind = kind_of(e).map_or("value", |k| k.name());
    match &e.kind {
        ExprKind::Literal(l @ Literal::String(_)) => format!("string {l}"),
        ExprKind::Literal(l) => format!("{} `{l}`", l.type_name()),
        ExprKind::Field(f) => format!("field `{f}`"),
        _ => {
            let text = e.to_string();
            if text.chars().count() > 60 {
                format!("{kind} expression")
            } else {
                format!("{kind} expression `{text}`")
            }
        }
    }
}

fn compatible(expected: Kind, actual: Kind) -> bool {
    match expected {
        Kind::Any => true,
        Kind::Integer => actual == Kind::Numeric,
        _ => expected == actual,
    }
}

impl Verifier {
    fn report(&mut self, d: Diagnostic) {
        self.problems.push(d);
    }

    fn event_query(&mut self, q: &EventQuery) {
        self.expr(&q.condition);
        if let Some(kind) = kind_of(&q.condition)
            && kind != Kind::Boolean
        {
            self.report(
                Diagnostic::new(
                    q.condition.span,
                    format!(
                        "the condition after `where` must be boolean, found {}",
                        describe(&q.condition)
                    ),
                )
                .with_help("compare the value with something, as in `field == 1`"),
            );
        }
    }

    fn join_keys(&mut self, keys: &[Expr]) {
        for key in keys {
            self.expr(key);
            if key.as_field().is_none() {
                self.report(
                    Diagnostic::new(
                        key.span,
                        format!("join keys must be fields, found {}", describe(key)),
                    )
                    .with_help("join keys name the fields events must share, as in `by user.name`"),
                );
            }
        }
    }

    fn sequence(&mut self, s: &Sequence) {
        self.join_keys(&s.by);
        if let Some(maxspan) = &s.maxspan
            && maxspan.value == 0
        {
            self.report(
                Diagnostic::new(
                    maxspan.span,
                    format!("maxspan must be positive, found {maxspan}"),
                )
                .with_help("omit `with maxspan` for no time limit"),
            );
        }
        for stage in s.stages.iter().chain(s.until.as_ref()) {
            self.event_query(&stage.query);
            self.join_keys(&stage.by);
            if let Some(runs) = stage.runs {
                self.runs(runs);
            }
        }
        // Count stages only when every `runs` is valid: a bad count was reported already.
        let runs_valid = s.stages.iter().all(|st| {
            st.runs
                .is_none_or(|r| (MIN_RUNS..=MAX_RUNS).contains(&r.count))
        });
        // `until` does not count: Elasticsearch (since PR #132638) refuses `sequence [a] until [b]`.
        let total: u64 = s
            .stages
            .iter()
            .map(|st| u64::from(st.runs.map_or(1, |r| r.count)))
            .sum();
        if !runs_valid {
            // Already reported by `runs`.
        } else if total > MAX_SEQUENCE_STAGES {
            self.report(Diagnostic::new(
                s.span,
                format!(
                    "a sequence can have at most {MAX_SEQUENCE_STAGES} stages once `runs` is expanded, found {total}"
                ),
            ));
        } else if total < 2 {
            self.report(
                Diagnostic::new(
                    s.span,
                    format!("a sequence needs at least 2 stages, found {total}"),
                )
                .with_help("add a stage, or repeat one with `with runs=N`"),
            );
        }
        self.stage_key_counts(
            s.stages
                .iter()
                .chain(s.until.as_ref())
                .map(|st| (st.by.len(), st.span)),
        );
        let missing: Vec<&Stage> = s.stages.iter().filter(|st| st.missing).collect();
        if let Some(first_missing) = missing.first() {
            if missing.len() == s.stages.len() {
                self.report(Diagnostic::new(
                    s.span,
                    "a sequence needs at least one stage that is not a missing event",
                ));
            }
            if s.maxspan.is_none() {
                self.report(
                    Diagnostic::new(
                        first_missing.span,
                        "a sequence with a missing-event stage `![...]` needs `with maxspan=...`",
                    )
                    .with_help("write `sequence with maxspan=1h ...`: a missing event is only missing within a time window"),
                );
            }
        }
    }

    /// Every stage must list as many join keys as the others: they are compared by position.
    fn stage_key_counts(&mut self, stages: impl Iterator<Item = (usize, Span)>) {
        let mut expected: Option<usize> = None;
        for (count, span) in stages {
            match expected {
                None => expected = Some(count),
                Some(n) if n != count => {
                    self.report(
                        Diagnostic::new(
                            span,
                            format!(
                                "this stage has {count} join key{}, but the first stage has {n}",
                                if count == 1 { "" } else { "s" }
                            ),
                        )
                        .with_help("every stage's `by` lists the same number of keys; they are compared by position"),
                    );
                }
                Some(_) => {}
            }
        }
    }

    fn runs(&mut self, runs: Runs) {
        // Elasticsearch allows `runs` on a missing-event stage too: each copy is a placeholder.
        if (MIN_RUNS..=MAX_RUNS).contains(&runs.count) {
            return;
        }
        let shown = if runs.count == u32::MAX {
            "a number that large".to_string()
        } else {
            runs.count.to_string()
        };
        let help = if runs.count == 0 {
            "a stage matches at least once: remove `with runs=0`, or count from 1"
        } else {
            "Elasticsearch allows at most 100 runs; for larger counts use a threshold rule"
        };
        self.report(
            Diagnostic::new(
                runs.span,
                format!("`runs` must be between {MIN_RUNS} and {MAX_RUNS}, found {shown}"),
            )
            .with_help(help),
        );
    }

    fn sample(&mut self, s: &Sample) {
        self.join_keys(&s.by);
        for stage in &s.stages {
            self.event_query(&stage.query);
            self.join_keys(&stage.by);
            self.duplicate_keys(s.by.iter().chain(&stage.by));
        }
        let count = s.stages.len();
        if !(MIN_SAMPLE_STAGES..=MAX_SAMPLE_STAGES).contains(&count) {
            self.report(Diagnostic::new(
                s.span,
                format!(
                    "a sample needs {MIN_SAMPLE_STAGES} to {MAX_SAMPLE_STAGES} stages, found {count}"
                ),
            ));
        }
        self.stage_key_counts(s.stages.iter().map(|st| (st.by.len(), st.span)));
        if s.by.is_empty()
            && let Some(keyless) = s.stages.iter().find(|st| st.by.is_empty())
        {
            self.report(
                Diagnostic::new(keyless.span, "a sample needs at least one join key")
                    .with_help("write `sample by host.name [...] [...]`"),
            );
        }
    }

    /// A sample stage may not name the same join key twice.
    fn duplicate_keys<'a>(&mut self, keys: impl Iterator<Item = &'a Expr>) {
        let mut seen: Vec<&FieldRef> = Vec::new();
        for key in keys {
            let Some(field) = key.as_field() else {
                continue;
            };
            if seen.iter().any(|f| f.path == field.path) {
                self.report(Diagnostic::new(
                    key.span,
                    format!("join key `{field}` is used twice in this stage"),
                ));
            } else {
                seen.push(field);
            }
        }
    }

    /// Checks `e` and everything below it.
    fn expr(&mut self, e: &Expr) {
        use crate::parser::{STACK_RED_ZONE, STACK_SEGMENT};
        stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || self.expr_inner(e));
    }

    fn expr_inner(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Literal(_) => {}
            ExprKind::Field(field) => {
                if field
                    .path
                    .iter()
                    .any(|s| matches!(s, PathSegment::Index(_)))
                {
                    self.report(
                        Diagnostic::new(
                            e.span,
                            "array indexes are not supported by Elasticsearch EQL",
                        )
                        .with_help("a condition on an array field holds when any element matches: write `process.args : \"x\"`"),
                    );
                }
            }
            ExprKind::Not(operand) => {
                self.expr(operand);
                self.expect_kind(operand, Kind::Boolean, "`not` needs a boolean operand");
            }
            ExprKind::And(operands) | ExprKind::Or(operands) => {
                let word = if matches!(e.kind, ExprKind::And(_)) {
                    "and"
                } else {
                    "or"
                };
                for operand in operands {
                    self.expr(operand);
                    self.expect_kind(
                        operand,
                        Kind::Boolean,
                        &format!("`{word}` needs boolean operands"),
                    );
                }
            }
            ExprKind::Compare { op, left, right } => {
                self.expr(left);
                self.expr(right);
                self.comparison(e, *op, left, right);
            }
            ExprKind::Arithmetic { op, left, right } => {
                self.expr(left);
                self.expr(right);
                let what = format!("`{}` needs numeric operands", op.symbol());
                self.expect_kind(left, Kind::Numeric, &what);
                self.expect_kind(right, Kind::Numeric, &what);
            }
            ExprKind::Negate(operand) => {
                self.expr(operand);
                self.expect_kind(operand, Kind::Numeric, "`-` needs a numeric operand");
            }
            ExprKind::In {
                value,
                list,
                case_insensitive,
                negated,
            } => {
                self.expr(value);
                list.iter().for_each(|item| self.expr(item));
                let op = match (negated, case_insensitive) {
                    (false, false) => "in",
                    (false, true) => "in~",
                    (true, false) => "not in",
                    (true, true) => "not in~",
                };
                if *case_insensitive {
                    let what = format!("`{op}` compares strings");
                    self.expect_kind(value, Kind::String, &what);
                    list.iter()
                        .for_each(|item| self.expect_kind(item, Kind::String, &what));
                } else {
                    self.uniform_kinds(op, value, list);
                }
                if !is_constant(value) {
                    for item in list.iter().filter(|item| !is_constant(item)) {
                        self.report(
                            Diagnostic::new(
                                item.span,
                                format!(
                                    "`{op}` lists hold values, not fields: found {}",
                                    describe(item)
                                ),
                            )
                            .with_help("comparing a field with another field is not supported by Elasticsearch EQL"),
                        );
                    }
                }
            }
            ExprKind::Match {
                value,
                op,
                patterns,
            } => {
                self.expr(value);
                let symbol = op.symbol();
                self.expect_kind(value, Kind::String, &format!("`{symbol}` matches strings"));
                for pattern in patterns {
                    if pattern.text().is_none() {
                        let kind = if op.is_regex() {
                            "regular expression"
                        } else {
                            "pattern"
                        };
                        self.report(
                            Diagnostic::new(
                                pattern.span,
                                format!(
                                    "`{symbol}` needs a string {kind}, found {} `{}`",
                                    pattern.literal.type_name(),
                                    pattern.literal
                                ),
                            )
                            .with_help(format!("quote it: \"{}\"", pattern.literal)),
                        );
                    }
                }
            }
            ExprKind::Call {
                function,
                args,
                name_span,
                ..
            } => {
                args.iter().for_each(|a| self.expr(a));
                self.call(e, *function, args, *name_span);
            }
        }
    }

    /// The value and the list of `in` must agree on a type: a list mixing strings and numbers
    /// has a member that cannot match, whatever the field's type.
    fn uniform_kinds(&mut self, op: &str, value: &Expr, list: &[Expr]) {
        let mut first: Option<(Kind, &Expr)> = kind_of(value).map(|k| (k, value));
        for item in list {
            let Some(kind) = kind_of(item) else { continue };
            match first {
                None => first = Some((kind, item)),
                Some((k, seen)) if k != kind => {
                    self.report(Diagnostic::new(
                        item.span,
                        format!(
                            "`{op}` mixes {} and {} values: {} and {}",
                            k.name(),
                            kind.name(),
                            describe(seen),
                            describe(item)
                        ),
                    ));
                    return;
                }
                Some(_) => {}
            }
        }
    }

    /// Reports `e` when its kind is known and is not `expected`.
    fn expect_kind(&mut self, e: &Expr, expected: Kind, what: &str) {
        if let Some(actual) = kind_of(e)
            && !compatible(expected, actual)
        {
            self.report(Diagnostic::new(
                e.span,
                format!("{what}, found {}", describe(e)),
            ));
        }
    }

    fn comparison(&mut self, whole: &Expr, op: CompareOp, left: &Expr, right: &Expr) {
        if !is_constant(left) && !is_constant(right) {
            self.report(
                Diagnostic::new(
                    whole.span,
                    "comparing a field with another field is not supported by Elasticsearch EQL",
                )
                .with_label("both sides read fields")
                .with_help("compare a field with a literal value; to relate two events by a shared value, use `sequence by`"),
            );
            return;
        }
        if let (Some(l), Some(r)) = (kind_of(left), kind_of(right))
            && l != r
        {
            self.report(Diagnostic::new(
                whole.span,
                format!(
                    "`{}` compares a {} with a {}: {} and {}",
                    op.symbol(),
                    l.name(),
                    r.name(),
                    describe(left),
                    describe(right)
                ),
            ));
        }
    }

    fn call(&mut self, whole: &Expr, function: Function, args: &[Expr], name_span: Span) {
        let sig = function.signature();
        let name = function.name();
        let (min, max) = (sig.min_args(), sig.max_args());
        if args.len() < min || max.is_some_and(|m| args.len() > m) {
            let expected = match max {
                Some(m) if m == min => format!("{min}"),
                Some(m) if m == min + 1 => format!("{min} or {m}"),
                Some(m) => format!("{min} to {m}"),
                None => format!("at least {min}"),
            };
            let singular = max == Some(1) || (max.is_none() && min == 1);
            let plural = if singular { "" } else { "s" };
            let params: Vec<String> = sig
                .params
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    if i >= min {
                        format!("[{}]", p.name)
                    } else {
                        p.name.to_string()
                    }
                })
                .collect();
            let usage = if sig.variadic {
                format!("{name}({}, ...)", params.join(", "))
            } else {
                format!("{name}({})", params.join(", "))
            };
            self.report(
                Diagnostic::new(
                    whole.span,
                    format!(
                        "`{name}` takes {expected} argument{plural}, found {}",
                        args.len()
                    ),
                )
                .with_help(format!("usage: {usage}")),
            );
            return;
        }
        let _ = name_span;
        for (i, arg) in args.iter().enumerate() {
            let Some(param) = sig.param(i) else { break };
            let ordinal = ordinal(i + 1);
            if param.constant && !is_constant(arg) {
                self.report(Diagnostic::new(
                    arg.span,
                    format!(
                        "the {ordinal} argument of `{name}` ({}) must be a constant, found {}",
                        param.name,
                        describe(arg)
                    ),
                ));
                continue;
            }
            if param.kind == Kind::Integer
                && let Some(Literal::Float(_)) = arg.as_literal()
            {
                self.report(Diagnostic::new(
                    arg.span,
                    format!(
                        "the {ordinal} argument of `{name}` ({}) must be an integer, found {}",
                        param.name,
                        describe(arg)
                    ),
                ));
                continue;
            }
            self.expect_kind(
                arg,
                param.kind,
                &format!(
                    "the {ordinal} argument of `{name}` ({}) must be {} {}",
                    param.name,
                    article(param.kind),
                    param.kind.name()
                ),
            );
            if function == Function::CidrMatch
                && i > 0
                && let Some(Literal::String(cidr)) = arg.as_literal()
                && !is_cidr(cidr)
            {
                self.report(
                    Diagnostic::new(
                        arg.span,
                        format!("\"{cidr}\" is not an IP address or CIDR block"),
                    )
                    .with_help("write an address with a prefix length, as in \"10.0.0.0/8\" or \"fd00::/8\""),
                );
            }
        }
    }
}

fn ordinal(n: usize) -> &'static str {
    match n {
        1 => "first",
        2 => "second",
        3 => "third",
        4 => "fourth",
        5 => "fifth",
        _ => "next",
    }
}

fn article(kind: Kind) -> &'static str {
    match kind {
        Kind::Ip | Kind::Integer => "an",
        _ => "a",
    }
}

/// `addr` or `addr/len`, IPv4 or IPv6, with `len` within the address width.
fn is_cidr(text: &str) -> bool {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let width = match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => 32,
        Ok(std::net::IpAddr::V6(_)) => 128,
        Err(_) => return false,
    };
    match len {
        None => true,
        Some(l) => l.parse::<u8>().is_ok_and(|l| l <= width),
    }
}
