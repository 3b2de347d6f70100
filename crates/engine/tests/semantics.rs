//! Condition semantics, one table: each row is a condition, a document, and the answer
//! Elasticsearch gives (true: the event is returned; false or null: it is not, and the table
//! says which, because `not` tells them apart).

use quarry_engine::expr::{compile_condition, eval_cond};
use quarry_eql::ast::QueryBody;
use quarry_event::{Document, FieldCatalog, Projection};
use serde_json::json;

/// Evaluates `condition` on `doc`: Some(true), Some(false) or None (null).
fn eval(condition: &str, doc: serde_json::Value) -> Option<bool> {
    let query = quarry_eql::parse_syntax(&format!("any where {condition}")).unwrap();
    let QueryBody::Event(event) = query.body else {
        unreachable!()
    };
    let mut catalog = FieldCatalog::new();
    let ts = catalog.intern("@timestamp");
    let cond = compile_condition(&event.condition, &mut catalog).unwrap();
    let mut doc = doc;
    doc["@timestamp"] = json!(0);
    let d = Document::from_json(doc, &Projection::new(&catalog), &catalog, ts, 0).unwrap();
    eval_cond(&cond, &d)
}

const T: Option<bool> = Some(true);
const F: Option<bool> = Some(false);
const N: Option<bool> = None;

#[test]
fn conditions_follow_elasticsearch() {
    let cases: &[(&str, serde_json::Value, Option<bool>)] = &[
        // Three-valued logic: a comparison with a missing field is null, and `not null` is null.
        ("x == 1", json!({}), N),
        ("x != 1", json!({}), N),
        ("not x == 1", json!({}), N),
        ("x == 1 or true", json!({}), T),
        ("x == 1 and false", json!({}), F),
        ("x == 1 and true", json!({}), N),
        ("x == 1 or false", json!({}), N),
        // `== null` and `!= null` test absence and presence.
        ("x == null", json!({}), T),
        ("x == null", json!({"x": null}), T),
        ("x == null", json!({"x": []}), T),
        ("x == null", json!({"x": 0}), F),
        ("x != null", json!({"x": ""}), T),
        ("null == x", json!({}), T),
        ("x < null", json!({"x": 1}), N),
        // Multi-valued fields: any value may satisfy a test of the bare field.
        ("x == 5", json!({"x": [1, 5]}), T),
        ("x == 5", json!({"x": [1, 2]}), F),
        ("x != 5", json!({"x": [1, 5]}), F),
        ("x != 5", json!({"x": [1, 2]}), T),
        ("x < 2", json!({"x": [1, 5]}), T),
        ("x > 4", json!({"x": [1, 5]}), T),
        ("x in (3, 5)", json!({"x": [1, 5]}), T),
        ("x not in (3, 5)", json!({"x": [1, 5]}), F),
        ("x not in (3, 5)", json!({}), N),
        // Numbers compare across integer and float.
        ("x == 5", json!({"x": 5.0}), T),
        ("x < 4.5", json!({"x": 4}), T),
        ("x >= 3.1", json!({"x": 3}), F),
        (
            "x == 9007199254740993",
            json!({"x": 9007199254740993i64}),
            T,
        ),
        (
            "x < 9007199254740993.0",
            json!({"x": 9007199254740992i64}),
            F,
        ),
        // Strings compare by code point and case-sensitively with ==.
        ("x == \"Cmd.exe\"", json!({"x": "cmd.exe"}), F),
        (
            "x >= \"System\" and x <= \"System Idle Process\"",
            json!({"x": "System"}),
            T,
        ),
        (
            "x >= \"system idle process\" and x <= \"System Idle Process\"",
            json!({"x": "System Idle Process"}),
            F,
        ),
        // A string never equals a number: present but not matching.
        ("x == 5", json!({"x": "5"}), F),
        // Booleans.
        ("x == true", json!({"x": true}), T),
        ("x", json!({"x": true}), T),
        ("x", json!({"x": false}), F),
        ("x", json!({}), N),
        // Dotted and nested spellings are the same field.
        ("user.name == \"a\"", json!({"user": {"name": "a"}}), T),
        ("user.name == \"a\"", json!({"user.name": "a"}), T),
        // `==` never expands wildcards.
        ("x == \"a*\"", json!({"x": "abc"}), F),
        ("x == \"a*\"", json!({"x": "a*"}), T),
        // Constant folding.
        ("1 < 2", json!({}), T),
        ("null == null", json!({}), T),
        ("\"a\" == \"b\"", json!({}), F),
    ];
    let mut failures = Vec::new();
    for (condition, doc, expected) in cases {
        let got = eval(condition, doc.clone());
        if got != *expected {
            failures.push(format!(
                "{condition} on {doc}: expected {expected:?}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
