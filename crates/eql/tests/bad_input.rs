//! Hostile and oversized input: always an error with a span, never a panic or a stack overflow.
//!
//! Test threads have small stacks (2 MiB), so these also prove the depth limit keeps the
//! parser, verifier, printer and destructor within them.

use proptest::prelude::*;
use quarry_eql::{MAX_DEPTH, MAX_QUERY_BYTES, Style};

/// Parses `query`, expecting the nesting-depth error at the token that went one level too deep.
fn assert_too_deep(query: &str, expected_at: usize) {
    let error = quarry_eql::parse(query).expect_err("too deep");
    let d = error.first();
    assert_eq!(
        d.message,
        format!("query is nested too deeply (more than {MAX_DEPTH} levels)")
    );
    assert_eq!(d.span.start as usize, expected_at, "span {:?}", d.span);
    // Rendering a diagnostic on a huge line stays small: the line is cut around the caret.
    let text = error.render(query, "query", Style::Plain);
    assert!(text.len() < 2_000, "rendered {} bytes", text.len());
}

#[test]
fn deep_parentheses_are_an_error_not_a_stack_overflow() {
    let query = format!(
        "any where {}a == 1{}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    // The 201st `(` is the first one too deep.
    assert_too_deep(&query, "any where ".len() + MAX_DEPTH);
}

#[test]
fn deep_not_unary_and_calls_are_errors() {
    let prefix = "any where ".len();
    assert_too_deep(
        &format!("any where {}a", "not ".repeat(50_000)),
        prefix + 4 * MAX_DEPTH,
    );
    assert_too_deep(
        &format!("any where {}a > 0", "-".repeat(50_000)),
        prefix + MAX_DEPTH,
    );
    assert_too_deep(
        &format!(
            "any where {}a{} > 0",
            "length(".repeat(50_000),
            ")".repeat(50_000)
        ),
        prefix + 7 * MAX_DEPTH + 6,
    );
}

#[test]
fn long_arithmetic_chains_count_as_depth() {
    // `1 + 1 + ...` builds a left-deep tree: each `+` is one level.
    let query = format!("any where a == 1{}", " + 1".repeat(100_000));
    // The 201st `+` is the first one too deep.
    assert_too_deep(&query, "any where a == 1".len() + 4 * MAX_DEPTH + 1);
}

#[test]
fn nesting_just_under_the_limit_works_end_to_end() {
    let depth = MAX_DEPTH - 1;
    let query = format!("any where {}a == 1{}", "(".repeat(depth), ")".repeat(depth));
    let parsed = quarry_eql::parse(&query).unwrap();
    assert_eq!(parsed.to_string(), "any where a == 1");
    for query in [
        format!("any where {}a", "not ".repeat(depth)),
        format!(
            "any where {}a{} > 0",
            "length(".repeat(depth),
            ")".repeat(depth)
        ),
        format!("any where {}a > 0", "-".repeat(depth)),
        format!("any where a == 1{}", " + 1".repeat(MAX_DEPTH)),
    ] {
        // Parse, verify, print, parse again and drop: all within a test thread's stack.
        let parsed = quarry_eql::parse_syntax(&query).unwrap();
        let _ = quarry_eql::verify(&parsed);
        let reparsed = quarry_eql::parse_syntax(&parsed.to_string()).unwrap();
        assert_eq!(reparsed.without_spans(), parsed.without_spans());
    }
}

#[test]
fn a_one_megabyte_query_of_alternatives_parses() {
    // `or` chains are flat, so a rule with tens of thousands of alternatives is fine.
    let mut query = String::from("any where ");
    let mut i = 0;
    while query.len() < 1 << 20 {
        if i > 0 {
            query.push_str(" or ");
        }
        query.push_str(&format!("url.path == \"/rest/api/content/{i}\""));
        i += 1;
    }
    let parsed = quarry_eql::parse(&query).unwrap();
    assert_eq!(parsed.to_string(), query);
}

#[test]
fn a_one_megabyte_list_and_string_parse() {
    let items: Vec<String> = (0..150_000).map(|i| format!("\"v{i}\"")).collect();
    let query = format!("any where x in ({})", items.join(", "));
    assert!(query.len() > 1 << 20);
    if let Err(e) = quarry_eql::parse(&query) {
        panic!("{}", e.first().message);
    }
    let query = format!("any where x == \"{}\"", "a".repeat(1 << 20));
    if let Err(e) = quarry_eql::parse(&query) {
        panic!("{}", e.first().message);
    }
}

#[test]
fn an_unterminated_string_at_the_end_of_a_huge_query_points_at_its_quote() {
    let query = format!("any where x == 1 or y == \"{}", "a".repeat(1 << 20));
    let error = quarry_eql::parse(&query).unwrap_err();
    assert_eq!(error.first().message, "unterminated string");
    assert_eq!(
        error.first().span.start as usize,
        "any where x == 1 or y == ".len()
    );
}

#[test]
fn queries_over_the_size_limit_are_refused() {
    let query = format!("any where x == \"{}\"", "a".repeat(MAX_QUERY_BYTES));
    let error = quarry_eql::parse(&query).unwrap_err();
    assert_eq!(
        error.first().message,
        format!(
            "query is {} bytes long; the limit is {MAX_QUERY_BYTES} bytes",
            query.len()
        )
    );
}

fn eql_like_text() -> impl Strategy<Value = String> {
    // Fragments of real syntax glued at random reach deeper into the parser than bytes alone.
    let fragment = prop_oneof![
        Just("sequence ".to_string()),
        Just("sample ".to_string()),
        Just("by ".to_string()),
        Just("with ".to_string()),
        Just("maxspan=1h ".to_string()),
        Just("runs=".to_string()),
        Just("until ".to_string()),
        Just("[".to_string()),
        Just("![".to_string()),
        Just("]".to_string()),
        Just("any where ".to_string()),
        Just("process where ".to_string()),
        Just(" and ".to_string()),
        Just(" or ".to_string()),
        Just("not ".to_string()),
        Just(" in (".to_string()),
        Just(" : ".to_string()),
        Just(" like~ ".to_string()),
        Just(" regex ".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just(", ".to_string()),
        Just(" == ".to_string()),
        Just(" < ".to_string()),
        Just(" - ".to_string()),
        Just(" * ".to_string()),
        Just("| head 3".to_string()),
        Just("startsWith~(".to_string()),
        Just("cidrMatch(".to_string()),
        Just("?".to_string()),
        Just("`".to_string()),
        Just("\"".to_string()),
        Just("\"\"\"".to_string()),
        Just("\\u{".to_string()),
        "[a-z_@.]{1,6}",
        "[0-9.e-]{1,5}",
        "\\PC{0,3}",
    ];
    prop::collection::vec(fragment, 0..24).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

    /// Any text either parses (and then round-trips) or yields an error whose span lies inside
    /// the text and renders.
    #[test]
    fn any_text_parses_or_fails_cleanly(text in prop_oneof![eql_like_text(), "\\PC{0,40}"]) {
        match quarry_eql::parse(&text) {
            Ok(q) => {
                let printed = q.to_string();
                let again = quarry_eql::parse(&printed);
                prop_assert!(again.is_ok(), "{printed:?} does not parse back");
                prop_assert_eq!(again.unwrap().without_spans(), q.without_spans());
            }
            Err(e) => {
                for d in e.diagnostics() {
                    prop_assert!(d.span.start <= d.span.end);
                    prop_assert!((d.span.end as usize) <= text.len(), "{:?} beyond {}", d.span, text.len());
                    prop_assert!(text.is_char_boundary(d.span.start as usize));
                    prop_assert!(text.is_char_boundary(d.span.end as usize));
                    prop_assert!(!d.message.is_empty());
                }
                let rendered = e.render(&text, "query", Style::Plain);
                prop_assert!(rendered.contains(" --> query:"));
            }
        }
    }
}
