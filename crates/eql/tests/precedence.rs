//! Operator precedence and associativity, as Elasticsearch's grammar defines them.
//!
//! Each case shows the tree as a fully parenthesized prefix form, so the expected shapes can be
//! read and checked against the grammar by eye.

use quarry_eql::ast::{Expr, ExprKind, Literal, QueryBody};

fn sexpr(e: &Expr) -> String {
    let list = |head: &str, items: &[&Expr]| {
        let inner: Vec<String> = items.iter().map(|x| sexpr(x)).collect();
        format!("({head} {})", inner.join(" "))
    };
    match &e.kind {
        ExprKind::Literal(Literal::String(s)) => format!("{s:?}"),
        ExprKind::Literal(l) => l.to_string(),
        ExprKind::Field(f) => f.to_string(),
        ExprKind::Not(x) => list("not", &[x]),
        ExprKind::Negate(x) => list("neg", &[x]),
        ExprKind::And(xs) => list("and", &xs.iter().collect::<Vec<_>>()),
        ExprKind::Or(xs) => list("or", &xs.iter().collect::<Vec<_>>()),
        ExprKind::Compare { op, left, right } => list(op.symbol(), &[left, right]),
        ExprKind::Arithmetic { op, left, right } => list(op.symbol(), &[left, right]),
        ExprKind::In {
            value,
            list: items,
            negated,
            case_insensitive,
        } => {
            let head = format!(
                "{}in{}",
                if *negated { "not-" } else { "" },
                if *case_insensitive { "~" } else { "" }
            );
            let mut all = vec![&**value];
            all.extend(items.iter());
            list(&head, &all)
        }
        ExprKind::Match {
            value,
            op,
            patterns,
        } => {
            let pats: Vec<String> = patterns.iter().map(|p| p.literal.to_string()).collect();
            format!("({} {} {})", op.symbol(), sexpr(value), pats.join(" "))
        }
        ExprKind::Call { function, args, .. } => {
            list(function.name(), &args.iter().collect::<Vec<_>>())
        }
    }
}

fn condition(query: &str) -> String {
    let q = quarry_eql::parse_syntax(&format!("any where {query}")).unwrap();
    let QueryBody::Event(event) = q.body else {
        unreachable!()
    };
    sexpr(&event.condition)
}

#[test]
fn precedence_and_associativity_follow_elasticsearch() {
    let cases = [
        ("a or b and c", "(or a (and b c))"),
        ("a and b or c", "(or (and a b) c)"),
        ("not a and b", "(and (not a) b)"),
        ("not not a", "(not (not a))"),
        ("not a == 1", "(not (== a 1))"),
        ("a or b or c", "(or a b c)"),
        ("(a or b) or c", "(or (or a b) c)"),
        ("a + b * c == d", "(== (+ a (* b c)) d)"),
        ("a - b - c == 0", "(== (- (- a b) c) 0)"),
        ("a - (b - c) == 0", "(== (- a (- b c)) 0)"),
        ("a * b % c / d > 0", "(> (/ (% (* a b) c) d) 0)"),
        ("-a * b > 0", "(> (* (neg a) b) 0)"),
        ("- -a > 0", "(> (neg (neg a)) 0)"),
        ("+a > 0", "(> a 0)"),
        // A minus directly before a number is part of the literal.
        ("a > -5", "(> a -5)"),
        ("a > - 5", "(> a -5)"),
        ("a > -(5)", "(> a (neg 5))"),
        ("a - -5.5 > 0", "(> (- a -5.5) 0)"),
        // Predicates bind to the primary just before them.
        ("-x in (1, 2)", "(neg (in x 1 2))"),
        ("a + b in (1)", "(+ a (in b 1))"),
        ("length(x) : \"a*\"", "(: (length x) \"a*\")"),
        ("x not in~ (\"a\")", "(not-in~ x \"a\")"),
        ("x like~ (\"a\", \"b\")", "(like~ x \"a\" \"b\")"),
        (
            "x : \"a\" and y regex \"b.*\"",
            "(and (: x \"a\") (regex y \"b.*\"))",
        ),
        ("(a == 1) == true", "(== (== a 1) true)"),
        // Integers too large for 64 bits become doubles, as in Elasticsearch.
        ("a == 18446744073709551616", "(== a 1.8446744073709552e19)"),
        ("a == -9223372036854775808", "(== a -9223372036854775808)"),
        (
            "a == 1e3 and b == .5 and c == 2.",
            "(and (== a 1000.0) (== b 0.5) (== c 2.0))",
        ),
        ("STARTSWITH(x, \"a\")", "(startsWith x \"a\")"),
        ("?user.id == null", "(== ?user.id null)"),
        ("`user-agent`.os == \"x\"", "(== `user-agent`.os \"x\")"),
        ("@timestamp > 0", "(> @timestamp 0)"),
    ];
    let mut failures = Vec::new();
    for (query, expected) in cases {
        let got = condition(query);
        if got != expected {
            failures.push(format!("{query}\n  expected {expected}\n  got      {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn strings_decode_their_escapes() {
    let cases = [
        (r#""a\"b""#, "a\"b"),
        (r#""tab\there""#, "tab\there"),
        (r#""\\server\\share""#, "\\server\\share"),
        (r#""\u{41}\u{1F600}\u{000000e9}""#, "A😀é"),
        (r#""it\'s""#, "it's"),
        (r#""\b\f\r\n""#, "\u{8}\u{c}\r\n"),
        (r#""""C:\Windows\*.exe""""#, "C:\\Windows\\*.exe"),
        (r#""""say "hi"""""#, "say \"hi\""),
        (r#""""a"""""#, "a\""),
        (r#""""""""#, ""),
    ];
    for (literal, value) in cases {
        let q = quarry_eql::parse_syntax(&format!("any where x == {literal}"))
            .unwrap_or_else(|e| panic!("{literal}: {e}"));
        let QueryBody::Event(event) = q.body else {
            unreachable!()
        };
        let ExprKind::Compare { right, .. } = &event.condition.kind else {
            unreachable!()
        };
        assert_eq!(
            right.as_literal(),
            Some(&Literal::String(value.to_string())),
            "{literal}"
        );
    }
}

#[test]
fn comments_and_layout_do_not_matter() {
    let a = quarry_eql::parse(
        "// the seed's rule\nsequence by user.name /* and the IP */, source.ip\n  with maxspan=1h\n  [any where true] with runs=40 /* nested /* comments */ work */",
    )
    .unwrap();
    let b = quarry_eql::parse(
        "sequence by user.name, source.ip with maxspan=1h [any where true] with runs=40",
    )
    .unwrap();
    assert_eq!(a.without_spans(), b.without_spans());
}
