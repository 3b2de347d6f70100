//! Windows keep an event's held form ([`Event::held`]), and a match still gets the event that
//! completed it as it came: its fields are read next (to fold it into an alert), and
//! decoding them again from a held copy would be work done twice.

use quarry_engine::{CompiledQuery, Hit, Options, run_batch};
use quarry_event::{Event, FieldCatalog, FieldId, Timestamp, ValueRef};

/// An event whose held form is marked, so a test can tell which it got. Its user is in two
/// fields (`user.name`, `related.user`), so stages can join on different fields.
#[derive(Debug, Clone)]
struct Marked {
    ts: i64,
    position: u64,
    user: &'static str,
    action: &'static str,
    held: bool,
    fields: (FieldId, FieldId, Option<FieldId>),
}

impl Event for Marked {
    fn field(&self, id: FieldId) -> ValueRef<'_> {
        if id == self.fields.0 || Some(id) == self.fields.2 {
            ValueRef::String(self.user)
        } else if id == self.fields.1 {
            ValueRef::String(self.action)
        } else {
            ValueRef::Null
        }
    }
    fn timestamp(&self) -> Timestamp {
        Timestamp::from_nanos(self.ts * 1_000_000_000)
    }
    fn position(&self) -> u64 {
        self.position
    }
    fn held(&self) -> Option<Marked> {
        Some(Marked {
            held: true,
            ..self.clone()
        })
    }
}

/// Per hit, per event: (position, held).
fn run(query: &str, actions: &[&'static str]) -> Vec<Vec<(u64, bool)>> {
    let ast = quarry_eql::parse(query).unwrap();
    let mut catalog = FieldCatalog::new();
    let compiled = CompiledQuery::compile(&ast, &mut catalog, &Options::default()).unwrap();
    let fields = (
        catalog.get("user.name").unwrap(),
        catalog.get("event.action").unwrap(),
        catalog.get("related.user"),
    );
    let events: Vec<Marked> = actions
        .iter()
        .enumerate()
        .map(|(i, action)| Marked {
            ts: i as i64,
            position: i as u64,
            user: "mallory",
            action,
            held: false,
            fields,
        })
        .collect();
    let (hits, _) = run_batch(compiled, events);
    hits.iter()
        .map(|h: &Hit<Marked>| h.events().iter().map(|e| (e.position, e.held)).collect())
        .collect()
}

#[test]
fn a_repeated_stage_keeps_held_events_and_completes_with_the_event_itself() {
    let hits = run(
        "sequence by user.name [any where event.action == \"v\"] with runs=3",
        &["v", "v", "v", "v"],
    );
    assert_eq!(
        hits,
        vec![
            vec![(0, true), (1, true), (2, false)],
            vec![(1, true), (2, true), (3, false)],
        ]
    );
}

#[test]
fn distinct_stages_keep_held_events_and_complete_with_the_event_itself() {
    let query = "sequence by user.name [any where event.action == \"a\"] \
                 [any where event.action == \"b\"] [any where event.action == \"c\"]";
    assert_eq!(
        run(query, &["a", "b", "c"]),
        vec![vec![(0, true), (1, true), (2, false)]]
    );
    // Stages keyed by different fields take the general path, with the same result.
    let query = "sequence [any where event.action == \"a\"] by user.name \
                 [any where event.action == \"b\"] by user.name \
                 [any where event.action == \"c\"] by related.user";
    assert_eq!(
        run(query, &["a", "b", "c"]),
        vec![vec![(0, true), (1, true), (2, false)]]
    );
}
