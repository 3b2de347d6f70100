//! `quarry atomic`: the Atomic-style tests for T1213.001, as data (`atomics/T1213.001.toml`).
//!
//! `list` prints them, `show` prints one as a runnable sh script of curl commands (with the
//! telemetry it should leave and its cleanup) or, with `--yaml`, in Atomic Red Team's YAML shape,
//! and `run` executes one against a Confluence the operator owns, one `curl` process per request.
//!
//! The same expansion ([`plan`]) feeds `show` and `run`, so the script and the run send the
//! same requests; the Atomic YAML's command is generated from the templates (loops instead of
//! unrolled requests) and is checked against a loopback server by the tests.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use serde_json::{Map, Value};

/// The built-in copy of the tests.
const BUILTIN: &str = include_str!("../../../../atomics/T1213.001.toml");
const BUILTIN_NAME: &str = "atomics/T1213.001.toml";

/// Atomic-style tests for T1213.001: list, show the exact requests, run against your instance.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// List the tests: number, name and auto_generated_guid.
    List(ListArgs),
    /// Print a test as a runnable sh script of curl commands, with the telemetry it should
    /// leave and its cleanup; with --yaml, in Atomic Red Team's YAML shape.
    Show(ShowArgs),
    /// Send a test's requests with curl to a Confluence instance you own.
    Run(RunArgs),
}

#[derive(clap::Args)]
struct Source {
    /// Read the tests from FILE instead of the built-in copy of atomics/T1213.001.toml.
    #[arg(long, value_name = "FILE")]
    atomics: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ListArgs {
    #[command(flatten)]
    source: Source,
}

#[derive(clap::Args)]
struct ShowArgs {
    /// The test: its number (1-4), its guid or a unique prefix of its name. With --yaml and no
    /// TEST, all the tests.
    test: Option<String>,
    /// Print the test in Atomic Red Team's YAML shape (its inputs stay `#{placeholders}`).
    #[arg(long)]
    yaml: bool,
    #[command(flatten)]
    inputs: Inputs,
    #[command(flatten)]
    source: Source,
}

#[derive(clap::Args)]
struct RunArgs {
    /// The test: its number (1-4), its guid or a unique prefix of its name.
    test: String,
    #[command(flatten)]
    inputs: Inputs,
    /// Keep the files the test saved (responses, export archive) instead of removing them.
    #[arg(long)]
    keep_output: bool,
    /// Confirm that you own (or are authorised to test) the instance at --base-url.
    #[arg(long)]
    i_own_this_instance: bool,
    #[command(flatten)]
    source: Source,
}

#[derive(clap::Args)]
struct Inputs {
    /// Base URL of the Confluence instance (input base_url), e.g. https://wiki.example.com.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Account to use (input username).
    #[arg(long, value_name = "USER")]
    user: Option<String>,
    /// NAME of the environment variable holding the API token or PAT (input token_env).
    #[arg(long, value_name = "VAR")]
    token_env: Option<String>,
    /// NAME of the environment variable holding the password (input password_env, test 4).
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// Set any other input argument (repeatable), e.g. --arg pages=2 --arg space_keys=ENG.
    #[arg(long = "arg", value_name = "NAME=VALUE")]
    args: Vec<String>,
    /// How the token is sent: basic (user:token; Cloud API tokens, passwords) or bearer
    /// (Data Center personal access tokens).
    #[arg(long, value_enum, default_value_t = AuthMode::Basic)]
    auth: AuthMode,
    /// Pause between two requests, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    delay_ms: u64,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum AuthMode {
    Basic,
    Bearer,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Sub::List(a) => {
            let catalog = load(&a.source)?;
            print!("{}", list_text(&catalog));
            Ok(ExitCode::SUCCESS)
        }
        Sub::Show(a) => show(a),
        Sub::Run(a) => run_command(a),
    }
}

/// A refusal or a usage error: the message on stderr and exit status 2.
fn refuse(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn load(source: &Source) -> anyhow::Result<Catalog> {
    match &source.atomics {
        None => Catalog::parse(BUILTIN, BUILTIN_NAME),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Catalog::parse(&text, &path.display().to_string())
        }
    }
}

fn list_text(catalog: &Catalog) -> String {
    let width = catalog
        .tests
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for t in &catalog.tests {
        let _ = writeln!(out, "{}  {:<width$}  {}", t.number, t.name, t.guid);
    }
    out
}

fn show(a: ShowArgs) -> anyhow::Result<ExitCode> {
    let catalog = load(&a.source)?;
    let tests: Vec<&Test> = match &a.test {
        None if a.yaml => catalog.tests.iter().collect(),
        None => {
            return Ok(refuse(
                "which test? Give its number, guid or name (see `quarry atomic list`)",
            ));
        }
        Some(sel) => match catalog.select(sel) {
            Ok(t) => vec![t],
            Err(e) => return Ok(refuse(e)),
        },
    };
    if a.yaml {
        print!("{}", atomic_yaml(&catalog, &tests));
        return Ok(ExitCode::SUCCESS);
    }
    let test = tests[0];
    let values = match resolve_inputs(test, &a.inputs) {
        Ok(v) => v,
        Err(e) => return Ok(refuse(e)),
    };
    let planned = plan(test, &values)?;
    print!(
        "{}",
        sh_script(&catalog, test, &values, &planned, &a.inputs)
    );
    Ok(ExitCode::SUCCESS)
}

// ------------------------------------------------------------------------------------------------
// The model

struct Catalog {
    technique: String,
    display_name: String,
    tests: Vec<Test>,
}

struct Test {
    number: u32,
    name: String,
    guid: String,
    description: String,
    platforms: Vec<String>,
    auth: Auth,
    inputs: Vec<Input>,
    dependencies: Vec<Dependency>,
    steps: Vec<Step>,
    cleanup: Option<Cleanup>,
    telemetry: Vec<Telemetry>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// Every request carries `username` and the token from the variable named by `token_env`.
    Token,
    /// A cookie session: the test logs in itself.
    Session,
}

struct Input {
    name: String,
    description: String,
    kind: String,
    default: String,
}

struct Dependency {
    description: String,
    prereq: String,
    get_prereq: String,
}

struct Step {
    repeat: Repeat,
    requests: Vec<Req>,
}

enum Repeat {
    Once,
    /// `#{k}` = 0..count, `#{start}` = k * size.
    Pages {
        count: Tpl,
        size: Tpl,
    },
    /// `#{var}` = each item of a comma-separated list.
    Each {
        list: Tpl,
        var: String,
    },
}

struct Req {
    method: String,
    target: Target,
    headers: Vec<(String, Tpl)>,
    form: Vec<(String, Tpl)>,
    save_to: Option<Tpl>,
    expect_status: Vec<u16>,
    unexpected: Option<String>,
    starts_task: bool,
    poll: Option<PollSpec>,
}

enum Target {
    Path {
        path: Tpl,
        query: Vec<(String, Tpl)>,
    },
    /// The task page the previous export request pointed to.
    Task,
    /// The archive link found while polling the task.
    Archive,
}

struct PollSpec {
    until: String,
    max: Tpl,
    interval: Tpl,
}

struct Cleanup {
    dir: Tpl,
    files: Vec<String>,
    note: String,
}

struct Telemetry {
    source: String,
    sees: String,
    what: String,
}

/// Log sources a test's telemetry is described for, with their display names.
const SOURCES: &[(&str, &str)] = &[
    ("access_log", "access log (Tomcat conf_access_log)"),
    ("dc_audit", "DC audit log"),
    ("cloud_audit", "Cloud audit log"),
    ("org_audit", "organization audit log (Atlassian Guard)"),
    ("proxy_log", "proxy log"),
    (
        "cloudapp_events",
        "CloudAppEvents (Defender for Cloud Apps)",
    ),
];

fn source_label(key: &str) -> &str {
    SOURCES
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(key, |(_, l)| l)
}

/// A string with `#{...}` references, checked against the inputs and loop variables in scope.
#[derive(Clone)]
struct Tpl(Vec<Part>);

#[derive(Clone)]
enum Part {
    Lit(String),
    /// An input argument.
    Arg(String),
    /// A loop variable (`k`, `start`, or an `each` variable).
    Loop(String),
    /// The value of the environment variable named by an input argument.
    Env(String),
}

impl Tpl {
    fn parse(text: &str, inputs: &[&str], loops: &[&str]) -> Result<Tpl, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find("#{") {
            if at > 0 {
                parts.push(Part::Lit(rest[..at].to_string()));
            }
            let after = &rest[at + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed `#{{` in {text:?}"))?;
            let name = &after[..end];
            if let Some(input) = name.strip_prefix("env:") {
                if !inputs.contains(&input) {
                    return Err(format!("`#{{{name}}}` names no input argument"));
                }
                parts.push(Part::Env(input.to_string()));
            } else if loops.contains(&name) {
                parts.push(Part::Loop(name.to_string()));
            } else if inputs.contains(&name) {
                parts.push(Part::Arg(name.to_string()));
            } else {
                return Err(format!(
                    "`#{{{name}}}` is neither an input argument nor a loop variable here"
                ));
            }
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(rest.to_string()));
        }
        Ok(Tpl(parts))
    }

    fn has_env(&self) -> bool {
        self.0.iter().any(|p| matches!(p, Part::Env(_)))
    }

    /// The text with every reference replaced; `enc` encodes the substituted values.
    fn render(&self, values: &Values, enc: Option<fn(&str) -> String>) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Arg(n) | Part::Loop(n) => {
                    let v = values.get(n);
                    match enc {
                        Some(f) => out.push_str(&f(v)),
                        None => out.push_str(v),
                    }
                }
                // Callers check has_env before rendering as text.
                Part::Env(n) => {
                    let _ = write!(out, "${{{}}}", values.get(n));
                }
            }
        }
        out
    }

    /// Rendered into parts where environment references stay references (to a variable name).
    fn resolve(&self, values: &Values) -> Vec<RPart> {
        let mut out: Vec<RPart> = Vec::new();
        for part in &self.0 {
            match part {
                Part::Env(n) => out.push(RPart::Env(values.get(n).to_string())),
                Part::Lit(s) => push_text(&mut out, s),
                Part::Arg(n) | Part::Loop(n) => push_text(&mut out, values.get(n)),
            }
        }
        out
    }
}

