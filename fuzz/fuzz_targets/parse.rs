//! Fuzz the EQL parser, verifier, printer and diagnostic renderer with arbitrary bytes.
//!
//! Run with `cargo +nightly fuzz run parse` from `fuzz/` (or see the README's fuzzing notes).
//! Beyond "never panic", it checks two properties on every input that parses: the printed
//! form parses back to the same tree, and rendering any error never fails.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    match quarry_eql::parse_syntax(source) {
        Ok(query) => {
            let printed = query.to_string();
            let reparsed = quarry_eql::parse_syntax(&printed)
                .unwrap_or_else(|e| panic!("printed form does not parse: {printed:?}: {e}"));
            assert_eq!(
                reparsed.without_spans(),
                query.clone().without_spans(),
                "round trip changed the tree: {printed:?}"
            );
            if let Err(error) = quarry_eql::verify(&query) {
                let _ = error.render(source, "fuzz", quarry_eql::Style::Plain);
            }
        }
        Err(error) => {
            let _ = error.render(source, "fuzz", quarry_eql::Style::Plain);
        }
    }
});
