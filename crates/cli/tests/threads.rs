//! `quarry hunt --threads N` normalizes inputs (and parts of large files) in parallel and
//! splits the hunt by user across workers; whatever N, the alerts, their order and the
//! summary are byte for byte those of one thread.

mod common;
use common::{dir, quarry_ok as quarry, repo};

/// A mixed corpus: the examples, a benign day of 150 users (access log), the atomic tests
/// and false-positive scenarios in several formats, and generated ECS with many users.
fn corpus() -> Vec<String> {
    let d = dir("threads-corpus");
    let mut files = vec![repo().join("examples").display().to_string()];
    let mut simulate = |scenario: &str, format: &str, extra: &[&str]| {
        let path = d.join(format!("{scenario}.{format}"));
        let p = path.to_str().unwrap();
        let mut args = vec!["simulate", scenario, "--format", format, "-o", p];
        args.extend_from_slice(extra);
        quarry(&args);
        files.push(p.to_string());
    };
    simulate(
        "baseline",
        "access-log",
        &["--users", "150", "--hours", "10"],
    );
    simulate("fp-doc-sprint", "access-log", &[]);
    simulate("fp-cloud-search", "dc-audit", &[]);
    simulate("fp-onboarding", "ecs", &[]);
    simulate("atomic-body-storage", "proxy-log", &[]);
    simulate("atomic-cql-hunt", "dc-audit", &[]);
    simulate("atomic-space-export", "cloud-audit", &[]);
    simulate("atomic-space-enum", "cloudapp-events", &[]);
    let ecs = d.join("gen.ndjson");
    let p = ecs.to_str().unwrap();
    quarry(&[
        "bench", "gen", "--events", "20000", "--users", "300", "-o", p,
    ]);
    files.push(p.to_string());
    files
}

fn hunt(threads: usize, options: &[&str], files: &[String]) -> (String, String) {
    let j = threads.to_string();
    let mut args = vec!["hunt", "--threads", &j];
    if threads == 3 {
        // Cut every file over 64 KiB into parts normalized on their own threads (by default
        // only files of 64 MiB and more are cut).
        args.extend(["--min-part-bytes", "65536"]);
    }
    args.extend_from_slice(options);
    args.extend(files.iter().map(String::as_str));
    let out = quarry(&args);
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn any_number_of_threads_gives_the_alerts_and_summary_of_one() {
    let files = corpus();
    let tuning = repo().join("rules/confluence/tests/tuning/simulated-org.toml");
    let tuning = tuning.to_str().unwrap();
    let variants: [&[&str]; 5] = [
        &["--no-config", "--format", "ndjson"],
        &["--config", tuning, "--format", "ndjson"],
        &["--config", tuning, "--format", "table"],
        &["--no-config", "--format", "csv", "--no-suppress"],
        &[
            "--config",
            tuning,
            "--format",
            "ndjson",
            "--threshold-mode",
            "sliding",
            "--from",
            "2026-11-23T09:00:00Z",
        ],
    ];
    for options in variants {
        let one = hunt(1, options, &files);
        let lines = one.0.lines().count();
        assert!(
            lines > 5,
            "{options:?}: the corpus raises alerts of many users, not {lines} lines"
        );
        for threads in [2, 3] {
            let many = hunt(threads, options, &files);
            assert!(
                one.0 == many.0,
                "{options:?}: {threads} threads report other alerts than one"
            );
            assert_eq!(one.1, many.1, "{options:?}: {threads} threads");
        }
    }
}

#[test]
fn events_naming_several_users_keep_the_hunt_on_one_thread() {
    let d = dir("threads-multi-user");
    let file = d.join("multi.ndjson");
    let mut text = String::new();
    for i in 0..45 {
        // Every event is bob's and carol's: a sequence joins them under each name.
        text.push_str(&format!(
            concat!(
                r#"{{"@timestamp":"2026-11-23T10:{:02}:{:02}Z","event":{{"dataset":"atlassian.confluence","action":"page_viewed"}},"#,
                r#""user":{{"name":["bob","carol"]}},"source":{{"ip":"10.0.0.1"}}}}"#,
                "\n"
            ),
            i / 60,
            i % 60
        ));
    }
    std::fs::write(&file, text).unwrap();
    let p = file.to_str().unwrap();
    let one = hunt(1, &["--no-config", "--format", "ndjson"], &[p.to_string()]);
    let two = hunt(2, &["--no-config", "--format", "ndjson"], &[p.to_string()]);
    assert!(
        two.1
            .contains("hunting on one thread: 45 events name several users"),
        "{}",
        two.1
    );
    assert_eq!(one.0, two.0);
    assert!(!one.0.is_empty(), "the bulk-mining rules match");
}

#[test]
fn rules_that_mix_users_keep_the_hunt_on_one_thread() {
    let d = dir("threads-mixing-rule");
    let pack = repo().join("rules/confluence");
    for entry in std::fs::read_dir(&pack).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            std::fs::copy(&path, d.join(path.file_name().unwrap())).unwrap();
        }
    }
    // The space-export rule folding by address instead of by user.
    let export = d.join("space_export.toml");
    let text = std::fs::read_to_string(&export).unwrap();
    assert!(text.contains(r#"group_by = ["user.name"]"#), "{text}");
    std::fs::write(
        &export,
        text.replace(r#"group_by = ["user.name"]"#, r#"group_by = ["source.ip"]"#),
    )
    .unwrap();
    let rules = d.to_str().unwrap();
    let examples = repo().join("examples").display().to_string();
    let examples = [examples];
    let one = hunt(1, &["--rules", rules, "--no-config"], &examples);
    let two = hunt(2, &["--rules", rules, "--no-config"], &examples);
    assert!(
        two.1.contains(
            "hunting on one thread: rule `Confluence Space Export` matches or folds events of several users together"
        ),
        "{}",
        two.1
    );
    assert_eq!(one.0, two.0);
}
