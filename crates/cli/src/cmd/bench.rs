//! `quarry bench`: measured throughput, never asserted in tests.

use std::process::ExitCode;
use std::time::Instant;

use quarry_engine::{CompiledQuery, Options, Runner};
use quarry_event::{Document, FieldCatalog, Timestamp, Value};
use quarry_simulate::rng::Rng;

/// Measure throughput. `engine` runs the seed's bulk-mining sequence over pre-parsed synthetic
/// ECS events (the engine alone: no reading, no JSON).
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    target: Target,
}

#[derive(clap::Subcommand)]
enum Target {
    /// `normalize` over a synthetic Confluence access log (written to a temporary file first).
    Normalize {
        /// Size of the generated log, in MiB.
        #[arg(long, default_value_t = 1024)]
        mib: u64,
        /// Keep the generated log at this path instead of a temporary file.
        #[arg(long, value_name = "FILE")]
        keep: Option<std::path::PathBuf>,
    },
    /// Write deterministic benchmark data: N Confluence events of K users (each with its own
    /// address) as ECS NDJSON (shaped like an Elasticsearch export, ~700 bytes a line) or as a
    /// Tomcat access log, in time order.
    Gen {
        /// Number of events.
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        /// Number of distinct users.
        #[arg(long, default_value_t = 1_000)]
        users: u64,
        /// `ecs` or `access-log`.
        #[arg(long, default_value = "ecs")]
        format: String,
        /// Events per second of simulated time (how dense the bursts are).
        #[arg(long, default_value_t = 100)]
        rate: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The file to write.
        #[arg(short, long, value_name = "FILE")]
        output: std::path::PathBuf,
    },
    /// `quarry hunt` with the built-in pack over FILE, alerts discarded: wall time, MB/s,
    /// events/s and peak RSS, next to the ceilings (reading the file; parsing every line with
    /// serde_json, skipping values).
    Hunt {
        /// The input (any format `hunt` reads).
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
        /// Skip the ceiling measurements.
        #[arg(long)]
        no_ceiling: bool,
        /// Worker threads for the hunt (default: one per core, as `quarry hunt`).
        #[arg(short = 'j', long, value_name = "N")]
        threads: Option<usize>,
    },
    /// The engine alone: the seed's sequence over pre-parsed events.
    Engine {
        /// Number of events.
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        /// Number of distinct users (each with its own source IP).
        #[arg(long, default_value_t = 1_000)]
        users: usize,
        /// Repeat the run and report the best.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
}

/// The seed's detection, verbatim.
pub const SEED_SEQUENCE: &str = r#"sequence by user.name, source.ip with maxspan=1h
[any where event.dataset == "atlassian.confluence" and
event.action in ("page_viewed", "content_viewed", "space_viewed",
"attachment_downloaded", "content_exported", "space_exported",
"search_performed", "page_printed")] with runs=40"#;

const ACTIONS: [&str; 10] = [
    "page_viewed",
    "page_viewed",
    "page_viewed",
    "content_viewed",
    "space_viewed",
    "search_performed",
    "attachment_downloaded",
    "user_login",
    "api_request",
    "page_printed",
];

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.target {
        Target::Normalize { mib, keep } => normalize(mib, keep),
        Target::Gen {
            events,
            users,
            format,
            rate,
            seed,
            output,
        } => generate(events, users.max(1), &format, rate.max(1), seed, &output),
        Target::Hunt {
            file,
            no_ceiling,
            threads,
        } => hunt(&file, !no_ceiling, threads),
        Target::Engine {
            events,
            users,
            repeat,
        } => engine(events, users.max(1), repeat.max(1)),
    }
}

