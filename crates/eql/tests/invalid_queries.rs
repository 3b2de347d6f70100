//! Invalid queries: each pins the first diagnostic's message, its exact span and its hint.
//!
//! The span is marked inside the query with `⟦` and `⟧` (the markers are removed before
//! parsing), so every entry can be checked by eye: the message must be about the marked text.

struct Case {
    query: &'static str,
    message: &'static str,
    help: Option<&'static str>,
}

const fn case(query: &'static str, message: &'static str) -> Case {
    Case {
        query,
        message,
        help: None,
    }
}

const fn hint(query: &'static str, message: &'static str, help: &'static str) -> Case {
    Case {
        query,
        message,
        help: Some(help),
    }
}

const CASES: &[Case] = &[
    // ---- lexical -------------------------------------------------------------------------
    hint(
        "process where name == ⟦\"⟧abc",
        "unterminated string",
        "strings cannot span lines; write `\\n`, or use a raw string \"\"\"...\"\"\"",
    ),
    hint(
        "process where name == ⟦\"⟧abc\n\"",
        "unterminated string",
        "strings cannot span lines; write `\\n`, or use a raw string \"\"\"...\"\"\"",
    ),
    case(
        "process where name == ⟦\"\"\"⟧abc",
        "unterminated raw string",
    ),
    hint(
        "process where name == ⟦'abc'⟧",
        "single quotes are not allowed for strings; use double quotes",
        "EQL strings are written \"...\", or \"\"\"...\"\"\" for raw strings",
    ),
    case(
        "process where name == \"a⟦\\x⟧\"",
        "invalid escape sequence `\\x`",
    ),
    case(
        "process where name == \"⟦\\u{1}⟧\"",
        "Unicode escape needs 2 to 8 hexadecimal digits, found 1",
    ),
    case(
        "process where name == \"⟦\\u{110000}⟧\"",
        "`\\u{110000}` is not a Unicode scalar value",
    ),
    case(
        "process where name == \"⟦\\u⟧0041\"",
        "invalid Unicode escape",
    ),
    case(
        "process where ⟦`⟧name == 1",
        "unterminated escaped field name",
    ),
    case("process where ⟦``⟧ == 1", "empty escaped field name"),
    case(
        "process where true ⟦/*⟧ never closed",
        "unterminated comment",
    ),
    hint(
        "process where a ⟦&&⟧ b",
        "`&&` is not an EQL operator",
        "use `and`",
    ),
    hint(
        "process where a ⟦||⟧ b",
        "`||` is not an EQL operator",
        "use `or`",
    ),
    hint(
        "process where ⟦!⟧a",
        "unexpected `!`",
        "use `not` to negate, `!=` for inequality, or `![` to open a missing-event stage",
    ),
    case("process where a == ⟦#⟧", "unexpected character `#`"),
    // ---- syntax ----------------------------------------------------------------------------
    hint(
        "⟦⟧",
        "empty query",
        "an EQL query looks like `process where process.name == \"cmd.exe\"`",
    ),
    hint(
        "process where a ⟦=⟧ 1",
        "`=` is not a comparison operator",
        "did you mean `==`?",
    ),
    hint(
        "process where 1 < a ⟦<⟧ 3",
        "comparisons cannot be chained",
        "compare twice and join with `and`: `a < b and b < c`",
    ),
    hint(
        "process where a == 1 ⟦AND⟧ b == 2",
        "expected `and`, `or`, `|` or the end of the query, found `AND`",
        "keywords are lowercase: did you mean `and`?",
    ),
    case(
        "process where ⟦⟧",
        "expected an expression, found end of query",
    ),
    case(
        "process ⟦name⟧ == 1",
        "expected `where` after the event category, found `name`",
    ),
    hint(
        "⟦where⟧ true",
        "expected an event category before `where`",
        "name a category (`process where ...`) or match every event with `any where ...`",
    ),
    hint(
        "⟦`my-category`⟧ where true",
        "event categories are escaped with double quotes, not backticks",
        "write \"my-category\"",
    ),
    hint(
        "process where ⟦sequence⟧ == 1",
        "expected an expression, found `sequence`",
        "`sequence` is a keyword; to use it as a field name, escape it with backticks: `sequence`",
    ),
    hint(
        "process where event.⟦sequence⟧ == 1",
        "`sequence` is a keyword and cannot be part of a field name unescaped",
        "escape it with backticks: event.`sequence`",
    ),
    case(
        "process where (a == 1⟦⟧",
        "expected `)`, found end of query",
    ),
    case(
        "process where a in ⟦\"x\"⟧",
        "expected `(` after `in`, found string \"x\"",
    ),
    hint(
        "process where a : ⟦b⟧",
        "expected a string pattern after `:`, found `b`",
        "`:` compares against string literals only, never against another field",
    ),
    hint(
        "process where a ⟦not⟧ like \"x\"",
        "unexpected `not` after a value",
        "`not like` is not EQL; negate the whole test: `not field like \"...\"`",
    ),
    hint(
        "process where ⟦descendant of⟧ [process where true]",
        "process relationships (`descendant of [...]`) are not supported by Elasticsearch EQL",
        "correlate the events with `sequence by process.entity_id` instead",
    ),
    hint(
        "⟦join⟧ [process where true] [file where true]",
        "`join` is not supported by Elasticsearch EQL",
        "use `sequence` to correlate events",
    ),
    hint(
        "process where true | ⟦count⟧",
        "pipe `count` is not supported by Elasticsearch EQL",
        "Elasticsearch EQL has the pipes `head N` and `tail N`",
    ),
    case(
        "process where true | ⟦unique⟧ process.name",
        "pipe `unique` is not supported by Elasticsearch EQL",
    ),
    case(
        "process where true | ⟦sort⟧ @timestamp",
        "pipe `sort` is not supported by Elasticsearch EQL",
    ),
    case("process where true | ⟦first⟧ 5", "unknown pipe `first`"),
    case(
        "process where true | head ⟦-1⟧",
        "pipe `head` needs a positive integer",
    ),
    case(
        "process where true | ⟦tail⟧",
        "pipe `tail` needs a count, as in `| tail 10`",
    ),
    hint(
        "process where ⟦startWith⟧(a, \"x\")",
        "unknown function `startWith`",
        "did you mean `startsWith`?",
    ),
    hint(
        "process where ⟦length~⟧(a) > 1",
        "function `length` has no case-insensitive form `length~`",
        "only between, endsWith, indexOf, startsWith and stringContains accept `~`",
    ),
    hint(
        "sequence with maxspan=1h ⟦by⟧ user.name [any where true] [any where true]",
        "the sequence's `by` must come before `with maxspan`, not after",
        "write `sequence by key with maxspan=1h`",
    ),
    hint(
        "sequence with maxspan=⟦1⟧ [any where true] [any where true]",
        "maxspan `1` has no time unit",
        "add one of `ms`, `s`, `m`, `h`, `d`: `1s` for seconds",
    ),
    hint(
        "sequence with maxspan=1⟦w⟧ [any where true] [any where true]",
        "unknown time unit `w`",
        "use one of `ms`, `s`, `m`, `h`, `d`",
    ),
    hint(
        "sequence with maxspan=⟦1.5⟧h [any where true] [any where true]",
        "maxspan needs a whole number, found `1.5`",
        "use a smaller unit instead of a fraction: `90m`, not `1.5h`",
    ),
    hint(
        "sequence with maxspan⟦==⟧1h [any where true] [any where true]",
        "expected `=` after `maxspan`, found `==`",
        "parameters are set with a single `=`: `maxspan=...`",
    ),
    hint(
        "sequence [any where true] with ⟦repeat⟧=2",
        "unknown stage parameter `repeat`",
        "the only stage parameter is `runs`, as in `with runs=3`",
    ),
    case(
        "sequence [any where true ⟦[⟧any where true]",
        "expected `]` to close the stage, found `[`",
    ),
    case(
        "sequence ⟦⟧",
        "expected `[` to open the first stage of the sequence, found end of query",
    ),
    case(
        "sequence [any where true] [any where true] until ⟦![⟧any where true]",
        "the `until` stage cannot be a missing-event stage",
    ),
    case(
        "process where true ⟦[⟧any where true]",
        "unexpected `[` after the query",
    ),
    case("process where a == ⟦1e999⟧", "number `1e999` is too large"),
    // ---- verifier --------------------------------------------------------------------------
    hint(
        "process where ⟦process.name == process.parent.name⟧",
        "comparing a field with another field is not supported by Elasticsearch EQL",
        "compare a field with a literal value; to relate two events by a shared value, use `sequence by`",
    ),
    case(
        "process where ⟦length(process.name) < process.pid⟧",
        "comparing a field with another field is not supported by Elasticsearch EQL",
    ),
    hint(
        "sequence [any where true] ⟦with runs=0⟧",
        "`runs` must be between 1 and 100, found 0",
        "a stage matches at least once: remove `with runs=0`, or count from 1",
    ),
    hint(
        "sequence [any where true] ⟦with runs=101⟧",
        "`runs` must be between 1 and 100, found 101",
        "Elasticsearch allows at most 100 runs; for larger counts use a threshold rule",
    ),
    case(
        "sequence ⟦with maxspan=0s⟧ [any where true] [any where true]",
        "maxspan must be positive, found 0s",
    ),
    hint(
        "⟦sequence [any where true]⟧",
        "a sequence needs at least 2 stages, found 1",
        "add a stage, or repeat one with `with runs=N`",
    ),
    case(
        "⟦sequence [any where true] until [any where false]⟧",
        "a sequence needs at least 2 stages, found 1",
    ),
    case(
        "sequence [any where true] by a ⟦[any where true] by a, b⟧",
        "this stage has 2 join keys, but the first stage has 1",
    ),
    case(
        "⟦sequence with maxspan=1h ![any where true]⟧",
        "a sequence needs at least 2 stages, found 1",
    ),
    case(
        "⟦sequence with maxspan=1h ![any where true] ![any where false]⟧",
        "a sequence needs at least one stage that is not a missing event",
    ),
    case(
        "sequence [any where true] ⟦![any where false]⟧",
        "a sequence with a missing-event stage `![...]` needs `with maxspan=...`",
    ),
    case(
        "process where a not in~ (⟦1⟧)",
        "`not in~` compares strings, found integer `1`",
    ),
    hint(
        "process where a : ⟦1⟧",
        "`:` needs a string pattern, found integer `1`",
        "quote it: \"1\"",
    ),
    case(
        "process where a regex~ ⟦true⟧",
        "`regex~` needs a string regular expression, found boolean `true`",
    ),
    case(
        "process where ⟦length(a)⟧ : \"3\"",
        "`:` matches strings, found numeric expression `length(a)`",
    ),
    hint(
        "process where ⟦startsWith(a)⟧",
        "`startsWith` takes 2 arguments, found 1",
        "usage: startsWith(source, prefix)",
    ),
    hint(
        "process where ⟦substring(a, 1, 2, 3)⟧ == \"x\"",
        "`substring` takes 2 or 3 arguments, found 4",
        "usage: substring(source, start, [end])",
    ),
    case(
        "process where ⟦concat()⟧ == \"x\"",
        "`concat` takes at least 1 argument, found 0",
    ),
    case(
        "process where length(⟦5⟧) > 1",
        "the first argument of `length` (source) must be a string, found integer `5`",
    ),
    case(
        "process where add(a, ⟦\"1\"⟧) == 2",
        "the second argument of `add` (addend) must be a numeric, found string \"1\"",
    ),
    case(
        "process where between(a, \"x\", \"y\", ⟦\"true\"⟧) == \"z\"",
        "the fourth argument of `between` (greedy) must be a boolean, found string \"true\"",
    ),
    case(
        "network where cidrMatch(source.ip, ⟦cidr⟧)",
        "the second argument of `cidrMatch` (cidr) must be a constant, found field `cidr`",
    ),
    case(
        "network where cidrMatch(⟦\"10.1.2.3\"⟧, \"10.0.0.0/8\")",
        "the first argument of `cidrMatch` (ip) must be an ip, found string \"10.1.2.3\"",
    ),
    case(
        "process where substring(a, ⟦1.5⟧) == \"x\"",
        "the second argument of `substring` (start) must be an integer, found float `1.5`",
    ),
    case(
        "process where number(a, ⟦b⟧) == 1",
        "the second argument of `number` (base) must be a constant, found field `b`",
    ),
    hint(
        "network where cidrMatch(source.ip, ⟦\"10.0.0.0/33\"⟧)",
        "\"10.0.0.0/33\" is not an IP address or CIDR block",
        "write an address with a prefix length, as in \"10.0.0.0/8\" or \"fd00::/8\"",
    ),
    hint(
        "process where ⟦1⟧",
        "the condition after `where` must be boolean, found integer `1`",
        "compare the value with something, as in `field == 1`",
    ),
    case(
        "process where ⟦\"a\"⟧ and true",
        "`and` needs boolean operands, found string \"a\"",
    ),
    case(
        "process where a == ⟦\"x\"⟧ * 2",
        "`*` needs numeric operands, found string \"x\"",
    ),
    case(
        "process where ⟦\"x\" == 1⟧",
        "`==` compares a string with a numeric: string \"x\" and integer `1`",
    ),
    case(
        "process where a in (1, ⟦b⟧)",
        "`in` lists hold values, not fields: found field `b`",
    ),
    case(
        "sequence by ⟦1⟧ [any where true] [any where true]",
        "join keys must be fields, found integer `1`",
    ),
    hint(
        "sample ⟦[any where true]⟧ [any where true]",
        "a sample needs at least one join key",
        "write `sample by host.name [...] [...]`",
    ),
    case(
        "⟦sample by host [any where true]⟧",
        "a sample needs 2 to 5 stages, found 1",
    ),
    case(
        "sample by host [any where true] by ⟦host⟧ [any where true] by user",
        "join key `host` is used twice in this stage",
    ),
    case(
        "sample by host [any where true] [any where true] ⟦| head 5⟧",
        "`sample` does not support pipes",
    ),
    case(
        "sequence [any where ⟦process.args[0]⟧ == \"x\"] [any where true]",
        "array indexes are not supported by Elasticsearch EQL",
    ),
    case(
        "process where a == ⟦?\"⟧x\"",
        "`?\"...\"` is not a raw string in Elasticsearch EQL",
    ),
    hint(
        "process where a == ⟦\"\"\"⟧x\ny\"\"\"",
        "unterminated raw string",
        "raw strings cannot span lines",
    ),
];

