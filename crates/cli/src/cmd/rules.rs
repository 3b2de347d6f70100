//! `quarry rules`: look at and validate detection rules.

use std::path::PathBuf;
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
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let style = super::stderr_style();
    let (dir, list) = match &args.command {
        Command::List { dir } => (dir.as_deref(), true),
        Command::Validate { dir } => (dir.as_deref(), false),
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