fn engine(count: usize, users: usize, repeat: usize) -> anyhow::Result<ExitCode> {
    let ast = quarry_eql::parse(SEED_SEQUENCE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut catalog = FieldCatalog::new();
    let compiled = CompiledQuery::compile(&ast, &mut catalog, &Options::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = |name: &str| catalog.get(name).expect("the seed query reads it").index();
    let (dataset, action, user, ip) = (
        id("event.dataset"),
        id("event.action"),
        id("user.name"),
        id("source.ip"),
    );

    let rss_before = peak_rss_kib();
    let mut rng = Rng::new(42);
    let start = 1_714_521_600_000i64; // 2024-05-01T00:00:00Z
    let day_ms = 86_400_000i64;
    let user_names: Vec<String> = (0..users).map(|u| format!("user{u:05}")).collect();
    let user_ips: Vec<String> = (0..users)
        .map(|u| format!("10.{}.{}.{}", u >> 16 & 255, u >> 8 & 255, u & 255))
        .collect();
    let make = |i: usize, rng: &mut Rng| {
        let mut values = vec![Value::Null; catalog.len()];
        let u = rng.below(users);
        values[dataset] = Value::String(
            if rng.below(10) == 0 {
                "nginx.access"
            } else {
                "atlassian.confluence"
            }
            .to_string(),
        );
        values[action] = Value::String(ACTIONS[rng.below(ACTIONS.len())].to_string());
        values[user] = Value::String(user_names[u].clone());
        values[ip] = Value::String(user_ips[u].clone());
        let ts =
            Timestamp::from_millis(start + (i as i64 * day_ms) / count as i64).expect("in range");
        Document::from_values(values, ts, i as u64)
    };
    let mut best: Option<(f64, u64)> = None;
    let mut matched = 0;
    let mut gen_secs = 0.0;
    let mut rss_with_events = None;
    for _ in 0..repeat {
        let t = Instant::now();
        let docs: Vec<Document> = (0..count).map(|i| make(i, &mut rng)).collect();
        gen_secs = t.elapsed().as_secs_f64();
        rss_with_events = current_rss_kib();
        // The engine reads the events in place: their parsing and freeing are not its work.
        let run_start = Instant::now();
        let mut runner = Runner::new(compiled.clone());
        for doc in &docs {
            runner.push(doc).expect("generated in order");
        }
        let (hits, stats) = runner.finish();
        let secs = run_start.elapsed().as_secs_f64();
        matched = hits.len();
        drop(hits);
        drop(docs);
        if best.is_none_or(|(b, _)| secs < b) {
            best = Some((secs, stats.sequence.peak_keys));
        }
    }
    let (secs, peak_keys) = best.expect("at least one run");
    let rss_after = peak_rss_kib();
    println!(
        "bench engine: seed sequence (runs=40, maxspan=1h) over {count} pre-parsed events, {users} users"
    );
    println!("  generation:     {gen_secs:.2} s");
    println!(
        "  engine (best of {repeat}): {secs:.3} s  = {:.2} M events/s",
        count as f64 / secs / 1e6
    );
    println!("  sequences:      {matched}");
    println!("  peak join keys: {peak_keys}");
    match (rss_before, rss_with_events, rss_after) {
        (Some(b), Some(e), Some(a)) => println!(
            "  peak RSS:       {:.1} MiB (at start {:.1} MiB; with the events in memory {:.1} MiB)",
            a as f64 / 1024.0,
            b as f64 / 1024.0,
            e as f64 / 1024.0
        ),
        _ => println!("  peak RSS:       unavailable on this platform"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The process's peak resident set size in KiB (Linux `VmHWM`).
pub fn peak_rss_kib() -> Option<u64> {
    proc_status_kib("VmHWM:")
}

/// The process's current resident set size in KiB (Linux `VmRSS`).
pub fn current_rss_kib() -> Option<u64> {
    proc_status_kib("VmRSS:")
}

fn proc_status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Request shapes of a realistic access log: mostly noise and page views, some REST and search.
const REQUESTS: [&str; 12] = [
    "GET /display/OPS/VPN+Setup",
    "GET /pages/viewpage.action?pageId=2129924",
    "GET /s/en_GB/8703/4f8d2b5a/_/download/batch/com.atlassian.confluence.plugins:page-resources/page-resources.js",
    "GET /rest/quickreload/latest/2129924?since=1608256850024&_=1608256758069",
    "GET /images/icons/profilepics/default.svg",
    "GET /rest/api/content/98305?expand=body.storage,version,space",
    "GET /rest/api/content/search?cql=text%20~%20%22password%22&limit=100",
    "GET /rest/mywork/latest/status/notification/count",
    "GET /spaces/OPS/pages/98305/Runbook",
    "GET /download/attachments/98305/network-diagram.png?version=1&modificationDate=1608256850024&api=v2",
    "POST /rest/analytics/1.0/publish/bulk",
    "GET /index.action",
];

fn normalize(mib: u64, keep: Option<std::path::PathBuf>) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let target = mib * 1024 * 1024;
    let (path, _temp) = match keep {
        Some(p) => (p, None),
        None => {
            let t = tempfile::NamedTempFile::new()?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let started = Instant::now();
    let mut rng = Rng::new(7);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
    let mut written = 0u64;
    let mut lines = 0u64;
    let start = 1_714_521_600i64; // 2024-05-01T00:00:00Z, seconds
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    while written < target {
        let t = start + (lines / 50) as i64;
        let ts = jiff::tz::Offset::UTC.to_datetime(jiff::Timestamp::from_second(t)?);
        let user = rng.below(500);
        let request = REQUESTS[rng.below(REQUESTS.len())];
        let line = format!(
            "[{:02}/{}/{}:{:02}:{:02}:{:02} +0000] user{user:03} http-nio-8090-exec-{} 10.{}.{}.{} {request} HTTP/1.1 {} {}ms {} https://wiki.example.com/display/OPS/Home Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\n",
            ts.day(),
            months[ts.month() as usize - 1],
            ts.year(),
            ts.hour(),
            ts.minute(),
            ts.second(),
            rng.below(200),
            user >> 8,
            user & 255,
            rng.below(250),
            if rng.below(20) == 0 { 404 } else { 200 },
            rng.below(900),
            rng.below(60_000),
        );
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
        lines += 1;
    }
    out.flush()?;
    drop(out);
    let generated = started.elapsed().as_secs_f64();
    let options = quarry_ingest::normalize::Options::default();
    let input = quarry_ingest::read::Input::File(path.clone());
    let run = Instant::now();
    let report = quarry_ingest::normalize::normalize(&input, &options, &mut std::io::sink())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let secs = run.elapsed().as_secs_f64();
    let mb = written as f64 / 1e6;
    println!(
        "bench normalize: synthetic access log, {:.0} MB, {lines} lines (generated in {generated:.1} s)",
        mb
    );
    println!(
        "  normalize: {secs:.2} s = {:.0} MB/s, {:.2} M lines/s (one core, output to a sink)",
        mb / secs,
        lines as f64 / secs / 1e6
    );
    println!(
        "  {} events written, {} skipped as noise, {} malformed",
        report.emitted,
        report.skipped.values().sum::<u64>(),
        report.malformed
    );
    if let Some(rss) = peak_rss_kib() {
        println!("  peak RSS: {:.1} MiB", rss as f64 / 1024.0);
    }
    Ok(ExitCode::SUCCESS)
}

const BENCH_ACTIONS: [&str; 8] = [
    "page_viewed",
    "page_viewed",
    "page_viewed",
    "page_viewed",
    "content_viewed",
    "space_viewed",
    "attachment_downloaded",
    "search_performed",
];

const BENCH_SEARCHES: [&str; 4] = ["release notes", "onboarding", "aws architecture", "roadmap"];

fn generate(
    events: u64,
    users: u64,
    format: &str,
    rate: u64,
    seed: u64,
    output: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let ecs = match format {
        "ecs" => true,
        "access-log" => false,
        other => anyhow::bail!("unknown format `{other}`; expected ecs or access-log"),
    };
    let mut out = std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(output)
            .map_err(|e| anyhow::anyhow!("creating {}: {e}", output.display()))?,
    );
    let mut rng = quarry_simulate::rng::Rng::new(seed);
    let start = 1_795_420_800_000i64; // 2026-11-23T08:00:00Z
    let started = Instant::now();
    let mut bytes = 0u64;
    let mut line = String::with_capacity(1024);
    for i in 0..events {
        let at = start + (i * 1000 / rate) as i64;
        let u = rng.range(0, users - 1);
        let user = format!("user{u:07}");
        let ip = format!("10.{}.{}.{}", u >> 16 & 255, u >> 8 & 255, u & 255);
        let action = *rng.pick(&BENCH_ACTIONS);
        let page = rng.range(1, 5_000);
        let (path, query, message) = match action {
            "search_performed" => {
                let q = *rng.pick(&BENCH_SEARCHES);
                (
                    "/dosearchsite.action".to_string(),
                    Some(format!("queryString={}", q.replace(' ', "+"))),
                    Some(q),
                )
            }
            "content_viewed" => (
                format!("/rest/api/content/{page}"),
                Some("expand=version".to_string()),
                None,
            ),
            "space_viewed" => (
                "/spaces/viewspace.action".to_string(),
                Some("key=ENG".to_string()),
                None,
            ),
            "attachment_downloaded" => (
                format!("/download/attachments/{page}/diagram.png"),
                None,
                None,
            ),
            _ => (format!("/display/ENG/Page+{page}"), None, None),
        };
        let bytes_out = rng.range(2_000, 120_000);
        line.clear();
        if ecs {
            use std::fmt::Write as _;
            let original = match &query {
                Some(q) => format!("{path}?{q}"),
                None => path.clone(),
            };
            let _ = write!(
                line,
                r#"{{"@timestamp":"{ts}","agent":{{"type":"filebeat","version":"8.15.3","id":"3f9c2a71-5b8e-4c1d-9a47-0e6b2d8c1f35","name":"wiki-01"}},"data_stream":{{"type":"logs","dataset":"atlassian.confluence","namespace":"default"}},"ecs":{{"version":"8.11.0"}},"event":{{"dataset":"atlassian.confluence","action":"{action}","category":["web"],"type":["access"],"outcome":"success","kind":"event","ingested":"{ts}"}},"host":{{"name":"wiki-01","hostname":"wiki-01.example.com"}},"user":{{"name":"{user}"}},"source":{{"ip":"{ip}"}},"url":{{"original":"{original}","path":"{path}"{q}}},"http":{{"request":{{"method":"GET"}},"response":{{"status_code":200,"bytes":{bytes_out}}},"version":"1.1"}},"user_agent":{{"original":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"}}{m}}}"#,
                ts = quarry_simulate::render::iso_time(at),
                q = query
                    .as_ref()
                    .map_or(String::new(), |q| format!(r#","query":"{q}""#)),
                m = message.map_or(String::new(), |m| format!(r#","message":"{m}""#)),
            );
        } else {
            use std::fmt::Write as _;
            let target = match &query {
                Some(q) => format!("{path}?{q}"),
                None => path,
            };
            let _ = write!(
                line,
                "[{}] {user} http-nio-8090-exec-{} {ip} GET {target} HTTP/1.1 200 {}ms {bytes_out} - Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                quarry_simulate::render::clf_time(at),
                i % 25 + 1,
                rng.range(5, 900),
            );
        }
        line.push('\n');
        bytes += line.len() as u64;
        out.write_all(line.as_bytes())?;
    }
    out.flush()?;
    eprintln!(
        "quarry: wrote {events} events of {users} users ({:.1} MB) to {} in {:.2} s",
        bytes as f64 / 1e6,
        output.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn hunt(file: &std::path::Path, ceiling: bool, threads: Option<usize>) -> anyhow::Result<ExitCode> {
    use clap::Parser;
    use std::io::BufRead;
    let size = std::fs::metadata(file)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
        .len();
    let mb = size as f64 / 1e6;
    if ceiling {
        // Reading and splitting lines: the floor of any tool's cost.
        let t = Instant::now();
        let mut lines = 0u64;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(file)?);
        let mut buf = Vec::new();
        while reader.read_until(b'\n', &mut buf)? > 0 {
            lines += 1;
            buf.clear();
        }
        let read = t.elapsed().as_secs_f64();
        // Parsing every line as JSON without keeping it (a lower bound for JSON input).
        let t = Instant::now();
        let mut reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(file)?);
        let mut parsed = 0u64;
        while reader.read_until(b'\n', &mut buf)? > 0 {
            if serde_json::from_slice::<serde::de::IgnoredAny>(&buf).is_ok() {
                parsed += 1;
            }
            buf.clear();
        }
        let parse = t.elapsed().as_secs_f64();
        println!(
            "read lines       {lines:>10} lines  {:>8.2} s  {:>8.1} MB/s",
            read,
            mb / read
        );
        if parsed > 0 {
            println!(
                "serde_json skip  {parsed:>10} docs   {:>8.2} s  {:>8.1} MB/s",
                parse,
                mb / parse
            );
        }
    }
    #[derive(clap::Parser)]
    struct HuntCli {
        #[command(flatten)]
        args: super::hunt::Args,
    }
    let path = file.to_string_lossy().to_string();
    let mut argv = vec![
        "hunt".to_string(),
        "--no-config".into(),
        "--quiet".into(),
        "--format".into(),
        "ndjson".into(),
        "-o".into(),
        "/dev/null".into(),
    ];
    if let Some(n) = threads {
        argv.extend(["--threads".into(), n.to_string()]);
    }
    argv.push(path);
    let cli = HuntCli::try_parse_from(argv)?;
    let t = Instant::now();
    let (code, summary) = super::hunt::hunt(cli.args)?;
    let secs = t.elapsed().as_secs_f64();
    let events = summary.map_or(0, |s| s.stats.events);
    let threads = threads.unwrap_or_else(super::hunt::default_threads);
    println!(
        "quarry hunt -j {threads:<2}{events:>10} events {secs:>8.2} s  {:>8.1} MB/s  {:>10.0} events/s  peak RSS {} MiB",
        mb / secs,
        events as f64 / secs,
        peak_rss_kib().map_or("?".into(), |k| (k / 1024).to_string())
    );
    Ok(code)
}