fn push_text(out: &mut Vec<RPart>, s: &str) {
    if let Some(RPart::Text(t)) = out.last_mut() {
        t.push_str(s);
    } else {
        out.push(RPart::Text(s.to_string()));
    }
}

/// A resolved value: text, or the value of an environment variable (by name).
#[derive(Clone, Debug)]
enum RPart {
    Text(String),
    Env(String),
}

/// Input arguments and loop variables by name.
#[derive(Clone, Default)]
struct Values(BTreeMap<String, String>);

impl Values {
    fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }
    fn with(&self, name: &str, value: String) -> Values {
        let mut v = self.clone();
        v.0.insert(name.to_string(), value);
        v
    }
}

impl Catalog {
    fn parse(text: &str, file: &str) -> anyhow::Result<Catalog> {
        let root: Value = toml::from_str(text).map_err(|e| anyhow!("{file}: {e}"))?;
        Catalog::from_value(&root).map_err(|e| anyhow!("{file}: {e}"))
    }

    fn from_value(root: &Value) -> Result<Catalog, String> {
        let obj = root.as_object().ok_or("not a table")?;
        let technique = req_str(obj, "attack_technique", "the file")?;
        let display_name = req_str(obj, "display_name", "the file")?;
        let tests = obj
            .get("atomic_tests")
            .and_then(Value::as_array)
            .ok_or("no [[atomic_tests]]")?;
        let mut out = Vec::new();
        for (i, t) in tests.iter().enumerate() {
            let t = t.as_object().ok_or("an atomic test is not a table")?;
            let test = Test::from_table(t).map_err(|e| format!("atomic test {}: {e}", i + 1))?;
            if test.number as usize != i + 1 {
                return Err(format!(
                    "atomic test {} has number {}: number them 1, 2, ... in order",
                    i + 1,
                    test.number
                ));
            }
            out.push(test);
        }
        Ok(Catalog {
            technique,
            display_name,
            tests: out,
        })
    }

