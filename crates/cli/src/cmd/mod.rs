//! One module per subcommand; each exposes `Args` (its clap arguments) and `run`.

pub mod atomic;
pub mod bench;
pub mod check;
pub mod export;
pub mod hunt;
pub mod normalize;
pub mod query;
pub mod rules;
pub mod simulate;

use std::io::IsTerminal;

use quarry_eql::Style;

/// Colours for diagnostics on stderr when it is a terminal and `NO_COLOR` is unset.
pub fn stderr_style() -> Style {
    if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        Style::Color
    } else {
        Style::Plain
    }
}
