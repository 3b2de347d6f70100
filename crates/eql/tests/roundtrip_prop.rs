//! Property: printing any syntax tree and parsing the text gives back the same tree.
//!
//! The generator builds trees the parser could produce (`and`/`or` with two or more operands,
//! stages with at least one entry, non-empty names) but is otherwise free: arbitrary strings
//! with quotes, backslashes, control characters and non-ASCII text; field names that need
//! backticks; keywords as names; negative and extreme numbers; every operator and function.
//! The parser's syntax is checked, not the verifier's rules, so trees need not be meaningful.

use proptest::prelude::*;
use quarry_eql::ast::*;
use quarry_eql::function::Function;
use quarry_eql::span::Span;

fn e(kind: ExprKind) -> Expr {
    Expr::new(kind, Span::default())
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        // Plain identifiers, sometimes keywords, which must then be escaped.
        "[a-z_@][a-z0-9_]{0,8}",
        Just("and".to_string()),
        Just("sequence".to_string()),
        Just("where".to_string()),
        // Anything at all, including backticks, spaces, dots and non-ASCII.
        "\\PC{1,6}",
        "[a-z`. -]{1,6}",
    ]
}

fn string_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z*?]{0,6}",
        "\\PC{0,8}",
        // Escapes and control characters.
        "[\"\\\\\n\r\t\u{8}\u{c}\u{0}\u{1b}a]{0,6}",
        Just("\"\"\"".to_string()),
    ]
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        Just(Literal::Null),
        any::<bool>().prop_map(Literal::Bool),
        any::<i64>().prop_map(Literal::Integer),
        prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(0), Just(-1)].prop_map(Literal::Integer),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Literal::Float),
        prop_oneof![Just(0.5), Just(-0.0), Just(1e300), Just(5e-324)].prop_map(Literal::Float),
        string_value().prop_map(Literal::String),
    ]
}

/// Literals the grammar accepts as a pattern after `:`, `like` or `regex` (its `constant` rule
/// has no sign; the verifier then insists on strings).
fn pattern_literal() -> impl Strategy<Value = Literal> {
    literal().prop_map(|l| match l {
        Literal::Integer(i) => Literal::Integer(i.checked_abs().unwrap_or(i64::MAX)),
        Literal::Float(f) => Literal::Float(f.abs()),
        other => other,
    })
}

fn field() -> impl Strategy<Value = FieldRef> {
    (
        name(),
        prop::collection::vec(
            prop_oneof![
                3 => name().prop_map(PathSegment::Name),
                1 => (0u64..1000).prop_map(PathSegment::Index),
            ],
            0..3,
        ),
        any::<bool>(),
    )
        .prop_map(|(first, rest, optional)| {
            let mut path = vec![PathSegment::Name(first)];
            path.extend(rest);
            FieldRef { path, optional }
        })
}

fn compare_op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Eq),
        Just(CompareOp::NotEq),
        Just(CompareOp::Lt),
        Just(CompareOp::LtEq),
        Just(CompareOp::Gt),
        Just(CompareOp::GtEq),
    ]
}

fn arithmetic_op() -> impl Strategy<Value = ArithmeticOp> {
    prop_oneof![
        Just(ArithmeticOp::Add),
        Just(ArithmeticOp::Sub),
        Just(ArithmeticOp::Mul),
        Just(ArithmeticOp::Div),
        Just(ArithmeticOp::Mod),
    ]
}

fn match_op() -> impl Strategy<Value = MatchOp> {
    prop_oneof![
        Just(MatchOp::Seq),
        any::<bool>().prop_map(|ci| MatchOp::Like {
            case_insensitive: ci
        }),
        any::<bool>().prop_map(|ci| MatchOp::Regex {
            case_insensitive: ci
        }),
    ]
}

