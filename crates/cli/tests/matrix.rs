//! The detection matrix: each atomic test is detected in every source that carries its
//! activity, the false-positive scenarios raise nothing high or critical and every lower alert
//! carries its tuning, and docs/detection-matrix.md is what the code generates.

mod common;
use common::repo;

use std::collections::BTreeMap;
use std::process::Command;

/// The matrix as the binary prints it, parsed: scenario -> format -> cell text.
fn matrix() -> (String, BTreeMap<String, BTreeMap<String, String>>) {
    let out = Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(["rules", "matrix"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines().skip_while(|l| !l.starts_with("| scenario |"));
    let header: Vec<String> = cells(lines.next().unwrap())
        .into_iter()
        .map(|c| c.trim_matches('`').to_string())
        .collect();
    lines.next(); // |---|
    let mut m = BTreeMap::new();
    for line in lines.take_while(|l| l.starts_with('|')) {
        let row = cells(line);
        let scenario = row[0].trim_matches('`').to_string();
        let by_format = header[1..]
            .iter()
            .cloned()
            .zip(row[1..].iter().cloned())
            .collect();
        m.insert(scenario, by_format);
    }
    (text, m)
}

fn cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_matches('|')
        .split(" | ")
        .map(|c| c.trim().to_string())
        .collect()
}

const FORMATS: [&str; 6] = [
    "access-log",
    "proxy-log",
    "dc-audit",
    "cloud-audit",
    "org-audit",
    "cloudapp-events",
];

/// Which sources carry each atomic test's activity (and so must detect it), and why the others
/// cannot.
const CARRIES: &[(&str, &[&str])] = &[
    // REST reads: only request logs and Defender's space views (no audit log records reads).
    (
        "atomic-space-enum",
        &["access-log", "proxy-log", "cloudapp-events"],
    ),
    // Searches: request logs, and the DC audit log at FULL coverage (Guard keeps no query text).
    ("atomic-cql-hunt", &["access-log", "proxy-log", "dc-audit"]),
    // `expand=body.storage` is a URL parameter: only request logs carry it.
    ("atomic-body-storage", &["access-log", "proxy-log"]),
    // Exports are recorded everywhere but in the organization log Quarry cannot map.
    (
        "atomic-space-export",
        &[
            "access-log",
            "proxy-log",
            "dc-audit",
            "cloud-audit",
            "cloudapp-events",
        ],
    ),
];

#[test]
fn each_atomic_test_is_detected_wherever_its_activity_is_recorded() {
    let (_, m) = matrix();
    for (scenario, carriers) in CARRIES {
        for format in FORMATS {
            let cell = &m[*scenario][format];
            let detected =
                cell.contains("(medium") || cell.contains("(high") || cell.contains("(critical");
            if carriers.contains(&format) {
                assert!(detected, "{scenario} in {format}: {cell}");
            } else {
                assert!(
                    !detected,
                    "{scenario} in {format} was not expected to carry it: {cell}"
                );
            }
        }
    }
}

#[test]
fn false_positive_scenarios_raise_nothing_high_and_explain_the_rest() {
    let (_, m) = matrix();
    for scenario in [
        "fp-doc-sprint",
        "fp-ci-bot",
        "fp-onboarding",
        "fp-cloud-search",
    ] {
        for format in FORMATS {
            let cell = &m[scenario][format];
            assert!(
                !cell.contains("(high") && !cell.contains("(critical"),
                "{scenario} in {format}: {cell}"
            );
            for alert in cell.split("<br>").filter(|a| a.ends_with(')')) {
                assert!(
                    alert.contains(", tuned)"),
                    "{scenario} in {format}: `{alert}` carries no tuning"
                );
            }
        }
    }
    // The backup account's exports and the generator's page pulls are dropped, and counted.
    for format in [
        "access-log",
        "proxy-log",
        "dc-audit",
        "cloud-audit",
        "cloudapp-events",
    ] {
        assert!(
            m["fp-ci-bot"][format].contains("events dropped"),
            "{format}"
        );
    }
}

/// The expected matrix, cell by cell (reviewed by hand against the scenarios and the rules).
#[test]
fn the_matrix_is_the_expected_one() {
    let (_, m) = matrix();
    const ENUM: &str = "Confluence Space Enumeration by a Scripted Client (medium)";
    const CQL: &str = "Confluence Credential Search (medium)<br>Repeated Sensitive Confluence Searches (medium)<br>Confluence Sensitive Term Search (Hunt) (low)";
    const REST: &str = "Bulk Confluence Content Extraction over REST (high)";
    const EXPORT: &str = "Confluence Space Export (high)";
    const BULK_TUNED: &str = "Bulk Confluence Data Mining (low, tuned)<br>Bulk Confluence Data Mining (Threshold) (low, tuned)";
    const HUNT_TUNED: &str = "Confluence Sensitive Term Search (Hunt) (low, tuned)";
    const NR: &str = "*not recorded*";
    const NONE: &str = "no alert";
    let expected: &[(&str, [&str; 6])] = &[
        ("atomic-space-enum", [ENUM, ENUM, NR, NR, NR, ENUM]),
        ("atomic-cql-hunt", [CQL, CQL, CQL, NR, NR, NR]),
        ("atomic-body-storage", [REST, REST, NR, NR, NR, NONE]),
        (
            "atomic-space-export",
            [EXPORT, EXPORT, EXPORT, EXPORT, NR, EXPORT],
        ),
        // A proxy cannot name browser users, so the user-joined bulk rules stay quiet there;
        // the DC audit log holds only their logins.
        (
            "fp-doc-sprint",
            [BULK_TUNED, NONE, NONE, NR, NR, BULK_TUNED],
        ),
        (
            "fp-ci-bot",
            [
                "no alert<br>*52 events dropped*",
                "no alert<br>*52 events dropped*",
                "no alert<br>*7 events dropped*",
                "no alert<br>*6 events dropped*",
                NR,
                "no alert<br>*21 events dropped*",
            ],
        ),
        (
            "fp-onboarding",
            [BULK_TUNED, NONE, NONE, NR, NR, BULK_TUNED],
        ),
        // Guard keeps no search text, so Defender shows nothing of the searches.
        (
            "fp-cloud-search",
            [HUNT_TUNED, HUNT_TUNED, HUNT_TUNED, NR, NR, NONE],
        ),
    ];
    for (scenario, row) in expected {
        for (format, want) in FORMATS.iter().zip(row) {
            assert_eq!(&m[*scenario][*format], want, "{scenario} in {format}");
        }
    }
    assert_eq!(m.len(), expected.len());
}

#[test]
fn the_document_is_what_the_code_generates() {
    let (text, _) = matrix();
    let doc = std::fs::read_to_string(repo().join("docs/detection-matrix.md")).unwrap();
    assert!(
        doc == text,
        "docs/detection-matrix.md is stale: run `cargo run --release -- rules matrix --write docs/detection-matrix.md`"
    );
}

/// The simulator's atomic scenarios send exactly the requests `quarry atomic show` prints, so
/// what the matrix proves about the simulation holds for the real tests.
#[test]
fn the_simulated_atomic_tests_are_the_atomic_tests() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_quarry"))
            .args(args)
            .current_dir(repo())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    for (n, scenario) in [
        ("1", "atomic-space-enum"),
        ("2", "atomic-cql-hunt"),
        ("3", "atomic-body-storage"),
        ("4", "atomic-space-export"),
    ] {
        // The fixed request targets of the script (the export's task and archive links are only
        // known when it runs).
        let script = run(&["atomic", "show", n]);
        let shown: Vec<String> = script
            .lines()
            .filter(|l| l.contains("curl -sS"))
            .filter_map(|l| {
                let url = l
                    .rsplit(' ')
                    .next()?
                    .trim_matches(|c| c == '\'' || c == ')');
                let target = url.strip_prefix("https://confluence.example.com")?;
                Some(target.to_string())
            })
            .collect();
        assert!(!shown.is_empty(), "test {n}");
        // The simulated access log's request targets, in time order.
        let log = run(&["simulate", scenario]);
        let mut simulated: Vec<(String, String)> = log
            .lines()
            .map(|l| {
                let time = l[1..21].to_string();
                let target = l.split(' ').nth(6).unwrap().to_string();
                (time, target)
            })
            .collect();
        simulated.sort_by(|a, b| a.0.cmp(&b.0));
        let simulated: Vec<String> = simulated
            .into_iter()
            .map(|(_, t)| t)
            .filter(|t| {
                !t.starts_with("/pages/longrunningtaskxml.action")
                    && !t.starts_with("/download/temp/")
            })
            .collect();
        assert_eq!(simulated, shown, "test {n} ({scenario})");
    }
}
