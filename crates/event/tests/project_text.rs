//! The streaming projection of JSON text gives exactly what projecting the parsed tree gives,
//! for nested objects, dotted keys, mixtures, arrays of objects and everything in between.

use proptest::prelude::*;
use quarry_event::{Document, FieldCatalog, Projection};
use serde_json::{Map, Value as Json, json};

const NAMES: [&str; 5] = ["a", "b", "c", "user", "name"];

fn key() -> impl Strategy<Value = String> {
    // Single names and dotted pairs, so documents mix both spellings.
    prop_oneof![
        prop::sample::select(NAMES.to_vec()).prop_map(str::to_string),
        (
            prop::sample::select(NAMES.to_vec()),
            prop::sample::select(NAMES.to_vec())
        )
            .prop_map(|(a, b)| format!("{a}.{b}")),
    ]
}

fn json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i32>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|u| json!(u)),
        (-1e12f64..1e12).prop_map(|f| json!(f)),
        "[a-z\\\\\"é]{0,6}".prop_map(Json::String),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::vec((key(), inner), 0..5)
                .prop_map(|kv| Json::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn catalog() -> FieldCatalog {
    let mut c = FieldCatalog::new();
    for a in NAMES {
        c.intern(a);
        for b in NAMES {
            c.intern(&format!("{a}.{b}"));
            c.intern(&format!("{a}.{b}.name"));
        }
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn text_projection_matches_tree_projection(
        entries in prop::collection::vec((key(), json()), 0..6)
    ) {
        let object: Map<String, Json> = entries.into_iter().collect();
        let text = serde_json::to_string(&Json::Object(object)).unwrap();
        // Both sides read the same text (a float need not survive a print and a parse).
        let object: Map<String, Json> = serde_json::from_str(&text).unwrap();
        let catalog = catalog();
        let projection = Projection::new(&catalog);
        prop_assert_eq!(projection.project_text(&text).unwrap(), projection.project(&object));
    }
}

#[test]
fn documents_from_text_keep_their_source_and_report_errors() {
    let mut catalog = FieldCatalog::new();
    let ts = catalog.intern("@timestamp");
    let user = catalog.intern("user.name");
    let projection = Projection::new(&catalog);
    let text = r#"{"@timestamp":"2026-11-23T10:00:00Z","user":{"name":"alice","id":"u1"},"big":{"x":[1,2,{"y":3}]}}"#;
    let doc = Document::from_text(text, &projection, &catalog, ts, 7).unwrap();
    assert_eq!(
        doc.values()[user.index()],
        quarry_event::Value::String("alice".into())
    );
    assert_eq!(
        doc.source().into_owned(),
        serde_json::from_str::<Json>(text).unwrap()
    );
    let err = |t: &str| {
        Document::from_text(t, &projection, &catalog, ts, 0)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(err("[1]"), "expected a JSON object, found an array");
    assert!(
        err("{\"a\":").starts_with("not JSON:"),
        "{}",
        err("{\"a\":")
    );
    assert!(err("{} trailing").starts_with("not JSON:"));
    assert_eq!(err("{}"), "the timestamp field `@timestamp` is missing");
}
