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