    /// A test by number, guid or unique (case-insensitive) name prefix.
    fn select(&self, sel: &str) -> Result<&Test, String> {
        let sel = sel.trim();
        if let Ok(n) = sel.parse::<u32>() {
            return self.tests.iter().find(|t| t.number == n).ok_or_else(|| {
                format!(
                    "there is no test {n}: the tests are 1 to {}",
                    self.tests.len()
                )
            });
        }
        if let Some(t) = self.tests.iter().find(|t| t.guid.eq_ignore_ascii_case(sel)) {
            return Ok(t);
        }
        let lower = sel.to_lowercase();
        let hits: Vec<&Test> = self
            .tests
            .iter()
            .filter(|t| !lower.is_empty() && t.name.to_lowercase().starts_with(&lower))
            .collect();
        match hits.as_slice() {
            [one] => Ok(one),
            [] => Err(format!(
                "no test is named {sel:?}: give a number (1-{}), a guid or a name prefix (see `quarry atomic list`)",
                self.tests.len()
            )),
            many => Err(format!(
                "{sel:?} matches several tests ({}): give more of the name or the number",
                many.iter()
                    .map(|t| t.number.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

fn req_str(t: &Map<String, Value>, key: &str, what: &str) -> Result<String, String> {
    t.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("{what} needs a string `{key}`"))
}

fn opt_str(t: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match t.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn tables<'a>(t: &'a Map<String, Value>, key: &str) -> Result<Vec<&'a Map<String, Value>>, String> {
    match t.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_object().ok_or(format!("`{key}` must hold tables")))
            .collect(),
        Some(_) => Err(format!("`{key}` must be an array of tables")),
    }
}

/// `[["name", "value"], ...]`
fn pairs(t: &Map<String, Value>, key: &str) -> Result<Vec<(String, String)>, String> {
    let Some(v) = t.get(key) else {
        return Ok(Vec::new());
    };
    let bad = || format!("`{key}` must be an array of [\"name\", \"value\"] pairs");
    let items = v.as_array().ok_or_else(bad)?;
    items
        .iter()
        .map(|p| match p.as_array().map(Vec::as_slice) {
            Some([Value::String(n), Value::String(v)]) => Ok((n.clone(), v.clone())),
            _ => Err(bad()),
        })
        .collect()
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

impl Test {
    fn from_table(t: &Map<String, Value>) -> Result<Test, String> {
        let number = t
            .get("number")
            .and_then(Value::as_u64)
            .ok_or("needs an integer `number`")? as u32;
        let name = req_str(t, "name", "a test")?;
        let guid = req_str(t, "auto_generated_guid", "a test")?;
        let description = req_str(t, "description", "a test")?.trim().to_string();
        let platforms = match t.get("supported_platforms").and_then(Value::as_array) {
            Some(p) => p
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or("platforms are strings")
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => return Err("needs `supported_platforms`".into()),
        };
        let auth = match req_str(t, "auth", "a test")?.as_str() {
            "token" => Auth::Token,
            "session" => Auth::Session,
            other => return Err(format!("auth {other:?}: expected \"token\" or \"session\"")),
        };

        let mut inputs = Vec::new();
        if let Some(v) = t.get("input_arguments") {
            let table = v.as_object().ok_or("`input_arguments` must be a table")?;
            for (iname, spec) in table {
                let spec = spec
                    .as_object()
                    .ok_or(format!("input {iname} must be a table"))?;
                let default = match spec.get("default") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => return Err(format!("input {iname} needs a `default`")),
                };
                let kind = req_str(spec, "type", &format!("input {iname}"))?;
                if !["string", "integer", "url", "path"].contains(&kind.as_str()) {
                    return Err(format!(
                        "input {iname}: type {kind:?} is not string, integer, url or path"
                    ));
                }
                inputs.push(Input {
                    name: iname.clone(),
                    description: req_str(spec, "description", &format!("input {iname}"))?,
                    kind,
                    default,
                });
            }
        }
        if !inputs.iter().any(|i| i.name == "base_url") {
            return Err("needs a `base_url` input".into());
        }
        if auth == Auth::Token
            && !["username", "token_env"]
                .iter()
                .all(|n| inputs.iter().any(|i| i.name == *n))
        {
            return Err("auth = \"token\" needs the inputs `username` and `token_env`".into());
        }
        let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();

        let dependencies = tables(t, "dependencies")?
            .into_iter()
            .map(|d| {
                Ok(Dependency {
                    description: req_str(d, "description", "a dependency")?,
                    prereq: req_str(d, "prereq_command", "a dependency")?,
                    get_prereq: req_str(d, "get_prereq_command", "a dependency")?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;

        let mut steps = Vec::new();
        let mut task_started = false;
        let mut archive_found = false;
        for (si, step) in tables(t, "steps")?.into_iter().enumerate() {
            let at = |e: String| format!("step {}: {e}", si + 1);
            let (repeat, loops): (Repeat, Vec<String>) = match step.get("repeat") {
                None => (Repeat::Once, Vec::new()),
                Some(Value::Object(r)) => {
                    if let Some(list) = opt_str(r, "each").map_err(at)? {
                        let var = req_str(r, "as", "an `each` repeat").map_err(at)?;
                        let list = Tpl::parse(&list, &names, &[]).map_err(at)?;
                        (
                            Repeat::Each {
                                list,
                                var: var.clone(),
                            },
                            vec![var],
                        )
                    } else {
                        let count = req_str(r, "pages", "a repeat").map_err(at)?;
                        let size = req_str(r, "page_size", "a pages repeat").map_err(at)?;
                        (
                            Repeat::Pages {
                                count: Tpl::parse(&count, &names, &[]).map_err(at)?,
                                size: Tpl::parse(&size, &names, &[]).map_err(at)?,
                            },
                            vec!["k".into(), "start".into()],
                        )
                    }
                }
                Some(_) => return Err(at("`repeat` must be a table".into())),
            };
            let loops: Vec<&str> = loops.iter().map(String::as_str).collect();
            let tpl = |s: &str| Tpl::parse(s, &names, &loops).map_err(at);
            let mut requests = Vec::new();
            for r in tables(step, "requests")? {
                let method = req_str(r, "method", "a request").map_err(at)?;
                let target = match opt_str(r, "from").map_err(at)?.as_deref() {
                    None => Target::Path {
                        path: tpl(&req_str(r, "path", "a request").map_err(at)?)?,
                        query: pairs(r, "query")
                            .map_err(at)?
                            .into_iter()
                            .map(|(n, v)| Ok((n, tpl(&v)?)))
                            .collect::<Result<_, String>>()?,
                    },
                    Some("task") if task_started => Target::Task,
                    Some("archive") if archive_found => Target::Archive,
                    Some(other) => {
                        return Err(at(format!(
                            "from = {other:?} needs an earlier request that starts a task (\"task\") or polls it (\"archive\")"
                        )));
                    }
                };
                if let Target::Path { path, query } = &target {
                    if !matches!(path.0.first(), Some(Part::Lit(s)) if s.starts_with('/')) {
                        return Err(at("a path starts with `/`".into()));
                    }
                    if path.has_env() || query.iter().any(|(_, v)| v.has_env()) {
                        return Err(at(
                            "secrets (`#{env:...}`) may appear in forms and headers only".into(),
                        ));
                    }
                }
                let poll = match r.get("poll") {
                    None => None,
                    Some(Value::Object(p)) => {
                        archive_found = true;
                        Some(PollSpec {
                            until: req_str(p, "until", "a poll").map_err(at)?,
                            max: tpl(&req_str(p, "max", "a poll").map_err(at)?)?,
                            interval: tpl(&req_str(p, "interval_seconds", "a poll").map_err(at)?)?,
                        })
                    }
                    Some(_) => return Err(at("`poll` must be a table".into())),
                };
                let starts_task = r
                    .get("starts_task")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                task_started |= starts_task;
                let expect_status = match r.get("expect_status") {
                    None => Vec::new(),
                    Some(v) => v
                        .as_array()
                        .and_then(|a| a.iter().map(|s| s.as_u64().map(|n| n as u16)).collect())
                        .ok_or_else(|| at("`expect_status` is a list of status codes".into()))?,
                };
                requests.push(Req {
                    method: method.to_ascii_uppercase(),
                    target,
                    headers: pairs(r, "headers")
                        .map_err(at)?
                        .into_iter()
                        .map(|(n, v)| Ok((n, tpl(&v)?)))
                        .collect::<Result<_, String>>()?,
                    form: pairs(r, "form")
                        .map_err(at)?
                        .into_iter()
                        .map(|(n, v)| Ok((n, tpl(&v)?)))
                        .collect::<Result<_, String>>()?,
                    save_to: opt_str(r, "save_to")
                        .map_err(at)?
                        .map(|s| tpl(&s))
                        .transpose()?,
                    expect_status,
                    unexpected: opt_str(r, "unexpected")
                        .map_err(at)?
                        .map(|s| s.trim().to_string()),
                    starts_task,
                    poll,
                });
            }
            if requests.is_empty() {
                return Err(at("no [[atomic_tests.steps.requests]]".into()));
            }
            steps.push(Step { repeat, requests });
        }
        if steps.is_empty() {
            return Err("no [[atomic_tests.steps]]".into());
        }

        let cleanup = match t.get("cleanup") {
            None => None,
            Some(Value::Object(c)) => Some(Cleanup {
                dir: Tpl::parse(&req_str(c, "dir", "cleanup")?, &names, &[])?,
                files: match c.get("files").and_then(Value::as_array) {
                    Some(f) => f
                        .iter()
                        .map(|v| {
                            v.as_str()
                                .map(str::to_string)
                                .ok_or("cleanup files are strings")
                        })
                        .collect::<Result<_, _>>()?,
                    None => {
                        return Err("cleanup needs `files` (glob patterns of file names)".into());
                    }
                },
                note: req_str(c, "note", "cleanup")?,
            }),
            Some(_) => return Err("`cleanup` must be a table".into()),
        };
        let saves = steps
            .iter()
            .flat_map(|s| &s.requests)
            .any(|r| r.save_to.is_some());
        if saves && cleanup.is_none() {
            return Err("requests save files: the test needs a [atomic_tests.cleanup]".into());
        }

        let telemetry = tables(t, "telemetry")?
            .into_iter()
            .map(|e| {
                let source = req_str(e, "source", "a telemetry entry")?;
                if !SOURCES.iter().any(|(k, _)| *k == source) {
                    return Err(format!(
                        "telemetry source {source:?}: expected one of {}",
                        SOURCES
                            .iter()
                            .map(|(k, _)| *k)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                let sees = req_str(e, "sees", "a telemetry entry")?;
                if !["yes", "no", "maybe"].contains(&sees.as_str()) {
                    return Err(format!(
                        "telemetry {source}: sees = {sees:?}, expected yes, no or maybe"
                    ));
                }
                Ok(Telemetry {
                    source,
                    sees,
                    what: req_str(e, "what", "a telemetry entry")?.trim().to_string(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;

        Ok(Test {
            number,
            name,
            guid,
            description,
            platforms,
            auth,
            inputs,
            dependencies,
            steps,
            cleanup,
            telemetry,
        })
    }

    fn input(&self, name: &str) -> Option<&Input> {
        self.inputs.iter().find(|i| i.name == name)
    }

    /// Inputs that name an environment variable holding a secret.
    fn secret_inputs(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        if self.auth == Auth::Token {
            out.push("token_env");
        }
        for r in self.steps.iter().flat_map(|s| &s.requests) {
            for (_, v) in r.headers.iter().chain(&r.form) {
                for p in &v.0 {
                    if let Part::Env(n) = p
                        && !out.contains(&n.as_str())
                    {
                        out.push(n);
                    }
                }
            }
        }
        out
    }

    fn saves_files(&self) -> bool {
        self.steps
            .iter()
            .flat_map(|s| &s.requests)
            .any(|r| r.save_to.is_some())
    }

    fn uses_task(&self) -> bool {
        self.steps
            .iter()
            .flat_map(|s| &s.requests)
            .any(|r| r.starts_task)
    }
}

// ------------------------------------------------------------------------------------------------
// Input arguments

/// The test's inputs: defaults, then the flags, then `--arg NAME=VALUE`, checked.
fn resolve_inputs(test: &Test, inputs: &Inputs) -> Result<Values, String> {
    let mut values = Values::default();
    for i in &test.inputs {
        values.0.insert(i.name.clone(), i.default.clone());
    }
    let flags = [
        ("base_url", "--base-url", &inputs.base_url),
        ("username", "--user", &inputs.user),
        ("token_env", "--token-env", &inputs.token_env),
        ("password_env", "--password-env", &inputs.password_env),
    ];
    for (name, flag, value) in flags {
        if let Some(v) = value {
            if test.input(name).is_some() {
                values.0.insert(name.to_string(), v.clone());
            } else {
                eprintln!("note: test {} does not use {flag}; ignored", test.number);
            }
        }
    }
    for a in &inputs.args {
        let (name, value) = a
            .split_once('=')
            .ok_or_else(|| format!("--arg {a:?}: expected NAME=VALUE"))?;
        if test.input(name).is_none() {
            return Err(format!(
                "test {} has no input argument {name:?}; its inputs are {}",
                test.number,
                test.inputs
                    .iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        values.0.insert(name.to_string(), value.to_string());
    }
    for i in &test.inputs {
        let v = values.0.get_mut(&i.name).expect("every input has a value");
        check_input(i, v)?;
    }
    Ok(values)
}

fn check_input(input: &Input, value: &mut String) -> Result<(), String> {
    let name = &input.name;
    if value.chars().any(|c| c.is_control()) {
        return Err(format!("input {name}: control characters are not allowed"));
    }
    match input.kind.as_str() {
        "integer" => {
            let n: u64 = value
                .parse()
                .map_err(|_| format!("input {name} must be a whole number, not {value:?}"))?;
            if n == 0 && (name.contains("size") || name.starts_with("max")) {
                return Err(format!("input {name} must be at least 1"));
            }
            if n > 100_000 {
                return Err(format!(
                    "input {name} = {n} is more than this test should ever need"
                ));
            }
        }
        "url" => {
            while value.ends_with('/') {
                value.pop();
            }
            let rest = value
                .strip_prefix("https://")
                .or_else(|| value.strip_prefix("http://"))
                .ok_or_else(|| {
                    format!("input {name} must start with https:// or http://: {value:?}")
                })?;
            let host = rest.split('/').next().unwrap_or("");
            if host.is_empty() || value.contains(['?', '#', ' ', '\'', '"', '\\']) {
                return Err(format!(
                    "input {name} must be a plain base URL (scheme, host, optional path): {value:?}"
                ));
            }
        }
        "path" => {
            if value.is_empty() || value.trim_end_matches('/').is_empty() {
                return Err(format!("input {name} must be a directory other than /"));
            }
            while value.len() > 1 && value.ends_with('/') {
                value.pop();
            }
        }
        _ => {}
    }
    if name.ends_with("_env") && !is_env_name(value) {
        return Err(format!(
            "input {name} is the NAME of an environment variable (letters, digits, _), not {value:?}"
        ));
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Expansion: the requests a test sends for given inputs

#[derive(Debug)]
struct Planned {
    method: String,
    target: PTarget,
    headers: Vec<(String, Vec<RPart>)>,
    form: Vec<(String, Vec<RPart>)>,
    save_to: Option<String>,
    expect_status: Vec<u16>,
    unexpected: Option<String>,
    starts_task: bool,
    poll: Option<(String, u64, u64)>,
}

#[derive(Debug)]
enum PTarget {
    /// Path and query, relative to base_url.
    Fixed(String),
    Task,
    Archive,
}

/// Query values: everything but unreserved characters and `,` is percent-encoded.
fn enc_query(s: &str) -> String {
    percent(s, b"-._~,")
}

/// Path segments: everything but unreserved characters is percent-encoded.
fn enc_path(s: &str) -> String {
    percent(s, b"-._~")
}

/// Form values: everything but unreserved characters is percent-encoded (space as %20).
fn enc_form(s: &str) -> String {
    percent(s, b"-._~")
}

fn percent(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn number(values: &Values, t: &Tpl, what: &str) -> anyhow::Result<u64> {
    let s = t.render(values, None);
    s.trim()
        .parse()
        .with_context(|| format!("{what} must be a whole number, not {s:?}"))
}

fn list_items(values: &Values, t: &Tpl) -> Vec<String> {
    t.render(values, None)
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn plan(test: &Test, values: &Values) -> anyhow::Result<Vec<Planned>> {
    let mut out = Vec::new();
    for step in &test.steps {
        let frames: Vec<Values> = match &step.repeat {
            Repeat::Once => vec![values.clone()],
            Repeat::Pages { count, size } => {
                let count = number(values, count, "the page count")?;
                let size = number(values, size, "the page size")?;
                (0..count)
                    .map(|k| {
                        values
                            .with("k", k.to_string())
                            .with("start", (k * size).to_string())
                    })
                    .collect()
            }
            Repeat::Each { list, var } => list_items(values, list)
                .into_iter()
                .map(|item| values.with(var, item))
                .collect(),
        };
        for frame in &frames {
            for r in &step.requests {
                out.push(plan_request(test, r, frame)?);
            }
        }
    }
    Ok(out)
}

fn plan_request(test: &Test, r: &Req, v: &Values) -> anyhow::Result<Planned> {
    let target = match &r.target {
        Target::Path { path, query } => {
            let mut s = path.render(v, Some(enc_path));
            for (i, (name, value)) in query.iter().enumerate() {
                s.push(if i == 0 { '?' } else { '&' });
                s.push_str(&enc_query(name));
                s.push('=');
                s.push_str(&enc_query(&value.render(v, None)));
            }
            PTarget::Fixed(s)
        }
        Target::Task => PTarget::Task,
        Target::Archive => PTarget::Archive,
    };
    let save_to = match &r.save_to {
        None => None,
        Some(t) => {
            let path = t.render(v, None);
            let dir = test
                .cleanup
                .as_ref()
                .map(|c| c.dir.render(v, None))
                .unwrap_or_default();
            let name = path
                .strip_prefix(&format!("{dir}/"))
                .filter(|n| !n.is_empty() && !n.contains('/'))
                .ok_or_else(|| {
                    anyhow!(
                        "save_to {path:?} must be a file directly in the cleanup directory {dir:?}"
                    )
                })?;
            if !test
                .cleanup
                .as_ref()
                .is_some_and(|c| c.files.iter().any(|g| glob_match(g, name)))
            {
                bail!("save_to {path:?} is not matched by the cleanup's `files`");
            }
            Some(path)
        }
    };
    let poll = match &r.poll {
        None => None,
        Some(p) => Some((
            p.until.clone(),
            number(v, &p.max, "max polls")?.max(1),
            number(v, &p.interval, "the poll interval")?,
        )),
    };
    Ok(Planned {
        method: r.method.clone(),
        target,
        headers: r
            .headers
            .iter()
            .map(|(n, t)| (n.clone(), t.resolve(v)))
            .collect(),
        form: r
            .form
            .iter()
            .map(|(n, t)| (n.clone(), t.resolve(v)))
            .collect(),
        save_to,
        expect_status: r.expect_status.clone(),
        unexpected: r.unexpected.clone(),
        starts_task: r.starts_task,
        poll,
    })
}

/// `*` matches any run of characters (no other glob syntax is used in cleanup `files`).
fn glob_match(glob: &str, name: &str) -> bool {
    let parts: Vec<&str> = glob.split('*').collect();
    if parts.len() == 1 {
        return glob == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(at) => rest = &rest[at + mid.len()..],
            None => return false,
        }
    }
    true
}

/// `scheme://authority` of a URL.
fn origin(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    match url[after..].find('/') {
        Some(i) => &url[..after + i],
        None => url,
    }
}

/// The request-target (path and query) of an absolute URL, as an access log shows it.
fn request_target(url: &str) -> &str {
    let o = origin(url);
    let rest = &url[o.len()..];
    if rest.is_empty() { "/" } else { rest }
}

/// The sed script that decodes the HTML entities a task page may wrap its link in (a task status
/// served as XML escapes the HTML inside it); [`unescape`] does the same.
const UNESCAPE_SED: &str = "s/&quot;/\"/g; s/&#39;/'/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\\&/g";

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The first link containing `marker` in a page, once its entities are decoded: the run of
/// characters around it up to a quote, whitespace, `<`, `>` (and `=` on the left). The sh
/// script's `sed | grep -o` finds the same.
fn find_link(body: &str, marker: &str) -> Option<String> {
    let body = &unescape(body);
    let at = body.find(marker)?;
    let stop = |c: char| c == '"' || c == '\'' || c == '<' || c == '>' || c.is_whitespace();
    let start = body[..at]
        .char_indices()
        .rev()
        .find(|&(_, c)| stop(c) || c == '=')
        .map_or(0, |(i, c)| i + c.len_utf8());
    let end = body[at..]
        .char_indices()
        .find(|&(_, c)| stop(c))
        .map_or(body.len(), |(i, _)| at + i);
    Some(body[start..end].to_string())
}

/// An absolute URL for a link or poll URI given by the server.
fn absolute(link: &str, base_url: &str) -> String {
    if link.starts_with("http://") || link.starts_with("https://") {
        link.to_string()
    } else if link.starts_with('/') {
        format!("{}{link}", origin(base_url))
    } else {
        format!("{base_url}/{link}")
    }
}

/// `<meta name="ajs-pollURI" content="...">`, which Cloud's export page carries instead of a
/// redirect to the task.
fn poll_uri(body: &str) -> Option<String> {
    let at = body.find("name=\"ajs-pollURI\"")?;
    let rest = &body[at..];
    let c = rest.find("content=\"")? + "content=\"".len();
    let end = rest[c..].find('"')?;
    Some(rest[c..c + end].replace("&amp;", "&"))
}

// ------------------------------------------------------------------------------------------------
// sh rendering

/// A shell word from parts.
enum W {
    Lit(String),
    /// `${NAME}` at run time.
    Var(String),
    /// `#{name}`, substituted by an Atomic executor before the shell sees it.
    Placeholder(String),
    /// `$(quarry_urlencode "EXPR")`: a value percent-encoded at run time.
    Encoded(String),
}

/// Percent-encodes its argument as Quarry does (everything but `A-Za-z0-9._~-`, space as %20),
/// for values only known when the script runs. POSIX sh, od, tr and sed.
const URLENCODE_FN: &str = r#"quarry_urlencode() {
  quarry_s=$1
  while [ -n "$quarry_s" ]; do
    quarry_rest=${quarry_s#?}
    quarry_c=${quarry_s%"$quarry_rest"}
    quarry_s=$quarry_rest
    case $quarry_c in
      [A-Za-z0-9._~-]) printf '%s' "$quarry_c" ;;
      *) printf '%s' "$quarry_c" | od -An -tx1 -v | tr -d ' \n' | tr abcdef ABCDEF | sed 's/\(..\)/%\1/g' ;;
    esac
  done
}
"#;

fn word(parts: &[W]) -> String {
    if parts.iter().all(|p| matches!(p, W::Lit(_))) {
        let text: String = parts
            .iter()
            .map(|p| match p {
                W::Lit(s) => s.as_str(),
                _ => "",
            })
            .collect();
        return sq(&text);
    }
    let mut out = String::from("\"");
    for p in parts {
        match p {
            W::Lit(s) => {
                for c in s.chars() {
                    if matches!(c, '\\' | '"' | '$' | '`') {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
            W::Var(n) => {
                let _ = write!(out, "${{{n}}}");
            }
            W::Placeholder(n) => {
                let _ = write!(out, "#{{{n}}}");
            }
            W::Encoded(e) => {
                let _ = write!(out, "$(quarry_urlencode \"{e}\")");
            }
        }
    }
    out.push('"');
    out
}

/// Single-quoted for sh (bare when it is plainly safe).
fn sq(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:,=@%+".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn rparts_word(prefix: &str, parts: &[RPart]) -> String {
    let mut w = vec![W::Lit(prefix.to_string())];
    for p in parts {
        w.push(match p {
            RPart::Text(t) => W::Lit(t.clone()),
            RPart::Env(n) => W::Var(n.clone()),
        });
    }
    word(&w)
}

/// `name=value` of a form, literal text encoded now, secrets encoded when the script runs.
fn form_word(name: &str, parts: &[RPart]) -> String {
    let mut w = vec![W::Lit(format!("{}=", enc_form(name)))];
    for p in parts {
        w.push(match p {
            RPart::Text(t) => W::Lit(enc_form(t)),
            RPart::Env(n) => W::Encoded(format!("${{{n}}}")),
        });
    }
    word(&w)
}

fn tpl_word(prefix: &str, t: &Tpl) -> String {
    let mut w = vec![W::Lit(prefix.to_string())];
    for p in &t.0 {
        w.push(match p {
            Part::Lit(s) => W::Lit(s.clone()),
            Part::Arg(n) => W::Placeholder(n.clone()),
            Part::Loop(n) => W::Var(n.clone()),
            Part::Env(n) => W::Var(format!("#{{{n}}}")),
        });
    }
    word(&w)
}

/// Whether curl needs `-X METHOD`: it sends GET, or POST when there is a body, by itself.
fn needs_x(method: &str, has_body: bool) -> bool {
    method != if has_body { "POST" } else { "GET" }
}

const WRITE_OUT: &str = "'%{http_code} %{size_download} %{url_effective}\\n'";

/// `# ` comment lines, wrapped.
fn comment(out: &mut String, indent: &str, text: &str) {
    for para in text.split('\n') {
        if para.trim().is_empty() {
            let _ = writeln!(out, "#");
            continue;
        }
        let mut line = String::new();
        for w in para.split_whitespace() {
            if !line.is_empty() && line.len() + 1 + w.len() > 96 {
                let _ = writeln!(out, "# {indent}{line}");
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(w);
        }
        let _ = writeln!(out, "# {indent}{line}");
    }
}

/// Atomic-style textual substitution of `#{name}` (descriptions, prereq commands).
fn substitute(text: &str, values: &Values) -> String {
    let mut out = text.to_string();
    for (k, v) in &values.0 {
        out = out.replace(&format!("#{{{k}}}"), v);
    }
    out
}

fn seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        (ms / 1000).to_string()
    } else {
        format!("{}.{:03}", ms / 1000, ms % 1000)
            .trim_end_matches('0')
            .to_string()
    }
}

/// The runnable script `show` prints: the planned requests unrolled, secrets read from the
/// environment, then the expected telemetry and the cleanup as comments.
fn sh_script(
    catalog: &Catalog,
    test: &Test,
    values: &Values,
    planned: &[Planned],
    inputs: &Inputs,
) -> String {
    let mut out = String::new();
    let base = values.get("base_url");
    let _ = writeln!(out, "#!/bin/sh");
    let _ = writeln!(
        out,
        "# {} atomic test {}: {}",
        catalog.technique, test.number, test.name
    );
    let _ = writeln!(out, "# auto_generated_guid: {}", test.guid);
    let _ = writeln!(out, "# supported platforms: {}", test.platforms.join(", "));
    let _ = writeln!(
        out,
        "# Generated by `quarry atomic show {}`. Run it only against a Confluence instance you own.",
        test.number
    );
    let _ = writeln!(out, "#");
    comment(&mut out, "", &substitute(&test.description, values));
    let _ = writeln!(out, "#");
    let _ = writeln!(out, "# Input arguments:");
    for i in &test.inputs {
        let _ = writeln!(out, "#   {} = {}", i.name, values.get(&i.name));
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "set -eu");
    for d in &test.dependencies {
        let _ = writeln!(
            out,
            "( {} ) >/dev/null 2>&1 || {{ echo {} >&2; exit 1; }}",
            substitute(&d.prereq, values),
            sq(&format!(
                "missing dependency: {}",
                substitute(&d.description, values)
            ))
        );
    }
    let runtime_encoding = planned.iter().any(|p| {
        p.form
            .iter()
            .any(|(_, v)| v.iter().any(|r| matches!(r, RPart::Env(_))))
    });
    if runtime_encoding {
        out.push_str(URLENCODE_FN);
    }
    let session = test.auth == Auth::Session;
    let task = test.uses_task();
    if session || task {
        let _ = writeln!(out, "ORIGIN={}", sq(origin(base)));
        if session {
            let _ = writeln!(out, "COOKIE_JAR=$(mktemp)");
        }
        let _ = writeln!(out, "BODY=$(mktemp)");
        let files = if session {
            "\"$COOKIE_JAR\" \"$BODY\""
        } else {
            "\"$BODY\""
        };
        let _ = writeln!(out, "trap 'rm -f {files}' EXIT");
    }
    if let Some(c) = &test.cleanup
        && test.saves_files()
    {
        let _ = writeln!(out, "mkdir -p -- {}", sq(&c.dir.render(values, None)));
    }
    let _ = writeln!(out);

    let delay = inputs.delay_ms;
    let auth_args = |out: &mut String| match (test.auth, inputs.auth) {
        (Auth::Token, AuthMode::Basic) => {
            let user = values.get("username");
            let var = values.get("token_env");
            let _ = write!(
                out,
                " -u {}",
                word(&[W::Lit(format!("{user}:")), W::Var(var.to_string())])
            );
        }
        (Auth::Token, AuthMode::Bearer) => {
            let var = values.get("token_env");
            let _ = write!(
                out,
                " -H {}",
                word(&[
                    W::Lit("Authorization: Bearer ".into()),
                    W::Var(var.to_string())
                ])
            );
        }
        (Auth::Session, _) => {
            let _ = write!(out, " -b \"$COOKIE_JAR\" -c \"$COOKIE_JAR\"");
        }
    };
    let common = |out: &mut String, p: &Planned| {
        let _ = write!(out, "curl -sS");
        auth_args(out);
        for (n, v) in &p.headers {
            let _ = write!(out, " -H {}", rparts_word(&format!("{n}: "), v));
        }
        if needs_x(&p.method, !p.form.is_empty()) {
            let _ = write!(out, " -X {}", p.method);
        }
        for (n, v) in &p.form {
            let _ = write!(out, " --data-raw {}", form_word(n, v));
        }
    };
    for (i, p) in planned.iter().enumerate() {
        if i > 0 && delay > 0 && p.poll.is_none() {
            let _ = writeln!(out, "sleep {}", seconds(delay));
        }
        let dest = match &p.save_to {
            Some(path) => sq(path),
            None if p.starts_task => "\"$BODY\"".to_string(),
            None => "/dev/null".to_string(),
        };
        match &p.target {
            PTarget::Fixed(rel) if p.starts_task => {
                let _ = write!(out, "TASK_URL=$(");
                common(&mut out, p);
                let _ = writeln!(
                    out,
                    " -o \"$BODY\" -w '%{{redirect_url}}' {})",
                    sq(&format!("{base}{rel}"))
                );
                task_lines(&mut out, &sq(base));
            }
            PTarget::Fixed(rel) => {
                common(&mut out, p);
                let _ = writeln!(
                    out,
                    " -o {dest} -w {WRITE_OUT} {}",
                    sq(&format!("{base}{rel}"))
                );
            }
            PTarget::Task => {
                let (until, max, interval) = p.poll.clone().unwrap_or_default();
                let first = seconds(delay);
                let later = seconds(delay.max(interval * 1000));
                let mut curl = String::new();
                common(&mut curl, p);
                poll_lines(&mut out, &until, &max.to_string(), &first, &later, &curl);
            }
            PTarget::Archive => {
                archive_lines(&mut out);
                common(&mut out, p);
                let _ = writeln!(out, " -o {dest} -w {WRITE_OUT} \"$ARCHIVE\"");
            }
        }
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "# Expected telemetry:");
    for t in &test.telemetry {
        let _ = writeln!(out, "#   {} [{}]:", source_label(&t.source), t.sees);
        comment(&mut out, "    ", &t.what);
    }
    let _ = writeln!(out, "#");
    match &test.cleanup {
        None => {
            let _ = writeln!(
                out,
                "# Cleanup: none needed (nothing is written locally or on the server)."
            );
        }
        Some(c) => {
            let _ = writeln!(out, "# Cleanup, once you have looked at the telemetry:");
            comment(&mut out, "  ", &c.note);
            let dir = sq(&c.dir.render(values, None));
            for f in &c.files {
                let _ = writeln!(out, "#   rm -f -- {dir}/{f}");
            }
            let _ = writeln!(out, "#   rmdir -- {dir} 2>/dev/null || true");
        }
    }
    out
}

/// After the export POST: the task page is the redirect, or the page's ajs-pollURI.
fn task_lines(out: &mut String, base_word: &str) {
    let _ = writeln!(out, "if [ -z \"$TASK_URL\" ]; then");
    let _ = writeln!(
        out,
        "  TASK_URL=$(sed -n 's/.*name=\"ajs-pollURI\" content=\"\\([^\"]*\\)\".*/\\1/p' \"$BODY\" | head -n 1 | sed 's/&amp;/\\&/g')"
    );
    let _ = writeln!(out, "fi");
    let _ = writeln!(
        out,
        "[ -n \"$TASK_URL\" ] || {{ echo 'the export did not start a task (no redirect, no ajs-pollURI)' >&2; exit 1; }}"
    );
    let _ = writeln!(out, "case $TASK_URL in");
    let _ = writeln!(out, "  http://*|https://*) ;;");
    let _ = writeln!(out, "  /*) TASK_URL=\"$ORIGIN$TASK_URL\" ;;");
    let _ = writeln!(out, "  *) TASK_URL={base_word}\"/$TASK_URL\" ;;");
    let _ = writeln!(out, "esac");
    let _ = writeln!(out, "case $TASK_URL in");
    let _ = writeln!(out, "  \"$ORIGIN\"/*) ;;");
    let _ = writeln!(
        out,
        "  *) echo \"the task page is on another host: $TASK_URL\" >&2; exit 1 ;;"
    );
    let _ = writeln!(out, "esac");
    let _ = writeln!(out, "echo \"export started, task page: $TASK_URL\"");
}

/// Poll the task page until it links `until`; `curl` is the command up to its options.
fn poll_lines(out: &mut String, until: &str, max: &str, first: &str, later: &str, curl: &str) {
    let _ = writeln!(out, "ARCHIVE=");
    let _ = writeln!(out, "polls=0");
    let _ = writeln!(out, "while [ \"$polls\" -lt {max} ]; do");
    let _ = writeln!(
        out,
        "  if [ \"$polls\" -gt 0 ]; then sleep {later}; else sleep {first}; fi"
    );
    let _ = writeln!(out, "  polls=$((polls + 1))");
    let _ = writeln!(out, "  {curl} -o \"$BODY\" -w {WRITE_OUT} \"$TASK_URL\"");
    let _ = writeln!(
        out,
        "  ARCHIVE=$(sed {} \"$BODY\" | grep -o {} | head -n 1)",
        sq(UNESCAPE_SED),
        sq(&format!("[^\"'[:space:]<>=]*{until}[^\"'[:space:]<>]*"))
    );
    let _ = writeln!(out, "  [ -z \"$ARCHIVE\" ] || break");
    let _ = writeln!(out, "done");
    let _ = writeln!(
        out,
        "[ -n \"$ARCHIVE\" ] || {{ echo \"the export did not finish after $polls polls\" >&2; exit 1; }}"
    );
}

fn archive_lines(out: &mut String) {
    let _ = writeln!(out, "case $ARCHIVE in");
    let _ = writeln!(out, "  \"$ORIGIN\"/*) ;;");
    let _ = writeln!(
        out,
        "  http://*|https://*) echo \"the archive is on another host: $ARCHIVE\" >&2; exit 1 ;;"
    );
    let _ = writeln!(out, "  /*) ARCHIVE=\"$ORIGIN$ARCHIVE\" ;;");
    let _ = writeln!(out, "  *) ARCHIVE=\"$ORIGIN/$ARCHIVE\" ;;");
    let _ = writeln!(out, "esac");
}

/// The Atomic executor's command: the templates with `#{inputs}` left for the executor, loops
/// for repeats, one `sleep 1` between requests.
fn template_command(test: &Test) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "set -eu");
    let _ = writeln!(
        out,
        "pause() {{ if [ -n \"${{quarry_started:-}}\" ]; then sleep 1; fi; quarry_started=1; }}"
    );
    let needs_encoding = test.steps.iter().any(|s| {
        matches!(s.repeat, Repeat::Each { .. }) || s.requests.iter().any(|r| !r.form.is_empty())
    });
    if needs_encoding {
        out.push_str(URLENCODE_FN);
    }
    let session = test.auth == Auth::Session;
    let task = test.uses_task();
    if session || task {
        let _ = writeln!(
            out,
            "ORIGIN=$(printf '%s\\n' \"#{{base_url}}\" | sed 's#^\\([A-Za-z][A-Za-z0-9+.-]*://[^/]*\\).*#\\1#')"
        );
        if session {
            let _ = writeln!(out, "COOKIE_JAR=$(mktemp)");
        }
        let _ = writeln!(out, "BODY=$(mktemp)");
        let files = if session {
            "\"$COOKIE_JAR\" \"$BODY\""
        } else {
            "\"$BODY\""
        };
        let _ = writeln!(out, "trap 'rm -f {files}' EXIT");
    }
    if let Some(c) = &test.cleanup
        && test.saves_files()
    {
        let _ = writeln!(out, "mkdir -p -- {}", tpl_word("", &c.dir));
    }
    for step in &test.steps {
        let indent = match &step.repeat {
            Repeat::Once => "",
            Repeat::Pages { count, .. } => {
                let _ = writeln!(out, "k=0");
                let _ = writeln!(out, "while [ \"$k\" -lt {} ]; do", tpl_word("", count));
                "  "
            }
            Repeat::Each { list, var } => {
                let _ = writeln!(out, "quarry_list={}", tpl_word("", list));
                let _ = writeln!(out, "quarry_ifs=$IFS");
                let _ = writeln!(out, "set -f; IFS=,");
                let _ = writeln!(out, "for {var} in $quarry_list; do");
                let _ = writeln!(out, "  IFS=$quarry_ifs");
                let _ = writeln!(
                    out,
                    "  {var}=$(printf '%s\\n' \"${var}\" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')"
                );
                let _ = writeln!(out, "  [ -n \"${var}\" ] || continue");
                "  "
            }
        };
        if let Repeat::Pages { size, .. } = &step.repeat {
            let _ = writeln!(
                out,
                "  start=$((k * {}))",
                tpl_word("", size).trim_matches('"')
            );
        }
        for r in &step.requests {
            template_request(&mut out, test, r, indent);
        }
        match &step.repeat {
            Repeat::Once => {}
            Repeat::Pages { .. } => {
                let _ = writeln!(out, "  k=$((k + 1))");
                let _ = writeln!(out, "done");
            }
            Repeat::Each { .. } => {
                let _ = writeln!(out, "done");
                let _ = writeln!(out, "IFS=$quarry_ifs; set +f");
            }
        }
    }
    out
}

fn template_request(out: &mut String, test: &Test, r: &Req, indent: &str) {
    let mut curl = String::from("curl -sS");
    match test.auth {
        Auth::Token => curl.push_str(" -u \"#{username}:${#{token_env}}\""),
        Auth::Session => curl.push_str(" -b \"$COOKIE_JAR\" -c \"$COOKIE_JAR\""),
    }
    for (n, v) in &r.headers {
        let _ = write!(curl, " -H {}", tpl_word(&format!("{n}: "), v));
    }
    if needs_x(&r.method, !r.form.is_empty()) {
        let _ = write!(curl, " -X {}", r.method);
    }
    for (n, v) in &r.form {
        // Every value but literal text is encoded when the command runs.
        let mut w = vec![W::Lit(format!("{}=", enc_form(n)))];
        for p in &v.0 {
            w.push(match p {
                Part::Lit(s) => W::Lit(enc_form(s)),
                Part::Arg(a) => W::Encoded(format!("#{{{a}}}")),
                Part::Loop(l) => W::Encoded(format!("${{{l}}}")),
                Part::Env(e) => W::Encoded(format!("${{#{{{e}}}}}")),
            });
        }
        let _ = write!(curl, " --data-raw {}", word(&w));
    }
    let dest = match &r.save_to {
        Some(t) => tpl_word("", t),
        None if r.starts_task => "\"$BODY\"".to_string(),
        None => "/dev/null".to_string(),
    };
    match &r.target {
        Target::Path { path, query } => {
            // Items of an `each` list are encoded when the command runs; literal text is
            // encoded now; `#{inputs}` go in as given (the Atomic executor substitutes them).
            let each_vars: Vec<&str> = test
                .steps
                .iter()
                .filter_map(|s| match &s.repeat {
                    Repeat::Each { var, .. } => Some(var.as_str()),
                    _ => None,
                })
                .collect();
            let part = |p: &Part, lit: fn(&str) -> String| match p {
                Part::Lit(s) => W::Lit(lit(s)),
                Part::Arg(a) => W::Placeholder(a.clone()),
                Part::Loop(l) if each_vars.contains(&l.as_str()) => W::Encoded(format!("${{{l}}}")),
                Part::Loop(l) => W::Var(l.clone()),
                Part::Env(e) => W::Var(format!("#{{{e}}}")),
            };
            let mut w = vec![W::Placeholder("base_url".into())];
            w.extend(path.0.iter().map(|p| part(p, |s| s.to_string())));
            for (i, (n, v)) in query.iter().enumerate() {
                let sep = if i == 0 { "?" } else { "&" };
                w.push(W::Lit(format!("{sep}{}=", enc_query(n))));
                w.extend(v.0.iter().map(|p| part(p, enc_query)));
            }
            let url = word(&w);
            let _ = writeln!(out, "{indent}pause");
            if r.starts_task {
                let _ = writeln!(
                    out,
                    "{indent}TASK_URL=$({curl} -o {dest} -w '%{{redirect_url}}' {url})"
                );
                let mut lines = String::new();
                task_lines(&mut lines, "\"#{base_url}\"");
                for l in lines.lines() {
                    let _ = writeln!(out, "{indent}{l}");
                }
            } else {
                let _ = writeln!(out, "{indent}{curl} -o {dest} -w {WRITE_OUT} {url}");
            }
        }
        Target::Task => {
            let (until, max, interval) = match &r.poll {
                Some(p) => (
                    p.until.clone(),
                    tpl_word("", &p.max).trim_matches('"').to_string(),
                    tpl_word("", &p.interval).trim_matches('"').to_string(),
                ),
                None => ("/download/temp/".into(), "1".into(), "1".into()),
            };
            let _ = writeln!(out, "{indent}pause");
            poll_lines(out, &until, &max, "0", &interval, &curl);
        }
        Target::Archive => {
            archive_lines(out);
            let _ = writeln!(out, "{indent}pause");
            let _ = writeln!(out, "{indent}{curl} -o {dest} -w {WRITE_OUT} \"$ARCHIVE\"");
        }
    }
}

fn template_cleanup(c: &Cleanup) -> String {
    let dir = tpl_word("", &c.dir);
    let mut out = String::new();
    for f in &c.files {
        let _ = writeln!(out, "rm -f -- {dir}/{f}");
    }
    let _ = writeln!(out, "rmdir -- {dir} 2>/dev/null || true");
    out
}

// ------------------------------------------------------------------------------------------------
// Atomic Red Team YAML (written by hand: block scalars for text, single quotes where needed)

fn yaml_scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s == s.trim()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " -_./:,()".contains(c))
        && !s.contains(": ")
        && !s.ends_with(':')
        && !s.starts_with(['-', ':', '.'])
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        )
        && s.parse::<f64>().is_err();
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// `key: |` and the text indented under it.
fn yaml_block(out: &mut String, indent: usize, key: &str, text: &str) {
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}{key}: |");
    for line in text.trim_end().lines() {
        let line = line.trim_end();
        if line.is_empty() {
            let _ = writeln!(out);
        } else {
            let _ = writeln!(out, "{pad}  {line}");
        }
    }
}

/// Markdown of the description plus the expected telemetry (Atomic's description is Markdown).
fn yaml_description(test: &Test) -> String {
    let mut d = test.description.clone();
    d.push_str("\n\nExpected telemetry:\n");
    for t in &test.telemetry {
        let what = t.what.split_whitespace().collect::<Vec<_>>().join(" ");
        let _ = writeln!(d, "- {} ({}): {}", source_label(&t.source), t.sees, what);
    }
    if let Some(c) = &test.cleanup {
        let _ = write!(d, "\nCleanup: {}", c.note);
    }
    d
}

fn atomic_yaml(catalog: &Catalog, tests: &[&Test]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "attack_technique: {}", yaml_scalar(&catalog.technique));
    let _ = writeln!(out, "display_name: {}", yaml_scalar(&catalog.display_name));
    let _ = writeln!(out, "atomic_tests:");
    for t in tests {
        let _ = writeln!(out, "- name: {}", yaml_scalar(&t.name));
        let _ = writeln!(out, "  auto_generated_guid: {}", yaml_scalar(&t.guid));
        yaml_block(&mut out, 2, "description", &yaml_description(t));
        let _ = writeln!(out, "  supported_platforms:");
        for p in &t.platforms {
            let _ = writeln!(out, "  - {}", yaml_scalar(p));
        }
        let _ = writeln!(out, "  input_arguments:");
        for i in &t.inputs {
            let _ = writeln!(out, "    {}:", i.name);
            let _ = writeln!(out, "      description: {}", yaml_scalar(&i.description));
            let _ = writeln!(out, "      type: {}", yaml_scalar(&i.kind));
            let default = if i.kind == "integer" {
                i.default.clone()
            } else {
                yaml_scalar(&i.default)
            };
            let _ = writeln!(out, "      default: {default}");
        }
        let _ = writeln!(out, "  dependency_executor_name: sh");
        let _ = writeln!(out, "  dependencies:");
        for d in &t.dependencies {
            let _ = writeln!(out, "  - description: {}", yaml_scalar(&d.description));
            yaml_block(&mut out, 4, "prereq_command", &d.prereq);
            yaml_block(&mut out, 4, "get_prereq_command", &d.get_prereq);
        }
        let _ = writeln!(out, "  executor:");
        let _ = writeln!(out, "    name: sh");
        let _ = writeln!(out, "    elevation_required: false");
        yaml_block(&mut out, 4, "command", &template_command(t));
        if let Some(c) = &t.cleanup {
            yaml_block(&mut out, 4, "cleanup_command", &template_cleanup(c));
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// run

fn run_command(a: RunArgs) -> anyhow::Result<ExitCode> {
    let catalog = load(&a.source)?;
    let test = match catalog.select(&a.test) {
        Ok(t) => t,
        Err(e) => return Ok(refuse(e)),
    };
    if !a.i_own_this_instance {
        return Ok(refuse(format!(
            "refusing to run test {} ({}) without --i-own-this-instance.\n  \
             `quarry atomic run` sends real requests ({} with the defaults) to the Confluence at --base-url,\n  \
             as the account you give, and leaves the audit and access-log records that the detections look for\n  \
             (and your SOC may act on). Run it only against an instance you own or are authorised to test,\n  \
             and pass --i-own-this-instance to say so. `quarry atomic show {}` prints the requests without sending them.",
            test.number,
            test.name,
            plan(
                test,
                &resolve_inputs(test, &Inputs::empty()).unwrap_or_default()
            )
            .map_or(0, |p| p.len()),
            test.number
        )));
    }
    if a.inputs.base_url.is_none() && !a.inputs.args.iter().any(|s| s.starts_with("base_url=")) {
        return Ok(refuse(
            "run needs --base-url: the Confluence instance you own (there is no default target)",
        ));
    }
    if test.input("username").is_some()
        && a.inputs.user.is_none()
        && !a.inputs.args.iter().any(|s| s.starts_with("username="))
    {
        return Ok(refuse(
            "run needs --user: the account the requests authenticate as",
        ));
    }
    let values = match resolve_inputs(test, &a.inputs) {
        Ok(v) => v,
        Err(e) => return Ok(refuse(e)),
    };
    // Secrets: read from the environment, never from the command line.
    let mut secrets: BTreeMap<String, String> = BTreeMap::new();
    for input in test.secret_inputs() {
        let var = values.get(input).to_string();
        match std::env::var(&var) {
            Ok(v) if !v.is_empty() => {
                if v.contains(['\n', '\r']) {
                    return Ok(refuse(format!(
                        "the environment variable {var} holds a line break"
                    )));
                }
                secrets.insert(var, v);
            }
            _ => {
                let flag = if input == "token_env" {
                    "--token-env"
                } else {
                    "--password-env"
                };
                return Ok(refuse(format!(
                    "refusing to run: the environment variable {var} (named by {flag}) is not set or empty.\n  \
                     Export it first ({}); it is read from the environment so that it appears neither on the\n  \
                     command line nor in the output.",
                    if input == "token_env" {
                        "an API token on Cloud, a personal access token or password on Server/Data Center"
                    } else {
                        "the account's password"
                    }
                )));
            }
        }
    }
    let curl_version = match Command::new("curl").arg("--version").output() {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            text.split_whitespace().nth(1).unwrap_or("?").to_string()
        }
        Ok(o) => {
            return Ok(refuse(format!(
                "`curl --version` failed ({}): `quarry atomic run` sends each request with curl",
                o.status
            )));
        }
        Err(e) => {
            return Ok(refuse(format!(
                "curl is not installed or not on PATH ({e}): `quarry atomic run` sends each request with curl.\n  \
                 Install it (apt-get install curl, dnf install curl, brew install curl) and run again."
            )));
        }
    };
    let planned = plan(test, &values)?;
    let base = values.get("base_url");
    if base.starts_with("http://") && !is_loopback(base) {
        eprintln!("warning: {base} is plain HTTP: the credentials cross the network unencrypted");
    }

    println!(
        "{} atomic test {}: {}\n  against {base} as {}, one curl/{curl_version} process per request, {} ms apart",
        catalog.technique,
        test.number,
        test.name,
        values.get("username"),
        a.inputs.delay_ms
    );
    let tmp = tempfile::Builder::new()
        .prefix("quarry-atomic-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let mut runner = Runner {
        test,
        values: &values,
        secrets: &secrets,
        auth: a.inputs.auth,
        delay: Duration::from_millis(a.inputs.delay_ms),
        tmp: tmp.path().to_path_buf(),
        sent: 0,
        last: None,
        errors: Vec::new(),
        task: None,
        archive: None,
        written: Vec::new(),
        created_dirs: Vec::new(),
    };
    let started = jiff::Timestamp::now();
    let clock = Instant::now();
    let result = planned.iter().try_for_each(|p| runner.step(p));
    let ended = jiff::Timestamp::now();

    // Cleanup, whatever happened.
    let cleanup_note = if a.keep_output {
        if runner.written.is_empty() {
            None
        } else {
            Some(format!(
                "kept {} file(s) (--keep-output): {}",
                runner.written.len(),
                runner
                    .written
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    } else {
        runner.cleanup()
    };

    println!();
    println!(
        "{} request(s) in {:.1} s, from {} to {} (UTC), user {}, user agent curl/{curl_version}",
        runner.sent,
        clock.elapsed().as_secs_f64(),
        started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        ended.strftime("%Y-%m-%dT%H:%M:%SZ"),
        values.get("username"),
    );
    println!(
        "What to look for (see `quarry atomic show {}` for the details):",
        test.number
    );
    for t in &test.telemetry {
        let what = t.what.split_whitespace().collect::<Vec<_>>().join(" ");
        println!("  {} [{}]: {what}", source_label(&t.source), t.sees);
    }
    match (&test.cleanup, cleanup_note) {
        (_, Some(note)) => println!("Cleanup: {note}"),
        (Some(c), None) => println!("Cleanup: {}", c.note),
        (None, None) => println!("Cleanup: none needed"),
    }
    drop(tmp);

    result?;
    if runner.errors.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "error: {} request(s) answered with an error status: {}",
            runner.errors.len(),
            runner.errors.join("; ")
        );
        Ok(ExitCode::from(1))
    }
}

fn is_loopback(url: &str) -> bool {
    let host = origin(url).split("://").nth(1).unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    matches!(host, "localhost" | "[::1]") || host.starts_with("127.")
}

impl Inputs {
    fn empty() -> Inputs {
        Inputs {
            base_url: None,
            user: None,
            token_env: None,
            password_env: None,
            args: Vec::new(),
            auth: AuthMode::Basic,
            delay_ms: 0,
        }
    }
}

struct Runner<'a> {
    test: &'a Test,
    values: &'a Values,
    secrets: &'a BTreeMap<String, String>,
    auth: AuthMode,
    delay: Duration,
    tmp: PathBuf,
    sent: usize,
    last: Option<Instant>,
    errors: Vec<String>,
    task: Option<String>,
    archive: Option<String>,
    written: Vec<PathBuf>,
    created_dirs: Vec<PathBuf>,
}

struct Exchange {
    status: u16,
    redirect: String,
    body: PathBuf,
}

impl Runner<'_> {
    fn text(&self, parts: &[RPart]) -> String {
        parts
            .iter()
            .map(|p| match p {
                RPart::Text(t) => t.as_str(),
                RPart::Env(n) => self.secrets.get(n).map_or("", String::as_str),
            })
            .collect()
    }

    fn pause(&mut self, at_least: Duration) {
        if let Some(last) = self.last {
            let wait = self.delay.max(at_least);
            let elapsed = last.elapsed();
            if elapsed < wait {
                std::thread::sleep(wait - elapsed);
            }
        }
    }

    fn step(&mut self, p: &Planned) -> anyhow::Result<()> {
        let base = self.values.get("base_url").to_string();
        match &p.target {
            PTarget::Fixed(rel) => {
                self.pause(Duration::ZERO);
                let url = format!("{base}{rel}");
                let x = self.send(p, &url, "")?;
                if p.starts_task {
                    let link = if (300..400).contains(&x.status) && !x.redirect.is_empty() {
                        Some(x.redirect.clone())
                    } else {
                        poll_uri(&read_lossy(&x.body))
                    };
                    let link = link.ok_or_else(|| {
                        anyhow!(
                            "the export did not start a task: expected a redirect to the task page or a page naming it \
                             (ajs-pollURI), got HTTP {} (does {} have the Export Space permission?)",
                            x.status,
                            self.values.get("username")
                        )
                    })?;
                    let task = absolute(&link, &base);
                    if origin(&task) != origin(&base) {
                        bail!(
                            "the task page {task} is on another host than {base}; not following it"
                        );
                    }
                    println!("       export started; task page {}", request_target(&task));
                    self.task = Some(task);
                }
                Ok(())
            }
            PTarget::Task => {
                let task = self
                    .task
                    .clone()
                    .ok_or_else(|| anyhow!("no export task was started"))?;
                let (until, max, interval) = p
                    .poll
                    .clone()
                    .unwrap_or_else(|| ("/download/temp/".into(), 1, 0));
                for i in 0..max {
                    self.pause(if i == 0 {
                        Duration::ZERO
                    } else {
                        Duration::from_secs(interval)
                    });
                    let x = self.send(p, &task, &format!("  (poll {}/{max})", i + 1))?;
                    if x.status >= 400 {
                        bail!("polling the export task failed with HTTP {}", x.status);
                    }
                    if let Some(link) = find_link(&read_lossy(&x.body), &until) {
                        let url = absolute(&link, &base);
                        if origin(&url) != origin(&base) {
                            bail!(
                                "the archive link {url} is on another host than {base}; not downloading it"
                            );
                        }
                        println!("       export finished; archive {}", request_target(&url));
                        self.archive = Some(url);
                        return Ok(());
                    }
                }
                bail!(
                    "the export did not finish after {max} polls (raise --arg max_polls=N or poll_interval_seconds)"
                )
            }
            PTarget::Archive => {
                let url = self
                    .archive
                    .clone()
                    .ok_or_else(|| anyhow!("no archive link was found"))?;
                self.pause(Duration::ZERO);
                self.send(p, &url, "")?;
                Ok(())
            }
        }
    }

    /// One request, one curl process: secrets and the form body go through its standard input
    /// (`--config -`), never its command line.
    fn send(&mut self, p: &Planned, url: &str, note: &str) -> anyhow::Result<Exchange> {
        self.sent += 1;
        let n = self.sent;
        let body = self.tmp.join(format!("body-{n}"));
        let head = self.tmp.join(format!("headers-{n}"));
        let out = match &p.save_to {
            Some(path) => {
                let path = PathBuf::from(path);
                if let Some(dir) = path.parent()
                    && !dir.exists()
                {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                    self.created_dirs.push(dir.to_path_buf());
                }
                path
            }
            None => body.clone(),
        };
        let mut config = String::new();
        match (self.test.auth, self.auth) {
            (Auth::Token, AuthMode::Basic) => {
                let token = self
                    .secrets
                    .get(self.values.get("token_env"))
                    .map_or("", String::as_str);
                let _ = writeln!(
                    config,
                    "user = \"{}\"",
                    curl_quote(&format!("{}:{token}", self.values.get("username")))
                );
            }
            (Auth::Token, AuthMode::Bearer) => {
                let token = self
                    .secrets
                    .get(self.values.get("token_env"))
                    .map_or("", String::as_str);
                let _ = writeln!(
                    config,
                    "header = \"{}\"",
                    curl_quote(&format!("Authorization: Bearer {token}"))
                );
            }
            (Auth::Session, _) => {}
        }
        if !p.form.is_empty() {
            let form: Vec<String> = p
                .form
                .iter()
                .map(|(name, v)| format!("{}={}", enc_form(name), enc_form(&self.text(v))))
                .collect();
            let _ = writeln!(config, "data-raw = \"{}\"", curl_quote(&form.join("&")));
        }
        let mut cmd = Command::new("curl");
        cmd.args([
            "-sS",
            "--proto",
            "=http,https",
            "--connect-timeout",
            "30",
            "--config",
            "-",
        ]);
        cmd.arg("-o").arg(&out).arg("-D").arg(&head);
        cmd.args(["-w", "%{http_code} %{size_download} %{redirect_url}"]);
        if self.test.auth == Auth::Session {
            let jar = self.tmp.join("cookies.txt");
            cmd.arg("-b").arg(&jar).arg("-c").arg(&jar);
        }
        for (name, v) in &p.headers {
            cmd.arg("-H").arg(format!("{name}: {}", self.text(v)));
        }
        if needs_x(&p.method, !p.form.is_empty()) {
            cmd.args(["-X", &p.method]);
        }
        cmd.arg("--url").arg(url);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().context("cannot start curl")?;
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(config.as_bytes())
            .context("cannot write to curl")?;
        let output = child.wait_with_output().context("curl did not finish")?;
        let target = request_target(url).to_string();
        if p.save_to.is_some() && out.exists() && !self.written.contains(&out) {
            self.written.push(out.clone());
        }
        self.last = Some(Instant::now());
        if !output.status.success() {
            let err = String::from_utf8_lossy(&output.stderr).trim().to_string();
            println!("{n:>3}  {:<4} {target}  failed", p.method);
            bail!(
                "curl failed on {} {target} ({}): {err}",
                p.method,
                output.status
            );
        }
        let w = String::from_utf8_lossy(&output.stdout).to_string();
        let mut fields = w.splitn(3, ' ');
        let status: u16 = fields.next().unwrap_or("0").parse().unwrap_or(0);
        let bytes: u64 = fields.next().unwrap_or("0").trim().parse().unwrap_or(0);
        let redirect = fields.next().unwrap_or("").trim().to_string();
        let saved = match &p.save_to {
            Some(path) => format!("  -> {path}"),
            None => String::new(),
        };
        println!(
            "{n:>3}  {:<4} {target}  {status}  {bytes} bytes{saved}{note}",
            p.method
        );
        let headers = read_lossy(&head);
        if status >= 400 {
            self.errors
                .push(format!("{} {target} -> {status}", p.method));
        }
        let reason = header(&headers, "x-seraph-loginreason");
        let failed_login = reason.is_some_and(|r| r.contains("FAILED") || r.contains("DENIED"));
        if (!p.expect_status.is_empty() && !p.expect_status.contains(&status)) || failed_login {
            bail!(
                "{} {target} answered {status}{}: {}",
                p.method,
                reason
                    .map(|r| format!(" (X-Seraph-LoginReason: {r})"))
                    .unwrap_or_default(),
                p.unexpected
                    .as_deref()
                    .unwrap_or("not what this test expects")
            );
        }
        Ok(Exchange {
            status,
            redirect,
            body: out,
        })
    }

    /// Remove what the run wrote (and only that), then the directories it created if empty.
    fn cleanup(&mut self) -> Option<String> {
        if self.written.is_empty() && self.created_dirs.is_empty() {
            return None;
        }
        let mut removed = 0;
        let mut problems = Vec::new();
        for f in &self.written {
            match std::fs::remove_file(f) {
                Ok(()) => removed += 1,
                Err(e) => problems.push(format!("{}: {e}", f.display())),
            }
        }
        let mut dirs = Vec::new();
        for d in self.created_dirs.iter().rev() {
            match std::fs::remove_dir(d) {
                Ok(()) => dirs.push(d.display().to_string()),
                Err(e) => problems.push(format!("kept {}: {e}", d.display())),
            }
        }
        let mut note = format!("removed {removed} file(s)");
        if !dirs.is_empty() {
            let _ = write!(note, " and {}", dirs.join(", "));
        }
        if !problems.is_empty() {
            let _ = write!(note, "; {}", problems.join("; "));
        }
        Some(note)
    }
}

fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A value for a double-quoted string in a curl config file.
fn curl_quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_file_loads() {
        let c = Catalog::parse(BUILTIN, BUILTIN_NAME).unwrap();
        assert_eq!(c.tests.len(), 4);
        assert_eq!(c.technique, "T1213.001");
    }

    #[test]
    fn links_are_found_as_grep_finds_them() {
        assert_eq!(
            find_link(
                "<a href=\"/download/temp/x.zip\">Download</a>",
                "/download/temp/"
            )
            .as_deref(),
            Some("/download/temp/x.zip")
        );
        assert_eq!(
            find_link(
                "{\"result\":\"/wiki/download/temp/filestore/abc?a=1&amp;b=2\"}",
                "/download/temp/"
            )
            .as_deref(),
            Some("/wiki/download/temp/filestore/abc?a=1&b=2")
        );
        assert_eq!(
            find_link(
                "<currentStatus>Done. &lt;a href=&quot;/c/download/temp/x.zip&quot;&gt;Download&lt;/a&gt;</currentStatus>",
                "/download/temp/"
            )
            .as_deref(),
            Some("/c/download/temp/x.zip")
        );
        assert_eq!(find_link("nothing here", "/download/temp/"), None);
    }

    #[test]
    fn urls_resolve_against_the_base() {
        assert_eq!(origin("https://h:8090/confluence"), "https://h:8090");
        assert_eq!(request_target("https://h:8090/a?b=c"), "/a?b=c");
        assert_eq!(absolute("/x", "https://h/c"), "https://h/x");
        assert_eq!(absolute("x", "https://h/c"), "https://h/c/x");
        assert!(glob_match("page-*.json", "page-11.json"));
        assert!(!glob_match("page-*.json", "pages.json"));
    }
}
