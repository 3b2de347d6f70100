//! `quarry check`: is this EQL valid for Elasticsearch, and what is its canonical form?

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use quarry_eql::{Diagnostic, Error, span::Span};

/// Check an EQL query: print `ok` and its canonical form, or say exactly what is wrong.
///
/// Exit status: 0 when the query is valid, 2 when it is not, 1 when it could not be read.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  quarry check 'process where process.name : \"cmd.exe\"'
  quarry check -f rules/bulk.eql
  echo 'any where true | head 5' | quarry check -f -")]
pub struct Args {
    /// The EQL query text.
    #[arg(
        value_name = "EQL",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    query: Option<String>,
    /// Read the query from FILE instead (`-` for standard input).
    #[arg(short, long, value_name = "FILE")]
    file: Option<PathBuf>,
}

/// Exit status for a query that is not valid EQL.
const INVALID: u8 = 2;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (origin, bytes) = match (&args.query, &args.file) {
        (Some(q), _) => ("query".to_string(), q.clone().into_bytes()),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("reading the query from standard input")?;
            ("<stdin>".to_string(), buf)
        }
        (None, Some(path)) => {
            let buf = std::fs::read(path)
                .with_context(|| format!("reading the query from {}", path.display()))?;
            (path.display().to_string(), buf)
        }
        (None, None) => unreachable!("clap requires a query or a file"),
    };
    let source = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            // Show where the bad byte is, in the text decoded so far.
            let at = e.utf8_error().valid_up_to();
            let bad = e.as_bytes()[at];
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let error = Error::from(
                Diagnostic::new(
                    Span::new(at, at + 1),
                    format!("the query is not valid UTF-8 (byte 0x{bad:02x})"),
                )
                .with_help("save the query as UTF-8 text"),
            );
            eprint!("{}", error.render(&lossy, &origin, super::stderr_style()));
            return Ok(ExitCode::from(INVALID));
        }
    };
    match quarry_eql::parse(&source) {
        Ok(query) => {
            println!("ok");
            println!("{query}");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprint!("{}", error.render(&source, &origin, super::stderr_style()));
            Ok(ExitCode::from(INVALID))
        }
    }
}
