//! `quarry rules`: look at and validate detection rules.

use std::path::PathBuf;

use anyhow::Context;
use std::process::ExitCode;

/// List or validate detection rules (the built-in pack, or a directory of rule files).
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  quarry rules list
  quarry rules validate rules/confluence/")]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// One line per rule: severity, risk, type, ATT&CK technique, name, file.
    List {
        /// A directory of rule files instead of the built-in pack.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Load every rule with full validation; print each problem with its file, line and
    /// column (exit status 2 when any).
    Validate {
        /// A directory of rule files instead of the built-in pack.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Run the rule tests (rules/confluence/tests/*.toml): each case's input through the whole
    /// pack, the rule under test's alerts compared with the expected ones. Prints a difference
    /// for each failure and ends with `N passed, N failed` (exit status 1 on any failure).
    Test {
        /// A directory of rule files instead of the built-in pack.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        /// The directory of test cases.
        #[arg(long, default_value = "rules/confluence/tests", value_name = "DIR")]
        tests: PathBuf,
        /// Also list the cases that pass.
        #[arg(short, long)]
        verbose: bool,
    },
    /// The detection matrix: the alerts each atomic test and false-positive scenario raises in
    /// each log source (simulated, normalized and hunted with the simulated organization's
    /// tuning), as Markdown.
    Matrix {
        /// A directory of rule files instead of the built-in pack.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        /// Tuning instead of rules/confluence/tests/tuning/simulated-org.toml.
        #[arg(long, value_name = "FILE")]
        tuning: Option<PathBuf>,
        /// Write the Markdown to FILE (e.g. docs/detection-matrix.md) instead of printing it.
        #[arg(long, value_name = "FILE")]
        write: Option<PathBuf>,
    },
    /// Export the rules for Elastic Security: Kibana import NDJSON (imported disabled) or TOML files.
    ///
    /// `--format kibana` writes what `POST /api/detection_engine/rules/_import` takes: one rule per
    /// line, each imported DISABLED (`enabled: false`) so that someone reviews it before it runs,
    /// then each rule's `[[exceptions]]` as its exception list and items, then Kibana's export
    /// summary line. It refuses (exit status 2, naming each rule file) an EQL sequence whose
    /// lookback is shorter than its maxspan or whose interval is shorter than half of it.
    ///
    /// `--format detection-rules` writes one TOML file per rule into the directory `-o` names,
    /// without the Quarry-only `[[exceptions]]`.
    ///
    /// Import into Kibana:
    ///   quarry rules export --format kibana -o quarry-rules.ndjson
    ///   curl -X POST "$KIBANA_URL/api/detection_engine/rules/_import?overwrite=true&overwrite_exceptions=true" \
    ///     -H 'kbn-xsrf: true' -u "$KIBANA_USER" --form file=@quarry-rules.ndjson
    #[command(verbatim_doc_comment)]
    Export {
        /// `kibana` (NDJSON for the rule import API) or `detection-rules` (TOML files).
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: ExportFormat,
        /// Kibana: the file to write (standard output without it). detection-rules: the directory
        /// to write the TOML files into (required; created if missing).
        #[arg(short, long, value_name = "FILE|DIR")]
        output: Option<PathBuf>,
        /// A directory of rule files instead of the built-in pack.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        /// Rewrite the queries for the fields Elastic's own `atlassian_confluence` integration
        /// indexes (audit records only), for clusters without Quarry's ingest pipeline. Each
        /// rule's note says what coverage it loses; rules that cannot run there are left out
        /// and named on stderr.
        #[arg(long)]
        native_fields: bool,
    },
}

/// What `quarry rules export` writes.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    /// NDJSON for Kibana's `POST /api/detection_engine/rules/_import`.
    Kibana,
    /// TOML files for elastic/detection-rules' custom rules.
    DetectionRules,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let style = super::stderr_style();
    let (dir, list) = match &args.command {
        Command::List { dir } => (dir.as_deref(), true),
        Command::Validate { dir } => (dir.as_deref(), false),
        Command::Matrix {
            rules,
            tuning,
            write,
        } => return matrix(rules.as_deref(), tuning.as_deref(), write.as_deref(), style),
        Command::Test {
            rules,
            tests,
            verbose,
        } => return test(rules.as_deref(), tests, *verbose, style),
        Command::Export {
            format,
            output,
            rules,
            native_fields,
        } => {
            return export(
                *format,
                output.as_deref(),
                rules.as_deref(),
                *native_fields,
                style,
            );
        }
    };
    let rules = match crate::pack::load(dir, style) {
        Ok(r) => r,
        Err(rendered) => {
            eprint!("{rendered}");
            return Ok(ExitCode::from(2));
        }
    };
    if list {
        println!(
            "{:<9} {:>4}  {:<9} {:<10} {:<52} FILE",
            "SEVERITY", "RISK", "TYPE", "TECHNIQUE", "NAME"
        );
        for r in &rules {
            let (_, technique, sub) = r.primary_attack();
            let t = sub.or(technique).map_or("-", |t| t.id.as_str());
            println!(
                "{:<9} {:>4}  {:<9} {:<10} {:<52} {}",
                r.severity.name(),
                r.risk_score,
                r.rule_type,
                t,
                r.name,
                r.path.display()
            );
        }
    } else {
        println!("{} rules valid", rules.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn matrix(
    dir: Option<&std::path::Path>,
    tuning: Option<&std::path::Path>,
    write: Option<&std::path::Path>,
    style: quarry_eql::Style,
) -> anyhow::Result<ExitCode> {
    let mut rules = match crate::pack::load(dir, style) {
        Ok(r) => r,
        Err(rendered) => {
            eprint!("{rendered}");
            return Ok(ExitCode::from(2));
        }
    };
    let (origin, text) = match tuning {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        ),
        None => (
            crate::pack::SIMULATED_ORG_TUNING.0.to_string(),
            crate::pack::SIMULATED_ORG_TUNING.1.to_string(),
        ),
    };
    let tuning = quarry_rules::tuning::Tuning::parse(&origin, &text)?;
    tuning.apply_to_rules(&mut rules)?;
    let markdown = crate::matrix::compute(&rules, &tuning)?.markdown();
    match write {
        Some(path) => {
            std::fs::write(path, &markdown)
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("quarry: wrote {}", path.display());
        }
        None => print!("{markdown}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn test(
    dir: Option<&std::path::Path>,
    tests: &std::path::Path,
    verbose: bool,
    style: quarry_eql::Style,
) -> anyhow::Result<ExitCode> {
    let rules = match crate::pack::load(dir, style) {
        Ok(r) => r,
        Err(rendered) => {
            eprint!("{rendered}");
            return Ok(ExitCode::from(2));
        }
    };
    if !tests.is_dir() {
        anyhow::bail!(
            "{}: no such directory of rule tests (run from the repository root, or name it with --tests)",
            tests.display()
        );
    }
    let outcome = crate::rule_tests::run(tests, &rules)?;
    for block in outcome.report.split_inclusive('\n') {
        if verbose || !block.starts_with("ok ") {
            print!("{block}");
        }
    }
    println!("{} passed, {} failed", outcome.passed, outcome.failed);
    Ok(if outcome.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn export(
    format: ExportFormat,
    output: Option<&std::path::Path>,
    dir: Option<&std::path::Path>,
    native_fields: bool,
    style: quarry_eql::Style,
) -> anyhow::Result<ExitCode> {
    use quarry_rules::export;
    if matches!(format, ExportFormat::DetectionRules) && output.is_none() {
        anyhow::bail!(
            "--format detection-rules writes one file per rule: name a directory with -o DIR"
        );
    }
    let mut rules = match crate::pack::load(dir, style) {
        Ok(r) => r,
        Err(rendered) => {
            eprint!("{rendered}");
            return Ok(ExitCode::from(2));
        }
    };
    if native_fields {
        let map = crate::pack::native_map();
        let mut native = Vec::new();
        for rule in &rules {
            match quarry_rules::native::native_rule(rule, &map) {
                Ok(r) => native.push(r),
                Err(why) => eprintln!(
                    "quarry: left out \"{}\" ({}): {why}; it needs Quarry's ingest pipeline",
                    rule.name,
                    rule.path.display()
                ),
            }
        }
        rules = native;
    }
    let refused = |e: export::ExportError| {
        for p in &e.problems {
            eprintln!("error: {p}");
        }
        eprintln!(
            "quarry: nothing exported ({} problem{})",
            e.problems.len(),
            if e.problems.len() == 1 { "" } else { "s" }
        );
        ExitCode::from(2)
    };
    match format {
        ExportFormat::Kibana => {
            let ndjson = match export::kibana_ndjson(&rules) {
                Ok(t) => t,
                Err(e) => return Ok(refused(e)),
            };
            match output {
                Some(path) => {
                    std::fs::write(path, &ndjson)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!(
                        "quarry: wrote {} rules to {} (imported disabled: review, then enable them in Kibana)",
                        rules.len(),
                        path.display()
                    );
                }
                None => {
                    use std::io::Write;
                    let mut out = std::io::stdout().lock();
                    out.write_all(ndjson.as_bytes())
                        .and_then(|()| out.flush())
                        .context("writing standard output")?;
                }
            }
        }
        ExportFormat::DetectionRules => {
            let dir = output.expect("checked above");
            let files = match export::detection_rules_files(&rules) {
                Ok(f) => f,
                Err(e) => return Ok(refused(e)),
            };
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            for (name, text) in &files {
                let path = dir.join(name);
                std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            eprintln!(
                "quarry: wrote {} rule files to {}",
                files.len(),
                dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
