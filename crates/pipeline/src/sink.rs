//! Sinks: where alerts go once the rules have raised them.
//!
//! A run hands each alert to one [`AlertSink`], in report order (most severe first, then by
//! time), then calls [`AlertSink::finish`]. The table a person reads, CSV for a spreadsheet,
//! NDJSON for Elastic and other tools, and a `Vec` for embedders and tests are all sinks;
//! later ones (a webhook, an HTML report) plug in the same way.

use std::io::{self, Write};

use quarry_rules::alert::{printable, short_time};
use quarry_rules::{Alert, Rule, Severity};

/// Receives alerts.
pub trait AlertSink {
    /// One alert, of `rule`.
    fn alert(&mut self, alert: Alert, rule: &Rule) -> io::Result<()>;
    /// No more alerts: write what closes the output, and flush.
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Alerts kept in memory, in the order they came.
impl AlertSink for Vec<Alert> {
    fn alert(&mut self, alert: Alert, _: &Rule) -> io::Result<()> {
        self.push(alert);
        Ok(())
    }
}

/// One ECS / Kibana-alert JSON document per line.
pub struct NdjsonSink<W: Write>(pub W);

impl<W: Write> AlertSink for NdjsonSink<W> {
    fn alert(&mut self, alert: Alert, rule: &Rule) -> io::Result<()> {
        serde_json::to_writer(&mut self.0, &alert.to_json(rule))?;
        self.0.write_all(b"\n")
    }
    fn finish(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// CSV with a header row (written even when there is no alert).
pub struct CsvSink<W: Write> {
    writer: csv::Writer<W>,
    header: bool,
}

impl<W: Write> CsvSink<W> {
    pub fn new(out: W) -> Self {
        CsvSink {
            writer: csv::Writer::from_writer(out),
            header: false,
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.header {
            self.header = true;
            self.writer.write_record([
                "severity",
                "timestamp",
                "rule_id",
                "rule_name",
                "user_name",
                "source_ip",
                "event_count",
                "match_count",
                "first_seen",
                "last_seen",
                "risk_score",
                "reason",
            ])?;
        }
        Ok(())
    }
}

impl<W: Write> AlertSink for CsvSink<W> {
    fn alert(&mut self, a: Alert, _: &Rule) -> io::Result<()> {
        self.header()?;
        self.writer.write_record([
            a.severity.name().to_string(),
            a.timestamp.to_string(),
            a.rule_id.clone(),
            a.rule_name.clone(),
            a.user.clone().unwrap_or_default(),
            a.shown_address().unwrap_or_default().to_string(),
            a.event_count.to_string(),
            a.match_count.to_string(),
            a.first_seen.to_string(),
            a.last_seen.to_string(),
            a.risk_score.to_string(),
            a.reason(),
        ])?;
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        self.header()?;
        self.writer.flush()
    }
}

/// The table a person reads: one row per alert, its reason sentence under it; severities in
/// colour when `color` is set (a terminal).
pub struct TableSink<W: Write> {
    out: W,
    color: bool,
    rows: usize,
}

impl<W: Write> TableSink<W> {
    pub fn new(out: W, color: bool) -> Self {
        TableSink {
            out,
            color,
            rows: 0,
        }
    }
}

const RESET: &str = "\x1b[0m";

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "\x1b[1;37;41m",
        Severity::High => "\x1b[1;31m",
        Severity::Medium => "\x1b[33m",
        Severity::Low => "\x1b[36m",
    }
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

impl<W: Write> AlertSink for TableSink<W> {
    fn alert(&mut self, a: Alert, _: &Rule) -> io::Result<()> {
        if self.rows == 0 {
            writeln!(
                self.out,
                "{:<9} {:<21} {:<44} {:<16} {:<15} {:>6} {:>7}",
                "SEVERITY", "TIME", "RULE", "USER", "SOURCE.IP", "EVENTS", "MATCHES"
            )?;
        }
        self.rows += 1;
        let sev = format!("{:<9}", a.severity.name());
        let sev = if self.color {
            format!("{}{sev}{RESET}", severity_color(a.severity))
        } else {
            sev
        };
        writeln!(
            self.out,
            "{sev} {:<21} {:<44} {:<16} {:<15} {:>6} {:>7}",
            short_time(a.timestamp),
            truncate(&a.rule_name, 44),
            truncate(&printable(a.user.as_deref().unwrap_or("-")), 16),
            truncate(&printable(a.shown_address().unwrap_or("-")), 15),
            a.event_count,
            a.match_count,
        )?;
        writeln!(self.out, "          {}", a.reason())
    }
    fn finish(&mut self) -> io::Result<()> {
        if self.rows == 0 {
            writeln!(self.out, "No alerts.")?;
        }
        self.out.flush()
    }
}