fn function() -> impl Strategy<Value = (Function, bool)> {
    (0..Function::ALL.len(), any::<bool>()).prop_map(|(i, ci)| {
        let f = Function::ALL[i];
        (f, ci && f.has_case_insensitive_form())
    })
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        literal().prop_map(|l| e(ExprKind::Literal(l))),
        field().prop_map(|f| e(ExprKind::Field(f))),
    ];
    leaf.prop_recursive(4, 48, 4, |inner| {
        let boxed = || inner.clone().prop_map(Box::new);
        prop_oneof![
            boxed().prop_map(|x| e(ExprKind::Not(x))),
            boxed().prop_map(|x| e(ExprKind::Negate(x))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| e(ExprKind::And(v))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| e(ExprKind::Or(v))),
            (compare_op(), boxed(), boxed()).prop_map(|(op, left, right)| e(ExprKind::Compare {
                op,
                left,
                right
            })),
            (arithmetic_op(), boxed(), boxed())
                .prop_map(|(op, left, right)| e(ExprKind::Arithmetic { op, left, right })),
            (
                boxed(),
                prop::collection::vec(inner.clone(), 1..3),
                any::<bool>(),
                any::<bool>()
            )
                .prop_map(|(value, list, negated, case_insensitive)| e(ExprKind::In {
                    value,
                    list,
                    negated,
                    case_insensitive
                })),
            (
                boxed(),
                match_op(),
                prop::collection::vec(pattern_literal(), 1..3)
            )
                .prop_map(|(value, op, lits)| e(ExprKind::Match {
                    value,
                    op,
                    patterns: lits
                        .into_iter()
                        .map(|literal| Pattern {
                            literal,
                            span: Span::default()
                        })
                        .collect(),
                })),
            (function(), prop::collection::vec(inner.clone(), 0..3)).prop_map(
                |((function, case_insensitive), args)| e(ExprKind::Call {
                    function,
                    case_insensitive,
                    args,
                    name_span: Span::default(),
                })
            ),
        ]
    })
}

fn category() -> impl Strategy<Value = Category> {
    prop_oneof![
        Just(Category::Any {
            span: Span::default()
        }),
        prop_oneof![
            "[a-z_][a-z0-9_]{0,6}",
            "\\PC{0,6}",
            Just("sequence".to_string())
        ]
        .prop_map(|name| Category::Named {
            name,
            span: Span::default()
        }),
    ]
}

fn event_query() -> impl Strategy<Value = EventQuery> {
    (category(), expr()).prop_map(|(category, condition)| EventQuery {
        category,
        condition,
        span: Span::default(),
    })
}

fn keys() -> impl Strategy<Value = Vec<Expr>> {
    prop::collection::vec(expr(), 0..3)
}

fn stage(until: bool) -> impl Strategy<Value = Stage> {
    (event_query(), keys(), any::<Option<u32>>(), any::<bool>()).prop_map(
        move |(query, by, runs, missing)| Stage {
            query,
            by,
            runs: runs.filter(|_| !until).map(|count| Runs {
                count,
                span: Span::default(),
            }),
            missing: missing && !until,
            span: Span::default(),
        },
    )
}

fn time_unit() -> impl Strategy<Value = TimeUnit> {
    (0..TimeUnit::ALL.len()).prop_map(|i| TimeUnit::ALL[i])
}

fn query() -> impl Strategy<Value = Query> {
    let body = prop_oneof![
        event_query().prop_map(QueryBody::Event),
        (
            keys(),
            proptest::option::of((any::<u64>(), time_unit())),
            prop::collection::vec(stage(false), 1..4),
            proptest::option::of(stage(true)),
        )
            .prop_map(
                |(by, maxspan, stages, until)| QueryBody::Sequence(Sequence {
                    by,
                    maxspan: maxspan.map(|(value, unit)| TimeSpan {
                        value,
                        unit,
                        span: Span::default()
                    }),
                    stages,
                    until,
                    span: Span::default(),
                })
            ),
        (keys(), prop::collection::vec((event_query(), keys()), 1..3)).prop_map(|(by, stages)| {
            QueryBody::Sample(Sample {
                by,
                stages: stages
                    .into_iter()
                    .map(|(query, by)| SampleStage {
                        query,
                        by,
                        span: Span::default(),
                    })
                    .collect(),
                span: Span::default(),
            })
        }),
    ];
    let pipe = (any::<bool>(), any::<u64>()).prop_map(|(head, count)| Pipe {
        kind: if head { PipeKind::Head } else { PipeKind::Tail },
        count,
        span: Span::default(),
    });
    (body, prop::collection::vec(pipe, 0..3)).prop_map(|(body, pipes)| Query {
        body,
        pipes,
        span: Span::default(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn print_then_parse_gives_the_same_tree(q in query()) {
        let text = q.to_string();
        let parsed = match quarry_eql::parse_syntax(&text) {
            Ok(p) => p,
            Err(err) => {
                return Err(TestCaseError::fail(format!(
                    "printed query does not parse:\n{}\n{}",
                    text,
                    err.render(&text, "printed", quarry_eql::Style::Plain)
                )));
            }
        };
        prop_assert_eq!(parsed.without_spans(), q, "printed as:\n{}", text);
    }

    #[test]
    fn printing_is_a_fixed_point(q in query()) {
        let text = q.to_string();
        let reprinted = quarry_eql::parse_syntax(&text).map(|p| p.to_string());
        prop_assert_eq!(reprinted.as_deref(), Ok(text.as_str()));
    }
}