const OPEN: char = '⟦';
const CLOSE: char = '⟧';

/// The query without markers, and the byte span the markers enclosed.
fn unmark(marked: &str) -> (String, std::ops::Range<usize>) {
    let start = marked.find(OPEN).expect("case has an opening marker");
    let without_open = marked.replacen(OPEN, "", 1);
    let end = without_open.find(CLOSE).expect("case has a closing marker");
    (without_open.replacen(CLOSE, "", 1), start..end)
}

#[test]
fn every_invalid_query_reports_its_message_span_and_hint() {
    assert!(CASES.len() >= 40, "the issue asks for at least 40 cases");
    let mut failures = Vec::new();
    for case in CASES {
        let (query, span) = unmark(case.query);
        let error = match quarry_eql::parse(&query) {
            Ok(q) => {
                failures.push(format!("{query:?}: accepted, printed as {q}"));
                continue;
            }
            Err(e) => e,
        };
        let d = error.first();
        let got_span = d.span.range();
        let mut problems = Vec::new();
        if d.message != case.message {
            problems.push(format!("message: {:?}", d.message));
        }
        if got_span != span {
            let mut marked = query.clone();
            marked.insert(got_span.end.min(query.len()), CLOSE);
            marked.insert(got_span.start.min(query.len()), OPEN);
            problems.push(format!("span: {marked:?}"));
        }
        if let Some(help) = case.help
            && d.help.as_deref() != Some(help)
        {
            problems.push(format!("help: {:?}", d.help));
        }
        if !problems.is_empty() {
            failures.push(format!("{:?}\n    {}", case.query, problems.join("\n    ")));
        }
        // Rendering never fails and always names a position.
        let text = error.render(&query, "query", quarry_eql::Style::Plain);
        assert!(text.contains(" --> query:"), "{text}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn the_verifier_reports_every_problem_not_just_the_first() {
    let query = "process where length(5) > 1 and a == b and c : 1";
    let error = quarry_eql::parse(query).unwrap_err();
    let messages: Vec<&str> = error
        .diagnostics()
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "the first argument of `length` (source) must be a string, found integer `5`",
            "comparing a field with another field is not supported by Elasticsearch EQL",
            "`:` needs a string pattern, found integer `1`",
        ]
    );
}
