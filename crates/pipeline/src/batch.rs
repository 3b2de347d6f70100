//! The batch form: finished inputs in, every alert out in report order, a summary back.

use quarry_rules::{Alert, Hunt};

use crate::summary::{AlertTally, EventCounts, Summary};
use crate::{AlertSink, Config, PipelineError, Progress, Stage, normalize, route, source};

/// Runs `config`: normalizes, orders, routes and hunts every input, hands the alerts to
/// `sink` in report order, and returns what happened.
pub fn run(
    config: Config,
    sink: &mut dyn AlertSink,
    progress: &dyn Progress,
) -> Result<Summary, PipelineError> {
    let Config {
        mut rules,
        tuning,
        hunt: options,
        ingest,
        inputs,
        threads,
        min_part_bytes,
        min_severity,
    } = config;
    let threads = threads.max(1);
    let rule_changes = tuning.apply_to_rules(&mut rules)?;
    let tuning_origin = (!tuning.origin.is_empty()).then(|| tuning.origin.clone());
    let first = Hunt::new(rules, tuning.clone(), options.clone())?;

    let (inputs, repeated) = source::dedup(inputs);
    let normalized =
        normalize::normalize_inputs(&inputs, &ingest, threads, min_part_bytes, progress)?;
    if normalized.spools.is_empty() && normalized.reports.is_empty() {
        return Err(PipelineError::NoInput(normalized.unreadable));
    }
    let spools = normalized.spools;

    let (workers, blocker) = route::shares(&first, &spools, threads);
    let mut hunts = vec![first];
    for _ in 1..workers {
        hunts.push(Hunt::new(
            hunts[0].rules().to_vec(),
            tuning.clone(),
            options.clone(),
        )?);
    }
    let total: u64 = spools.iter().map(|s| s.report.emitted).sum();
    progress.begin(Stage::Hunt, total);
    let quoted = ingest.quoted_errors;
    let max_users = options.max_join_keys;
    let outcomes: Vec<Result<route::Share, PipelineError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = hunts
            .into_iter()
            .enumerate()
            .map(|(index, hunt)| {
                let spools = &spools;
                scope.spawn(move || {
                    route::hunt_share(hunt, index, workers, spools, quoted, max_users, progress)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a hunting thread panicked"))
            .collect()
    });
    progress.end(Stage::Hunt);

    let mut alerts: Vec<Alert> = Vec::new();
    let mut counts = EventCounts::default();
    let mut stats = quarry_rules::HuntStats::default();
    let mut rules = Vec::new();
    let mut undecodable: Vec<Vec<route::Undecodable>> = vec![Vec::new(); spools.len()];
    let mut undecodable_by_spool = vec![0u64; spools.len()];
    for outcome in outcomes {
        let share = outcome?;
        alerts.extend(share.alerts);
        stats.absorb(share.stats);
        counts.absorb(share.counts);
        if rules.is_empty() {
            rules = share.rules;
        }
        for (i, kept) in share.undecodable.into_iter().enumerate() {
            undecodable[i].extend(kept);
            undecodable_by_spool[i] += share.undecodable_by_spool[i];
        }
    }

    // Records the rules could not decode are the malformed records of their input.
    let mut reports = normalized.reports;
    for (i, spool) in spools.iter().enumerate() {
        if undecodable_by_spool[i] == 0 {
            continue;
        }
        let Some((_, report)) = reports.iter_mut().find(|(input, _)| *input == spool.input) else {
            continue;
        };
        report.emitted -= undecodable_by_spool[i];
        report.malformed += undecodable_by_spool[i];
        let kept = &mut undecodable[i];
        route::lowest_lines(kept, quoted);
        // The records quoted are the first ones by line, whichever stage found them.
        let prefix = format!("{}:", report.input);
        let line_of = |quote: &str| -> u64 {
            quote
                .strip_prefix(&prefix)
                .and_then(|rest| rest.split(':').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(u64::MAX)
        };
        report.first_errors.extend(
            kept.iter()
                .map(|u| format!("{}:{}: {}", report.input, u.line, u.reason)),
        );
        report.first_errors.sort_by_key(|q| line_of(q));
        report.first_errors.truncate(quoted);
    }

    let before = alerts.len();
    alerts.retain(|a| a.severity >= min_severity);
    let mut tally = AlertTally {
        shown: alerts.len(),
        hidden: before - alerts.len(),
        by_rule: vec![0; rules.len()],
        lowered: 0,
    };
    alerts.sort_by(quarry_rules::alert::report_order);
    for alert in alerts {
        tally.by_rule[alert.rule] += 1;
        tally.lowered += usize::from(alert.original_severity.is_some());
        let rule = alert.rule;
        sink.alert(alert, &rules[rule])
            .map_err(PipelineError::Sink)?;
    }
    sink.finish().map_err(PipelineError::Sink)?;

    Ok(Summary {
        inputs: reports.into_iter().map(|(_, r)| r).collect(),
        unreadable: normalized.unreadable,
        repeated,
        counts,
        stats,
        rules,
        alerts: tally,
        tuning: tuning_origin,
        rule_changes,
        workers,
        one_worker_because: blocker.filter(|_| threads > 1),
    })
}
