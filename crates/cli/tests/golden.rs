//! The alerts of a mixed corpus, recorded once and checked on every change to the hunt path.
//!
//! The corpus is made here, deterministically: the examples, every atomic and false-positive
//! scenario in every source format, a simulated morning of 1,000 users, generated ECS and
//! access logs, and shuffled copies of them (out-of-order input). `tests/golden/*.tsv` hold
//! one line per alert: its severity, rule, group key, first and last event, counts, and a
//! hash of its whole NDJSON document (evidence included), so that any change to any alert
//! fails, and the failure shows which alerts differ.
//!
//! When a change to the alerts is intended (a fix), run with `QUARRY_BLESS=1` to rewrite the
//! files, and say in the commit why each difference is right.

mod common;
use common::{dir, quarry_ok, repo};

use std::path::{Path, PathBuf};

fn quarry(args: &[&str]) -> (String, String) {
    let out = quarry_ok(args);
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const SCENARIOS: [&str; 8] = [
    "atomic-space-enum",
    "atomic-cql-hunt",
    "atomic-body-storage",
    "atomic-space-export",
    "fp-doc-sprint",
    "fp-ci-bot",
    "fp-onboarding",
    "fp-cloud-search",
];
const FORMATS: [&str; 6] = [
    "access-log",
    "proxy-log",
    "dc-audit",
    "cloud-audit",
    "cloudapp-events",
    "ecs",
];

/// The corpus in time order (as each source writes it), and its shuffled copies.
fn corpus() -> (Vec<String>, Vec<String>) {
    let d = dir("golden-corpus");
    let mut files = vec![repo().join("examples").display().to_string()];
    let add = |path: PathBuf, files: &mut Vec<String>| {
        if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
            files.push(path.display().to_string());
        }
    };
    for scenario in SCENARIOS {
        for format in FORMATS {
            let path = d.join(format!("{scenario}.{format}"));
            quarry(&[
                "simulate",
                scenario,
                "--format",
                format,
                "-o",
                path.to_str().unwrap(),
            ]);
            add(path, &mut files);
        }
    }
    let day = d.join("baseline-1000.log");
    quarry(&[
        "simulate",
        "baseline",
        "--users",
        "1000",
        "--hours",
        "2",
        "-o",
        day.to_str().unwrap(),
    ]);
    add(day.clone(), &mut files);
    let ecs = d.join("gen.ndjson");
    let log = d.join("gen.log");
    for (path, format) in [(&ecs, "ecs"), (&log, "access-log")] {
        quarry(&[
            "bench",
            "gen",
            "--events",
            "20000",
            "--users",
            "300",
            "--format",
            format,
            "-o",
            path.to_str().unwrap(),
        ]);
        add(path.clone(), &mut files);
    }
    let mut shuffled = Vec::new();
    for (i, source) in [&ecs, &log, &d.join("fp-doc-sprint.access-log")]
        .into_iter()
        .enumerate()
    {
        let path = d.join(format!(
            "shuffled-{i}.{}",
            source.extension().unwrap().to_str().unwrap()
        ));
        shuffle(source, &path, i as u64 + 1);
        shuffled.push(path.display().to_string());
    }
    (files, shuffled)
}

/// Writes the lines of `from` to `to` in an order drawn from `seed` (SplitMix64).
fn shuffle(from: &Path, to: &Path, seed: u64) {
    let text = std::fs::read_to_string(from).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..lines.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        lines.swap(i, j);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    std::fs::write(to, out).unwrap();
}

/// One line per alert of `--format ndjson` output.
fn digest(ndjson: &str) -> String {
    let mut out = String::new();
    for line in ndjson.lines() {
        let alert: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = |path: &str| -> String {
            let mut v = &alert;
            for part in path.split('/') {
                v = v.get(part).unwrap_or(&serde_json::Value::Null);
            }
            match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => "-".to_string(),
                other => other.to_string(),
            }
        };
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{:016x}\n",
            text("kibana.alert.severity"),
            text("kibana.alert.rule.name"),
            text("user/name"),
            text("source/ip"),
            text("quarry/first_seen"),
            text("quarry/last_seen"),
            text("quarry/event_count"),
            text("quarry/match_count"),
            fnv1a(line),
        ));
    }
    out
}

/// [`digest`] lines grouped by severity, rule and group key: how many, and one hash of
/// their hashes in order.
fn grouped(digest: &str) -> String {
    let mut groups: std::collections::BTreeMap<String, (u64, String)> = Default::default();
    for line in digest.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let key = fields[..4].join("\t");
        let entry = groups.entry(key).or_default();
        entry.0 += 1;
        entry.1.push_str(fields[8]);
    }
    groups
        .into_iter()
        .map(|(key, (n, hashes))| format!("{key}\t{n}\t{:016x}\n", fnv1a(&hashes)))
        .collect()
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Compares `got` with the golden file `name`, or rewrites it under `QUARRY_BLESS`.
fn check(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("QUARRY_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (QUARRY_BLESS=1 writes it)", path.display()));
    if want == got {
        return;
    }
    let missing: Vec<&str> = want.lines().filter(|l| !got.contains(l)).collect();
    let extra: Vec<&str> = got.lines().filter(|l| !want.contains(l)).collect();
    panic!(
        "{name}: the alerts changed ({} lines expected, {} got)\n\
         expected, not raised (first 20):\n  {}\nraised, not expected (first 20):\n  {}",
        want.lines().count(),
        got.lines().count(),
        missing
            .iter()
            .take(20)
            .copied()
            .collect::<Vec<_>>()
            .join("\n  "),
        extra
            .iter()
            .take(20)
            .copied()
            .collect::<Vec<_>>()
            .join("\n  "),
    );
}

#[test]
fn the_alerts_of_the_mixed_corpus_do_not_change() {
    let (files, shuffled) = corpus();
    // Relative to the repository root, where quarry runs: alerts quote the tuning file's
    // path, and the digest must not depend on where the repository is checked out.
    let tuning = "rules/confluence/tests/tuning/simulated-org.toml";
    let variants: [(&str, &[&str]); 4] = [
        ("untuned", &["--no-config"]),
        ("tuned", &["--config", tuning]),
        ("raw-matches", &["--no-config", "--no-suppress"]),
        (
            "sliding-from",
            &[
                "--config",
                tuning,
                "--threshold-mode",
                "sliding",
                "--from",
                "2026-11-23T09:00:00Z",
            ],
        ),
    ];
    for (inputs, set) in [("ordered", &files), ("shuffled", &shuffled)] {
        for (name, options) in variants {
            let mut args = vec!["hunt", "--format", "ndjson", "--quiet"];
            args.extend_from_slice(options);
            args.extend(set.iter().map(String::as_str));
            let (alerts, _) = quarry(&args);
            // Raw matches number in the tens of thousands: one line per group key, with
            // the count and a hash over all of its alerts in order.
            let got = if name == "raw-matches" {
                grouped(&digest(&alerts))
            } else {
                digest(&alerts)
            };
            assert!(!got.is_empty(), "{inputs}/{name}: the corpus raises alerts");
            check(&format!("{inputs}-{name}.tsv"), &got);
        }
    }
}
